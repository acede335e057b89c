with

source as (

    select * from {{ source('care_a', 'resident') }}

),

renamed as (

    select
        -- ResidentNo is unique only within a home's database: `<database>:<ResidentNo>`,
        -- also the record key of the identity cross-reference
        {{ llif.home_scoped_key('_source', 'residentno') }} as resident_key,
        _source as home_key,
        cast(residentno as {{ dbt.type_bigint() }}) as resident_no,
        case upper(trim(gender)) when 'MALE' then 'M' when 'FEMALE' then 'F' end as sex,
        cast(birth_month as {{ llif.type_date() }}) as birth_month,
        ni_token,
        {{ llif.flag('ni_token is not null') }} as has_ni_token,
        {{ llif.parse_date('datecreated', 'dd/mm/yyyy') }} as created_date,
        {{ llif.parse_timestamp('lastmodified') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source
    -- dummy residents a trainer keyed are numbered from 900001 in every home
    where residentno < {{ var('care_a_first_test_resident_no') }}

)

select * from renamed
