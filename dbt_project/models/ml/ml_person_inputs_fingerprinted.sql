{#- One row per person_key on the timeline with a fingerprint of everything their
    ml_person_months rows are computed from: each of their fct_person_month rows (every column
    the mart reads), the type of the scheme and the tenancy of each row, the reviews of that
    tenancy, the members of its household, their sex and entry route (dim_person) and their
    current segment (ml.segments, when it exists).

    ml_person_months is incremental by person (docs/decisions.md 30): it rebuilds a person's
    whole history only when this fingerprint changed, so a night within a month recomputes the
    people whose records moved, not all 5 million rows, and the result is what a full rebuild
    gives (tests/integration/test_models_ml_pipeline.py builds, advances, builds again and compares).
    Hashes are built up in steps (row, person-year, person) so no aggregated string outgrows
    SQL Server's 8,000-byte STRING_AGG. -#}
{%- set segments = none -%}
{%- if execute and flags.WHICH in ('run', 'build') -%}
    {%- set segments = adapter.get_relation(database=this.database, schema='ml', identifier='segments') -%}
{%- endif -%}
with

reviews_by_year as (

    select
        tenancy_id,
        {{ dbt.listagg(llif.ml_hash_of(['circumstance_id', 'review_date', 'arrears_band', 'wellbeing_score', 'has_support_need']),
                       "''", 'order by circumstance_id, review_date') }} as review_hashes
    from {{ ref('stg_crm__circumstances') }}
    where tenancy_id is not null
    group by tenancy_id, {{ dbt.date_trunc('year', 'review_date') }}

),

tenancy_reviews as (

    select tenancy_id, {{ dbt.listagg(dbt.hash('review_hashes'), "''", 'order by review_hashes') }} as reviews_hash
    from reviews_by_year
    group by tenancy_id

),

household_members as (

    select
        household_id,
        {{ dbt.listagg(llif.ml_hash_of(['joined_date', 'left_date', 'is_end_before_start']), "''",
                       'order by joined_date, left_date, is_end_before_start') }} as members_hash
    from {{ ref('stg_crm__household_members') }}
    group by household_id

),

row_hashes as (

    select
        pm.person_key,
        {{ dbt.date_trunc('year', 'pm.month_start') }} as year_start,
        pm.month_start,
        {{ llif.ml_hash_of([
            'pm.person_month_id', 'pm.month_start', 'pm.state', 'pm.previous_state', 'pm.need_level',
            'pm.weekly_care_hours', 'pm.age', 'pm.area_code', 'pm.scheme_id', 'pm.tenancy_id',
            'pm.is_hospital_admission', 'pm.is_care_home_admission', 'pm.is_let', 'pm.is_tenancy_ended',
            'pm.is_hospital_observed', 'pm.is_home_care_observed', 'schemes.scheme_type',
            'tenancies.household_id', 'tenancies.person_key', 'tenancies.tenancy_type', 'tenancies.let_route',
            'tenancies.start_month', 'tenancy_reviews.reviews_hash', 'household_members.members_hash'
        ]) }} as row_hash
    from {{ ref('fct_person_month') }} as pm
    left join {{ ref('dim_scheme') }} as schemes
        on pm.scheme_id = schemes.scheme_id
    left join {{ ref('fct_tenancy_spells') }} as tenancies
        on pm.tenancy_id = tenancies.tenancy_id
    left join tenancy_reviews
        on pm.tenancy_id = tenancy_reviews.tenancy_id
    left join household_members
        on tenancies.household_id = household_members.household_id

),

person_years as (

    select
        person_key,
        year_start,
        {{ dbt.hash(dbt.listagg('row_hash', "''", 'order by month_start')) }} as year_hash
    from row_hashes
    group by person_key, year_start

),

people as (

    select person_key, {{ dbt.listagg('year_hash', "''", 'order by year_start') }} as year_hashes
    from person_years
    group by person_key

)

{%- set person_parts = ['people.year_hashes', 'persons.sex', 'persons.entry_route'] -%}
{%- if segments is not none -%}
    {%- do person_parts.extend(['segments.segment', 'segments.segment_name']) -%}
{%- endif %}
select
    people.person_key,
    {{ llif.ml_hash_of(person_parts) }} as fingerprint
from people
left join {{ ref('dim_person') }} as persons
    on people.person_key = persons.person_key
{%- if segments is not none %}
left join {{ segments }} as segments
    on people.person_key = segments.person_key
{%- endif %}
