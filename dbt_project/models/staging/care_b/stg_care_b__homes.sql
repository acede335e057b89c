with

source as (

    select * from {{ source('care_b', 'home') }}

),

renamed as (

    select
        upper(trim(home_code)) as home_code,
        home_name,
        upper(trim(postcode)) as postcode,
        {{ llif.safe_cast('beds', dbt.type_int()) }} as beds,
        {{ llif.parse_timestamp('updated_at') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
