with

source as (

    select * from {{ source('domcare', 'service_user') }}

),

renamed as (

    select
        cast(service_user_id as {{ dbt.type_bigint() }}) as service_user_id,
        {{ llif.as_string('service_user_id') }} as record_key,
        case cast(sex as {{ dbt.type_int() }}) when 1 then 'M' when 2 then 'F' end as sex,
        cast(birth_month as {{ llif.type_date() }}) as birth_month,
        ni_token,
        {{ llif.flag('ni_token is not null') }} as has_ni_token,
        {{ llif.parse_date('created_on', 'iso') }} as created_date,
        {{ llif.parse_timestamp('last_updated') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source
    -- dummy service users are numbered from 990001
    where service_user_id < {{ var('domcare_first_test_service_user_id') }}

)

select * from renamed
