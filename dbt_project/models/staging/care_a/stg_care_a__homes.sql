with

source as (

    select * from {{ source('care_a', 'home') }}

),

renamed as (

    select
        -- one database per home: the database name is the home's key in vendor A
        _source as home_key,
        upper(trim(homecode)) as home_code,
        homename as home_name,
        upper(trim(postcode)) as postcode,
        cast(registeredbeds as {{ dbt.type_int() }}) as registered_beds,
        {{ llif.parse_timestamp('lastmodified') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
