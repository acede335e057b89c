{#- One row per source system: when it went live, when its data last changed, and the date the
    whole warehouse stands at (the latest change marker of any system), which closes the
    timeline and every monthly metric. Visits are left out: the largest table, read by every
    model through the month spine, and the register and tenancies change every working day. -#}
with

changes as (

    select 'crm' as system, max(updated_at) as last_change_at from {{ ref('stg_crm__tenancies') }}
    union all
    select 'crm' as system, max(updated_at) as last_change_at from {{ ref('stg_crm__applications') }}
    union all
    select 'crm' as system, max(updated_at) as last_change_at from {{ ref('stg_crm__household_members') }}
    union all
    select 'assets' as system, max(updated_at) as last_change_at from {{ ref('stg_assets__voids') }}
    union all
    select 'assets' as system, max(updated_at) as last_change_at from {{ ref('stg_assets__units') }}
    union all
    select 'care_a' as system, max(updated_at) as last_change_at from {{ ref('stg_care_a__stays') }}
    union all
    select 'care_a' as system, max(updated_at) as last_change_at from {{ ref('stg_care_a__transfers') }}
    union all
    select 'care_b' as system, max(updated_at) as last_change_at from {{ ref('stg_care_b__placements') }}
    union all
    select 'care_b' as system, max(updated_at) as last_change_at from {{ ref('stg_care_b__movement_events') }}
    union all
    select 'domcare' as system, max(updated_at) as last_change_at from {{ ref('stg_domcare__packages') }}
    union all
    select 'domcare' as system, max(updated_at) as last_change_at from {{ ref('stg_domcare__suspensions') }}
    {#- a care-home system added by its contract: its stays (docs/onboarding.md) #}
    {%- for s in llif.source_systems() if s.get('care_stays') %}
    union all
    select '{{ s.system }}' as system, max(updated_at) as last_change_at from {{ ref(s.care_stays) }}
    {%- endfor %}

),

systems as (

    select
        system,
        cast(max(last_change_at) as {{ llif.type_date() }}) as last_change_date
    from changes
    group by system

),

as_of as (

    select max(last_change_date) as data_as_of_date from systems

)

select
    systems.system,
    {{ llif.marts_go_live_of('systems.system') }} as go_live_date,
    systems.last_change_date,
    as_of.data_as_of_date,
    {{ llif.marts_month_start('as_of.data_as_of_date') }} as data_as_of_month
from systems
cross join as_of
