with

source as (

    select * from {{ source('crm', 'household') }}

),

renamed as (

    select
        cast(household_ref as {{ dbt.type_bigint() }}) as household_id,
        cast(lead_contact_ref as {{ dbt.type_bigint() }}) as lead_contact_id,
        upper(trim(local_authority)) as local_authority,
        {{ llif.area_code_from_name('local_authority') }} as area_code,
        cast(household_size as {{ dbt.type_int() }}) as household_size,
        {{ llif.parse_date('date_created', 'iso') }} as created_date,
        {{ llif.parse_timestamp('last_updated') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
