{#-
    safe_cast(expression, type): the value as `type`, or NULL where it will not convert,
    never an error. DuckDB and SQL Server have TRY_CAST; PostgreSQL (15 here) has no safe
    cast, so text is checked by pattern first for numbers, dates and timestamps; other
    types fall back to a plain cast there.
    Use it on columns that are text in some loads and numbers in others (vendor B's CSV
    export) or that a clerk types by hand.
-#}

{% macro safe_cast(expression, type) -%}
    {{ return(adapter.dispatch('safe_cast', 'llif')(expression, type)) }}
{%- endmacro %}

{% macro default__safe_cast(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}

{% macro postgres__safe_cast(expression, type) -%}
    {%- set t = "trim(cast(" ~ expression ~ " as text))" -%}
    {%- set kind = type | lower -%}
    {%- if 'int' in kind -%}
        case when {{ t }} ~ '^[+-]?[0-9]{1,18}$' then cast({{ t }} as {{ type }}) end
    {%- elif kind.startswith('double') or kind.startswith('float') or kind.startswith('real') or kind.startswith('numeric') or kind.startswith('decimal') -%}
        case when {{ t }} ~ '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$' then cast({{ t }} as {{ type }}) end
    {%- elif kind == 'date' -%}
        {{ llif.postgres__parse_date(expression, 'iso') }}
    {%- elif kind.startswith('timestamp') -%}
        {{ llif.postgres__parse_timestamp(expression) }}
    {%- else -%}
        cast({{ expression }} as {{ type }})
    {%- endif -%}
{%- endmacro %}
