{#- One row per person per month from the month they are first known (never before the
    timeline's start, January 1998) to the last: the month of their recorded death, else the
    month the warehouse stands at while any of their spells is open, else the month their last
    spell ended (in which they have moved out). -#}
with

spells as (

    select * from {{ ref('int_state_spells_unioned') }}

),

as_of as (

    select max(data_as_of_month) as data_as_of_month
    from {{ ref('int_source_systems_summarised') }}

),

extent as (

    select
        person_key,
        min(start_date) as first_date,
        max(end_date) as last_end_date,
        max(case when end_date is null then 1 else 0 end) as has_open_spell
    from spells
    group by person_key

),

bounded as (

    select
        extent.person_key,
        extent.first_date,
        {{ llif.marts_latest(llif.marts_month_start('extent.first_date'), llif.marts_timeline_start()) }} as first_month,
        case
            when deaths.death_month is not null then deaths.death_month
            when extent.has_open_spell = 1 then as_of.data_as_of_month
            else {{ llif.marts_month_start('extent.last_end_date') }}
        end as last_month_known,
        as_of.data_as_of_month
    from extent
    cross join as_of
    left join {{ ref('int_deaths_derived') }} as deaths
        on extent.person_key = deaths.person_key

),

months as (

    select month_start, month_end from {{ ref('int_months_generated') }}

)

select
    {{ dbt.concat(['bounded.person_key', "':'", llif.marts_date_text('months.month_start')]) }} as person_month_id,
    bounded.person_key,
    months.month_start,
    months.month_end,
    {{ llif.flag('months.month_start = bounded.first_month') }} as is_first_month,
    {{ llif.flag('months.month_start = bounded.last_month_known') }} as is_last_month
from bounded
inner join months
    on months.month_start >= bounded.first_month
    and months.month_start <= bounded.last_month_known
    and months.month_start <= bounded.data_as_of_month
