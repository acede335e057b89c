{#- One row per hospital stay the sources know of. Hospital activity is not a source system
    here: a stay is known only when it interrupts care the provider records -
    - a vendor A transfer out of a care home (TransferTo HOSP);
    - a vendor B to_hospital movement event (ended by the next movement: back, died,
      discharged while away);
    - a home-care package suspended for HOSPITAL (ended the day before care resumed, or when
      the package ended while the person was away).
    A stay known to two systems is kept once (vendor A, then B, then home care).

    What can be measured: admission and discharge days, length of stay, the outcome (returned,
    died, not returned, went into a care home) and whether a care-home admission from hospital
    followed within a day of discharge. What cannot: the day a patient was medically fit (no
    source holds it), so a true delayed discharge is not measurable; long_stay_excess_days (days
    beyond 21, the national "long stay" mark) and discharge to a care home are its proxies.
    Stays of tenants without home care, and every stay before a system's go-live, are unknown. -#}
with

spells as (

    select * from {{ ref('int_away_spells_unioned') }}
    where setting = 'hospital'

),

copies as (

    select person_key, start_date, count(*) as n_source_records
    from spells
    where person_key is not null
    group by person_key, start_date

),

care_home_admissions as (

    select care_stay_id, person_key, admission_date
    from {{ ref('int_care_home_stays_unioned') }}
    where admission_source = 'hospital' and person_key is not null

),

kept as (

    select * from spells
    where is_duplicate = 0

),

to_care_home as (

    select away_spell_id, care_stay_id
    from (
        select
            kept.away_spell_id,
            care_home_admissions.care_stay_id,
            row_number() over (
                partition by kept.away_spell_id
                order by care_home_admissions.admission_date, care_home_admissions.care_stay_id
            ) as first_after
        from kept
        inner join care_home_admissions
            on kept.person_key = care_home_admissions.person_key
            and care_home_admissions.admission_date >= {{ llif.marts_add_days(-1, 'kept.end_date') }}
            and care_home_admissions.admission_date <= {{ llif.marts_add_days(1, 'kept.end_date') }}
            and (kept.care_stay_id is null or care_home_admissions.care_stay_id <> kept.care_stay_id)
    ) as ranked
    where first_after = 1

),

measured as (

    select
        kept.away_spell_id as hospital_spell_id,
        kept.person_key,
        kept.source_system,
        kept.source_record_key,
        kept.from_setting,
        coalesce(kept.care_stay_id, {{ dbt.concat(["'P:'", llif.as_string('kept.package_id')]) }}) as care_episode_id,
        kept.start_date as admission_date,
        kept.end_date as discharge_date,
        {{ llif.marts_month_start('kept.start_date') }} as admission_month,
        {{ llif.marts_month_start('kept.end_date') }} as discharge_month,
        case when kept.end_date is not null then {{ llif.marts_days_between('kept.start_date', 'kept.end_date') }} end as length_of_stay_days,
        case when to_care_home.care_stay_id is not null then 'to_care_home' else kept.outcome end as outcome,
        to_care_home.care_stay_id as discharged_to_care_episode_id,
        coalesce(copies.n_source_records, 1) as n_source_records,
        kept.is_end_estimated
    from kept
    left join to_care_home
        on kept.away_spell_id = to_care_home.away_spell_id
    left join copies
        on kept.person_key = copies.person_key
        and kept.start_date = copies.start_date

)

select
    hospital_spell_id,
    person_key,
    source_system,
    source_record_key,
    from_setting,
    care_episode_id,
    admission_date,
    discharge_date,
    admission_month,
    discharge_month,
    length_of_stay_days,
    outcome,
    discharged_to_care_episode_id,
    case when length_of_stay_days > 21 then length_of_stay_days - 21 else 0 end as long_stay_excess_days,
    {{ llif.flag('length_of_stay_days > 21') }} as is_long_stay,
    {{ llif.flag("outcome = 'to_care_home'") }} as is_discharged_to_care_home,
    {{ llif.flag("outcome = 'died'") }} as is_died_in_hospital,
    {{ llif.flag('discharge_date is null') }} as is_open,
    n_source_records,
    is_end_estimated
from measured
