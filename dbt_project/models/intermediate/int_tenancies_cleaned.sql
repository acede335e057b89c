{#- One row per CRM tenancy with dates fit for a timeline. The CRM keeps contradictions rather
    than dropping them, so here:
    - a tenancy overlapping the household's previous one (has_overlap) starts when that one
      ended: a household holds one home at a time, and the later start is the keyed error;
    - a tenancy recorded as ending before it starts has an unknown end: it is taken as the
      household's next tenancy's start, else the day the lead left the household (the member
      record's date_left, keyed separately), else the start (a zero-length spell, flagged);
    - a tenancy still open although the household's next one has begun (its end keyed late)
      ends when the next one began.
    The recorded dates are kept alongside. -#}
with

tenancies as (

    select * from {{ ref('stg_crm__tenancies') }}

),

ordered as (

    select
        tenancies.*,
        lag(end_date) over (
            partition by household_id order by start_date, tenancy_id
        ) as previous_end_date,
        lead(start_date) over (
            partition by household_id order by start_date, tenancy_id
        ) as next_start_date
    from tenancies

),

lead_members as (

    select
        household_id,
        max(case when is_end_before_start = 0 then left_date end) as lead_left_date
    from {{ ref('stg_crm__household_members') }}
    where is_lead = 1
    group by household_id

),

contacts as (

    select contact_id, record_key from {{ ref('stg_crm__contacts') }}

),

xref as (

    select record_key, person_key from {{ ref('stg_identity__person_xref') }}
    where system = 'crm'

),

units as (

    select unit_id, scheme_id from {{ ref('stg_assets__units') }}

),

cleaned as (

    select
        ordered.tenancy_id,
        ordered.household_id,
        ordered.contact_id,
        xref.person_key,
        ordered.unit_id,
        units.scheme_id,
        ordered.application_id,
        ordered.tenancy_type,
        ordered.let_route,
        ordered.start_date as recorded_start_date,
        ordered.end_date as recorded_end_date,
        case
            when ordered.has_overlap = 1 and ordered.previous_end_date > ordered.start_date
                then ordered.previous_end_date
            else ordered.start_date
        end as start_date,
        case
            when ordered.is_end_before_start = 1
                then coalesce(ordered.next_start_date, lead_members.lead_left_date)
            -- still open in the CRM although the household's next tenancy has begun: the end
            -- is keyed late (up to 60 days); the household moved when the next one began
            when ordered.end_date is null and ordered.next_start_date is not null
                then ordered.next_start_date
            else ordered.end_date
        end as estimated_end_date,
        ordered.end_reason,
        ordered.is_end_before_start,
        ordered.has_overlap,
        {{ llif.flag('ordered.has_overlap = 1 and ordered.previous_end_date > ordered.start_date') }} as is_start_adjusted,
        {{ llif.flag('ordered.is_end_before_start = 1 or (ordered.end_date is null and ordered.next_start_date is not null)') }} as is_end_estimated
    from ordered
    left join lead_members
        on ordered.household_id = lead_members.household_id
    left join contacts
        on ordered.contact_id = contacts.contact_id
    left join xref
        on contacts.record_key = xref.record_key
    left join units
        on ordered.unit_id = units.unit_id

)

select
    tenancy_id,
    household_id,
    contact_id,
    person_key,
    unit_id,
    scheme_id,
    application_id,
    tenancy_type,
    let_route,
    recorded_start_date,
    recorded_end_date,
    start_date,
    -- an ended tenancy whose end cannot be placed after its start lasts no time at all
    case
        when end_reason is not null and (estimated_end_date is null or estimated_end_date < start_date)
            then start_date
        when estimated_end_date < start_date then start_date
        else estimated_end_date
    end as end_date,
    end_reason,
    is_end_before_start,
    has_overlap,
    is_start_adjusted,
    is_end_estimated
from cleaned
