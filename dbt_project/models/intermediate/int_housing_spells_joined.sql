{#- One row per person per tenancy they lived in: every member of a household (the lead
    included) lives in the household's tenancies while a member. A member's spell is the
    tenancy cut to their membership (joined to left); a member who left before joining (a
    contradiction) is taken to have stayed as long as the tenancy. Spells of no length (a
    member who joined after the tenancy ended) are dropped. -#}
with

members as (

    select
        household_member_id,
        household_id,
        contact_id,
        relationship,
        is_lead,
        joined_date,
        case when is_end_before_start = 1 then null else left_date end as left_date
    from {{ ref('stg_crm__household_members') }}

),

tenancies as (

    select * from {{ ref('int_tenancies_cleaned') }}

),

contacts as (

    select contact_id, record_key from {{ ref('stg_crm__contacts') }}

),

xref as (

    select record_key, person_key from {{ ref('stg_identity__person_xref') }}
    where system = 'crm'

),

joined as (

    select
        {{ dbt.concat([llif.as_string('tenancies.tenancy_id'), "'|'", llif.as_string('members.contact_id')]) }} as housing_spell_id,
        tenancies.tenancy_id,
        members.household_member_id,
        members.household_id,
        members.contact_id,
        xref.person_key,
        members.relationship,
        members.is_lead,
        tenancies.unit_id,
        tenancies.scheme_id,
        tenancies.tenancy_type,
        tenancies.let_route,
        tenancies.start_date as tenancy_start_date,
        tenancies.end_date as tenancy_end_date,
        tenancies.end_reason as tenancy_end_reason,
        {{ llif.marts_latest('tenancies.start_date', 'members.joined_date') }} as start_date,
        case
            when tenancies.end_date is null then members.left_date
            when members.left_date is null then tenancies.end_date
            when members.left_date < tenancies.end_date then members.left_date
            else tenancies.end_date
        end as end_date
    from members
    inner join tenancies
        on members.household_id = tenancies.household_id
    left join contacts
        on members.contact_id = contacts.contact_id
    left join xref
        on contacts.record_key = xref.record_key

)

select
    housing_spell_id,
    tenancy_id,
    household_member_id,
    household_id,
    contact_id,
    person_key,
    relationship,
    is_lead,
    unit_id,
    scheme_id,
    tenancy_type,
    let_route,
    tenancy_start_date,
    tenancy_end_date,
    tenancy_end_reason,
    start_date,
    end_date,
    -- how the person's spell ended: with the tenancy (its reason; a member's household ends
    -- when the lead dies or goes into a care home, which is not the member's own end), or by
    -- leaving the household
    case
        when end_date is null then null
        when tenancy_end_date is not null and end_date >= tenancy_end_date
            then
                case
                    when is_lead = 0 and tenancy_end_reason in ('died', 'care_home') then 'household_ended'
                    else tenancy_end_reason
                end
        else 'left_household'
    end as end_reason
from joined
where end_date is null or end_date > start_date
