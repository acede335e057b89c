{#-
    Generic tests of the intermediate and mart models (the shared ones are in tests/generic).
-#}

{#- Fails for every partition whose months are not one unbroken run: a timeline has one row
    per month from its first month to its last, none missing and none twice. -#}
{% test marts_contiguous_months(model, partition_by, month_column) %}
with

runs as (

    select
        {{ partition_by }} as run_partition,
        min({{ month_column }}) as first_month,
        max({{ month_column }}) as last_month,
        count(*) as n_rows,
        count(distinct {{ month_column }}) as n_months
    from {{ model }}
    group by {{ partition_by }}

)

select *
from runs
where n_rows <> n_months
   or n_months <> {{ dbt.datediff('first_month', 'last_month', 'month') }} + 1
{% endtest %}


{#- Fails for every row where `column_name` is not the first day of a month. -#}
{% test marts_first_of_month(model, column_name) %}
select {{ column_name }} as not_first_of_month
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} <> cast({{ dbt.date_trunc('month', column_name) }} as {{ llif.type_date() }})
{% endtest %}


{#- Fails for every row where `low_column` is greater than `high_column` (both not null):
    an end before a start, a part larger than its whole. -#}
{% test marts_not_greater_than(model, column_name, high_column) %}
select
    {{ column_name }} as low_value,
    {{ high_column }} as high_value
from {{ model }}
where {{ column_name }} is not null
  and {{ high_column }} is not null
  and {{ column_name }} > {{ high_column }}
{% endtest %}
