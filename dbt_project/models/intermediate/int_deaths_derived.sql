{#- One row per person the sources record as having died, with the earliest recorded day and
    where it happened when a source says so. Evidence: a lead tenant's tenancy ending DEC, a
    care-home stay ending in a death (in the home, in hospital, in a hospice), a vendor A
    transfer or vendor B spell away ending in death, a home-care package ending DECEASED.
    Household members' deaths are not recorded as such by the CRM (a member just leaves the
    household), so they are not here. -#}
with

evidence as (

    select
        person_key,
        end_date as death_date,
        'crm' as source_system,
        'unknown' as death_place,
        4 as place_priority
    from {{ ref('int_housing_spells_joined') }}
    where is_lead = 1 and tenancy_end_reason = 'died' and end_date is not null

    union all

    select
        person_key,
        discharge_date as death_date,
        source_system,
        case discharge_destination
            when 'died' then 'care_home'
            when 'died_in_hospital' then 'hospital'
            when 'died_in_hospice' then 'hospice'
        end as death_place,
        1 as place_priority
    from {{ ref('int_care_home_stays_unioned') }}
    where
        discharge_destination in ('died', 'died_in_hospital', 'died_in_hospice')
        and discharge_date is not null

    union all

    select
        person_key,
        end_date as death_date,
        source_system,
        setting as death_place,
        2 as place_priority
    from {{ ref('int_away_spells_unioned') }}
    where outcome = 'died' and end_date is not null

    union all

    select
        person_key,
        end_date as death_date,
        'domcare' as source_system,
        'unknown' as death_place,
        3 as place_priority
    from {{ ref('int_care_packages_linked') }}
    where end_reason = 'died' and end_date is not null

),

ranked as (

    select
        evidence.*,
        row_number() over (
            partition by person_key order by death_date, place_priority, source_system
        ) as date_rank,
        row_number() over (
            partition by person_key order by place_priority, death_date, source_system
        ) as place_rank,
        count(*) over (partition by person_key) as n_evidence
    from evidence
    where person_key is not null

)

select
    earliest.person_key,
    earliest.death_date,
    {{ llif.marts_month_start('earliest.death_date') }} as death_month,
    earliest.source_system,
    placed.death_place,
    earliest.n_evidence
from ranked as earliest
inner join ranked as placed
    on earliest.person_key = placed.person_key
    and placed.place_rank = 1
where earliest.date_rank = 1
