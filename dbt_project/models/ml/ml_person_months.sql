{#- The transition models' rows: one per person_key per month in a live state (not moved_out or
    died), with the features the models may use and the labels they learn.

    Every feature is computed from the month itself and the months before it - windows run
    `rows between unbounded preceding and current row` or over preceding rows, circumstances
    are the last review on or before the month, household size counts members present at the
    month end - so a warehouse truncated at any month T gives the same features for every row
    up to T (tests/integration/test_models_ml_pipeline.py checks this). Only the labels (next_*, *_next_12_months)
    look forward; the models never read them as features.

    The cumulative columns (share_*, n_*_to_date, ...) describe the person's history so far:
    the segmentation is fitted on them at each person's latest month (ml_person_features) and
    applied to every row, so a training row carries the segment the person would have had then
    (segment_asof, computed in Python), not the one their later history earned them.

    segment / segment_name: the person's current segment from ml.segments (written by
    models_ml.segments) when that table exists, else NULL: for reporting and the current census;
    the transition models do not train on it (see docs/transition_models.md). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='person_month_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ llif.ml_forget_changed_people() }}"
) }}
{#- Incremental by person (docs/decisions.md 30): a full build computes everyone; a nightly one
    only the people whose ml_person_inputs_fingerprinted fingerprint changed or who are new (the
    pre-hook has deleted the changed and the gone), each over their whole history, since every
    window here runs over a person's months. Everyone else's rows stay as they are: with the
    same inputs they are the same rows. -#}
{%- set segments = none -%}
{#- only run and build ask the warehouse: `dbt compile` stays offline (CI compiles for SQL Server
    with no server), and shows the model without the join -#}
{%- if execute and flags.WHICH in ('run', 'build') -%}
    {%- set segments = adapter.get_relation(database=this.database, schema='ml', identifier='segments') -%}
{%- endif -%}
{%- set upto = "partition by person_key order by month_start rows between unbounded preceding and current row" -%}
{%- set ahead_12 = "partition by person_key order by month_start rows between 1 following and 12 following" -%}
with

fingerprints as (

    select person_key, fingerprint from {{ ref('ml_person_inputs_fingerprinted') }}

),

{% if is_incremental() %}

-- lint: ST03 is wrong here (the CTE is used below under the same `is_incremental()`, but sqlfluff
-- renders the branches apart); ST05 would make a CTE of a one-line lookup of the stored people
rebuilt_people as ( -- noqa: ST03

    select fingerprints.person_key
    from fingerprints
    left join (select distinct person_key from {{ this }}) as stored -- noqa: ST05
        on fingerprints.person_key = stored.person_key
    where stored.person_key is null

),

{% endif %}

timeline as (

    select
        pm.person_month_id,
        pm.person_key,
        pm.month_start,
        dm.month_end,
        dm.month_of_year,
        dm.is_winter,
        pm.state,
        pm.previous_state,
        pm.need_level,
        pm.weekly_care_hours,
        pm.age,
        pm.area_code,
        pm.scheme_id,
        pm.tenancy_id,
        pm.is_hospital_admission,
        pm.is_care_home_admission,
        pm.is_let,
        pm.is_tenancy_ended,
        pm.is_hospital_observed,
        pm.is_home_care_observed
    from {{ ref('fct_person_month') }} as pm
    inner join {{ ref('dim_month') }} as dm
        on pm.month_start = dm.month_start
    {%- if is_incremental() %}
    inner join rebuilt_people
        on pm.person_key = rebuilt_people.person_key
    {%- endif %}

),

tenancies as (

    select tenancy_id, household_id, person_key as lead_person_key, tenancy_type, let_route, start_month
    from {{ ref('fct_tenancy_spells') }}

),

-- circumstances: the tenancy's last review on or before the month -----------------------------

reviews_ranked as (

    select
        tenancy_id,
        {{ llif.marts_month_start('review_date') }} as review_month,
        arrears_band,
        wellbeing_score,
        has_support_need,
        row_number() over (
            partition by tenancy_id, {{ llif.marts_month_start('review_date') }}
            order by review_date desc, circumstance_id desc
        ) as recency
    from {{ ref('stg_crm__circumstances') }}
    where
        tenancy_id is not null
        and review_date is not null

),

reviews as (

    select tenancy_id, review_month, arrears_band, wellbeing_score, has_support_need
    from reviews_ranked
    where recency = 1

),

review_marked as (

    select
        timeline.person_month_id,
        timeline.tenancy_id,
        max(reviews.review_month) over (
            partition by timeline.person_key, timeline.tenancy_id
            order by timeline.month_start
            rows between unbounded preceding and current row
        ) as latest_review_month
    from timeline
    left join reviews
        on timeline.tenancy_id = reviews.tenancy_id
        and timeline.month_start = reviews.review_month
    where timeline.tenancy_id is not null

),

circumstances as (

    select
        review_marked.person_month_id,
        reviews.arrears_band,
        reviews.wellbeing_score,
        reviews.has_support_need
    from review_marked
    inner join reviews
        on review_marked.tenancy_id = reviews.tenancy_id
        and review_marked.latest_review_month = reviews.review_month

),

-- household size: members present at the month end -------------------------------------------

household_sizes as (

    select
        timeline.person_month_id,
        count(*) as household_size
    from timeline
    inner join tenancies
        on timeline.tenancy_id = tenancies.tenancy_id
    inner join {{ ref('stg_crm__household_members') }} as members
        on tenancies.household_id = members.household_id
        and members.joined_date <= timeline.month_end
        and (members.left_date is null or members.left_date > timeline.month_end)
        and members.is_end_before_start = 0
    group by timeline.person_month_id

),

-- the month's row with its context --------------------------------------------------------------

joined as (

    select
        timeline.*,
        coalesce(schemes.scheme_type, 'none') as scheme_type,
        coalesce(tenancies.tenancy_type, 'none') as tenancy_type,
        coalesce(tenancies.let_route, 'none') as let_route,
        {{ llif.flag('tenancies.lead_person_key = timeline.person_key') }} as is_lead_tenant,
        household_sizes.household_size,
        circumstances.arrears_band,
        circumstances.wellbeing_score,
        coalesce(circumstances.has_support_need, 0) as has_support_need,
        {{ llif.flag("timeline.state in ('residential_care', 'nursing_care')") }} as is_in_care_home,
        {{ llif.flag("timeline.state in ('hospital', 'hospice')") }} as is_away,
        {{ llif.flag("timeline.previous_state is not null and timeline.previous_state <> timeline.state") }} as is_state_change,
        {{ llif.flag("timeline.state in ('residential_care', 'nursing_care') and timeline.previous_state = 'hospital'") }} as is_care_entry_from_hospital,
        {{ llif.flag("timeline.state in ('residential_care', 'nursing_care') and timeline.previous_state in ('general_needs', 'sheltered', 'extra_care', 'temporary', 'community')") }} as is_care_entry_from_home,
        {{ llif.flag('circumstances.arrears_band >= 1') }} as is_in_arrears,
        case when circumstances.arrears_band is null then 0 else 1 end as has_arrears_known,
        case when circumstances.wellbeing_score is null then 0 else 1 end as has_wellbeing_known,
        {{ llif.flag('timeline.weekly_care_hours > 0') }} as has_home_care,
        -- months the tenancy ran before this month (initial tenancies began before the timeline)
        case
            when tenancies.start_month < timeline.month_start
                then {{ llif.marts_months_between('tenancies.start_month', 'timeline.month_start') }}
            else 0
        end as months_in_tenancy_before
    from timeline
    left join {{ ref('dim_scheme') }} as schemes
        on timeline.scheme_id = schemes.scheme_id
    left join tenancies
        on timeline.tenancy_id = tenancies.tenancy_id
    left join household_sizes
        on timeline.person_month_id = household_sizes.person_month_id
    left join circumstances
        on timeline.person_month_id = circumstances.person_month_id

),

-- history so far (windows over the month and the months before it) ----------------------------

accumulated as (

    select
        joined.*,
        row_number() over (partition by person_key order by month_start)
        - row_number() over (partition by person_key, state order by month_start) as state_run,
        row_number() over ({{ upto }}) as months_known,
        first_value(
            case
                when age is null then null
                else age - cast(floor(months_in_tenancy_before / 12.0) as {{ dbt.type_int() }})
            end
        ) over ({{ upto }}) as age_at_entry,
        first_value(months_in_tenancy_before) over ({{ upto }}) as months_before_timeline,
        first_value(state) over ({{ upto }}) as first_state,
        sum(is_hospital_admission) over (partition by person_key order by month_start rows between 2 preceding and current row) as n_hospital_admissions_last_3_months,
        sum(is_hospital_admission) over (partition by person_key order by month_start rows between 11 preceding and current row) as n_hospital_admissions_last_12_months,
        sum(is_care_home_admission) over (partition by person_key order by month_start rows between 11 preceding and current row) as n_care_home_admissions_last_12_months,
        sum(is_state_change) over (partition by person_key order by month_start rows between 11 preceding and current row) as n_state_changes_last_12_months,
        sum(case when state = 'general_needs' then 1 else 0 end) over ({{ upto }}) as months_general_needs,
        sum(case when state = 'sheltered' then 1 else 0 end) over ({{ upto }}) as months_sheltered,
        sum(case when state = 'extra_care' then 1 else 0 end) over ({{ upto }}) as months_extra_care,
        sum(case when state = 'temporary' then 1 else 0 end) over ({{ upto }}) as months_temporary,
        sum(case when state = 'community' then 1 else 0 end) over ({{ upto }}) as months_community,
        sum(is_in_care_home) over ({{ upto }}) as months_care_home,
        sum(is_away) over ({{ upto }}) as months_away,
        sum(is_lead_tenant) over ({{ upto }}) as months_lead_tenant,
        sum(has_home_care) over ({{ upto }}) as months_home_care,
        sum(weekly_care_hours) over ({{ upto }}) as care_hours_to_date,
        max(need_level) over ({{ upto }}) as max_need_level_to_date,
        sum(is_hospital_admission) over ({{ upto }}) as n_hospital_admissions_to_date,
        sum(is_care_home_admission) over ({{ upto }}) as n_care_home_admissions_to_date,
        sum(is_care_entry_from_hospital) over ({{ upto }}) as n_care_entries_from_hospital_to_date,
        sum(is_care_entry_from_home) over ({{ upto }}) as n_care_entries_from_home_to_date,
        sum(is_state_change) over ({{ upto }}) as n_state_changes_to_date,
        sum(is_let) over ({{ upto }}) as n_lets_to_date,
        sum(is_in_arrears) over ({{ upto }}) as months_in_arrears,
        sum(has_arrears_known) over ({{ upto }}) as months_arrears_known,
        max(arrears_band) over ({{ upto }}) as max_arrears_band_to_date,
        sum(coalesce(wellbeing_score, 0)) over ({{ upto }}) as wellbeing_sum_to_date,
        sum(has_wellbeing_known) over ({{ upto }}) as months_wellbeing_known,
        max(has_support_need) over ({{ upto }}) as has_support_need_to_date,
        max(household_size) over ({{ upto }}) as max_household_size_to_date,
        -- labels: what happens next
        lead(state) over (partition by person_key order by month_start) as next_state,
        lead(need_level) over (partition by person_key order by month_start) as next_need_level,
        count(*) over ({{ ahead_12 }}) as n_following_months,
        max(case when state in ('moved_out', 'died') then 1 else 0 end) over ({{ ahead_12 }}) as has_exit_next_12_months,
        max(is_care_home_admission) over ({{ ahead_12 }}) as has_care_home_admission_next_12_months,
        max(is_hospital_admission) over ({{ ahead_12 }}) as has_hospital_admission_next_12_months,
        max(case when state in ('moved_out', 'died') then 0 else need_level end) over ({{ ahead_12 }}) as max_need_level_next_12_months,
        max(case when is_tenancy_ended = 1 or state = 'moved_out' then 1 else 0 end) over ({{ ahead_12 }}) as has_tenancy_end_next_12_months
    from joined

),

live as (

    select
        accumulated.*,
        row_number() over (partition by person_key, state, state_run order by month_start) - 1 as months_in_state
    from accumulated
    where state not in ('moved_out', 'died')

),

final as (

    select
        live.person_month_id,
        live.person_key,
        live.month_start,
        live.month_of_year,
        live.is_winter,
        -- features of the month
        live.state,
        coalesce(live.previous_state, 'none') as previous_state,
        live.months_in_state,
        live.need_level,
        live.weekly_care_hours,
        live.age,
        persons.sex,
        coalesce(live.area_code, 'none') as area_code,
        live.scheme_type,
        live.tenancy_type,
        live.let_route,
        live.is_lead_tenant,
        live.household_size,
        live.arrears_band,
        live.wellbeing_score,
        live.has_support_need,
        live.is_hospital_observed,
        live.is_home_care_observed,
        live.n_hospital_admissions_last_3_months,
        live.n_hospital_admissions_last_12_months,
        live.n_care_home_admissions_last_12_months,
        live.n_state_changes_last_12_months,
        -- history so far (the segmentation's features, as of the month)
        coalesce(persons.entry_route, 'unknown') as entry_route,
        live.first_state,
        live.age_at_entry,
        live.months_known,
        live.months_known + live.months_before_timeline as months_since_entry,
        {{ llif.marts_ratio('live.months_general_needs', 'live.months_known') }} as share_general_needs,
        {{ llif.marts_ratio('live.months_sheltered', 'live.months_known') }} as share_sheltered,
        {{ llif.marts_ratio('live.months_extra_care', 'live.months_known') }} as share_extra_care,
        {{ llif.marts_ratio('live.months_temporary', 'live.months_known') }} as share_temporary,
        {{ llif.marts_ratio('live.months_community', 'live.months_known') }} as share_community,
        {{ llif.marts_ratio('live.months_care_home', 'live.months_known') }} as share_care_home,
        {{ llif.marts_ratio('live.months_away', 'live.months_known') }} as share_away,
        {{ llif.marts_ratio('live.months_lead_tenant', 'live.months_known') }} as share_lead_tenant,
        {{ llif.marts_ratio('live.months_home_care', 'live.months_known') }} as share_home_care,
        {{ llif.marts_ratio('live.care_hours_to_date', 'live.months_known') }} as mean_weekly_care_hours_to_date,
        live.max_need_level_to_date,
        live.n_hospital_admissions_to_date,
        live.n_care_home_admissions_to_date,
        live.n_care_entries_from_hospital_to_date,
        live.n_care_entries_from_home_to_date,
        live.n_state_changes_to_date,
        live.n_lets_to_date,
        {{ llif.marts_ratio('live.months_in_arrears', 'live.months_arrears_known') }} as share_in_arrears,
        live.max_arrears_band_to_date,
        {{ llif.marts_ratio('live.wellbeing_sum_to_date', 'live.months_wellbeing_known') }} as mean_wellbeing_to_date,
        live.has_support_need_to_date,
        live.max_household_size_to_date,
        -- the current segment (reporting only; see the model's description)
        {%- if segments is not none %}
        segments.segment,
        segments.segment_name,
        {%- else %}
        cast(null as {{ dbt.type_int() }}) as segment,
        cast(null as {{ dbt.type_string() }}) as segment_name,
        {%- endif %}
        -- labels
        live.next_state,
        live.next_need_level,
        {{ llif.flag('live.next_state is not null') }} as has_next_month,
        {{ llif.flag('live.n_following_months = 12 or live.has_exit_next_12_months = 1') }} as is_outlook_horizon_complete,
        live.has_care_home_admission_next_12_months,
        live.has_hospital_admission_next_12_months,
        {{ llif.flag('live.max_need_level_next_12_months > live.need_level') }} as has_need_rise_next_12_months,
        case when live.tenancy_id is null then null else live.has_tenancy_end_next_12_months end as has_tenancy_end_next_12_months,
        -- what the row was computed from (the incremental build's test of change)
        fingerprints.fingerprint as person_inputs_fingerprint
    from live
    left join {{ ref('dim_person') }} as persons
        on live.person_key = persons.person_key
    left join fingerprints
        on live.person_key = fingerprints.person_key
    {%- if segments is not none %}
    left join {{ segments }} as segments
        on live.person_key = segments.person_key
    {%- endif %}

)

select * from final
