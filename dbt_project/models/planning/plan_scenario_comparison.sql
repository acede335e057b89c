{#- Each scenario against the baseline of the latest forecast run, for the key KPIs, at forecast
    months 12 and 24 and at the horizon (the last month): both means and the paired difference
    with its 95% confidence interval and band (forecast.scenario_differences). -#}
with

latest_run as (

    select run_id, run_date from {{ ref('stg_forecast__runs') }}
    where is_latest_run = 1

),

key_kpis as (

    {{ llif.planning_literal_table(llif.planning_kpis(), ['kpi', 'kpi_label', 'unit']) }}

),

differences as (

    select paired.*
    from {{ ref('stg_forecast__scenario_differences') }} as paired
    inner join latest_run on latest_run.run_id = paired.run_id
    inner join key_kpis on key_kpis.kpi = paired.kpi

),

horizon as (

    select max(month_index) as horizon_month_index from differences

),

compared as (

    select differences.*
    from differences
    cross join horizon
    where differences.month_index in (12, 24) or differences.month_index = horizon.horizon_month_index

),

kpis as (

    select monthly.*
    from {{ ref('stg_forecast__monthly_kpis') }} as monthly
    inner join latest_run on latest_run.run_id = monthly.run_id

)

select
    {{ dbt.concat(['compared.scenario', "':'", 'compared.kpi', "':'", llif.as_string('compared.month_index')]) }} as scenario_comparison_id,
    compared.run_id,
    latest_run.run_date,
    compared.scenario,
    compared.baseline_scenario,
    compared.kpi,
    key_kpis.kpi_label,
    key_kpis.unit,
    compared.month_index,
    compared.month_start,
    {{ llif.flag('compared.month_index = horizon.horizon_month_index') }} as is_horizon,
    baseline_kpis.mean as baseline_mean,
    scenario_kpis.mean as scenario_mean,
    compared.mean as difference_mean,
    compared.mean_ci_low as difference_ci_low,
    compared.mean_ci_high as difference_ci_high,
    compared.p2_5 as difference_p2_5,
    compared.p97_5 as difference_p97_5,
    compared.p_higher,
    compared.p_lower,
    {{ llif.flag('compared.mean_ci_low > 0 or compared.mean_ci_high < 0') }} as is_clear_difference
from compared
cross join horizon
inner join latest_run on latest_run.run_id = compared.run_id
inner join key_kpis on key_kpis.kpi = compared.kpi
left join kpis as baseline_kpis
    on baseline_kpis.scenario = compared.baseline_scenario
    and baseline_kpis.kpi = compared.kpi
    and baseline_kpis.month_index = compared.month_index
left join kpis as scenario_kpis
    on scenario_kpis.scenario = compared.scenario
    and scenario_kpis.kpi = compared.kpi
    and scenario_kpis.month_index = compared.month_index
