{#- Capacity against need, per scenario, resource and forecast month of the latest forecast
    run: capacity, occupancy and unconstrained need (mean and the 80% and 95% bands), the
    waiting list, the shortfall (mean need minus capacity) and utilisation (mean occupancy over
    capacity). Home care has no capacity KPI: its row compares hours delivered with hours needed. -#}
{%- set resources = llif.planning_resources() -%}
with

latest_run as (

    select run_id, run_date from {{ ref('stg_forecast__runs') }}
    where is_latest_run = 1

),

kpis as (

    select monthly.*
    from {{ ref('stg_forecast__monthly_kpis') }} as monthly
    inner join latest_run on latest_run.run_id = monthly.run_id

),

resources as (

    {{ llif.planning_literal_table(resources, ['resource', 'resource_name', 'unit', 'occupied_kpi', 'capacity_kpi', 'needed_kpi', 'waiting_kpi']) }}

),

pivoted as (

    select
        kpis.run_id,
        kpis.scenario,
        resources.resource,
        resources.resource_name,
        resources.unit,
        kpis.month_start,
        kpis.month_index,
        max(case when kpis.kpi = resources.capacity_kpi then kpis.mean end) as capacity,
        max(case when kpis.kpi = resources.occupied_kpi then kpis.mean end) as occupied_mean,
        max(case when kpis.kpi = resources.occupied_kpi then kpis.p10 end) as occupied_p10,
        max(case when kpis.kpi = resources.occupied_kpi then kpis.p90 end) as occupied_p90,
        max(case when kpis.kpi = resources.occupied_kpi then kpis.p2_5 end) as occupied_p2_5,
        max(case when kpis.kpi = resources.occupied_kpi then kpis.p97_5 end) as occupied_p97_5,
        max(case when kpis.kpi = resources.needed_kpi then kpis.mean end) as needed_mean,
        max(case when kpis.kpi = resources.needed_kpi then kpis.p10 end) as needed_p10,
        max(case when kpis.kpi = resources.needed_kpi then kpis.p90 end) as needed_p90,
        max(case when kpis.kpi = resources.needed_kpi then kpis.p2_5 end) as needed_p2_5,
        max(case when kpis.kpi = resources.needed_kpi then kpis.p97_5 end) as needed_p97_5,
        max(case when kpis.kpi = resources.waiting_kpi then kpis.mean end) as waiting_mean,
        max(case when kpis.kpi = resources.waiting_kpi then kpis.p10 end) as waiting_p10,
        max(case when kpis.kpi = resources.waiting_kpi then kpis.p90 end) as waiting_p90
    from kpis
    inner join resources
        on kpis.kpi in (resources.occupied_kpi, resources.capacity_kpi, resources.needed_kpi, resources.waiting_kpi)
    group by
        kpis.run_id, kpis.scenario, resources.resource, resources.resource_name, resources.unit,
        kpis.month_start, kpis.month_index

)

select
    {{ dbt.concat(['pivoted.scenario', "':'", 'pivoted.resource', "':'", llif.marts_date_text('pivoted.month_start')]) }} as capacity_outlook_id,
    pivoted.run_id,
    latest_run.run_date,
    pivoted.scenario,
    pivoted.resource,
    pivoted.resource_name,
    pivoted.unit,
    pivoted.month_start,
    pivoted.month_index,
    pivoted.capacity,
    pivoted.occupied_mean,
    pivoted.occupied_p10,
    pivoted.occupied_p90,
    pivoted.occupied_p2_5,
    pivoted.occupied_p97_5,
    pivoted.needed_mean,
    pivoted.needed_p10,
    pivoted.needed_p90,
    pivoted.needed_p2_5,
    pivoted.needed_p97_5,
    pivoted.waiting_mean,
    pivoted.waiting_p10,
    pivoted.waiting_p90,
    pivoted.needed_mean - pivoted.capacity as shortfall,
    pivoted.needed_mean - pivoted.occupied_mean as unmet_need,
    case when pivoted.capacity > 0 then pivoted.occupied_mean / pivoted.capacity end as utilisation,
    {{ llif.flag('pivoted.needed_mean > pivoted.capacity') }} as has_shortfall
from pivoted
inner join latest_run on latest_run.run_id = pivoted.run_id
