{#- Care-home stays from both vendors (and any a provider adds by contract) in one vocabulary, with the asset system's scheme of the
    home (matched by postcode) and the person_key of the resident or client.

    End dates fit for a timeline (the vendors keep contradictions, never corrected):
    - a stay recorded as ending after the same person's next stay began ends when that began;
    - vendor A, a stay recorded as ending before it began: its end is unknown, so it is taken as
      the resident's next admission, else the last needs assessment of the stay (assessments
      run every 13 weeks until discharge), else the admission day (flagged);
    - vendor B: the placement's end event (DTH, DIS) of the movement log, keyed separately,
      dates the end where the placement's own end date contradicts its start or the next one.
    Vendor B keeps the admission source and discharge destination on its movement events. -#}
with

care_home_schemes as (

    select scheme_id, postcode from {{ ref('stg_assets__schemes') }}
    where scheme_type = 'care_home'

),

xref as (

    select system, record_key, person_key from {{ ref('stg_identity__person_xref') }}

),

-- vendor A ----------------------------------------------------------------------------------

a_homes as (

    select homes.home_key, care_home_schemes.scheme_id
    from {{ ref('stg_care_a__homes') }} as homes
    left join care_home_schemes
        on homes.postcode = care_home_schemes.postcode

),

a_assessments as (

    select
        stay_key,
        max(assessment_date) as last_assessment_date
    from {{ ref('stg_care_a__assessments') }}
    group by stay_key

),

a_latest_scores as (

    select stay_key, dependency_score
    from (
        select
            stay_key,
            dependency_score,
            row_number() over (partition by stay_key order by assessment_date desc, assessment_id desc) as recency
        from {{ ref('stg_care_a__assessments') }}
    ) as ranked
    where recency = 1

),

a_stays as (

    select
        stays.*,
        lead(stays.admission_date) over (
            partition by stays.resident_key order by stays.admission_date, stays.stay_id
        ) as next_admission_date
    from {{ ref('stg_care_a__stays') }} as stays

),

a_unified as (

    select
        {{ dbt.concat(["'A:'", 'a_stays.stay_key']) }} as care_stay_id,
        'care_a' as source_system,
        a_stays.stay_key as source_stay_key,
        a_stays.home_key,
        a_stays.resident_key as person_record_key,
        xref.person_key,
        a_homes.scheme_id,
        a_stays.care_type,
        a_stays.stay_kind,
        a_stays.admission_date,
        a_stays.discharge_date as recorded_discharge_date,
        case
            when a_stays.is_end_before_start = 1
                then coalesce(a_stays.next_admission_date, a_assessments.last_assessment_date, a_stays.admission_date)
            when a_stays.discharge_date > a_stays.next_admission_date
                then a_stays.next_admission_date
            else a_stays.discharge_date
        end as discharge_date,
        a_stays.admission_source,
        a_stays.discharge_destination,
        a_latest_scores.dependency_score as latest_dependency_score,
        a_stays.is_end_before_start,
        a_stays.has_overlap,
        {{ llif.flag('a_stays.is_end_before_start = 1 or a_stays.discharge_date > a_stays.next_admission_date') }} as is_discharge_estimated
    from a_stays
    left join a_homes
        on a_stays.home_key = a_homes.home_key
    left join a_assessments
        on a_stays.stay_key = a_assessments.stay_key
    left join a_latest_scores
        on a_stays.stay_key = a_latest_scores.stay_key
    left join xref
        on xref.system = 'care_a'
        and a_stays.resident_key = xref.record_key

),

-- vendor B ----------------------------------------------------------------------------------

b_homes as (

    select homes.home_code, care_home_schemes.scheme_id
    from {{ ref('stg_care_b__homes') }} as homes
    left join care_home_schemes
        on homes.postcode = care_home_schemes.postcode

),

b_events as (

    select
        placement_id,
        min(case when event_type = 'admitted' then admission_source end) as admission_source,
        min(case when event_type = 'admitted' then event_date end) as admitted_event_date,
        max(case when event_type in ('died', 'discharged') then discharge_destination end) as discharge_destination,
        max(case when event_type in ('died', 'discharged') then event_date end) as end_event_date
    from {{ ref('stg_care_b__movement_events') }}
    group by placement_id

),

b_placements as (

    select
        placements.*,
        lead(placements.admission_date) over (
            partition by placements.client_id order by placements.admission_date, placements.placement_id
        ) as next_admission_date
    from {{ ref('stg_care_b__placements') }} as placements

),

b_unified as (

    select
        {{ dbt.concat(["'B:'", llif.as_string('b_placements.placement_id')]) }} as care_stay_id,
        'care_b' as source_system,
        {{ llif.as_string('b_placements.placement_id') }} as source_stay_key,
        b_placements.home_code as home_key,
        b_placements.client_id as person_record_key,
        xref.person_key,
        b_homes.scheme_id,
        b_placements.care_type,
        b_placements.stay_kind,
        b_placements.admission_date,
        b_placements.discharge_date as recorded_discharge_date,
        case
            when
                b_events.end_event_date is not null
                and (
                    b_placements.discharge_date is null
                    or b_placements.is_end_before_start = 1
                    or b_placements.discharge_date > b_placements.next_admission_date
                )
                then b_events.end_event_date
            when b_placements.is_end_before_start = 1
                then coalesce(b_placements.next_admission_date, b_placements.admission_date)
            when b_placements.discharge_date > b_placements.next_admission_date
                then b_placements.next_admission_date
            else b_placements.discharge_date
        end as discharge_date,
        b_events.admission_source,
        b_events.discharge_destination,
        cast(null as {{ dbt.type_int() }}) as latest_dependency_score,
        b_placements.is_end_before_start,
        b_placements.has_overlap,
        {{ llif.flag('b_placements.is_end_before_start = 1 or b_placements.discharge_date > b_placements.next_admission_date or (b_placements.discharge_date is null and b_events.end_event_date is not null)') }} as is_discharge_estimated
    from b_placements
    left join b_homes
        on b_placements.home_code = b_homes.home_code
    left join b_events
        on b_placements.placement_id = b_events.placement_id
    left join xref
        on xref.system = 'care_b'
        and b_placements.client_id = xref.record_key

),

-- systems added by contract ------------------------------------------------------------------
{#- A care-home system a provider connects by its source contract alone (dbt.care_stays names
    its staging model, docs/onboarding.md): the model gives conformed stays (source_stay_key,
    home_key, home_postcode, person_record_key, care_type, stay_kind, admission_date,
    discharge_date, admission_source, discharge_destination, updated_at); the end dates get the
    generic fixes (an end before the start, or after the person's next admission, is taken as
    that admission, else the admission day), flagged. -#}
{%- set added = [] %}
{%- for s in llif.source_systems() if s.get('care_stays') %}{% do added.append(s) %}{% endfor %}
{%- for s in added %}

{{ s.system }}_stays as (

    select
        stays.*,
        lead(stays.admission_date) over (
            partition by stays.person_record_key order by stays.admission_date, stays.source_stay_key
        ) as next_admission_date
    from {{ ref(s.care_stays) }} as stays

),

{{ s.system }}_unified as (

    select
        {{ dbt.concat(["'" ~ s.system ~ ":'", 'g.source_stay_key']) }} as care_stay_id,
        '{{ s.system }}' as source_system,
        g.source_stay_key,
        g.home_key,
        g.person_record_key,
        xref.person_key,
        care_home_schemes.scheme_id,
        g.care_type,
        g.stay_kind,
        g.admission_date,
        g.discharge_date as recorded_discharge_date,
        case
            when g.discharge_date < g.admission_date
                then coalesce(g.next_admission_date, g.admission_date)
            when g.discharge_date > g.next_admission_date
                then g.next_admission_date
            else g.discharge_date
        end as discharge_date,
        g.admission_source,
        g.discharge_destination,
        cast(null as {{ dbt.type_int() }}) as latest_dependency_score,
        {{ llif.flag('g.discharge_date < g.admission_date') }} as is_end_before_start,
        {{ llif.flag('g.discharge_date > g.next_admission_date') }} as has_overlap,
        {{ llif.flag('g.discharge_date < g.admission_date or g.discharge_date > g.next_admission_date') }} as is_discharge_estimated
    from {{ s.system }}_stays as g
    left join care_home_schemes
        on g.home_postcode = care_home_schemes.postcode
    left join xref
        on xref.system = '{{ s.system }}'
        and g.person_record_key = xref.record_key

),
{%- endfor %}

unioned as (

    select * from a_unified
    union all
    select * from b_unified
    {%- for s in added %}
    union all
    select * from {{ s.system }}_unified
    {%- endfor %}

)

select
    care_stay_id,
    source_system,
    source_stay_key,
    home_key,
    person_record_key,
    person_key,
    scheme_id,
    care_type,
    stay_kind,
    admission_date,
    recorded_discharge_date,
    case when discharge_date < admission_date then admission_date else discharge_date end as discharge_date,
    admission_source,
    discharge_destination,
    latest_dependency_score,
    is_end_before_start,
    has_overlap,
    is_discharge_estimated
from unioned
