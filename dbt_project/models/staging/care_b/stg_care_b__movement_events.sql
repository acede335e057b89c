with

source as (

    select * from {{ source('care_b', 'movement_event') }}

),

renamed as (

    select
        {{ llif.safe_cast('event_id', dbt.type_bigint()) }} as event_id,
        upper(trim(client_ref)) as client_id,
        {{ llif.safe_cast('placement_id', dbt.type_bigint()) }} as placement_id,
        upper(trim(event_code)) as event_code,
        case upper(trim(event_code))
            when 'ADM' then 'admitted'
            when 'HTX' then 'to_hospital'
            when 'HSP' then 'to_hospice'
            when 'HRT'
                then
                    case upper(trim(location))
                        when 'ACUTE_HOSPITAL' then 'back_from_hospital'
                        when 'HOSPICE' then 'back_from_hospice'
                    end
            when 'DTH' then 'died'
            when 'DIS' then 'discharged'
        end as event_type,
        {{ llif.parse_timestamp('event_ts') }} as event_at,
        {{ llif.parse_date('event_ts', 'iso') }} as event_date,
        upper(trim(location)) as location_code,
        case upper(trim(location))
            when 'ACUTE_HOSPITAL' then 'hospital'
            when 'HOSPICE' then 'hospice'
            when 'CARE_HOME' then 'care_home'
            when 'COMMUNITY' then 'community'
        end as location,
        -- on an admission, where the person came from (vendor A: Stay.AdmittedFrom)
        case
            when upper(trim(event_code)) = 'ADM'
                then
                    case upper(trim(location))
                        when 'ACUTE_HOSPITAL' then 'hospital'
                        when 'COMMUNITY' then 'home'
                    end
        end as admission_source,
        -- on the event that ends a placement, its destination (vendor A: Stay.DischargeReason)
        case
            when upper(trim(event_code)) = 'DIS' then 'home'
            when upper(trim(event_code)) = 'DTH' then
                case upper(trim(location))
                    when 'CARE_HOME' then 'died'
                    when 'ACUTE_HOSPITAL' then 'died_in_hospital'
                    when 'HOSPICE' then 'died_in_hospice'
                end
        end as discharge_destination,
        {{ llif.parse_timestamp('updated_at') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
