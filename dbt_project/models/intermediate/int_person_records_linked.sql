{#- Every person-level source record of the four systems, with the person_key linkage gave it
    and the few attributes marts may carry (sex, month of birth, a usable NI token or not).
    A record linkage has not seen yet (keyed after last night's link) has no person_key. -#}
with

records as (

    select
        'crm' as system,
        'contact' as source_table,
        record_key,
        sex,
        birth_month,
        has_ni_token,
        created_date
    from {{ ref('stg_crm__contacts') }}

    union all

    select
        'care_a' as system,
        'Resident' as source_table,
        resident_key as record_key,
        sex,
        birth_month,
        has_ni_token,
        created_date
    from {{ ref('stg_care_a__residents') }}

    union all

    select
        'care_b' as system,
        'client' as source_table,
        record_key,
        sex,
        birth_month,
        has_ni_token,
        created_date
    from {{ ref('stg_care_b__clients') }}

    union all

    select
        'domcare' as system,
        'service_user' as source_table,
        record_key,
        sex,
        birth_month,
        has_ni_token,
        created_date
    from {{ ref('stg_domcare__service_users') }}

),

xref as (

    select * from {{ ref('stg_identity__person_xref') }}

)

select
    {{ dbt.concat(['records.system', "':'", 'records.record_key']) }} as person_record_id,
    records.system,
    records.source_table,
    records.record_key,
    xref.person_key,
    xref.match_method,
    xref.match_probability,
    records.sex,
    records.birth_month,
    records.has_ni_token,
    records.created_date
from records
left join xref
    on records.system = xref.system
    and records.record_key = xref.record_key
