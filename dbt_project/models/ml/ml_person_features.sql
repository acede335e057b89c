{#- The segmentation's rows: one per person_key with a live month on the timeline, their history
    as of their latest live month (the current month for people still with us, the last month
    before leaving or dying for the others). The columns are those of ml_person_months at that
    month, so a segmentation fitted here applies unchanged to any earlier month of a person
    (the as-of segments of the transition models' training rows). -#}
with

ranked as (

    select
        months.*,
        row_number() over (partition by person_key order by month_start desc) as recency
    from {{ ref('ml_person_months') }} as months

),

latest_month as (

    select max(month_start) as month_start
    from {{ ref('dim_month') }}
    where is_complete = 1

)

select
    ranked.person_key,
    ranked.month_start as as_of_month,
    {{ llif.flag('ranked.month_start = latest_month.month_start') }} as is_current,
    ranked.sex,
    ranked.age,
    ranked.age_at_entry,
    ranked.entry_route,
    ranked.first_state,
    ranked.state as latest_state,
    ranked.need_level,
    ranked.weekly_care_hours,
    ranked.area_code,
    ranked.household_size,
    ranked.months_known,
    ranked.months_since_entry,
    ranked.share_general_needs,
    ranked.share_sheltered,
    ranked.share_extra_care,
    ranked.share_temporary,
    ranked.share_community,
    ranked.share_care_home,
    ranked.share_away,
    ranked.share_lead_tenant,
    ranked.share_home_care,
    ranked.mean_weekly_care_hours_to_date,
    ranked.max_need_level_to_date,
    ranked.n_hospital_admissions_to_date,
    ranked.n_care_home_admissions_to_date,
    ranked.n_care_entries_from_hospital_to_date,
    ranked.n_care_entries_from_home_to_date,
    ranked.n_state_changes_to_date,
    ranked.n_lets_to_date,
    ranked.share_in_arrears,
    ranked.max_arrears_band_to_date,
    ranked.mean_wellbeing_to_date,
    ranked.has_support_need_to_date,
    ranked.max_household_size_to_date
from ranked
cross join latest_month
where ranked.recency = 1
