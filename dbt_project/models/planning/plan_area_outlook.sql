{#- The planners' KPIs by area, segment and age band, per scenario and forecast month of the
    latest forecast run, beside the provider's total. Every group's statistics are its own
    replications' (simulation/breakdowns.py counts each person in their group; nothing is a
    share of the total), so a group's band is not a fraction of the total's band; the share of
    the total is of the means, which do add up. -#}
{%- set kpis = llif.planning_kpis() -%}
{%- set areas = llif.vocabulary_areas() -%}
with

latest_run as (

    select run_id, run_date from {{ ref('stg_forecast__runs') }}
    where is_latest_run = 1

),

key_kpis as (

    {{ llif.planning_literal_table(kpis, ['kpi', 'kpi_label', 'unit']) }}

),

area_names as (

    {{ llif.planning_literal_table(areas, ['code', 'name']) }}

),

breakdowns as (

    select groups.*
    from {{ ref('stg_forecast__kpi_breakdowns') }} as groups
    inner join latest_run on latest_run.run_id = groups.run_id

),

totals as (

    select scenario, kpi, month_index, mean as provider_mean
    from breakdowns
    where breakdown = 'total'

)

select
    {{ dbt.concat(['breakdowns.scenario', "':'", 'breakdowns.breakdown', "':'", 'breakdowns.area_code', "':'",
                   'breakdowns.segment', "':'", 'breakdowns.age_band', "':'", 'breakdowns.kpi', "':'",
                   llif.marts_date_text('breakdowns.month_start')]) }} as area_outlook_id,
    breakdowns.run_id,
    latest_run.run_date,
    breakdowns.scenario,
    breakdowns.breakdown,
    breakdowns.area_code,
    case
        when breakdowns.area_code = 'all' then 'all areas'
        when breakdowns.area_code = 'unknown' then 'area not known'
        else coalesce(area_names.name, breakdowns.area_code)
    end as area_name,
    breakdowns.segment,
    breakdowns.age_band,
    breakdowns.kpi,
    key_kpis.kpi_label,
    key_kpis.unit,
    breakdowns.month_start,
    breakdowns.month_index,
    breakdowns.mean,
    breakdowns.median,
    breakdowns.p10,
    breakdowns.p90,
    breakdowns.p2_5,
    breakdowns.p97_5,
    case when totals.provider_mean > 0 then breakdowns.mean / totals.provider_mean end as share_of_provider,
    breakdowns.n_replications
from breakdowns
inner join latest_run on latest_run.run_id = breakdowns.run_id
inner join key_kpis on key_kpis.kpi = breakdowns.kpi
inner join totals
    on
    totals.scenario = breakdowns.scenario
    and totals.kpi = breakdowns.kpi
    and totals.month_index = breakdowns.month_index
left join area_names on area_names.code = breakdowns.area_code
