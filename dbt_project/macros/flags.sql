{#-
    Flags are 0/1 integers, never booleans (SQL Server has no boolean type or literals).
-#}

{% macro flag(condition) -%}
    case when {{ condition }} then 1 else 0 end
{%- endmacro %}


{#-
    1 where a spell [start, end) overlaps an earlier spell of the same partition, else 0.

    Spells are taken in order of start (then `order_by`, for a stable tie-break); a spell
    overlaps an earlier one when an earlier spell is still open (NULL end) or ends after this
    one starts. The first spell of each overlapping pair is left 0 and the later one flagged,
    so dropping the flagged spells leaves a partition with no overlaps (what the
    no_overlapping_spells test checks). Spells with no start or no partition are never flagged.
    Window frames (ROWS BETWEEN ... 1 PRECEDING) run on DuckDB, PostgreSQL and SQL Server 2012+.
-#}
{% macro spell_overlap_flag(partition_by, start_column, end_column, order_by) -%}
    {%- set window -%}
        partition by {{ partition_by }}
        order by case when {{ start_column }} is null then 1 else 0 end, {{ start_column }}, {{ order_by }}
        rows between unbounded preceding and 1 preceding
    {%- endset -%}
    case
        when {{ partition_by }} is null or {{ start_column }} is null then 0
        when max(case when {{ end_column }} is null then 1 else 0 end) over ({{ window }}) = 1 then 1
        when {{ start_column }} < max({{ end_column }}) over ({{ window }}) then 1
        else 0
    end
{%- endmacro %}


{#- the surrogate key of vendor A records, whose own keys are unique only within a home's
    database: `<database>:<key>`, the form identity.source_identifiers uses for residents -#}
{% macro home_scoped_key(source_column, key_column) -%}
    {{ dbt.concat([source_column, "':'", llif.as_string(key_column)]) }}
{%- endmacro %}
