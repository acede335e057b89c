{#- One row per tenancy: who holds it, where, how it was let and how it ended, with dates fit
    for a timeline (int_tenancies_cleaned) and the processing times around the let: days on the
    register (application to tenancy start) and the unit's void before it (the void that began
    before the let, and the days from the unit's previous tenancy ending to this one starting). -#}
with

tenancies as (

    select * from {{ ref('int_tenancies_cleaned') }}

),

applications as (

    select application_id, need_type, band, applied_date
    from {{ ref('stg_crm__applications') }}

),

occupants as (

    select tenancy_id, count(distinct person_key) as n_people
    from {{ ref('int_housing_spells_joined') }}
    group by tenancy_id

),

previous_on_unit as (

    select
        tenancy_id,
        lag(end_date) over (partition by unit_id order by start_date, tenancy_id) as previous_tenancy_end_date
    from tenancies

),

voids_before as (

    select tenancy_id, void_id, void_start_date, void_end_date, void_reason
    from (
        select
            tenancies.tenancy_id,
            voids.void_id,
            voids.start_date as void_start_date,
            voids.end_date as void_end_date,
            voids.void_reason,
            row_number() over (
                partition by tenancies.tenancy_id order by voids.start_date desc, voids.void_id desc
            ) as recency
        from tenancies
        inner join {{ ref('stg_assets__voids') }} as voids
            on tenancies.unit_id = voids.unit_id
            and voids.start_date <= tenancies.start_date
            and voids.is_end_before_start = 0
    ) as ranked
    where recency = 1

)

select
    tenancies.tenancy_id,
    tenancies.household_id,
    tenancies.person_key,
    tenancies.unit_id,
    tenancies.scheme_id,
    tenancies.tenancy_type,
    tenancies.let_route,
    tenancies.application_id,
    applications.need_type as application_need_type,
    applications.band as application_band,
    tenancies.start_date,
    tenancies.end_date,
    tenancies.recorded_start_date,
    tenancies.recorded_end_date,
    tenancies.end_reason,
    {{ llif.marts_month_start('tenancies.start_date') }} as start_month,
    {{ llif.marts_month_start('tenancies.end_date') }} as end_month,
    case when tenancies.end_date is not null then {{ llif.marts_days_between('tenancies.start_date', 'tenancies.end_date') }} end as tenancy_days,
    coalesce(occupants.n_people, 0) as n_people,
    case
        when applications.applied_date is not null and applications.applied_date <= tenancies.start_date
            then {{ llif.marts_days_between('applications.applied_date', 'tenancies.start_date') }}
    end as register_to_let_days,
    voids_before.void_id as previous_void_id,
    voids_before.void_reason as previous_void_reason,
    case
        when voids_before.void_end_date is not null
            then {{ llif.marts_days_between('voids_before.void_start_date', 'voids_before.void_end_date') }}
    end as previous_void_days,
    case
        when
            previous_on_unit.previous_tenancy_end_date is not null
            and previous_on_unit.previous_tenancy_end_date <= tenancies.start_date
            then {{ llif.marts_days_between('previous_on_unit.previous_tenancy_end_date', 'tenancies.start_date') }}
    end as relet_days,
    {{ llif.flag('tenancies.end_date is null') }} as is_open,
    {{ llif.flag("tenancies.let_route <> 'initial'") }} as is_let,
    tenancies.is_end_before_start,
    tenancies.has_overlap,
    tenancies.is_start_adjusted,
    tenancies.is_end_estimated
from tenancies
left join applications
    on tenancies.application_id = applications.application_id
left join occupants
    on tenancies.tenancy_id = occupants.tenancy_id
left join previous_on_unit
    on tenancies.tenancy_id = previous_on_unit.tenancy_id
left join voids_before
    on tenancies.tenancy_id = voids_before.tenancy_id
