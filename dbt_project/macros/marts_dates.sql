{#-
    Date helpers of the intermediate and mart models, each a thin, portable wrapper over dbt's
    cross-database macros (DuckDB, PostgreSQL and SQL Server compile them alike). Every helper
    returns a DATE, never a timestamp: SQL Server's DATEADD works on datetime2, DuckDB's on
    timestamps, so the result is cast back.
-#}

{#- the first day of the month of a date -#}
{% macro marts_month_start(expression) -%}
    cast({{ dbt.date_trunc('month', expression) }} as {{ llif.type_date() }})
{%- endmacro %}

{#- the last day of the month of a date -#}
{% macro marts_month_end(expression) -%}
    cast({{ dbt.last_day(expression, 'month') }} as {{ llif.type_date() }})
{%- endmacro %}

{#- a date `n` days later (n may be negative or a column) -#}
{% macro marts_add_days(n, expression) -%}
    cast({{ dbt.dateadd('day', n, expression) }} as {{ llif.type_date() }})
{%- endmacro %}

{#- a date `n` months later -#}
{% macro marts_add_months(n, expression) -%}
    cast({{ dbt.dateadd('month', n, expression) }} as {{ llif.type_date() }})
{%- endmacro %}

{#- whole days from `first` to `second` (negative when second is earlier), an integer on every
    target (PostgreSQL's datediff gives a double) -#}
{% macro marts_days_between(first, second) -%}
    cast({{ dbt.datediff(first, second, 'day') }} as {{ dbt.type_int() }})
{%- endmacro %}

{#- month boundaries crossed from `first` to `second` -#}
{% macro marts_months_between(first, second) -%}
    cast({{ dbt.datediff(first, second, 'month') }} as {{ dbt.type_int() }})
{%- endmacro %}

{#- the earlier of two dates, ignoring a NULL (NULL only when both are) -#}
{% macro marts_earliest(a, b) -%}
    case when {{ a }} is null then {{ b }} when {{ b }} is null then {{ a }} when {{ a }} <= {{ b }} then {{ a }} else {{ b }} end
{%- endmacro %}

{#- the later of two dates, ignoring a NULL -#}
{% macro marts_latest(a, b) -%}
    case when {{ a }} is null then {{ b }} when {{ b }} is null then {{ a }} when {{ a }} >= {{ b }} then {{ a }} else {{ b }} end
{%- endmacro %}

{#- a date literal -#}
{% macro marts_date(text) -%}
    cast('{{ text }}' as {{ llif.type_date() }})
{%- endmacro %}

{#- a date as ISO text (yyyy-mm-dd), for surrogate keys -#}
{% macro marts_date_text(expression) -%}
    cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- 1 where a spell [start, end) covers the day `at` (an open end covers every later day) -#}
{% macro marts_covers(start_column, end_column, at) -%}
    {{ start_column }} <= {{ at }} and ({{ end_column }} is null or {{ end_column }} > {{ at }})
{%- endmacro %}
