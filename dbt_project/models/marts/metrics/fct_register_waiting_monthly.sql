{#- The housing register by month and need type (general, homeless, transfer, sheltered,
    extra_care): applications made, let and withdrawn in the month, and those waiting at month
    end with how long they had waited. Extra care and sheltered waits are the waits for those
    schemes; the CRM keeps the register from its go-live (1998), so every month is observed. -#}
with

applications as (

    select * from {{ ref('stg_crm__applications') }}
    where is_end_before_start = 0

),

months as (

    select month_start, month_end from {{ ref('int_months_generated') }}

),

need_types as (

    select 'general' as need_type
    union all
    select 'homeless'
    union all
    select 'transfer'
    union all
    select 'sheltered'
    union all
    select 'extra_care'

),

grid as (

    select months.month_start, months.month_end, need_types.need_type
    from months
    cross join need_types

),

flows as (

    select
        grid.month_start,
        grid.need_type,
        sum(case when {{ llif.marts_month_start('applications.applied_date') }} = grid.month_start then 1 else 0 end) as n_applied,
        sum(case when applications.status = 'let' and {{ llif.marts_month_start('applications.status_date') }} = grid.month_start then 1 else 0 end) as n_let,
        sum(case when applications.status = 'withdrawn' and {{ llif.marts_month_start('applications.status_date') }} = grid.month_start then 1 else 0 end) as n_withdrawn
    from grid
    inner join applications
        on applications.need_type = grid.need_type
        and applications.applied_date <= grid.month_end
        and (applications.status_date is null or applications.status_date >= grid.month_start)
    group by grid.month_start, grid.need_type

),

waiting as (

    select
        grid.month_start,
        grid.need_type,
        count(*) as n_waiting_end,
        avg(cast({{ llif.marts_days_between('applications.applied_date', 'grid.month_end') }} as {{ llif.type_double() }})) as mean_days_waiting_end,
        max({{ llif.marts_days_between('applications.applied_date', 'grid.month_end') }}) as max_days_waiting_end,
        sum(case when {{ llif.marts_days_between('applications.applied_date', 'grid.month_end') }} > 365 then 1 else 0 end) as n_waiting_over_a_year_end
    from grid
    inner join applications
        on applications.need_type = grid.need_type
        and applications.applied_date <= grid.month_end
        and (applications.status_date is null or applications.status_date > grid.month_end)
    group by grid.month_start, grid.need_type

)

select
    {{ dbt.concat([llif.marts_date_text('grid.month_start'), "':'", 'grid.need_type']) }} as register_month_id,
    grid.month_start,
    grid.need_type,
    coalesce(flows.n_applied, 0) as n_applied,
    coalesce(flows.n_let, 0) as n_let,
    coalesce(flows.n_withdrawn, 0) as n_withdrawn,
    coalesce(waiting.n_waiting_end, 0) as n_waiting_end,
    waiting.mean_days_waiting_end,
    waiting.max_days_waiting_end,
    coalesce(waiting.n_waiting_over_a_year_end, 0) as n_waiting_over_a_year_end
from grid
left join flows
    on grid.month_start = flows.month_start and grid.need_type = flows.need_type
left join waiting
    on grid.month_start = waiting.month_start and grid.need_type = waiting.need_type
