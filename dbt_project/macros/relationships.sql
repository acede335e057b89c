{#- dbt's relationships test, returning the child's whole rows rather than only the orphaned
    value (decision 50): its failures are stored as a view in the `quarantine` schema, and a
    planner following the warning there should see which tenancy or application names the
    unknown household, not only the household's number. Same count as dbt's own (one per child
    row whose value is not NULL and not in the parent), portable SQL. -#}
{% macro default__test_relationships(model, column_name, to, field) %}

with child as (
    select *
    from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select {{ field }} as to_field
    from {{ to }}
)

select child.*
from child
left join parent
    on child.{{ column_name }} = parent.to_field
where parent.to_field is null

{% endmacro %}
