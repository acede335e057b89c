{#- How long things take, by month of completion, measure and segment (n, mean, median, 90th
    percentile and range, in days):
    - register_to_let_days: application to let, by need type (general, homeless, transfer,
      sheltered, extra_care), in the month of the let;
    - void_turnaround_days: a unit's void after a tenancy ended, start to end, by unit type;
    - referral_to_care_start_days: referral to the start of a new home-care package (not a
      reassessment), by area team;
    - care_home_length_of_stay_days: completed care-home stays, by kind of stay;
    - hospital_length_of_stay_days: completed hospital stays the sources know of, by the care
      they interrupted.
    Percentiles are computed with window functions (SQL Server has no ordered-set aggregate):
    the median is the mean of the middle one or two values, the 90th percentile the smallest
    value with at least 90% of the cases at or below it. -#}
with

cases as (

    select
        {{ llif.marts_month_start('status_date') }} as month_start,
        'register_to_let_days' as measure,
        need_type as segment,
        {{ llif.marts_days_between('applied_date', 'status_date') }} as days
    from {{ ref('stg_crm__applications') }}
    where status = 'let' and status_date >= applied_date

    union all

    select
        {{ llif.marts_month_start('voids.end_date') }} as month_start,
        'void_turnaround_days' as measure,
        units.unit_type as segment,
        {{ llif.marts_days_between('voids.start_date', 'voids.end_date') }} as days
    from {{ ref('stg_assets__voids') }} as voids
    inner join {{ ref('stg_assets__units') }} as units
        on voids.unit_id = units.unit_id
    where
        voids.void_reason = 'tenancy_end'
        and voids.end_date is not null
        and voids.is_end_before_start = 0

    union all

    select
        {{ llif.marts_month_start('start_date') }} as month_start,
        'referral_to_care_start_days' as measure,
        team as segment,
        {{ llif.marts_days_between('referral_date', 'start_date') }} as days
    from {{ ref('int_care_packages_linked') }}
    where is_reassessment = 0 and referral_date is not null and referral_date <= start_date

    union all

    select
        {{ llif.marts_month_start('discharge_date') }} as month_start,
        'care_home_length_of_stay_days' as measure,
        stay_kind as segment,
        {{ llif.marts_days_between('admission_date', 'discharge_date') }} as days
    from {{ ref('int_care_home_stays_unioned') }}
    where discharge_date is not null and is_discharge_estimated = 0

    union all

    select
        {{ llif.marts_month_start('end_date') }} as month_start,
        'hospital_length_of_stay_days' as measure,
        {{ dbt.concat(["'from_'", 'from_setting']) }} as segment,
        {{ llif.marts_days_between('start_date', 'end_date') }} as days
    from {{ ref('int_away_spells_unioned') }}
    where setting = 'hospital' and is_duplicate = 0 and end_date is not null and is_end_estimated = 0

),

months as (

    select month_start from {{ ref('int_months_generated') }}

),

ranked as (

    select
        cases.month_start,
        cases.measure,
        coalesce(cases.segment, 'unknown') as segment,
        cases.days,
        row_number() over (
            partition by cases.month_start, cases.measure, coalesce(cases.segment, 'unknown') order by cases.days
        ) as value_rank,
        count(*) over (
            partition by cases.month_start, cases.measure, coalesce(cases.segment, 'unknown')
        ) as n_cases
    from cases
    inner join months
        on cases.month_start = months.month_start
    where cases.days is not null

),

summarised as (

    select
        month_start,
        measure,
        segment,
        max(n_cases) as n_cases,
        avg(cast(days as {{ llif.type_double() }})) as mean_days,
        avg(case when 2 * value_rank between n_cases and n_cases + 2 then cast(days as {{ llif.type_double() }}) end) as median_days,
        min(case when 10 * value_rank >= 9 * n_cases then days end) as p90_days,
        min(days) as min_days,
        max(days) as max_days
    from ranked
    group by month_start, measure, segment

)

select
    {{ dbt.concat([llif.marts_date_text('month_start'), "':'", 'measure', "':'", 'segment']) }} as processing_time_id,
    month_start,
    measure,
    segment,
    n_cases,
    mean_days,
    median_days,
    p90_days,
    min_days,
    max_days
from summarised
