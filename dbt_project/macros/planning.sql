{#-
    How the planning marts (models/planning/) render their vocabularies: which forecast KPIs a
    planner is shown, with a plain label and unit (`planning_kpis()`), and how the KPIs of one
    resource line up (`planning_resources()`). Both lists are generated from the KPI catalogue
    (contracts/vocabulary/kpis.py) into macros/vocabulary.sql; a list renders here as a small
    literal table (`select ... union all select ...`), which every target runs.
-#}

{#- rows (a list of dicts) as a literal table with `columns`: text, integers or NULL text -#}
{% macro planning_literal_table(rows, columns) -%}
    {%- for row in rows %}
    select
        {%- for column in columns %}
        {%- set value = row[column] %}
        {%- if value is none %}
        cast(null as {{ dbt.type_string() }}) as {{ column }}
        {%- elif value is number %}
        {{ value }} as {{ column }}
        {%- else %}
        cast('{{ value | replace("'", "''") }}' as {{ dbt.type_string() }}) as {{ column }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- The statistics every forecast table carries per row (simulation/outputs.py STATS), cast
    alike in each staging view: mean, median, the 50/80/95% band edges, the mean's CI. -#}
{% macro forecast_statistics() -%}
    {%- for column in ['mean', 'median', 'p2_5', 'p10', 'p25', 'p75', 'p90', 'p97_5', 'mean_ci_low', 'mean_ci_high'] %}
        cast({{ column }} as {{ llif.type_double() }}) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
