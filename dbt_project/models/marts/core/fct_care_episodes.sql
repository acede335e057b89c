{#- One row per episode of care: a care-home stay (either vendor) or a home-care package, with
    its kind, dates, weekly hours (packages), need level, how it began and ended, and its link to
    a known hospital stay before it:
    - a care-home admission from hospital is matched to the person's known hospital spell that
      ended within a day of it (known only where a home-care suspension or a care-home transfer
      recorded the hospital stay), giving the days spent in hospital before admission;
    - a package whose referral fell during a known hospital spell was arranged from hospital:
      referral_to_start_days is then the wait for home care, partly spent in hospital. -#}
with

stays as (

    select * from {{ ref('int_care_home_stays_unioned') }}

),

packages as (

    select * from {{ ref('int_care_packages_linked') }}

),

hospital as (

    select away_spell_id, person_key, start_date, end_date
    from {{ ref('int_away_spells_unioned') }}
    where setting = 'hospital' and is_duplicate = 0 and person_key is not null

),

stay_episodes as (

    select
        care_stay_id as care_episode_id,
        person_key,
        'care_home' as episode_type,
        source_system,
        scheme_id,
        home_key,
        cast(null as {{ dbt.type_string() }}) as team,
        care_type,
        stay_kind,
        cast(null as {{ llif.type_date() }}) as referral_date,
        admission_date as start_date,
        discharge_date as end_date,
        recorded_discharge_date as recorded_end_date,
        admission_source,
        discharge_destination as end_reason,
        cast(null as {{ llif.type_double() }}) as weekly_hours,
        case
            when care_type = 'nursing' then 3
            else coalesce({{ llif.marts_need_level_from_dependency('latest_dependency_score') }}, 2)
        end as need_level,
        latest_dependency_score,
        0 as is_reassessment,
        is_end_before_start,
        has_overlap,
        is_discharge_estimated as is_end_estimated
    from stays

),

package_episodes as (

    select
        {{ dbt.concat(["'P:'", llif.as_string('package_id')]) }} as care_episode_id,
        person_key,
        'home_care' as episode_type,
        'domcare' as source_system,
        cast(null as {{ dbt.type_string() }}) as scheme_id,
        cast(null as {{ dbt.type_string() }}) as home_key,
        team,
        'home_care' as care_type,
        cast(null as {{ dbt.type_string() }}) as stay_kind,
        referral_date,
        start_date,
        end_date,
        recorded_end_date,
        cast(null as {{ dbt.type_string() }}) as admission_source,
        end_reason,
        hours_per_week as weekly_hours,
        need_level,
        cast(null as {{ dbt.type_int() }}) as latest_dependency_score,
        is_reassessment,
        is_end_before_start,
        has_overlap,
        is_end_estimated
    from packages

),

episodes as (

    select * from stay_episodes
    union all
    select * from package_episodes

),

hospital_before_care_home as (

    select care_episode_id, away_spell_id, hospital_start_date
    from (
        select
            episodes.care_episode_id,
            hospital.away_spell_id,
            hospital.start_date as hospital_start_date,
            row_number() over (
                partition by episodes.care_episode_id order by hospital.start_date desc, hospital.away_spell_id asc
            ) as recency
        from episodes
        inner join hospital
            on episodes.person_key = hospital.person_key
            and hospital.end_date >= {{ llif.marts_add_days(-1, 'episodes.start_date') }}
            and hospital.end_date <= {{ llif.marts_add_days(1, 'episodes.start_date') }}
            and hospital.start_date <= episodes.start_date
        where
            episodes.episode_type = 'care_home'
            and episodes.admission_source = 'hospital'
    ) as ranked
    where recency = 1

),

hospital_at_referral as (

    select care_episode_id, away_spell_id, hospital_start_date
    from (
        select
            episodes.care_episode_id,
            hospital.away_spell_id,
            hospital.start_date as hospital_start_date,
            row_number() over (
                partition by episodes.care_episode_id order by hospital.start_date desc, hospital.away_spell_id asc
            ) as recency
        from episodes
        inner join hospital
            on episodes.person_key = hospital.person_key
            and hospital.start_date <= episodes.referral_date
            and (hospital.end_date is null or hospital.end_date >= episodes.referral_date)
        where
            episodes.episode_type = 'home_care'
            and episodes.is_reassessment = 0
    ) as ranked
    where recency = 1

)

select
    episodes.care_episode_id,
    episodes.person_key,
    episodes.episode_type,
    episodes.source_system,
    episodes.scheme_id,
    episodes.home_key,
    episodes.team,
    episodes.care_type,
    episodes.stay_kind,
    episodes.referral_date,
    episodes.start_date,
    episodes.end_date,
    episodes.recorded_end_date,
    {{ llif.marts_month_start('episodes.start_date') }} as start_month,
    {{ llif.marts_month_start('episodes.end_date') }} as end_month,
    episodes.admission_source,
    episodes.end_reason,
    episodes.weekly_hours,
    episodes.need_level,
    episodes.latest_dependency_score,
    case when episodes.end_date is not null then {{ llif.marts_days_between('episodes.start_date', 'episodes.end_date') }} end as episode_days,
    case
        when episodes.referral_date is not null and episodes.referral_date <= episodes.start_date
            then {{ llif.marts_days_between('episodes.referral_date', 'episodes.start_date') }}
    end as referral_to_start_days,
    coalesce(hospital_before_care_home.away_spell_id, hospital_at_referral.away_spell_id) as hospital_spell_id,
    case
        when hospital_before_care_home.hospital_start_date is not null
            then {{ llif.marts_days_between('hospital_before_care_home.hospital_start_date', 'episodes.start_date') }}
    end as hospital_days_before_admission,
    {{ llif.flag("episodes.admission_source = 'hospital' or hospital_at_referral.away_spell_id is not null") }} as is_from_hospital,
    episodes.is_reassessment,
    {{ llif.flag('episodes.end_date is null') }} as is_open,
    {{ llif.flag(llif.marts_go_live_of('episodes.source_system') ~ ' <= episodes.start_date') }} as is_observed_start,
    episodes.is_end_before_start,
    episodes.has_overlap,
    episodes.is_end_estimated
from episodes
left join hospital_before_care_home
    on episodes.care_episode_id = hospital_before_care_home.care_episode_id
left join hospital_at_referral
    on episodes.care_episode_id = hospital_at_referral.care_episode_id
