{#-
    GENERATED from the vocabulary (contracts/vocabulary/) by contracts/vocabulary/dbt.py: do not
    edit; change the vocabulary and run `.venv/bin/python -m contracts.vocabulary.dbt`.
    tests/unit/test_vocabulary.py fails when this file and the vocabulary differ.
-#}

{#- The planning marts' key KPIs (contracts.vocabulary.kpis KEY_KPIS): `annual` ones are flows,
    summed over a year in forecast.kpi_annual; the rest are compared month by month. -#}
{% macro planning_kpis() -%}
    {{ return([
        {'kpi': 'care_home_admissions', 'kpi_label': 'care-home admissions', 'unit': 'admissions', 'annual': 1},
        {'kpi': 'hospital_admissions', 'kpi_label': 'emergency hospital admissions', 'unit': 'admissions', 'annual': 1},
        {'kpi': 'hospital_bed_days', 'kpi_label': 'hospital bed days', 'unit': 'bed days', 'annual': 1},
        {'kpi': 'delayed_bed_days', 'kpi_label': 'delayed-discharge bed days', 'unit': 'bed days', 'annual': 1},
        {'kpi': 'home_care_hours', 'kpi_label': 'home-care hours delivered', 'unit': 'hours', 'annual': 1},
        {'kpi': 'lets', 'kpi_label': 'homes let', 'unit': 'lets', 'annual': 1},
        {'kpi': 'cost_nhs', 'kpi_label': 'cost to the NHS', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'cost_local_authority', 'kpi_label': 'cost to the local authority', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'cost_provider', 'kpi_label': 'cost to the provider (empty homes)', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'cost_charity', 'kpi_label': 'cost to hospice charities', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'cost_total', 'kpi_label': 'total cost', 'unit': 'GBP', 'annual': 1},
        {'kpi': 'people_extra_care', 'kpi_label': 'people in extra care', 'unit': 'people', 'annual': 0},
        {'kpi': 'people_residential_care', 'kpi_label': 'people in residential care homes', 'unit': 'people', 'annual': 0},
        {'kpi': 'people_nursing_care', 'kpi_label': 'people in nursing care homes', 'unit': 'people', 'annual': 0},
        {'kpi': 'delayed_discharges', 'kpi_label': 'people delayed in hospital', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_general_needs', 'kpi_label': 'general-needs waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_sheltered', 'kpi_label': 'sheltered waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_extra_care', 'kpi_label': 'extra-care waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_temporary', 'kpi_label': 'temporary accommodation waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_residential_care', 'kpi_label': 'residential care-home waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'waiting_nursing_care', 'kpi_label': 'nursing care-home waiting list', 'unit': 'people', 'annual': 0},
        {'kpi': 'home_care_waiting', 'kpi_label': 'people waiting for home care', 'unit': 'people', 'annual': 0},
    ]) }}
{%- endmacro %}

{#- Resources with a capacity (contracts.vocabulary.kpis PLANNING_RESOURCES): the KPIs that hold
    their occupancy, capacity, unconstrained need and waiting list. Home care has hours, not
    places: delivered hours stand for occupancy and there is no capacity KPI. -#}
{% macro planning_resources() -%}
    {{ return([
        {'resource': 'general_needs_units', 'resource_name': 'general-needs homes', 'unit': 'homes', 'occupied_kpi': 'occupied_general_needs_units', 'capacity_kpi': 'capacity_general_needs_units', 'needed_kpi': 'needed_general_needs_units', 'waiting_kpi': 'waiting_general_needs'},
        {'resource': 'sheltered_units', 'resource_name': 'sheltered flats', 'unit': 'flats', 'occupied_kpi': 'occupied_sheltered_units', 'capacity_kpi': 'capacity_sheltered_units', 'needed_kpi': 'needed_sheltered_units', 'waiting_kpi': 'waiting_sheltered'},
        {'resource': 'extra_care_flats', 'resource_name': 'extra-care flats', 'unit': 'flats', 'occupied_kpi': 'occupied_extra_care_flats', 'capacity_kpi': 'capacity_extra_care_flats', 'needed_kpi': 'needed_extra_care_flats', 'waiting_kpi': 'waiting_extra_care'},
        {'resource': 'temporary_units', 'resource_name': 'temporary accommodation', 'unit': 'units', 'occupied_kpi': 'occupied_temporary_units', 'capacity_kpi': 'capacity_temporary_units', 'needed_kpi': 'needed_temporary_units', 'waiting_kpi': 'waiting_temporary'},
        {'resource': 'residential_beds', 'resource_name': 'residential care-home beds', 'unit': 'beds', 'occupied_kpi': 'occupied_residential_beds', 'capacity_kpi': 'capacity_residential_beds', 'needed_kpi': 'needed_residential_beds', 'waiting_kpi': 'waiting_residential_care'},
        {'resource': 'nursing_beds', 'resource_name': 'nursing care-home beds', 'unit': 'beds', 'occupied_kpi': 'occupied_nursing_beds', 'capacity_kpi': 'capacity_nursing_beds', 'needed_kpi': 'needed_nursing_beds', 'waiting_kpi': 'waiting_nursing_care'},
        {'resource': 'home_care_hours', 'resource_name': 'home-care hours', 'unit': 'hours a month', 'occupied_kpi': 'home_care_hours', 'capacity_kpi': none, 'needed_kpi': 'needed_home_care_hours', 'waiting_kpi': 'home_care_waiting'},
    ]) }}
{%- endmacro %}

{#- States in order of precedence at month end (contracts.vocabulary.states STATE_PRECEDENCE):
    a lower rank wins. -#}
{% macro marts_states() -%}
    {{ return([
        'died',
        'hospice',
        'hospital',
        'nursing_care',
        'residential_care',
        'extra_care',
        'sheltered',
        'temporary',
        'general_needs',
        'community',
        'moved_out',
    ]) }}
{%- endmacro %}

{#- The local authorities (contracts.vocabulary.areas): code, name as planners write it, team. -#}
{% macro vocabulary_areas() -%}
    {{ return([
        {'code': 'CDF', 'name': 'Cardiff', 'team': 'east'},
        {'code': 'VOG', 'name': 'Vale of Glamorgan', 'team': 'east'},
        {'code': 'RCT', 'name': 'Rhondda Cynon Taf', 'team': 'central'},
        {'code': 'BGD', 'name': 'Bridgend', 'team': 'central'},
        {'code': 'NWP', 'name': 'Newport', 'team': 'east'},
        {'code': 'CPH', 'name': 'Caerphilly', 'team': 'east'},
        {'code': 'MTD', 'name': 'Merthyr Tydfil', 'team': 'central'},
        {'code': 'NPT', 'name': 'Neath Port Talbot', 'team': 'west'},
    ]) }}
{%- endmacro %}
