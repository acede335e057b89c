with

source as (

    select * from {{ source('care_b', 'client') }}

),

renamed as (

    select
        upper(trim(client_ref)) as client_id,
        upper(trim(client_ref)) as record_key,
        case upper(trim(gender)) when 'M' then 'M' when 'F' then 'F' end as sex,
        cast(birth_month as {{ llif.type_date() }}) as birth_month,
        ni_token,
        {{ llif.flag('ni_token is not null') }} as has_ni_token,
        {{ llif.parse_date('created_at', 'iso') }} as created_date,
        {{ llif.parse_timestamp('updated_at') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source
    -- dummy clients are numbered from C900001
    where
        coalesce({{ llif.safe_cast('substring(client_ref, 2, 20)', dbt.type_bigint()) }}, 0)
        < {{ var('care_b_first_test_client_no') }}

)

select * from renamed
