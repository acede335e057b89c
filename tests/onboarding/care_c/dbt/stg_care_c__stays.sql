{#- Vendor C's stays in the conformed shape the shared union reads (docs/onboarding.md). -#}
with

source as (

    select * from {{ source('care_c', 'stay') }}

),

renamed as (

    select
        trim(stay_id) as source_stay_key,
        upper(trim(home)) as home_key,
        upper(trim(home_postcode)) as home_postcode,
        trim(resident_id) as person_record_key,
        case upper(trim(level)) when 'RC' then 'residential' when 'NC' then 'nursing' end as care_type,
        case upper(trim(kind)) when 'LT' then 'permanent' when 'ST' then 'respite' end as stay_kind,
        {{ llif.parse_date('start', 'dd.mm.yyyy') }} as admission_date,
        {{ llif.parse_date(adapter.quote('end'), 'dd.mm.yyyy') }} as discharge_date,
        case upper(trim(came_from)) when 'HOSP' then 'hospital' when 'HOME' then 'home' end as admission_source,
        case upper(trim(outcome)) when 'DIED' then 'died' when 'HOME' then 'home' end as discharge_destination,
        {{ llif.parse_timestamp('modified') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
