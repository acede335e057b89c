with

source as (

    select * from {{ source('assets', 'property') }}

),

renamed as (

    select
        upper(trim(prop_ref)) as unit_id,
        upper(trim(scheme_id)) as scheme_id,
        upper(trim(prop_type)) as unit_type_code,
        case upper(trim(prop_type))
            when 'GN' then 'general_needs'
            when 'SH' then 'sheltered'
            when 'XC' then 'extra_care'
            when 'TA' then 'temporary'
            when 'RES' then 'residential'
            when 'NUR' then 'nursing'
        end as unit_type,
        cast(bedrooms as {{ dbt.type_int() }}) as bedrooms,
        case upper(trim(accessible)) when 'Y' then 1 when 'N' then 0 end as is_accessible,
        upper(trim(postcode)) as postcode,
        {{ llif.parse_date('available_from', 'iso') }} as available_from_date,
        {{ llif.parse_timestamp('modified_date') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source
    -- dummy properties: TEST... refs in the training scheme
    where
        coalesce(upper(trim(scheme_id)), '') <> '{{ var("assets_test_scheme_id") }}'
        and upper(trim(prop_ref)) not like '{{ var("assets_test_property_prefix") }}%'

)

select * from renamed
