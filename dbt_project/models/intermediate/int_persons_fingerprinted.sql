{#- One row per person_key with a fingerprint of everything their timeline is computed from: each
    state spell's content, the recorded death and the month of birth. fct_person_month is
    incremental by person: it rebuilds a person's whole history only when this fingerprint
    changes (late arrivals, corrections, linkage moving records between keys), so a night
    recomputes hundreds of people, not tens of thousands. Each spell is hashed alone and the
    hashes are joined in order, so the aggregate stays short on every engine. -#}
with

spells as (

    select * from {{ ref('int_state_spells_unioned') }}

),

deaths as (

    select * from {{ ref('int_deaths_derived') }}

),

persons as (

    select person_key, birth_month from {{ ref('int_persons_aggregated') }}

),

spell_hashes as (

    select
        person_key,
        {{ dbt.hash(dbt.concat([
            llif.as_string('state_spell_id'), "'|'", 'state', "'|'", llif.as_string('start_date'), "'|'",
            "coalesce(" ~ llif.as_string('end_date') ~ ", '-')", "'|'", "coalesce(end_reason, '-')", "'|'",
            "coalesce(" ~ llif.as_string('scheme_id') ~ ", '-')", "'|'", "coalesce(" ~ llif.as_string('unit_id') ~ ", '-')", "'|'",
            "coalesce(" ~ llif.as_string('tenancy_id') ~ ", '-')", "'|'", "coalesce(" ~ llif.as_string('weekly_hours') ~ ", '-')", "'|'",
            "coalesce(" ~ llif.as_string('need_level') ~ ", '-')", "'|'", 'source_system'
        ])) }} as spell_hash,
        case when end_date is null then 1 else 0 end as is_open
    from spells

),

per_person as (

    select
        person_key,
        {{ dbt.listagg('spell_hash', "''", 'order by spell_hash') }} as spell_hashes,
        max(is_open) as has_open_spell
    from spell_hashes
    group by person_key

)

select
    per_person.person_key,
    {{ dbt.hash(dbt.concat([
        'per_person.spell_hashes', "'|'",
        "coalesce(" ~ llif.as_string('deaths.death_date') ~ ", '-')", "'|'", "coalesce(deaths.source_system, '-')", "'|'",
        "coalesce(" ~ llif.as_string('persons.birth_month') ~ ", '-')"
    ])) }} as fingerprint,
    per_person.has_open_spell
from per_person
left join deaths
    on per_person.person_key = deaths.person_key
left join persons
    on per_person.person_key = persons.person_key
