with

source as (

    select * from {{ source('domcare', 'package') }}

),

renamed as (

    select
        cast(package_id as {{ dbt.type_bigint() }}) as package_id,
        cast(service_user_id as {{ dbt.type_bigint() }}) as service_user_id,
        lower(trim(team)) as team,
        {{ llif.parse_date('referral_date', 'iso') }} as referral_date,
        {{ llif.parse_date('start_date', 'iso') }} as start_date,
        {{ llif.parse_date('end_date', 'iso') }} as end_date,
        cast(planned_hours_per_week as {{ llif.type_double() }}) as planned_hours_per_week,
        upper(trim(end_reason)) as end_reason_code,
        case upper(trim(end_reason))
            when 'REVIEWED' then 'reassessed'
            when 'RES_CARE' then 'care_home'
            when 'DECEASED' then 'died'
            when 'MOVED_AWAY' then 'moved_out'
            when 'NO_LONGER_REQUIRED' then 'no_longer_needed'
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
    {{ llif.flag('start_date < referral_date') }} as is_start_before_referral,
    {{ llif.spell_overlap_flag('service_user_id', 'start_date', 'end_date', 'package_id') }} as has_overlap
from renamed
