{#- One row per unit of the asset system (a flat, a house, a care-home bed), with its scheme and
    its history of lets and voids. The unit's own postcode is left out: with a tenancy it is a
    person's address. -#}
with

units as (

    select * from {{ ref('stg_assets__units') }}

),

schemes as (

    select scheme_id, scheme_type, area_code, area_name from {{ ref('stg_assets__schemes') }}

),

tenancies as (

    select
        unit_id,
        count(*) as n_tenancies,
        min(start_date) as first_tenancy_start_date,
        max(start_date) as last_tenancy_start_date
    from {{ ref('int_tenancies_cleaned') }}
    group by unit_id

),

voids as (

    select
        unit_id,
        count(*) as n_voids,
        sum({{ llif.marts_days_between('start_date', 'end_date') }}) as void_days_completed
    from {{ ref('stg_assets__voids') }}
    where is_end_before_start = 0
    group by unit_id

)

select
    units.unit_id,
    units.scheme_id,
    schemes.scheme_type,
    units.unit_type,
    units.bedrooms,
    units.is_accessible,
    schemes.area_code,
    schemes.area_name,
    units.available_from_date,
    coalesce(tenancies.n_tenancies, 0) as n_tenancies,
    tenancies.first_tenancy_start_date,
    tenancies.last_tenancy_start_date,
    coalesce(voids.n_voids, 0) as n_voids,
    coalesce(voids.void_days_completed, 0) as void_days_completed,
    {{ llif.flag("units.unit_type in ('residential', 'nursing')") }} as is_care_home_bed
from units
left join schemes
    on units.scheme_id = schemes.scheme_id
left join tenancies
    on units.unit_id = tenancies.unit_id
left join voids
    on units.unit_id = voids.unit_id
