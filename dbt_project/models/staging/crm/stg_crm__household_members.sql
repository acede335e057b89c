with

source as (

    select * from {{ source('crm', 'household_member') }}

),

renamed as (

    select
        -- the record key the identity cross-reference uses: household_ref|contact_ref
        {{ dbt.concat([llif.as_string('household_ref'), "'|'", llif.as_string('contact_ref')]) }} as household_member_id,
        cast(household_ref as {{ dbt.type_bigint() }}) as household_id,
        cast(contact_ref as {{ dbt.type_bigint() }}) as contact_id,
        upper(trim(relationship)) as relationship_code,
        case upper(trim(relationship))
            when 'LEAD' then 'lead'
            when 'PTNR' then 'partner'
            when 'CHLD' then 'child'
            when 'PRNT' then 'parent'
            when 'OTHR' then 'other'
        end as relationship,
        {{ llif.flag("upper(trim(relationship)) = 'LEAD'") }} as is_lead,
        {{ llif.parse_date('date_joined', 'iso') }} as joined_date,
        {{ llif.parse_date('date_left', 'iso') }} as left_date,
        {{ llif.parse_timestamp('last_updated') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select
    renamed.*,
    {{ llif.flag('left_date < joined_date') }} as is_end_before_start
from renamed
