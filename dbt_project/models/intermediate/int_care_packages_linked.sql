{#- Home-care packages with the person_key of the service user and end dates fit for a
    timeline: a package recorded as ending after the person's next package began ends when that
    began (a reassessment replaces a package the same day); one recorded as ending before it
    began ends at the next package, else the day after its last visit, else at its start.
    A first entry of hours can be wrong (a slipped decimal point) until corrected: hours above
    a week's 168 are flagged and not used. -#}
with

packages as (

    select
        packages.*,
        lead(packages.start_date) over (
            partition by packages.service_user_id order by packages.start_date, packages.package_id
        ) as next_start_date,
        lag(packages.end_date) over (
            partition by packages.service_user_id order by packages.start_date, packages.package_id
        ) as previous_end_date,
        row_number() over (
            partition by packages.service_user_id order by packages.start_date, packages.package_id
        ) as package_number
    from {{ ref('stg_domcare__packages') }} as packages

),

last_visits as (

    select package_id, max(visit_date) as last_visit_date
    from {{ ref('stg_domcare__visits') }}
    where is_missed = 0
    group by package_id

),

service_users as (

    select service_user_id, record_key from {{ ref('stg_domcare__service_users') }}

),

xref as (

    select record_key, person_key from {{ ref('stg_identity__person_xref') }}
    where system = 'domcare'

),

cleaned as (

    select
        packages.package_id,
        packages.service_user_id,
        xref.person_key,
        packages.team,
        packages.referral_date,
        packages.start_date,
        packages.end_date as recorded_end_date,
        case
            when packages.is_end_before_start = 1
                then coalesce(packages.next_start_date, {{ llif.marts_add_days(1, 'last_visits.last_visit_date') }}, packages.start_date)
            when packages.end_date > packages.next_start_date
                then packages.next_start_date
            else packages.end_date
        end as end_date,
        packages.end_reason,
        packages.planned_hours_per_week as recorded_hours_per_week,
        case
            when packages.planned_hours_per_week > 0 and packages.planned_hours_per_week <= 168
                then packages.planned_hours_per_week
        end as hours_per_week,
        packages.package_number,
        -- a package that follows another of the same person's within a day is a reassessment
        {{ llif.flag("packages.previous_end_date is not null and " ~ llif.marts_days_between('packages.previous_end_date', 'packages.start_date') ~ " <= 1") }} as is_reassessment,
        packages.is_end_before_start,
        packages.is_start_before_referral,
        packages.has_overlap,
        {{ llif.flag('packages.is_end_before_start = 1 or packages.end_date > packages.next_start_date') }} as is_end_estimated
    from packages
    left join last_visits
        on packages.package_id = last_visits.package_id
    left join service_users
        on packages.service_user_id = service_users.service_user_id
    left join xref
        on service_users.record_key = xref.record_key

)

select
    package_id,
    service_user_id,
    person_key,
    team,
    referral_date,
    start_date,
    recorded_end_date,
    case when end_date < start_date then start_date else end_date end as end_date,
    end_reason,
    recorded_hours_per_week,
    hours_per_week,
    {{ llif.marts_need_level_from_hours('hours_per_week') }} as need_level,
    package_number,
    is_reassessment,
    is_end_before_start,
    is_start_before_referral,
    has_overlap,
    is_end_estimated,
    {{ llif.flag('hours_per_week is null') }} as is_hours_implausible
from cleaned
