{#- The identity cross-reference without its restricted neighbours: which person_key each
    person-level source record belongs to. The one model that reads the identity schema. -#}
with

source as (

    select * from {{ source('identity', 'person_xref') }}

),

renamed as (

    select
        {{ dbt.concat(['system', "':'", 'record_key']) }} as person_record_id,
        lower(trim(system)) as system,
        source_table,
        record_key,
        person_key,
        lower(trim(match_method)) as match_method,
        cast(match_probability as {{ llif.type_double() }}) as match_probability

    from source

)

select * from renamed
