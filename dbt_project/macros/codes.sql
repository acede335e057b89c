{#-
    Small code lists shared by more than one system, kept in one place.
-#}

{#- a local authority's name (CRM, upper case) -> the asset system's three-letter area code;
    the areas are the vocabulary's (contracts/vocabulary/areas.py, generated into
    macros/vocabulary.sql) -#}
{% macro area_code_from_name(expression) -%}
    case upper(trim({{ expression }}))
    {%- for area in llif.vocabulary_areas() %}
        when '{{ area.name | upper }}' then '{{ area.code }}'
    {%- endfor %}
    end
{%- endmacro %}

{#- the three-letter area code -> the local authority's name as the world and planners write it -#}
{% macro area_name_from_code(expression) -%}
    case upper(trim({{ expression }}))
    {%- for area in llif.vocabulary_areas() %}
        when '{{ area.code }}' then '{{ area.name }}'
    {%- endfor %}
    end
{%- endmacro %}

{#- the one vocabulary of care-home care types, shared by both care vendors -#}
{% macro care_type_from_code(expression) -%}
    case upper(trim({{ expression }}))
        when 'RES' then 'residential'
        when 'RESIDENTIAL' then 'residential'
        when 'NUR' then 'nursing'
        when 'NURSING' then 'nursing'
    end
{%- endmacro %}

{#- stay kinds: vendor A PERM/RESP/REAB, vendor B LONG_TERM/RESPITE/REABLEMENT -#}
{% macro stay_kind_from_code(expression) -%}
    case upper(trim({{ expression }}))
        when 'PERM' then 'permanent'
        when 'LONG_TERM' then 'permanent'
        when 'RESP' then 'respite'
        when 'RESPITE' then 'respite'
        when 'REAB' then 'reablement'
        when 'REABLEMENT' then 'reablement'
    end
{%- endmacro %}
