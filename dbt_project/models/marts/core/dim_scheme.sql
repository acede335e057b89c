{#- One row per scheme of the asset system: general-needs estates, sheltered and extra-care
    schemes, temporary accommodation projects and care homes, with the care vendor that runs a
    home (its database or home code, matched by postcode) and the units the asset system holds. -#}
with

schemes as (

    select * from {{ ref('stg_assets__schemes') }}

),

units as (

    select
        scheme_id,
        count(*) as n_units,
        sum(case when unit_type = 'residential' then 1 else 0 end) as n_residential_beds,
        sum(case when unit_type = 'nursing' then 1 else 0 end) as n_nursing_beds,
        sum(is_accessible) as n_accessible_units
    from {{ ref('stg_assets__units') }}
    group by scheme_id

),

care_a_homes as (

    select postcode, min(home_key) as care_a_home_key
    from {{ ref('stg_care_a__homes') }}
    group by postcode

),

care_b_homes as (

    select postcode, min(home_code) as care_b_home_code
    from {{ ref('stg_care_b__homes') }}
    group by postcode

)

select
    schemes.scheme_id,
    schemes.scheme_name,
    schemes.scheme_type,
    schemes.area_code,
    schemes.area_name,
    schemes.postcode,
    schemes.capacity,
    schemes.residential_beds,
    schemes.nursing_beds,
    coalesce(units.n_units, 0) as n_units,
    coalesce(units.n_accessible_units, 0) as n_accessible_units,
    case
        when care_a_homes.care_a_home_key is not null then 'A'
        when care_b_homes.care_b_home_code is not null then 'B'
    end as care_vendor,
    case when schemes.scheme_type = 'care_home' then care_a_homes.care_a_home_key end as care_a_home_key,
    case when schemes.scheme_type = 'care_home' then care_b_homes.care_b_home_code end as care_b_home_code,
    case
        when care_a_homes.care_a_home_key is not null then {{ llif.marts_go_live('care_a') }}
        when care_b_homes.care_b_home_code is not null then {{ llif.marts_go_live('care_b') }}
    end as care_records_from_date,
    schemes.opened_date,
    schemes.closed_date,
    {{ llif.flag('schemes.closed_date is null') }} as is_open,
    {{ llif.flag("schemes.scheme_type = 'care_home'") }} as is_care_home
from schemes
left join units
    on schemes.scheme_id = units.scheme_id
left join care_a_homes
    on schemes.scheme_type = 'care_home'
    and schemes.postcode = care_a_homes.postcode
left join care_b_homes
    on schemes.scheme_type = 'care_home'
    and schemes.postcode = care_b_homes.postcode
