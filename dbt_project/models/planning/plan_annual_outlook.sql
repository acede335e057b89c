{#- The key flow KPIs (cost by payer and in total, admissions, bed days, lets, home-care hours)
    per scenario and forecast year of the latest forecast run. The totals and their bands come
    from forecast.kpi_annual, where each replication's months are summed before summarising:
    bands are not additive across months, so they cannot be had from the monthly marts. -#}
{%- set kpis = llif.planning_kpis() | selectattr('annual') | list -%}
with

latest_run as (

    select run_id, run_date from {{ ref('stg_forecast__runs') }}
    where is_latest_run = 1

),

key_kpis as (

    {{ llif.planning_literal_table(kpis, ['kpi', 'kpi_label', 'unit']) }}

),

annual as (

    select yearly.*
    from {{ ref('stg_forecast__annual_kpis') }} as yearly
    inner join latest_run on latest_run.run_id = yearly.run_id

)

select
    {{ dbt.concat(['annual.scenario', "':'", llif.as_string('annual.forecast_year'), "':'", 'annual.kpi']) }} as annual_outlook_id,
    annual.run_id,
    latest_run.run_date,
    annual.scenario,
    annual.forecast_year,
    annual.year_start,
    annual.year_end,
    annual.months_in_year,
    {{ llif.flag('annual.months_in_year = 12') }} as is_complete_year,
    annual.kpi,
    key_kpis.kpi_label,
    key_kpis.unit,
    annual.mean as total_mean,
    annual.median as total_median,
    annual.p10 as total_p10,
    annual.p90 as total_p90,
    annual.p2_5 as total_p2_5,
    annual.p97_5 as total_p97_5,
    annual.mean_ci_low as total_mean_ci_low,
    annual.mean_ci_high as total_mean_ci_high,
    annual.n_replications
from annual
inner join latest_run on latest_run.run_id = annual.run_id
inner join key_kpis on key_kpis.kpi = annual.kpi
