{#- Every person-level source record of every system that keeps people (the source contracts), with the person_key linkage gave it
    and the few attributes marts may carry (sex, month of birth, a usable NI token or not).
    A record linkage has not seen yet (keyed after last night's link) has no person_key. -#}
with

records as (

    {#- one block per system that keeps people (its source contract's dbt.person_records) -#}
    {%- for s in llif.source_systems() if s.get('person_records') %}
    {% if not loop.first %}union all

    {% endif -%}
    select
        '{{ s.system }}' as system,
        '{{ s.person_table }}' as source_table,
        {{ s.person_record_key }} as record_key,
        sex,
        birth_month,
        has_ni_token,
        created_date
    from {{ ref(s.person_records) }}
    {%- endfor %}

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
