{#- Delays by month: the proxies of delayed discharge the sources allow, and the waits for
    extra care and care homes.
    - Hospital: known stays discharged in the month, those longer than 21 days (the "long stay"
      proxy; no source holds the day a patient was medically fit, so the delay itself is not
      measurable) and their days beyond 21, stays ending in a care-home admission, and people
      of ours in hospital at month end. Known stays are only those of care-home residents and
      home-care users (is_observed 1 once both care vendors and home care are live).
    - Care homes: admissions from hospital, and for those whose hospital stay is known the days
      in hospital before admission (the care-home wait seen from hospital). The care-home
      waiting list itself is not in any source: no vendor records referrals.
    - Home care arranged from hospital: new packages referred while the person was in a known
      hospital stay, and the days from referral to the package starting.
    - Extra care: applications waiting at month end and their mean days waiting (the CRM
      register, fct_register_waiting_monthly). -#}
with

months as (

    select month_start, month_end from {{ ref('int_months_generated') }}

),

hospital as (

    select * from {{ ref('fct_hospital_spells') }}

),

discharges as (

    select
        discharge_month as month_start,
        count(*) as n_hospital_discharges_known,
        sum(is_long_stay) as n_long_stays,
        sum(long_stay_excess_days) as long_stay_excess_days,
        sum(is_discharged_to_care_home) as n_discharged_to_care_home,
        avg(cast(length_of_stay_days as {{ llif.type_double() }})) as mean_length_of_stay_days
    from hospital
    where discharge_date is not null
    group by discharge_month

),

in_hospital as (

    select
        months.month_start,
        count(distinct hospital.person_key) as n_in_hospital_end
    from months
    inner join hospital
        on {{ llif.marts_covers('hospital.admission_date', 'hospital.discharge_date', 'months.month_end') }}
    group by months.month_start

),

episodes as (

    select * from {{ ref('fct_care_episodes') }}

),

care_home_admissions as (

    select
        start_month as month_start,
        sum(case when admission_source = 'hospital' then 1 else 0 end) as n_care_home_admissions_from_hospital,
        sum(case when admission_source = 'hospital' and hospital_days_before_admission is not null then 1 else 0 end) as n_with_known_hospital_stay,
        avg(cast(hospital_days_before_admission as {{ llif.type_double() }})) as mean_hospital_days_before_care_home
    from episodes
    where episode_type = 'care_home'
    group by start_month

),

packages_from_hospital as (

    select
        start_month as month_start,
        count(*) as n_packages_from_hospital,
        avg(cast(referral_to_start_days as {{ llif.type_double() }})) as mean_days_hospital_referral_to_package
    from episodes
    where episode_type = 'home_care' and is_from_hospital = 1
    group by start_month

),

extra_care as (

    select
        month_start,
        n_waiting_end as n_extra_care_waiting_end,
        mean_days_waiting_end as mean_days_extra_care_waiting_end
    from {{ ref('fct_register_waiting_monthly') }}
    where need_type = 'extra_care'

)

select
    months.month_start,
    coalesce(discharges.n_hospital_discharges_known, 0) as n_hospital_discharges_known,
    coalesce(discharges.n_long_stays, 0) as n_long_stays,
    coalesce(discharges.long_stay_excess_days, 0) as long_stay_excess_days,
    coalesce(discharges.n_discharged_to_care_home, 0) as n_discharged_to_care_home,
    discharges.mean_length_of_stay_days,
    coalesce(in_hospital.n_in_hospital_end, 0) as n_in_hospital_end,
    coalesce(care_home_admissions.n_care_home_admissions_from_hospital, 0) as n_care_home_admissions_from_hospital,
    coalesce(care_home_admissions.n_with_known_hospital_stay, 0) as n_with_known_hospital_stay,
    care_home_admissions.mean_hospital_days_before_care_home,
    coalesce(packages_from_hospital.n_packages_from_hospital, 0) as n_packages_from_hospital,
    packages_from_hospital.mean_days_hospital_referral_to_package,
    coalesce(extra_care.n_extra_care_waiting_end, 0) as n_extra_care_waiting_end,
    extra_care.mean_days_extra_care_waiting_end,
    {{ llif.flag(llif.marts_go_live('care_a') ~ ' <= months.month_start and ' ~ llif.marts_go_live('care_b') ~ ' <= months.month_start and ' ~ llif.marts_go_live('domcare') ~ ' <= months.month_start') }} as is_observed
from months
left join discharges
    on months.month_start = discharges.month_start
left join in_hospital
    on months.month_start = in_hospital.month_start
left join care_home_admissions
    on months.month_start = care_home_admissions.month_start
left join packages_from_hospital
    on months.month_start = packages_from_hospital.month_start
left join extra_care
    on months.month_start = extra_care.month_start
