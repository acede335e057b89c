{#- Spells away in hospital or a hospice as the sources know them, one row per source record:
    - vendor A transfers out of a home (date out to date ended);
    - vendor B movement events: a to_hospital / to_hospice event ends at the placement's next
      movement (back, died, or discharged while away);
    - home-care suspensions for HOSPITAL or HOSPICE: away from the suspension until the day
      before care resumed (it resumes the day after the person is back), or until the package
      ended if it ended first (care_home, died or a reassessment while away).
    end_date is the day the person left hospital (NULL while still there). The same stay can be
    known to two systems (a home-care user in a respite stay); is_duplicate marks every copy
    after the first (by vendor A, vendor B, home care) of a setting and admission day. -#}
with

xref as (

    select system, record_key, person_key from {{ ref('stg_identity__person_xref') }}

),

-- vendor A ----------------------------------------------------------------------------------

a_stays as (

    select stay_key, discharge_date from {{ ref('stg_care_a__stays') }}

),

a_spells as (

    select
        {{ dbt.concat(["'A:'", 'transfers.transfer_key']) }} as away_spell_id,
        'care_a' as source_system,
        transfers.transfer_key as source_record_key,
        transfers.transfer_to as setting,
        xref.person_key,
        transfers.date_out as start_date,
        case
            when transfers.is_end_before_start = 1
                then
                    case when a_stays.discharge_date >= transfers.date_out then a_stays.discharge_date else transfers.date_out end
            else transfers.date_ended
        end as end_date,
        case transfers.outcome
            when 'returned' then 'returned'
            when 'died' then 'died'
            when 'not_returned' then 'not_returned'
        end as outcome,
        'care_home' as from_setting,
        {{ dbt.concat(["'A:'", 'transfers.stay_key']) }} as care_stay_id,
        cast(null as {{ dbt.type_bigint() }}) as package_id,
        {{ llif.flag('transfers.is_end_before_start = 1') }} as is_end_estimated,
        1 as source_priority
    from {{ ref('stg_care_a__transfers') }} as transfers
    left join a_stays
        on transfers.stay_key = a_stays.stay_key
    left join xref
        on xref.system = 'care_a'
        and transfers.resident_key = xref.record_key

),

-- vendor B ----------------------------------------------------------------------------------

b_events as (

    select
        events.*,
        lead(events.event_type) over (
            partition by events.placement_id order by events.event_at, events.event_id
        ) as next_event_type,
        lead(events.event_date) over (
            partition by events.placement_id order by events.event_at, events.event_id
        ) as next_event_date
    from {{ ref('stg_care_b__movement_events') }} as events

),

b_spells as (

    select
        {{ dbt.concat(["'B:'", llif.as_string('b_events.event_id')]) }} as away_spell_id,
        'care_b' as source_system,
        {{ llif.as_string('b_events.event_id') }} as source_record_key,
        case b_events.event_type when 'to_hospital' then 'hospital' else 'hospice' end as setting,
        xref.person_key,
        b_events.event_date as start_date,
        case
            when b_events.next_event_type in ('back_from_hospital', 'back_from_hospice', 'died', 'discharged')
                then b_events.next_event_date
        end as end_date,
        case b_events.next_event_type
            when 'back_from_hospital' then 'returned'
            when 'back_from_hospice' then 'returned'
            when 'died' then 'died'
            when 'discharged' then 'not_returned'
        end as outcome,
        'care_home' as from_setting,
        {{ dbt.concat(["'B:'", llif.as_string('b_events.placement_id')]) }} as care_stay_id,
        cast(null as {{ dbt.type_bigint() }}) as package_id,
        -- the placement ended while away: the day the person left hospital is not recorded
        {{ llif.flag("b_events.next_event_type = 'discharged'") }} as is_end_estimated,
        2 as source_priority
    from b_events
    left join xref
        on xref.system = 'care_b'
        and b_events.client_id = xref.record_key
    where b_events.event_type in ('to_hospital', 'to_hospice')

),

-- home care ---------------------------------------------------------------------------------

packages as (

    select package_id, person_key, end_date, end_reason
    from {{ ref('int_care_packages_linked') }}

),

d_spells as (

    select
        {{ dbt.concat(["'D:'", llif.as_string('suspensions.suspension_id')]) }} as away_spell_id,
        'domcare' as source_system,
        {{ llif.as_string('suspensions.suspension_id') }} as source_record_key,
        suspensions.suspension_reason as setting,
        packages.person_key,
        suspensions.suspended_from_date as start_date,
        case
            when suspensions.resumed_on_date is not null and suspensions.is_end_before_start = 0
                then {{ llif.marts_add_days(-1, 'suspensions.resumed_on_date') }}
            when packages.end_date >= suspensions.suspended_from_date
                then packages.end_date
            when packages.end_date is not null
                then suspensions.suspended_from_date
        end as end_date,
        case
            when suspensions.resumed_on_date is not null and suspensions.is_end_before_start = 0 then 'returned'
            when packages.end_reason = 'died' then 'died'
            when packages.end_reason = 'care_home' then 'to_care_home'
            when packages.end_date is not null then 'not_returned'
        end as outcome,
        'home_care' as from_setting,
        cast(null as {{ dbt.type_string() }}) as care_stay_id,
        suspensions.package_id,
        {{ llif.flag("suspensions.is_end_before_start = 1 or (suspensions.resumed_on_date is null and packages.end_date is not null and packages.end_reason not in ('died', 'care_home'))") }} as is_end_estimated,
        3 as source_priority
    from {{ ref('stg_domcare__suspensions') }} as suspensions
    inner join packages
        on suspensions.package_id = packages.package_id
    where suspensions.suspension_reason in ('hospital', 'hospice')

),

unioned as (

    select * from a_spells
    union all
    select * from b_spells
    union all
    select * from d_spells

),

ranked as (

    select
        unioned.*,
        row_number() over (
            partition by unioned.person_key, unioned.setting, unioned.start_date
            order by unioned.source_priority, unioned.away_spell_id
        ) as copy_number
    from unioned

)

select
    away_spell_id,
    source_system,
    source_record_key,
    setting,
    person_key,
    start_date,
    case when end_date < start_date then start_date else end_date end as end_date,
    outcome,
    from_setting,
    care_stay_id,
    package_id,
    is_end_estimated,
    case when person_key is not null and copy_number > 1 then 1 else 0 end as is_duplicate
from ranked
