with

source as (

    select * from {{ source('care_a', 'stay') }}

),

renamed as (

    select
        {{ llif.home_scoped_key('_source', 'stayid') }} as stay_key,
        _source as home_key,
        cast(stayid as {{ dbt.type_bigint() }}) as stay_id,
        {{ llif.home_scoped_key('_source', 'residentno') }} as resident_key,
        upper(trim(caretype)) as care_type_code,
        {{ llif.care_type_from_code('caretype') }} as care_type,
        upper(trim(staytype)) as stay_kind_code,
        {{ llif.stay_kind_from_code('staytype') }} as stay_kind,
        {{ llif.parse_date('admissiondate', 'dd/mm/yyyy') }} as admission_date,
        upper(trim(admittedfrom)) as admission_source_code,
        case upper(trim(admittedfrom))
            when 'HOSP' then 'hospital'
            when 'HOME' then 'home'
        end as admission_source,
        {{ llif.parse_date('dischargedate', 'dd/mm/yyyy') }} as discharge_date,
        upper(trim(dischargereason)) as discharge_reason_code,
        case upper(trim(dischargereason))
            when 'DIED' then 'died'
            when 'DIEDHOSP' then 'died_in_hospital'
            when 'DIEDHOSPICE' then 'died_in_hospice'
            when 'HOME' then 'home'
        end as discharge_destination,
        {{ llif.parse_timestamp('lastmodified') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select
    renamed.*,
    {{ llif.flag('discharge_date < admission_date') }} as is_end_before_start,
    {{ llif.spell_overlap_flag('resident_key', 'admission_date', 'discharge_date', 'stay_key') }} as has_overlap
from renamed
