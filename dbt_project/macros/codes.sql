{#-
    Small code lists shared by more than one system, kept in one place.
-#}

{#- a local authority's name (CRM, upper case) -> the asset system's three-letter area code -#}
{% macro area_code_from_name(expression) -%}
    case upper(trim({{ expression }}))
        when 'CARDIFF' then 'CDF'
        when 'VALE OF GLAMORGAN' then 'VOG'
        when 'RHONDDA CYNON TAF' then 'RCT'
        when 'BRIDGEND' then 'BGD'
        when 'NEWPORT' then 'NWP'
        when 'CAERPHILLY' then 'CPH'
        when 'MERTHYR TYDFIL' then 'MTD'
        when 'NEATH PORT TALBOT' then 'NPT'
    end
{%- endmacro %}

{#- the three-letter area code -> the local authority's name as the world and planners write it -#}
{% macro area_name_from_code(expression) -%}
    case upper(trim({{ expression }}))
        when 'CDF' then 'Cardiff'
        when 'VOG' then 'Vale of Glamorgan'
        when 'RCT' then 'Rhondda Cynon Taf'
        when 'BGD' then 'Bridgend'
        when 'NWP' then 'Newport'
        when 'CPH' then 'Caerphilly'
        when 'MTD' then 'Merthyr Tydfil'
        when 'NPT' then 'Neath Port Talbot'
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
