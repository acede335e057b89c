{#- Demand by month and route: what arrived at the provider's doors each month.
    - housing_application: register applications by need type (general, homeless, transfer,
      sheltered, extra_care) and band;
    - home_care_referral: referrals for a new package (reassessments of a running one are not
      demand), by area team;
    - care_home_admission: admissions by where the person came from (hospital, home, or
      unknown for vendor B stays migrated without an admission event) and kind of stay;
    - hospital_admission: hospital stays the sources know of (care-home residents and
      home-care users only), by the care they interrupted.
    A month before every system recording that kind of demand was live is not complete (and a
    month with no row is zero demand only where is_observed would be 1): is_observed is 0 there. -#}
with

xref as (

    select record_key, person_key from {{ ref('stg_identity__person_xref') }}
    where system = 'crm'

),

events as (

    select
        {{ llif.marts_month_start('applications.applied_date') }} as month_start,
        'housing_application' as demand_type,
        applications.need_type as route,
        applications.band as subtype,
        'crm' as source_system,
        xref.person_key
    from {{ ref('stg_crm__applications') }} as applications
    left join {{ ref('stg_crm__contacts') }} as contacts
        on applications.contact_id = contacts.contact_id
    left join xref
        on contacts.record_key = xref.record_key

    union all

    select
        {{ llif.marts_month_start('coalesce(referral_date, start_date)') }} as month_start,
        'home_care_referral' as demand_type,
        team as route,
        case when package_number = 1 then 'first_package' else 'returning' end as subtype,
        'domcare' as source_system,
        person_key
    from {{ ref('int_care_packages_linked') }}
    where is_reassessment = 0

    union all

    select
        {{ llif.marts_month_start('admission_date') }} as month_start,
        'care_home_admission' as demand_type,
        coalesce(admission_source, 'unknown') as route,
        stay_kind as subtype,
        source_system,
        person_key
    from {{ ref('int_care_home_stays_unioned') }}

    union all

    select
        {{ llif.marts_month_start('start_date') }} as month_start,
        'hospital_admission' as demand_type,
        {{ dbt.concat(["'from_'", 'from_setting']) }} as route,
        'emergency' as subtype,
        source_system,
        person_key
    from {{ ref('int_away_spells_unioned') }}
    where setting = 'hospital' and is_duplicate = 0

),

months as (

    select month_start, month_end from {{ ref('int_months_generated') }}

),

counted as (

    select
        events.month_start,
        events.demand_type,
        events.route,
        coalesce(events.subtype, 'unknown') as subtype,
        count(*) as n_events,
        count(distinct events.person_key) as n_people
    from events
    inner join months
        on events.month_start = months.month_start
    group by
        events.month_start,
        events.demand_type,
        events.route,
        coalesce(events.subtype, 'unknown')

)

select
    {{ dbt.concat([llif.marts_date_text('month_start'), "':'", 'demand_type', "':'", 'route', "':'", 'subtype']) }} as demand_id,
    month_start,
    demand_type,
    route,
    subtype,
    n_events,
    n_people,
    -- every system that records this kind of demand was live for the whole month
    case demand_type
        when 'housing_application' then {{ llif.flag(llif.marts_go_live('crm') ~ ' <= month_start') }}
        when 'home_care_referral' then {{ llif.flag(llif.marts_go_live('domcare') ~ ' <= month_start') }}
        when 'care_home_admission' then {{ llif.flag(llif.marts_go_live('care_b') ~ ' <= month_start and ' ~ llif.marts_go_live('care_a') ~ ' <= month_start') }}
        else {{ llif.flag(llif.marts_go_live('domcare') ~ ' <= month_start and ' ~ llif.marts_go_live('care_b') ~ ' <= month_start') }}
    end as is_observed
from counted
