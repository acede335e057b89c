{#- Fails for every non-null value outside [min_value, max_value] (either bound optional;
    inclusive by default, exclusive with inclusive: false). -#}
{% test value_between(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("value_between on " ~ column_name ~ ": give min_value, max_value or both") }}
{%- endif %}
select
    {{ column_name }} as value_out_of_range
from {{ model }}
where {{ column_name }} is not null
  and (
    {%- if min_value is not none %}
        {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
    {%- endif %}
    {%- if min_value is not none and max_value is not none %}
        or
    {%- endif %}
    {%- if max_value is not none %}
        {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
    {%- endif %}
  )
{% endtest %}
