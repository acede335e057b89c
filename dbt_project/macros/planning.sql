{#-
    The planning marts' vocabularies (models/planning/), kept in one place: which forecast KPIs
    a planner is shown, with a plain label and unit, and how the KPIs of one resource line up.
    KPI names are the engine's (simulation/engine.py KPIS, simulation/outputs.py NEEDED_KPIS
    and FLOW_KPIS). A list renders as a small literal table (`select ... union all select ...`),
    which every target runs.
-#}

{#- Resources with a capacity: the KPIs that hold their capacity, occupancy (mean over the
    month-end states), unconstrained need and waiting list. Home care has hours, not places:
    delivered hours stand for occupancy and there is no capacity KPI. -#}
{% macro planning_resources() -%}
    {{ return([
        {'resource': 'general_needs_units', 'resource_name': 'general-needs homes', 'unit': 'homes',
         'occupied_kpi': 'occupied_general_needs_units', 'capacity_kpi': 'capacity_general_needs_units',
         'needed_kpi': 'needed_general_needs_units', 'waiting_kpi': 'waiting_general_needs'},
        {'resource': 'sheltered_units', 'resource_name': 'sheltered flats', 'unit': 'flats',
         'occupied_kpi': 'occupied_sheltered_units', 'capacity_kpi': 'capacity_sheltered_units',
         'needed_kpi': 'needed_sheltered_units', 'waiting_kpi': 'waiting_sheltered'},
        {'resource': 'extra_care_flats', 'resource_name': 'extra-care flats', 'unit': 'flats',
         'occupied_kpi': 'occupied_extra_care_flats', 'capacity_kpi': 'capacity_extra_care_flats',
         'needed_kpi': 'needed_extra_care_flats', 'waiting_kpi': 'waiting_extra_care'},
        {'resource': 'temporary_units', 'resource_name': 'temporary accommodation', 'unit': 'units',
         'occupied_kpi': 'occupied_temporary_units', 'capacity_kpi': 'capacity_temporary_units',
         'needed_kpi': 'needed_temporary_units', 'waiting_kpi': 'waiting_temporary'},
        {'resource': 'residential_beds', 'resource_name': 'residential care-home beds', 'unit': 'beds',
         'occupied_kpi': 'occupied_residential_beds', 'capacity_kpi': 'capacity_residential_beds',
         'needed_kpi': 'needed_residential_beds', 'waiting_kpi': 'waiting_residential_care'},
        {'resource': 'nursing_beds', 'resource_name': 'nursing care-home beds', 'unit': 'beds',
         'occupied_kpi': 'occupied_nursing_beds', 'capacity_kpi': 'capacity_nursing_beds',
         'needed_kpi': 'needed_nursing_beds', 'waiting_kpi': 'waiting_nursing_care'},
        {'resource': 'home_care_hours', 'resource_name': 'home-care hours', 'unit': 'hours a month',
         'occupied_kpi': 'home_care_hours', 'capacity_kpi': none,
         'needed_kpi': 'needed_home_care_hours', 'waiting_kpi': 'home_care_waiting'},
    ]) }}
{%- endmacro %}


{#- Key KPIs: `annual` ones are flows (summed over a year in forecast.kpi_annual), the rest
    are compared month by month between scenarios too. -#}
{% macro planning_kpis() -%}
    {{ return([
        {'kpi': 'cost_total', 'kpi_label': 'total cost', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'cost_nhs', 'kpi_label': 'cost to the NHS', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'cost_local_authority', 'kpi_label': 'cost to the local authority', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'cost_provider', 'kpi_label': 'cost to the provider (voids)', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'cost_charity', 'kpi_label': 'cost to hospice charities', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'hospital_admissions', 'kpi_label': 'hospital admissions', 'unit': 'admissions', 'annual': 1},
        {'kpi': 'care_home_admissions', 'kpi_label': 'care-home admissions', 'unit': 'admissions', 'annual': 1},
        {'kpi': 'hospital_bed_days', 'kpi_label': 'hospital bed days', 'unit': 'bed days', 'annual': 1},
        {'kpi': 'delayed_bed_days', 'kpi_label': 'delayed-discharge bed days', 'unit': 'bed days', 'annual': 1},
        {'kpi': 'lets', 'kpi_label': 'lets', 'unit': 'lets', 'annual': 1},
        {'kpi': 'home_care_hours', 'kpi_label': 'home-care hours delivered', 'unit': 'hours', 'annual': 1},
        {'kpi': 'delayed_discharges', 'kpi_label': 'people delayed in hospital', 'unit': 'people', 'annual': 0},
        {'kpi': 'home_care_waiting', 'kpi_label': 'people waiting for home care', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_general_needs', 'kpi_label': 'general-needs waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_sheltered', 'kpi_label': 'sheltered waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_extra_care', 'kpi_label': 'extra-care waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_temporary', 'kpi_label': 'temporary accommodation waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_residential_care', 'kpi_label': 'residential care-home waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_nursing_care', 'kpi_label': 'nursing care-home waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'people_extra_care', 'kpi_label': 'people in extra care', 'unit': 'people', 'annual': 0},
        {'kpi': 'people_residential_care', 'kpi_label': 'people in residential care homes', 'unit': 'people', 'annual': 0},
        {'kpi': 'people_nursing_care', 'kpi_label': 'people in nursing care homes', 'unit': 'people', 'annual': 0},
    ]) }}
{%- endmacro %}


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
