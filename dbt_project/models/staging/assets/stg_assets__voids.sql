with

source as (

    select * from {{ source('assets', 'void_period') }}

),

renamed as (

    select
        cast(void_id as {{ dbt.type_bigint() }}) as void_id,
        upper(trim(prop_ref)) as unit_id,
        {{ llif.parse_date('void_start', 'iso') }} as start_date,
        {{ llif.parse_date('void_end', 'iso') }} as end_date,
        upper(trim(void_reason)) as void_reason_code,
        case upper(trim(void_reason))
            when 'TEN' then 'tenancy_end'
            when 'NEW' then 'new_build'
            when 'REP' then 'repairs'
        end as void_reason,
        {{ llif.parse_timestamp('modified_date') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source
    where upper(trim(prop_ref)) not like '{{ var("assets_test_property_prefix") }}%'

)

select
    renamed.*,
    {{ llif.flag('end_date < start_date') }} as is_end_before_start,
    {{ llif.spell_overlap_flag('unit_id', 'start_date', 'end_date', 'void_id') }} as has_overlap
from renamed
