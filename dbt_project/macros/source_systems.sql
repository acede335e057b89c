{#-
    source_systems() -> the list of systems the shared unions read, each a mapping with
    system, and person_table / person_records / person_record_key where it keeps people,
    care_stays where it keeps care-home stays.

    From LLIF_SOURCE_SYSTEMS (JSON, set by the orchestration from the source contracts, a
    provider's own included) or else the `llif_source_systems` var (the shipped contracts).
    Read at parse time, so the refs of a system added by contract are in the graph.
-#}
{% macro source_systems() -%}
    {%- set given = env_var('LLIF_SOURCE_SYSTEMS', '') -%}
    {{ return(fromjson(given) if given else var('llif_source_systems')) }}
{%- endmacro %}
