{#- The linked tenant timeline: one row per person_key per month, from the month the person is
    first known to the last (see int_person_months_spined), with the state at month end.

    State: the spells covering the month's last day compete by precedence, died > hospice >
    hospital > nursing_care > residential_care > extra_care > sheltered > temporary >
    general_needs > community > moved_out; a recorded death on or before the month end is died.
    A month no spell covers is moved_out - except after a tenancy or package that ended because
    the person went into a care home no source holds (a home before its vendor's go-live), when
    it is residential_care, inferred (is_state_inferred = 1, is_observed = 0). A moved_out month
    takes its source from the spell whose end it follows.

    is_observed: the system that supplies the month's state was live at month end (a migrated
    record dated before its system's go-live, or an inference, is 0). Absence is only evidence
    where a system covering it was live: is_care_home_observed, is_home_care_observed and
    is_hospital_observed say, per month, whether no care-home stay, no package or no hospital
    stay on record means none (hospital stays are recorded only for care-home residents and
    home-care users). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='person_month_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ llif.marts_forget_changed_people() }}"
) }}
{#- Incremental by person (docs/decisions.md): a full build computes everyone; a nightly one
    rebuilds the whole history of people whose fingerprint changed or who are new (the pre-hook
    has deleted the changed ones' rows), and the last two months the timeline held for everyone
    else (a month in progress settles, a new month begins). -#}
with

fingerprints as (

    select * from {{ ref('int_persons_fingerprinted') }}

),

{% if is_incremental() %}

stored_people as (

    select person_key from {{ this }}
    where is_first_month = 1

),

rebuilt_people as (

    select fingerprints.person_key
    from fingerprints
    left join stored_people
        on fingerprints.person_key = stored_people.person_key
    where stored_people.person_key is null

),

recent as (

    -- from two months before the last month held: the first of them only feeds previous_state
    select {{ llif.marts_add_months(-2, 'max(month_start)') }} as window_start from {{ this }}

),

months as (

    select spine.*, 1 as is_rebuilt
    from {{ ref('int_person_months_spined') }} as spine
    inner join rebuilt_people
        on spine.person_key = rebuilt_people.person_key

    union all

    select spine.*, 0 as is_rebuilt
    from {{ ref('int_person_months_spined') }} as spine
    cross join recent
    left join rebuilt_people
        on spine.person_key = rebuilt_people.person_key
    where
        spine.month_start >= recent.window_start
        and rebuilt_people.person_key is null

),

{% else %}

months as (

    select spine.*, 1 as is_rebuilt from {{ ref('int_person_months_spined') }} as spine

),

{% endif %}

spells as (

    select * from {{ ref('int_state_spells_unioned') }}

),

deaths as (

    select * from {{ ref('int_deaths_derived') }}

),

persons as (

    select person_key, birth_month from {{ ref('int_persons_aggregated') }}

),

schemes as (

    select scheme_id, area_code, area_name from {{ ref('stg_assets__schemes') }}

),

households as (

    select household_id, area_code, {{ llif.area_name_from_code('area_code') }} as area_name
    from {{ ref('stg_crm__households') }}

),

-- the spells covering each month end ----------------------------------------------------------

covering as (

    select
        months.person_month_id,
        spells.state_spell_id,
        spells.spell_kind,
        spells.state,
        spells.state_rank,
        spells.source_system,
        spells.source_go_live_date,
        spells.tenancy_id,
        spells.care_stay_id,
        spells.package_id,
        spells.away_spell_id,
        spells.scheme_id,
        spells.unit_id,
        spells.weekly_hours,
        spells.need_level,
        months.month_end,
        row_number() over (
            partition by months.person_month_id, spells.spell_kind
            order by spells.state_rank asc, spells.start_date desc, spells.state_spell_id asc
        ) as kind_rank,
        row_number() over (
            partition by months.person_month_id
            order by spells.state_rank asc, spells.start_date desc, spells.state_spell_id asc
        ) as overall_rank
    from months
    inner join spells
        on months.person_key = spells.person_key
        and spells.start_date <= months.month_end
        and (spells.end_date is null or spells.end_date > months.month_end)

),

at_month_end as (

    select
        person_month_id,
        max(case when overall_rank = 1 then state end) as covering_state,
        max(case when overall_rank = 1 then source_system end) as state_source_system,
        max(case when overall_rank = 1 then source_go_live_date end) as state_source_go_live_date,
        max(case when spell_kind = 'housing' and kind_rank = 1 then tenancy_id end) as tenancy_id,
        max(case when spell_kind = 'housing' and kind_rank = 1 then unit_id end) as unit_id,
        max(case when spell_kind = 'housing' and kind_rank = 1 then scheme_id end) as housing_scheme_id,
        max(case when spell_kind = 'care_home' and kind_rank = 1 then care_stay_id end) as care_stay_id,
        max(case when spell_kind = 'care_home' and kind_rank = 1 then scheme_id end) as care_scheme_id,
        max(case when spell_kind = 'care_home' and kind_rank = 1 then need_level end) as care_need_level,
        max(case when spell_kind = 'care_home' and kind_rank = 1 and source_go_live_date <= month_end then 1 else 0 end) as has_live_care_stay,
        max(case when spell_kind = 'home_care' and kind_rank = 1 then package_id end) as package_id,
        max(case when spell_kind = 'home_care' and kind_rank = 1 then weekly_hours end) as weekly_hours,
        max(case when spell_kind = 'home_care' and kind_rank = 1 then need_level end) as package_need_level,
        max(case when spell_kind = 'home_care' and kind_rank = 1 and source_go_live_date <= month_end then 1 else 0 end) as has_live_package,
        max(case when spell_kind = 'away' and kind_rank = 1 then away_spell_id end) as away_spell_id
    from covering
    group by person_month_id

),

-- months no spell covers: how did the person's last spell end? ------------------------------

uncovered as (

    select months.*
    from months
    left join at_month_end
        on months.person_month_id = at_month_end.person_month_id
    where at_month_end.person_month_id is null

),

last_ended as (

    select
        person_month_id,
        end_reason,
        spell_kind,
        source_system,
        source_go_live_date
    from (
        select
            uncovered.person_month_id,
            spells.end_reason,
            spells.spell_kind,
            spells.source_system,
            spells.source_go_live_date,
            row_number() over (
                partition by uncovered.person_month_id
                order by spells.end_date desc, spells.state_rank asc, spells.state_spell_id asc
            ) as recency
        from uncovered
        inner join spells
            on uncovered.person_key = spells.person_key
            and spells.end_date <= uncovered.month_end
    ) as ranked
    where recency = 1

),

-- events of the month -------------------------------------------------------------------------

events as (

    select
        person_key,
        {{ llif.marts_month_start('start_date') }} as month_start,
        max(case when spell_kind = 'away' and state = 'hospital' then 1 else 0 end) as is_hospital_admission,
        max(case when spell_kind = 'away' and state = 'hospice' then 1 else 0 end) as is_hospice_admission,
        max(case when spell_kind = 'care_home' then 1 else 0 end) as is_care_home_admission,
        max(case when spell_kind = 'home_care' then 1 else 0 end) as is_package_started,
        0 as is_tenancy_ended,
        0 as is_hospital_discharge
    from spells
    group by person_key, {{ llif.marts_month_start('start_date') }}

    union all

    select
        person_key,
        {{ llif.marts_month_start('end_date') }} as month_start,
        0 as is_hospital_admission,
        0 as is_hospice_admission,
        0 as is_care_home_admission,
        0 as is_package_started,
        max(case when spell_kind = 'housing' and end_reason <> 'left_household' then 1 else 0 end) as is_tenancy_ended,
        max(case when spell_kind = 'away' and state = 'hospital' then 1 else 0 end) as is_hospital_discharge
    from spells
    where end_date is not null
    group by person_key, {{ llif.marts_month_start('end_date') }}

),

lets as (

    select
        spells.person_key,
        {{ llif.marts_month_start('tenancies.start_date') }} as month_start,
        1 as is_let
    from {{ ref('int_housing_spells_joined') }} as spells
    inner join {{ ref('int_tenancies_cleaned') }} as tenancies
        on spells.tenancy_id = tenancies.tenancy_id
    where
        spells.start_date = tenancies.start_date
        and tenancies.let_route <> 'initial'
        and spells.person_key is not null
    group by spells.person_key, {{ llif.marts_month_start('tenancies.start_date') }}

),

month_events as (

    select
        person_key,
        month_start,
        max(is_hospital_admission) as is_hospital_admission,
        max(is_hospice_admission) as is_hospice_admission,
        max(is_care_home_admission) as is_care_home_admission,
        max(is_package_started) as is_package_started,
        max(is_tenancy_ended) as is_tenancy_ended,
        max(is_hospital_discharge) as is_hospital_discharge
    from events
    group by person_key, month_start

),

-- the month's state ---------------------------------------------------------------------------

stated as (

    select
        months.person_month_id,
        months.person_key,
        months.month_start,
        months.month_end,
        months.is_first_month,
        months.is_last_month,
        months.is_rebuilt,
        case
            when deaths.death_date <= months.month_end then 'died'
            when at_month_end.covering_state is not null then at_month_end.covering_state
            when last_ended.end_reason = 'care_home' then 'residential_care'
            else 'moved_out'
        end as state,
        case
            when deaths.death_date <= months.month_end then deaths.source_system
            when at_month_end.covering_state is not null then at_month_end.state_source_system
            when last_ended.end_reason = 'care_home' then 'inferred'
            else last_ended.source_system
        end as state_source_system,
        -- moved out: observed where the system whose record ended was live
        case
            when deaths.death_date <= months.month_end then {{ llif.marts_go_live_of('deaths.source_system') }}
            when at_month_end.covering_state is not null then at_month_end.state_source_go_live_date
            when last_ended.end_reason = 'care_home' then null
            else last_ended.source_go_live_date
        end as state_source_go_live_date,
        case
            when deaths.death_date <= months.month_end then 0
            when at_month_end.covering_state is not null then 0
            when last_ended.end_reason = 'care_home' then 1
            else 0
        end as is_state_inferred,
        at_month_end.tenancy_id,
        at_month_end.unit_id,
        coalesce(at_month_end.care_scheme_id, at_month_end.housing_scheme_id) as scheme_id,
        at_month_end.care_stay_id,
        at_month_end.package_id,
        at_month_end.away_spell_id,
        at_month_end.weekly_hours,
        at_month_end.care_need_level,
        at_month_end.package_need_level,
        coalesce(at_month_end.has_live_care_stay, 0) as has_live_care_stay,
        coalesce(at_month_end.has_live_package, 0) as has_live_package,
        {{ llif.flag('deaths.death_month = months.month_start') }} as is_died
    from months
    left join at_month_end
        on months.person_month_id = at_month_end.person_month_id
    left join last_ended
        on months.person_month_id = last_ended.person_month_id
    left join deaths
        on months.person_key = deaths.person_key

),

final as (

    select
        stated.person_month_id,
        stated.person_key,
        stated.month_start,
        stated.state,
        lag(stated.state) over (partition by stated.person_key order by stated.month_start) as previous_state,
        case
            when stated.state in ('residential_care', 'nursing_care') then coalesce(stated.care_need_level, 2)
            when stated.state in ('hospital', 'hospice') then coalesce(stated.care_need_level, stated.package_need_level, 0)
            when stated.state in ('died', 'moved_out') then 0
            else coalesce(stated.package_need_level, 0)
        end as need_level,
        case
            when stated.state in ('died', 'moved_out') then 0
            else coalesce(stated.weekly_hours, 0)
        end as weekly_care_hours,
        -- a month of birth after the month is a recorded date of birth with day and month swapped
        case
            when persons.birth_month is null or persons.birth_month > stated.month_start then null
            else cast(floor({{ llif.marts_months_between('persons.birth_month', 'stated.month_start') }} / 12.0) as {{ dbt.type_int() }})
        end as age,
        coalesce(schemes.area_code, households.area_code) as area_code,
        coalesce(schemes.area_name, households.area_name) as area_name,
        stated.scheme_id,
        stated.unit_id,
        stated.tenancy_id,
        stated.care_stay_id as care_home_episode_id,
        case when stated.package_id is not null then {{ dbt.concat(["'P:'", llif.as_string('stated.package_id')]) }} end as home_care_episode_id,
        stated.away_spell_id,
        stated.state_source_system,
        coalesce(month_events.is_hospital_admission, 0) as is_hospital_admission,
        coalesce(month_events.is_hospital_discharge, 0) as is_hospital_discharge,
        coalesce(month_events.is_hospice_admission, 0) as is_hospice_admission,
        coalesce(month_events.is_care_home_admission, 0) as is_care_home_admission,
        coalesce(month_events.is_package_started, 0) as is_package_started,
        coalesce(lets.is_let, 0) as is_let,
        coalesce(month_events.is_tenancy_ended, 0) as is_tenancy_ended,
        stated.is_died,
        {{ llif.flag("stated.state = 'moved_out'") }} as is_moved_out,
        stated.is_first_month,
        stated.is_last_month,
        stated.is_state_inferred,
        {{ llif.flag('stated.state_source_go_live_date <= stated.month_end') }} as is_observed,
        {{ llif.flag('stated.has_live_care_stay = 1 or (' ~ llif.marts_go_live('care_a') ~ ' <= stated.month_end and ' ~ llif.marts_go_live('care_b') ~ ' <= stated.month_end)') }} as is_care_home_observed,
        {{ llif.flag(llif.marts_go_live('domcare') ~ ' <= stated.month_end') }} as is_home_care_observed,
        {{ llif.flag('stated.has_live_care_stay = 1 or stated.has_live_package = 1') }} as is_hospital_observed,
        fingerprints.fingerprint as person_fingerprint,
        stated.is_rebuilt
    from stated
    left join fingerprints
        on stated.person_key = fingerprints.person_key
    left join persons
        on stated.person_key = persons.person_key
    left join schemes
        on stated.scheme_id = schemes.scheme_id
    left join {{ ref('int_tenancies_cleaned') }} as tenancies
        on stated.tenancy_id = tenancies.tenancy_id
    left join households
        on tenancies.household_id = households.household_id
    left join month_events
        on stated.person_key = month_events.person_key
        and stated.month_start = month_events.month_start
    left join lets
        on stated.person_key = lets.person_key
        and stated.month_start = lets.month_start

)

select
    person_month_id, person_key, month_start, state, previous_state, need_level, weekly_care_hours, age,
    area_code, area_name, scheme_id, unit_id, tenancy_id, care_home_episode_id, home_care_episode_id,
    away_spell_id, state_source_system, is_hospital_admission, is_hospital_discharge, is_hospice_admission,
    is_care_home_admission, is_package_started, is_let, is_tenancy_ended, is_died, is_moved_out,
    is_first_month, is_last_month, is_state_inferred, is_observed, is_care_home_observed,
    is_home_care_observed, is_hospital_observed, person_fingerprint
from final
{% if is_incremental() %}
-- the month before the window only gave its state to previous_state
where is_rebuilt = 1 or month_start >= (select {{ llif.marts_add_months(1, 'window_start') }} from recent)
{% endif %}
