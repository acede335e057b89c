{#- Housing churn by month and tenancy type: lets by route, tenancies ended by reason, the
    stock, tenancies and voids at month end, and turnover (lets over units; the last twelve
    months' lets over the units at month end is the annual turnover planners quote). Lets exclude
    the tenancies migrated at the CRM's go-live (route initial). The stock is the asset
    system's units available by month end; before its go-live (2003) that is what it knew in
    2003 of older stock (is_stock_observed 0). -#}
with

months as (

    select month_start, month_end from {{ ref('int_months_generated') }}

),

tenancy_types as (

    select 'general_needs' as tenancy_type
    union all
    select 'sheltered'
    union all
    select 'extra_care'
    union all
    select 'temporary'

),

grid as (

    select months.month_start, months.month_end, tenancy_types.tenancy_type
    from months
    cross join tenancy_types

),

tenancies as (

    select * from {{ ref('int_tenancies_cleaned') }}

),

lets as (

    select
        {{ llif.marts_month_start('start_date') }} as month_start,
        tenancy_type,
        count(*) as n_lets,
        sum(case when let_route = 'register' then 1 else 0 end) as n_lets_register,
        sum(case when let_route = 'homeless' then 1 else 0 end) as n_lets_homeless,
        sum(case when let_route = 'transfer' then 1 else 0 end) as n_lets_transfer
    from tenancies
    where let_route <> 'initial'
    group by {{ llif.marts_month_start('start_date') }}, tenancy_type

),

ends as (

    select
        {{ llif.marts_month_start('end_date') }} as month_start,
        tenancy_type,
        count(*) as n_ends,
        sum(case when end_reason = 'moved_out' then 1 else 0 end) as n_ends_moved_out,
        sum(case when end_reason = 'transfer' then 1 else 0 end) as n_ends_transfer,
        sum(case when end_reason = 'died' then 1 else 0 end) as n_ends_died,
        sum(case when end_reason = 'evicted' then 1 else 0 end) as n_ends_evicted,
        sum(case when end_reason = 'care_home' then 1 else 0 end) as n_ends_care_home,
        sum(case when end_reason = 'moved_on' then 1 else 0 end) as n_ends_moved_on,
        sum({{ llif.marts_days_between('start_date', 'end_date') }}) as ended_tenancy_days
    from tenancies
    where end_date is not null
    group by {{ llif.marts_month_start('end_date') }}, tenancy_type

),

stock as (

    select
        grid.month_start,
        grid.tenancy_type,
        count(*) as n_units
    from grid
    inner join {{ ref('stg_assets__units') }} as units
        on units.unit_type = grid.tenancy_type
        and units.available_from_date <= grid.month_end
    group by grid.month_start, grid.tenancy_type

),

open_tenancies as (

    select
        grid.month_start,
        grid.tenancy_type,
        count(*) as n_tenancies_end
    from grid
    inner join tenancies
        on tenancies.tenancy_type = grid.tenancy_type
        and {{ llif.marts_covers('tenancies.start_date', 'tenancies.end_date', 'grid.month_end') }}
    group by grid.month_start, grid.tenancy_type

),

open_voids as (

    select
        grid.month_start,
        grid.tenancy_type,
        count(distinct voids.unit_id) as n_void_units_end
    from grid
    inner join {{ ref('stg_assets__units') }} as units
        on units.unit_type = grid.tenancy_type
    inner join {{ ref('stg_assets__voids') }} as voids
        on voids.unit_id = units.unit_id
        and voids.is_end_before_start = 0
        and {{ llif.marts_covers('voids.start_date', 'voids.end_date', 'grid.month_end') }}
    group by grid.month_start, grid.tenancy_type

),

joined as (

    select
        grid.month_start,
        grid.tenancy_type,
        coalesce(lets.n_lets, 0) as n_lets,
        coalesce(lets.n_lets_register, 0) as n_lets_register,
        coalesce(lets.n_lets_homeless, 0) as n_lets_homeless,
        coalesce(lets.n_lets_transfer, 0) as n_lets_transfer,
        coalesce(ends.n_ends, 0) as n_ends,
        coalesce(ends.n_ends_moved_out, 0) as n_ends_moved_out,
        coalesce(ends.n_ends_transfer, 0) as n_ends_transfer,
        coalesce(ends.n_ends_died, 0) as n_ends_died,
        coalesce(ends.n_ends_evicted, 0) as n_ends_evicted,
        coalesce(ends.n_ends_care_home, 0) as n_ends_care_home,
        coalesce(ends.n_ends_moved_on, 0) as n_ends_moved_on,
        ends.ended_tenancy_days,
        coalesce(stock.n_units, 0) as n_units,
        coalesce(open_tenancies.n_tenancies_end, 0) as n_tenancies_end,
        coalesce(open_voids.n_void_units_end, 0) as n_void_units_end
    from grid
    left join lets
        on grid.month_start = lets.month_start and grid.tenancy_type = lets.tenancy_type
    left join ends
        on grid.month_start = ends.month_start and grid.tenancy_type = ends.tenancy_type
    left join stock
        on grid.month_start = stock.month_start and grid.tenancy_type = stock.tenancy_type
    left join open_tenancies
        on grid.month_start = open_tenancies.month_start and grid.tenancy_type = open_tenancies.tenancy_type
    left join open_voids
        on grid.month_start = open_voids.month_start and grid.tenancy_type = open_voids.tenancy_type

),

rolling as (

    select
        joined.*,
        sum(n_lets) over (
            partition by tenancy_type order by month_start rows between 11 preceding and current row
        ) as n_lets_last_12_months,
        count(*) over (
            partition by tenancy_type order by month_start rows between 11 preceding and current row
        ) as n_months_in_window
    from joined

)

select
    {{ dbt.concat([llif.marts_date_text('month_start'), "':'", 'tenancy_type']) }} as churn_id,
    month_start,
    tenancy_type,
    n_lets,
    n_lets_register,
    n_lets_homeless,
    n_lets_transfer,
    n_ends,
    n_ends_moved_out,
    n_ends_transfer,
    n_ends_died,
    n_ends_evicted,
    n_ends_care_home,
    n_ends_moved_on,
    {{ llif.marts_ratio('ended_tenancy_days', 'n_ends') }} as mean_ended_tenancy_days,
    n_units,
    n_tenancies_end,
    n_void_units_end,
    {{ llif.marts_ratio('n_void_units_end', 'n_units') }} as void_rate_end,
    {{ llif.marts_ratio('n_lets', 'n_units') }} as turnover_rate_month,
    case when n_months_in_window = 12 then n_lets_last_12_months end as n_lets_last_12_months,
    case when n_months_in_window = 12 then {{ llif.marts_ratio('n_lets_last_12_months', 'n_units') }} end as turnover_rate_last_12_months,
    {{ llif.flag(llif.marts_go_live('assets') ~ ' <= month_start') }} as is_stock_observed
from rolling
