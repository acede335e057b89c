{#- An MD5 of columns as one string, NULL spelt '~' so that a NULL and an empty value differ
    from each other and from a present one (dbt.concat of a NULL is NULL on some engines). -#}
{% macro ml_hash_of(columns) -%}
    {%- set parts = [] -%}
    {%- for c in columns -%}
        {%- if not loop.first %}{% do parts.append("'|'") %}{% endif -%}
        {%- do parts.append("coalesce(" ~ llif.as_string(c) ~ ", '~')") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}


{#- ml_person_months' pre-hook, on an incremental run: forget every person whose inputs'
    fingerprint (ml_person_inputs_fingerprinted) changed or who is gone from the timeline, so
    the model rebuilds their whole history. A table built before the fingerprint existed (an
    upgrade from the full-rebuild table) is emptied, so everyone is rebuilt and the column added. -#}
{% macro ml_forget_changed_people() -%}
{%- if is_incremental() -%}
{%- set offline = var('llif_offline_compile', none) is not none -%}
{%- set columns = [] if offline else adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
{%- if not offline and 'person_inputs_fingerprint' not in columns -%}
delete from {{ this }}
{%- else -%}
delete from {{ this }}
where person_key in (
    select stored.person_key
    from (select distinct person_key, person_inputs_fingerprint from {{ this }}) as stored
    left join {{ ref('ml_person_inputs_fingerprinted') }} as current_people
        on stored.person_key = current_people.person_key
    where current_people.person_key is null
       or current_people.fingerprint <> stored.person_inputs_fingerprint
       or stored.person_inputs_fingerprint is null
)
{%- endif -%}
{%- endif -%}
{%- endmacro %}
