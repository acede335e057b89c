{#-
    The timeline's fixed vocabulary: source systems' go-live dates, the first month of the
    timeline, the states and their precedence. One definition, used by every intermediate and
    mart model (and mirrored in truth_validation/reconcile.py, which checks the timeline).

    Go-live dates (each system's source contract, by way of source_systems()): before a
    system's go-live it holds nothing, so
    absence of its records then is unknown, not "none". Override with the var `marts_go_live`
    (a mapping system -> 'yyyy-mm-dd') and `marts_timeline_start`.
-#}

{% macro marts_go_live_dates() -%}
    {%- set dates = {} -%}
    {%- for s in llif.source_systems() %}{% do dates.update({s.system: s.go_live}) %}{% endfor -%}
    {{ return(var('marts_go_live', dates)) }}
{%- endmacro %}

{#- a system's go-live day as a DATE expression -#}
{% macro marts_go_live(system) -%}
    {%- set dates = llif.marts_go_live_dates() -%}
    {%- if system not in dates -%}
        {{ exceptions.raise_compiler_error("marts_go_live: unknown system '" ~ system ~ "'; use one of " ~ (dates.keys() | list | join(', '))) }}
    {%- endif -%}
    {{ llif.marts_date(dates[system]) }}
{%- endmacro %}

{#- the go-live day of the system named by a column (crm, assets, care_a, care_b, domcare) -#}
{% macro marts_go_live_of(system_column) -%}
    {%- set dates = llif.marts_go_live_dates() -%}
    case {{ system_column }}
    {%- for system, day in dates.items() %}
        when '{{ system }}' then {{ llif.marts_date(day) }}
    {%- endfor %}
    end
{%- endmacro %}

{#- the first month of the timeline: the world (and the CRM) start in January 1998 -#}
{% macro marts_timeline_start() -%}
    {{ llif.marts_date(var('marts_timeline_start', '1998-01-01')) }}
{%- endmacro %}

{#- marts_states(): the states in order of precedence at month end (died > hospice > hospital >
    nursing_care > ... > moved_out; a lower rank wins) is generated from the vocabulary
    (contracts/vocabulary/states.py STATE_PRECEDENCE) into macros/vocabulary.sql. -#}

{% macro marts_state_rank(state_column) -%}
    case {{ state_column }}
    {%- for state in llif.marts_states() %}
        when '{{ state }}' then {{ loop.index }}
    {%- endfor %}
    end
{%- endmacro %}

{#- care need level from planned home-care hours a week: 0 none, 1 under 5, 2 5-15, 3 over 15 -#}
{% macro marts_need_level_from_hours(hours) -%}
    case
        when {{ hours }} is null or {{ hours }} <= 0 then 0
        when {{ hours }} < 5 then 1
        when {{ hours }} <= 15 then 2
        else 3
    end
{%- endmacro %}

{#- care need level from vendor A's dependency score (0-100): the score's bands overlap the
    levels', so the cut points are the midpoints between the levels' typical scores -#}
{% macro marts_need_level_from_dependency(score) -%}
    case
        when {{ score }} is null then null
        when {{ score }} < 24 then 0
        when {{ score }} < 44 then 1
        when {{ score }} < 68 then 2
        else 3
    end
{%- endmacro %}

{#- a ratio, NULL when the denominator is 0 or NULL (never integer division) -#}
{% macro marts_ratio(numerator, denominator) -%}
    case when {{ denominator }} is null or {{ denominator }} = 0 then null
         else cast({{ numerator }} as {{ llif.type_double() }}) / cast({{ denominator }} as {{ llif.type_double() }}) end
{%- endmacro %}

{#- the age band of an age in whole years, for case-mix tables -#}
{% macro marts_age_band(age) -%}
    case
        when {{ age }} is null then 'unknown'
        when {{ age }} < 18 then '0-17'
        when {{ age }} < 40 then '18-39'
        when {{ age }} < 65 then '40-64'
        when {{ age }} < 75 then '65-74'
        when {{ age }} < 85 then '75-84'
        else '85+'
    end
{%- endmacro %}


{#- fct_person_month's pre-hook, on an incremental run: forget every person whose fingerprint
    changed or who is gone (linkage moved their records to another key), so the model rebuilds
    their whole history - including months that no longer exist. A table built before the
    fingerprint existed (an upgrade) is emptied, so everyone is rebuilt and the column added. -#}
{% macro marts_forget_changed_people() -%}
{%- if is_incremental() -%}
{%- set offline = var('llif_offline_compile', none) is not none -%}
{%- set columns = [] if offline else adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
{%- if not offline and 'person_fingerprint' not in columns -%}
delete from {{ this }}
{%- else -%}
delete from {{ this }}
where person_key in (
    select stored.person_key
    from {{ this }} as stored
    left join {{ ref('int_persons_fingerprinted') }} as current_people
        on stored.person_key = current_people.person_key
    where stored.is_first_month = 1
      and (current_people.person_key is null or current_people.fingerprint <> stored.person_fingerprint)
)
{%- endif -%}
{%- endif -%}
{%- endmacro %}
