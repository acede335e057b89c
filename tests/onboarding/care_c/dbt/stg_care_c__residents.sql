with

source as (

    select * from {{ source('care_c', 'resident') }}

),

renamed as (

    select
        trim(resident_id) as record_key,
        case lower(trim(gender)) when 'm' then 'M' when 'f' then 'F' end as sex,
        cast(birth_month as {{ llif.type_date() }}) as birth_month,
        ni_token,
        {{ llif.flag('ni_token is not null') }} as has_ni_token,
        {{ llif.parse_date('registered', 'dd.mm.yyyy') }} as created_date,
        {{ llif.parse_timestamp('modified') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
