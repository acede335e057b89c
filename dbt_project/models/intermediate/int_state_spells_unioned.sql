{#- Every spell that puts a person in a timeline state, from every source, in one shape: a
    tenancy (general_needs, sheltered, extra_care, temporary), a care-home stay
    (residential_care, nursing_care), a home-care package (community: known to care services
    at home) and a spell in hospital or a hospice. A spell [start_date, end_date) covers a
    month when it started on or before the month's last day and had not ended by then (an
    open end covers every month). Which state wins a month is fct_person_month's precedence;
    state_rank is that precedence (1 wins). Records not linked to a person are left out. -#}
with

housing as (

    select
        {{ dbt.concat(["'H:'", 'housing_spell_id']) }} as state_spell_id,
        person_key,
        'housing' as spell_kind,
        tenancy_type as state,
        'crm' as source_system,
        start_date,
        end_date,
        end_reason,
        tenancy_id,
        cast(null as {{ dbt.type_string() }}) as care_stay_id,
        cast(null as {{ dbt.type_bigint() }}) as package_id,
        cast(null as {{ dbt.type_string() }}) as away_spell_id,
        scheme_id,
        unit_id,
        cast(null as {{ llif.type_double() }}) as weekly_hours,
        cast(null as {{ dbt.type_int() }}) as need_level
    from {{ ref('int_housing_spells_joined') }}

),

care_homes as (

    select
        {{ dbt.concat(["'C:'", 'care_stay_id']) }} as state_spell_id,
        person_key,
        'care_home' as spell_kind,
        case care_type when 'nursing' then 'nursing_care' else 'residential_care' end as state,
        source_system,
        admission_date as start_date,
        discharge_date as end_date,
        discharge_destination as end_reason,
        cast(null as {{ dbt.type_bigint() }}) as tenancy_id,
        care_stay_id,
        cast(null as {{ dbt.type_bigint() }}) as package_id,
        cast(null as {{ dbt.type_string() }}) as away_spell_id,
        scheme_id,
        cast(null as {{ dbt.type_string() }}) as unit_id,
        cast(null as {{ llif.type_double() }}) as weekly_hours,
        case
            when care_type = 'nursing' then 3
            else coalesce({{ llif.marts_need_level_from_dependency('latest_dependency_score') }}, 2)
        end as need_level
    from {{ ref('int_care_home_stays_unioned') }}

),

home_care as (

    select
        {{ dbt.concat(["'P:'", llif.as_string('package_id')]) }} as state_spell_id,
        person_key,
        'home_care' as spell_kind,
        'community' as state,
        'domcare' as source_system,
        start_date,
        end_date,
        end_reason,
        cast(null as {{ dbt.type_bigint() }}) as tenancy_id,
        cast(null as {{ dbt.type_string() }}) as care_stay_id,
        package_id,
        cast(null as {{ dbt.type_string() }}) as away_spell_id,
        cast(null as {{ dbt.type_string() }}) as scheme_id,
        cast(null as {{ dbt.type_string() }}) as unit_id,
        hours_per_week as weekly_hours,
        need_level
    from {{ ref('int_care_packages_linked') }}

),

away as (

    select
        {{ dbt.concat(["'W:'", 'away_spell_id']) }} as state_spell_id,
        person_key,
        'away' as spell_kind,
        setting as state,
        source_system,
        start_date,
        end_date,
        outcome as end_reason,
        cast(null as {{ dbt.type_bigint() }}) as tenancy_id,
        care_stay_id,
        package_id,
        away_spell_id,
        cast(null as {{ dbt.type_string() }}) as scheme_id,
        cast(null as {{ dbt.type_string() }}) as unit_id,
        cast(null as {{ llif.type_double() }}) as weekly_hours,
        cast(null as {{ dbt.type_int() }}) as need_level
    from {{ ref('int_away_spells_unioned') }}
    where is_duplicate = 0

),

unioned as (

    select * from housing
    union all
    select * from care_homes
    union all
    select * from home_care
    union all
    select * from away

)

select
    state_spell_id,
    person_key,
    spell_kind,
    state,
    {{ llif.marts_state_rank('state') }} as state_rank,
    source_system,
    {{ llif.marts_go_live_of('source_system') }} as source_go_live_date,
    start_date,
    end_date,
    end_reason,
    tenancy_id,
    care_stay_id,
    package_id,
    away_spell_id,
    scheme_id,
    unit_id,
    weekly_hours,
    need_level
from unioned
where
    person_key is not null
    and start_date is not null
