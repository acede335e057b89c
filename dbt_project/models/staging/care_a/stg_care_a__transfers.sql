with

source as (

    select * from {{ source('care_a', 'transfer') }}

),

renamed as (

    select
        {{ llif.home_scoped_key('_source', 'transferid') }} as transfer_key,
        _source as home_key,
        cast(transferid as {{ dbt.type_bigint() }}) as transfer_id,
        {{ llif.home_scoped_key('_source', 'stayid') }} as stay_key,
        {{ llif.home_scoped_key('_source', 'residentno') }} as resident_key,
        upper(trim(transferto)) as transfer_to_code,
        case upper(trim(transferto))
            when 'HOSP' then 'hospital'
            when 'HOSPICE' then 'hospice'
        end as transfer_to,
        -- the same moves in the movement vocabulary vendor B's event log is mapped to
        case upper(trim(transferto))
            when 'HOSP' then 'to_hospital'
            when 'HOSPICE' then 'to_hospice'
        end as out_event_type,
        {{ llif.parse_date('dateout', 'dd/mm/yyyy') }} as date_out,
        {{ llif.parse_date('dateended', 'dd/mm/yyyy') }} as date_ended,
        upper(trim(outcome)) as outcome_code,
        case upper(trim(outcome))
            when 'RETURNED' then 'returned'
            when 'DIED' then 'died'
            when 'NOT RETURNED' then 'not_returned'
        end as outcome,
        case
            when upper(trim(outcome)) = 'RETURNED' and upper(trim(transferto)) = 'HOSP' then 'back_from_hospital'
            when upper(trim(outcome)) = 'RETURNED' and upper(trim(transferto)) = 'HOSPICE' then 'back_from_hospice'
            when upper(trim(outcome)) = 'DIED' then 'died'
        end as end_event_type,
        {{ llif.parse_timestamp('lastmodified') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select
    renamed.*,
    {{ llif.flag('date_ended < date_out') }} as is_end_before_start
from renamed
