{#-
    Column types by name, for every target. dbt's own type macros are used where they give
    the same meaning everywhere (string, bigint, int, timestamp); DATE has no dbt macro and
    dbt's `float` is single precision on DuckDB, so those two are ours.
-#}

{% macro type_date() -%}
    {{ return(adapter.dispatch('type_date', 'llif')()) }}
{%- endmacro %}

{% macro default__type_date() -%}
    date
{%- endmacro %}


{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'llif')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro sqlserver__type_double() -%}
    float
{%- endmacro %}


{#- text of any value: keys as strings, for surrogate keys and record keys -#}
{% macro as_string(expression) -%}
    cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}
