{#- dbt's is_incremental(), made answerable offline. dbt's own asks the database whether the
    model's table exists, which the offline SQL Server compile (no server here) cannot; with
    --vars '{llif_offline_compile: full}' or '{llif_offline_compile: incremental}' the answer is
    given instead, so CI compiles and scans both forms of every incremental model. Every other
    run uses dbt's own. -#}
{% macro is_incremental() -%}
    {%- set offline = var('llif_offline_compile', none) -%}
    {%- if offline is not none -%}
        {%- if offline not in ('full', 'incremental') -%}
            {{ exceptions.raise_compiler_error("llif_offline_compile must be 'full' or 'incremental', not " ~ offline) }}
        {%- endif -%}
        {{ return(offline == 'incremental') }}
    {%- endif -%}
    {{ return(dbt.is_incremental()) }}
{%- endmacro %}
