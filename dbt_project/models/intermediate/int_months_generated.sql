{#- The month spine: every month from the timeline's start (January 1998) to the month the
    warehouse stands at. Generated from a numbers table of cross-joined digits (0-9999 months),
    which every engine runs; recursive CTEs and generate_series are not portable. -#}
with

digits as (

    -- ten literal digits read better on two lines than on twenty (LT11 wants one a line)
    -- noqa: disable=LT11
    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
    -- noqa: enable=LT11

),

numbers as (

    select ones.d + 10 * tens.d + 100 * hundreds.d as month_number
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds

),

bounds as (

    select max(data_as_of_month) as last_month
    from {{ ref('int_source_systems_summarised') }}

),

months as (

    select
        numbers.month_number,
        {{ llif.marts_add_months('numbers.month_number', llif.marts_timeline_start()) }} as month_start
    from numbers

)

select
    months.month_number,
    months.month_start,
    {{ llif.marts_month_end('months.month_start') }} as month_end
from months
cross join bounds
where months.month_start <= bounds.last_month
