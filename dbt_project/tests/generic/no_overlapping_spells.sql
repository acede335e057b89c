{#-
    Fails for every spell [start, end) that overlaps an earlier spell of the same key.
    An open spell (NULL end) runs for ever; spells with no start, no key, or that end on or
    before they start (contradictions flagged elsewhere) are left out. Spells are compared in
    order of start: a spell overlaps an earlier one when an earlier one is still open or ends
    after it starts, so every overlapping pair fails at least its later spell, whatever the
    tie-break between spells starting the same day.
-#}
{% test no_overlapping_spells(model, partition_by, start_column, end_column) %}
with spells as (

    select
        {{ partition_by }} as spell_partition,
        {{ start_column }} as spell_start,
        {{ end_column }} as spell_end
    from {{ model }}
    where {{ partition_by }} is not null
      and {{ start_column }} is not null
      and ({{ end_column }} is null or {{ end_column }} > {{ start_column }})

),

compared as (

    select
        spell_partition,
        spell_start,
        spell_end,
        max(case when spell_end is null then 1 else 0 end) over (
            partition by spell_partition order by spell_start
            rows between unbounded preceding and 1 preceding
        ) as has_earlier_open_spell,
        max(spell_end) over (
            partition by spell_partition order by spell_start
            rows between unbounded preceding and 1 preceding
        ) as earlier_spell_end
    from spells

)

select *
from compared
where has_earlier_open_spell = 1
   or spell_start < earlier_spell_end
{% endtest %}
