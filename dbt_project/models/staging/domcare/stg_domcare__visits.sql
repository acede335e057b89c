with

source as (

    select * from {{ source('domcare', 'visit') }}

),

renamed as (

    select
        cast(visit_id as {{ dbt.type_bigint() }}) as visit_id,
        cast(package_id as {{ dbt.type_bigint() }}) as package_id,
        cast(service_user_id as {{ dbt.type_bigint() }}) as service_user_id,
        cast(carer_id as {{ dbt.type_bigint() }}) as carer_id,
        {{ llif.parse_timestamp('planned_start') }} as planned_start_at,
        {{ llif.parse_timestamp('planned_end') }} as planned_end_at,
        {{ llif.parse_timestamp('actual_start') }} as actual_start_at,
        {{ llif.parse_timestamp('actual_end') }} as actual_end_at,
        {{ llif.parse_date('planned_start', 'iso') }} as visit_date,
        upper(trim(status)) as status_code,
        case upper(trim(status))
            when 'COMPLETED' then 'completed'
            when 'MISSED' then 'missed'
        end as visit_status,
        {{ llif.flag("upper(trim(status)) = 'MISSED'") }} as is_missed,
        tasks,
        {{ llif.flag("lower(tasks) like '%medication%'") }} as has_medication_task,
        {{ llif.parse_timestamp('last_updated') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select
    renamed.*,
    {{ llif.minutes_between('planned_start_at', 'planned_end_at') }} as planned_minutes,
    {{ llif.minutes_between('actual_start_at', 'actual_end_at') }} as actual_minutes,
    {{ llif.flag('actual_end_at < actual_start_at') }} as is_end_before_start,
    -- the carers' app closes a visit left open at the end of a 12-hour shift
    {{ llif.flag(llif.minutes_between('actual_start_at', 'actual_end_at') ~ ' >= 720') }} as is_auto_closed
from renamed
