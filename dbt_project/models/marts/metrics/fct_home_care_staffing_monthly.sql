{#- Home-care staffing by team and month, from the carers' completed visits: how many carers
    delivered care, the contact hours they delivered, and the contact hours an active carer
    delivered a week. The forecast turns its home-care hours into carers needed with a
    documented number of productive (contact) hours per full-time carer
    (contracts/vocabulary/staffing.py); this mart is the other side of that sum: the carers the
    teams have had. A visit's hours are its recorded minutes, or its planned minutes where the
    record cannot be trusted (closed automatically after 12 hours, or ending before it began).
    The month the warehouse stands in is part-recorded: is_complete says which months are whole. -#}
with

visits as (

    select
        visits.carer_id,
        packages.team,
        {{ llif.marts_month_start('visits.visit_date') }} as month_start,
        case
            when visits.is_auto_closed = 1 or visits.is_end_before_start = 1 or visits.actual_minutes is null
                then visits.planned_minutes
            else visits.actual_minutes
        end as minutes
    from {{ ref('stg_domcare__visits') }} as visits
    inner join {{ ref('stg_domcare__packages') }} as packages
        on visits.package_id = packages.package_id
    where visits.visit_status = 'completed' and visits.carer_id is not null and packages.team is not null

),

months as (

    select month_start, days_in_month, is_complete from {{ ref('dim_month') }}

),

per_team as (

    select
        team,
        month_start,
        count(distinct carer_id) as n_carers_active,
        count(*) as n_visits_completed,
        sum(cast(minutes as {{ llif.type_double() }})) / 60.0 as contact_hours
    from visits
    group by team, month_start

)

select
    {{ dbt.concat([llif.marts_date_text('per_team.month_start'), "':'", 'per_team.team']) }} as staffing_id,
    per_team.month_start,
    per_team.team,
    per_team.n_carers_active,
    per_team.n_visits_completed,
    per_team.contact_hours,
    per_team.contact_hours / (per_team.n_carers_active * months.days_in_month / 7.0) as contact_hours_per_carer_week,
    months.is_complete
from per_team
inner join months
    on per_team.month_start = months.month_start
