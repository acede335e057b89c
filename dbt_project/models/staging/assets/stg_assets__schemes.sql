with

source as (

    select * from {{ source('assets', 'scheme') }}

),

renamed as (

    select
        upper(trim(scheme_id)) as scheme_id,
        scheme_name,
        upper(trim(scheme_type)) as scheme_type_code,
        case upper(trim(scheme_type))
            when 'GN' then 'general_needs'
            when 'SH' then 'sheltered'
            when 'XC' then 'extra_care'
            when 'TA' then 'temporary'
            when 'CH' then 'care_home'
        end as scheme_type,
        upper(trim(area_code)) as area_code,
        {{ llif.area_name_from_code('area_code') }} as area_name,
        upper(trim(postcode)) as postcode,
        cast(capacity as {{ dbt.type_int() }}) as capacity,
        cast(res_beds as {{ dbt.type_int() }}) as residential_beds,
        cast(nurs_beds as {{ dbt.type_int() }}) as nursing_beds,
        {{ llif.parse_date('opened_date', 'iso') }} as opened_date,
        {{ llif.parse_date('closed_date', 'iso') }} as closed_date,
        {{ llif.parse_timestamp('modified_date') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source
    -- the training scheme and its dummy properties are never real stock
    where upper(trim(scheme_id)) <> '{{ var("assets_test_scheme_id") }}'

)

select
    renamed.*,
    {{ llif.flag('closed_date < opened_date') }} as is_end_before_start
from renamed
