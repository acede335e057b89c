{#- One row per person_key: a person as linkage found them across the four systems. It carries
    no name, NI number or date of birth: sex, month of birth, which systems know the person,
    how they first came to the provider, when the timeline starts and ends, and the month
    (not the day) of a recorded death. -#}
with

persons as (

    select * from {{ ref('int_persons_aggregated') }}

),

timeline as (

    select
        person_key,
        min(month_start) as first_month,
        max(month_start) as last_month,
        count(*) as n_timeline_months
    from {{ ref('int_person_months_spined') }}
    group by person_key

),

first_spells as (

    select person_key, spell_kind, state, tenancy_id, care_stay_id
    from (
        select
            spells.*,
            row_number() over (
                partition by person_key order by start_date, state_rank, state_spell_id
            ) as spell_order
        from {{ ref('int_state_spells_unioned') }} as spells
    ) as ordered
    where spell_order = 1

),

entry as (

    select
        first_spells.person_key,
        first_spells.state as entry_state,
        case first_spells.spell_kind
            when 'housing' then tenancies.let_route
            when 'care_home' then {{ dbt.concat(["'care_home_from_'", "coalesce(stays.admission_source, 'unknown')"]) }}
            when 'home_care' then 'home_care_referral'
            else 'hospital'
        end as entry_route
    from first_spells
    left join {{ ref('int_tenancies_cleaned') }} as tenancies
        on first_spells.tenancy_id = tenancies.tenancy_id
    left join {{ ref('int_care_home_stays_unioned') }} as stays
        on first_spells.care_stay_id = stays.care_stay_id

),

roles as (

    select
        person_key,
        max(is_lead) as has_been_lead_tenant,
        max(case when is_lead = 0 then 1 else 0 end) as has_been_household_member
    from {{ ref('int_housing_spells_joined') }}
    where person_key is not null
    group by person_key

),

deaths as (

    select person_key, death_month, death_place from {{ ref('int_deaths_derived') }}

)

select
    persons.person_key,
    persons.sex,
    persons.birth_month,
    persons.n_source_records,
    persons.n_crm_records,
    persons.has_crm_record,
    persons.has_care_a_record,
    persons.has_care_b_record,
    persons.has_domcare_record,
    persons.has_ni_token,
    coalesce(roles.has_been_lead_tenant, 0) as has_been_lead_tenant,
    coalesce(roles.has_been_household_member, 0) as has_been_household_member,
    entry.entry_state,
    entry.entry_route,
    timeline.first_month,
    timeline.last_month,
    coalesce(timeline.n_timeline_months, 0) as n_timeline_months,
    {{ llif.flag('timeline.person_key is not null') }} as is_in_timeline,
    {{ llif.flag('deaths.person_key is not null') }} as is_deceased,
    deaths.death_month,
    deaths.death_place
from persons
left join timeline
    on persons.person_key = timeline.person_key
left join entry
    on persons.person_key = entry.person_key
left join roles
    on persons.person_key = roles.person_key
left join deaths
    on persons.person_key = deaths.person_key
