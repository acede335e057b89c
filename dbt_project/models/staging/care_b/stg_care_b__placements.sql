with

source as (

    select * from {{ source('care_b', 'placement') }}

),

renamed as (

    select
        {{ llif.safe_cast('placement_id', dbt.type_bigint()) }} as placement_id,
        upper(trim(client_ref)) as client_id,
        upper(trim(home_code)) as home_code,
        upper(trim(care_level)) as care_type_code,
        {{ llif.care_type_from_code('care_level') }} as care_type,
        upper(trim(placement_type)) as stay_kind_code,
        {{ llif.stay_kind_from_code('placement_type') }} as stay_kind,
        {{ llif.parse_date('start_date', 'yyyymmdd') }} as admission_date,
        {{ llif.parse_date('end_date', 'yyyymmdd') }} as discharge_date,
        {{ llif.parse_timestamp('updated_at') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select
    renamed.*,
    {{ llif.flag('discharge_date < admission_date') }} as is_end_before_start,
    {{ llif.spell_overlap_flag('client_id', 'admission_date', 'discharge_date', 'placement_id') }} as has_overlap
from renamed
