{#- Fails for every row where the column is NULL although `condition` holds
    (a column required only for some rows: an end date once a spell has an end reason). -#}
{% test not_null_where(model, column_name, condition) %}
select
    {{ column_name }} as null_value
from {{ model }}
where {{ column_name }} is null
  and ({{ condition }})
{% endtest %}
