{#- One row per person_key: the attributes marts may carry, agreed across the person's source
    records (the most common value; the CRM's on a tie, as it is the most carefully kept), and
    which systems know them. No names, NI numbers or dates of birth: sex and month of birth
    only. -#}
with

records as (

    select * from {{ ref('int_person_records_linked') }}
    where person_key is not null

),

system_order as (

    select
        records.*,
        case system when 'crm' then 1 when 'care_a' then 2 when 'care_b' then 3 else 4 end as system_priority
    from records

),

sex_votes as (

    select
        person_key,
        sex,
        count(*) as n_votes,
        min(system_priority) as best_system
    from system_order
    where sex is not null
    group by person_key, sex

),

sex_chosen as (

    select person_key, sex
    from (
        select
            sex_votes.*,
            row_number() over (partition by person_key order by n_votes desc, best_system asc, sex asc) as choice
        from sex_votes
    ) as ranked
    where choice = 1

),

birth_votes as (

    select
        person_key,
        birth_month,
        count(*) as n_votes,
        min(system_priority) as best_system
    from system_order
    where birth_month is not null
    group by person_key, birth_month

),

birth_chosen as (

    select person_key, birth_month
    from (
        select
            birth_votes.*,
            row_number() over (partition by person_key order by n_votes desc, best_system asc, birth_month asc) as choice
        from birth_votes
    ) as ranked
    where choice = 1

),

systems as (

    select
        person_key,
        count(*) as n_source_records,
        sum(case when system = 'crm' then 1 else 0 end) as n_crm_records,
        max(case when system = 'crm' then 1 else 0 end) as has_crm_record,
        max(case when system = 'care_a' then 1 else 0 end) as has_care_a_record,
        max(case when system = 'care_b' then 1 else 0 end) as has_care_b_record,
        max(case when system = 'domcare' then 1 else 0 end) as has_domcare_record,
        max(has_ni_token) as has_ni_token,
        min(created_date) as first_recorded_date
    from records
    group by person_key

)

select
    systems.person_key,
    sex_chosen.sex,
    birth_chosen.birth_month,
    systems.n_source_records,
    systems.n_crm_records,
    systems.has_crm_record,
    systems.has_care_a_record,
    systems.has_care_b_record,
    systems.has_domcare_record,
    systems.has_ni_token,
    systems.first_recorded_date
from systems
left join sex_chosen
    on systems.person_key = sex_chosen.person_key
left join birth_chosen
    on systems.person_key = birth_chosen.person_key
