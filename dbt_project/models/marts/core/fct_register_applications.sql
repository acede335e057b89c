{#- One row per housing-register application: who applied (the applicant's person key where
    linkage knows them), for what (need type, band), the household's size and area, when it was
    made and how it ended. The forecast starts its waiting lists from the applications open at
    the census, and lets them go by band and length of wait as the register does. Applications
    keyed as ending before they began are kept and flagged (the register mart leaves them out). -#}
with

applications as (

    select * from {{ ref('stg_crm__applications') }}

),

households as (

    select household_id, household_size, area_code from {{ ref('stg_crm__households') }}

),

contacts as (

    select contact_id, record_key from {{ ref('stg_crm__contacts') }}

),

xref as (

    select record_key, person_key from {{ ref('stg_identity__person_xref') }}
    where system = 'crm'

)

select
    applications.application_id,
    applications.household_id,
    xref.person_key,
    applications.need_type,
    applications.band,
    applications.applied_date,
    applications.status,
    applications.status_date,
    applications.offers_made,
    households.household_size,
    households.area_code,
    applications.is_end_before_start
from applications
left join households on households.household_id = applications.household_id
left join contacts on contacts.contact_id = applications.contact_id
left join xref on xref.record_key = contacts.record_key
