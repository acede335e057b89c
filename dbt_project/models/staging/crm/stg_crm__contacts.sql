with

source as (

    select * from {{ source('crm', 'contact') }}

),

renamed as (

    select
        cast(contact_ref as {{ dbt.type_bigint() }}) as contact_id,
        {{ llif.as_string('contact_ref') }} as record_key,
        case upper(trim(sex)) when 'M' then 'M' when 'F' then 'F' end as sex,
        cast(birth_month as {{ llif.type_date() }}) as birth_month,
        ni_token,
        {{ llif.flag('ni_token is not null') }} as has_ni_token,
        {{ llif.parse_date('date_created', 'iso') }} as created_date,
        {{ llif.parse_timestamp('last_updated') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source
    -- test and training contacts are numbered from 1; real contact refs start at 10,000,000
    where contact_ref >= {{ var('crm_first_real_contact_ref') }}

)

select * from renamed
