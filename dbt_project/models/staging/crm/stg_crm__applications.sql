with

source as (

    select * from {{ source('crm', 'application') }}

),

renamed as (

    select
        cast(application_ref as {{ dbt.type_bigint() }}) as application_id,
        cast(household_ref as {{ dbt.type_bigint() }}) as household_id,
        cast(contact_ref as {{ dbt.type_bigint() }}) as contact_id,
        cast(tenancy_ref as {{ dbt.type_bigint() }}) as tenancy_id,
        {{ llif.parse_date('date_applied', 'iso') }} as applied_date,
        upper(trim(band)) as band,
        upper(trim(need_type)) as need_type_code,
        case upper(trim(need_type))
            when 'GEN' then 'general'
            when 'HML' then 'homeless'
            when 'TRF' then 'transfer'
            when 'SHL' then 'sheltered'
            when 'EXC' then 'extra_care'
        end as need_type,
        cast(offers_made as {{ dbt.type_int() }}) as offers_made,
        upper(trim(status)) as status_code,
        case upper(trim(status))
            when 'OPEN' then 'open'
            when 'LET' then 'let'
            when 'WDN' then 'withdrawn'
        end as status,
        {{ llif.parse_date('status_date', 'iso') }} as status_date,
        {{ llif.parse_timestamp('last_updated') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select
    renamed.*,
    {{ llif.flag('status_date < applied_date') }} as is_end_before_start
from renamed
