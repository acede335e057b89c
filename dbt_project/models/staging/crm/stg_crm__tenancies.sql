with

source as (

    select * from {{ source('crm', 'tenancy') }}

),

renamed as (

    select
        cast(tenancy_ref as {{ dbt.type_bigint() }}) as tenancy_id,
        cast(household_ref as {{ dbt.type_bigint() }}) as household_id,
        cast(contact_ref as {{ dbt.type_bigint() }}) as contact_id,
        upper(trim(prop_ref)) as unit_id,
        cast(application_ref as {{ dbt.type_bigint() }}) as application_id,
        upper(trim(tenancy_type)) as tenancy_type_code,
        case upper(trim(tenancy_type))
            when 'GEN' then 'general_needs'
            when 'SHL' then 'sheltered'
            when 'EXC' then 'extra_care'
            when 'TMP' then 'temporary'
        end as tenancy_type,
        upper(trim(let_type)) as let_type_code,
        case upper(trim(let_type))
            when 'MIG' then 'initial'
            when 'REG' then 'register'
            when 'HML' then 'homeless'
            when 'TRF' then 'transfer'
        end as let_route,
        {{ llif.parse_date('tenancy_start', 'iso') }} as start_date,
        {{ llif.parse_date('tenancy_end', 'iso') }} as end_date,
        upper(trim(end_reason_code)) as end_reason_code,
        case upper(trim(end_reason_code))
            when 'VOL' then 'moved_out'
            when 'TRF' then 'transfer'
            when 'DEC' then 'died'
            when 'EVI' then 'evicted'
            when 'CHM' then 'care_home'
            when 'MOV' then 'moved_on'
        end as end_reason,
        {{ llif.parse_timestamp('last_updated') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select
    renamed.*,
    {{ llif.flag('end_date < start_date') }} as is_end_before_start,
    {{ llif.spell_overlap_flag('household_id', 'start_date', 'end_date', 'tenancy_id') }} as has_overlap
from renamed
