{#-
    Dates and timestamps as each vendor writes them, parsed the same way on every target.

    parse_date(expression, format) -> DATE, NULL when the text is empty or not a real date
        'iso'        ISO 8601 date or timestamp text (CRM, assets, domiciliary care,
                     every change marker): 2015-01-01, 2015-01-01T07:15:00
        'dd/mm/yyyy' care vendor A
        'yyyymmdd'   care vendor B
        'dd.mm.yyyy' domiciliary care dates of birth
    parse_timestamp(expression) -> TIMESTAMP from ISO 8601 text (T or space between date and
        time, optional fractional seconds), NULL when it does not parse.

    Never an error for bad input: a wrong date is a data-quality finding, not a failed night
    (SQL Server try_convert, DuckDB try_strptime/try_cast; PostgreSQL has no safe cast before
    version 16, so the text's shape and calendar are checked before it is converted).
    The input may already be a DATE/TIMESTAMP (an ingest that types ISO columns): it is read
    as text first, which every engine writes back as ISO.
-#}


{% macro parse_date(expression, format='iso') -%}
    {%- if format not in ['iso', 'dd/mm/yyyy', 'yyyymmdd', 'dd.mm.yyyy'] -%}
        {{ exceptions.raise_compiler_error("parse_date: unknown date format '" ~ format ~ "' for " ~ expression ~ "; use one of iso, dd/mm/yyyy, yyyymmdd, dd.mm.yyyy") }}
    {%- endif -%}
    {{ return(adapter.dispatch('parse_date', 'llif')(expression, format)) }}
{%- endmacro %}

{% macro parse_timestamp(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'llif')(expression)) }}
{%- endmacro %}

{% macro default__parse_date(expression, format) -%}
    {{ exceptions.raise_compiler_error("parse_date has no implementation for the " ~ adapter.type() ~ " adapter (only duckdb, postgres and sqlserver)") }}
{%- endmacro %}

{% macro default__parse_timestamp(expression) -%}
    {{ exceptions.raise_compiler_error("parse_timestamp has no implementation for the " ~ adapter.type() ~ " adapter (only duckdb, postgres and sqlserver)") }}
{%- endmacro %}


{#- ---------------------------------------------------------------- DuckDB -#}

{% macro duckdb__parse_date(expression, format) -%}
    {%- set text = "nullif(trim(cast(" ~ expression ~ " as varchar)), '')" -%}
    {%- if format == 'iso' -%}
        cast(try_cast({{ text }} as timestamp) as date)
    {%- else -%}
        {%- set pattern = {'dd/mm/yyyy': '%d/%m/%Y', 'yyyymmdd': '%Y%m%d', 'dd.mm.yyyy': '%d.%m.%Y'}[format] -%}
        cast(try_strptime({{ text }}, '{{ pattern }}') as date)
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__parse_timestamp(expression) -%}
    try_cast(nullif(trim(cast({{ expression }} as varchar)), '') as timestamp)
{%- endmacro %}


{#- ---------------------------------------------------------------- SQL Server -#}
{#- styles: 103 British dd/mm/yyyy, 104 German dd.mm.yyyy, 112 ISO yyyymmdd,
    126 ISO 8601 yyyy-mm-ddThh:mi:ss[.mmm], 121 ODBC yyyy-mm-dd hh:mi:ss[.mmm] -#}

{% macro sqlserver__parse_date(expression, format) -%}
    {%- set text = "nullif(trim(cast(" ~ expression ~ " as varchar(64))), '')" -%}
    {%- if format == 'iso' -%}
        cast({{ llif.sqlserver__parse_timestamp(expression) }} as date)
    {%- else -%}
        {%- set style = {'dd/mm/yyyy': 103, 'yyyymmdd': 112, 'dd.mm.yyyy': 104}[format] -%}
        try_convert(date, {{ text }}, {{ style }})
    {%- endif -%}
{%- endmacro %}

{% macro sqlserver__parse_timestamp(expression) -%}
    {%- set text = "nullif(trim(cast(" ~ expression ~ " as varchar(64))), '')" -%}
    coalesce(try_convert(datetime2(6), {{ text }}, 126), try_convert(datetime2(6), {{ text }}, 121))
{%- endmacro %}


{#- ---------------------------------------------------------------- PostgreSQL -#}
{#- The text's shape is checked with translate() (every digit to 9) rather than a regular
    expression: the same check, many times cheaper on a visits table. -#}

{% macro postgres_digit_mask(text) -%}
    translate({{ text }}, '0123456789', '9999999999')
{%- endmacro %}

{#- a DATE from year, month and day digit texts whose shape is already checked; NULL unless a
    real calendar date (CASE evaluates its branches lazily, so make_date never errors) -#}
{% macro postgres_date_from_parts(year, month, day) -%}
    case when {{ month }} between '01' and '12' and {{ day }} between '01' and '31' and {{ year }} <> '0000' then
        case when {{ day }} <= '28'
              or cast({{ day }} as integer) <= extract(day from (
                    make_date(cast({{ year }} as integer), cast({{ month }} as integer), 1)
                    + interval '1 month' - interval '1 day'))
            then make_date(cast({{ year }} as integer), cast({{ month }} as integer), cast({{ day }} as integer))
        end
    end
{%- endmacro %}

{% macro postgres__parse_date(expression, format) -%}
    {%- set t = "nullif(trim(cast(" ~ expression ~ " as text)), '')" -%}
    {%- if format == 'iso' -%}
        {%- set shape = llif.postgres_digit_mask('substring(' ~ t ~ ', 1, 10)') ~ " = '9999-99-99' and (length(" ~ t ~ ") = 10 or substring(" ~ t ~ ", 11, 1) in ('T', ' '))" -%}
        {%- set y, m, d = (1, 4), (6, 2), (9, 2) -%}
    {%- elif format == 'yyyymmdd' -%}
        {%- set shape = llif.postgres_digit_mask(t) ~ " = '99999999'" -%}
        {%- set y, m, d = (1, 4), (5, 2), (7, 2) -%}
    {%- elif format == 'dd/mm/yyyy' -%}
        {%- set shape = llif.postgres_digit_mask(t) ~ " = '99/99/9999'" -%}
        {%- set y, m, d = (7, 4), (4, 2), (1, 2) -%}
    {%- else -%}
        {%- set shape = llif.postgres_digit_mask(t) ~ " = '99.99.9999'" -%}
        {%- set y, m, d = (7, 4), (4, 2), (1, 2) -%}
    {%- endif -%}
    case when {{ shape }} then
        {{ llif.postgres_date_from_parts(
            'substring(' ~ t ~ ', ' ~ y[0] ~ ', ' ~ y[1] ~ ')',
            'substring(' ~ t ~ ', ' ~ m[0] ~ ', ' ~ m[1] ~ ')',
            'substring(' ~ t ~ ', ' ~ d[0] ~ ', ' ~ d[1] ~ ')') }}
    end
{%- endmacro %}

{#- yyyy-mm-dd, optionally T or space, hh:mi:ss and up to six decimals of a second -#}
{% macro postgres__parse_timestamp(expression) -%}
    {%- set t = "nullif(trim(cast(" ~ expression ~ " as text)), '')" -%}
    case when {{ llif.postgres_digit_mask(t) }} in ('9999-99-99', '9999-99-99T99:99:99', '9999-99-99 99:99:99')
          or ({{ llif.postgres_digit_mask('substring(' ~ t ~ ', 1, 20)') }} in ('9999-99-99T99:99:99.', '9999-99-99 99:99:99.')
              and length({{ t }}) between 21 and 26
              and translate(substring({{ t }}, 21), '0123456789', '') = '')
    then
        case when substring({{ t }}, 6, 2) between '01' and '12'
              and substring({{ t }}, 9, 2) between '01' and '31'
              and substring({{ t }}, 1, 4) <> '0000'
              and substring({{ t }}, 12, 2) <= '23'
              and substring({{ t }}, 15, 2) <= '59'
              and substring({{ t }}, 18, 2) <= '59'
        then
            case when substring({{ t }}, 9, 2) <= '28'
                  or cast(substring({{ t }}, 9, 2) as integer) <= extract(day from (
                        make_date(cast(substring({{ t }}, 1, 4) as integer), cast(substring({{ t }}, 6, 2) as integer), 1)
                        + interval '1 month' - interval '1 day'))
                then cast(replace({{ t }}, 'T', ' ') as timestamp)
            end
        end
    end
{%- endmacro %}


{#-
    minutes_between(start, end): whole minute boundaries crossed from start to end (negative
    when end is earlier), SQL Server's datediff(minute, ...) semantics on every target.
    dbt.datediff gives the same numbers, but on PostgreSQL it repeats each argument many
    times, and a staging view's arguments are whole parse expressions.
-#}
{% macro minutes_between(start, end) -%}
    {{ return(adapter.dispatch('minutes_between', 'llif')(start, end)) }}
{%- endmacro %}

{% macro default__minutes_between(start, end) -%}
    {{ dbt.datediff(start, end, 'minute') }}
{%- endmacro %}

{% macro postgres__minutes_between(start, end) -%}
    cast(floor(extract(epoch from {{ end }}) / 60) - floor(extract(epoch from {{ start }}) / 60) as integer)
{%- endmacro %}
