{#- The history of every person-level source record's identifiers: a new version whenever a
    record's NI number, names, date of birth, sex or postcode changes (a surname after marriage,
    a correction keyed later). It holds identifiers, so it lives in the restricted `identity`
    schema with the table it copies; linkage may read it (old surnames link old records), marts
    never do. One row per record is taken if a load left two (the latest loaded). -#}
{% snapshot snp_identity__source_identifiers %}

{{
    config(
        schema='identity',
        unique_key='person_record_id',
        strategy='check',
        check_cols=['ni_clean', 'ni_token', 'first_name', 'surname', 'dob', 'sex', 'postcode'],
    )
}}

select
    {{ dbt.concat(['system', "':'", 'record_key']) }} as person_record_id,
    system,
    source_table,
    record_key,
    ni_raw,
    ni_clean,
    ni_token,
    first_name,
    surname,
    dob_raw,
    dob,
    sex,
    postcode,
    _loaded_at
from (
    select
        identifiers.*,
        row_number() over (
            partition by identifiers.system, identifiers.record_key
            order by identifiers._loaded_at desc
        ) as load_order
    from {{ source('identity', 'source_identifiers') }} as identifiers
) as latest
where load_order = 1

{% endsnapshot %}
