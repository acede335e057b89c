with

source as (

    select * from {{ source('domcare', 'suspension') }}

),

renamed as (

    select
        cast(suspension_id as {{ dbt.type_bigint() }}) as suspension_id,
        cast(package_id as {{ dbt.type_bigint() }}) as package_id,
        upper(trim(reason)) as suspension_reason_code,
        case upper(trim(reason))
            when 'HOSPITAL' then 'hospital'
            when 'HOSPICE' then 'hospice'
            when 'CARE_HOME' then 'care_home'
        end as suspension_reason,
        {{ llif.parse_date('suspended_from', 'iso') }} as suspended_from_date,
        {{ llif.parse_date('resumed_on', 'iso') }} as resumed_on_date,
        {{ llif.parse_timestamp('last_updated') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select
    renamed.*,
    {{ llif.flag('resumed_on_date < suspended_from_date') }} as is_end_before_start
from renamed
