{#- Case mix by month: the people on the timeline at month end by state, age band and sex, with
    their care need levels and weekly home-care hours. People who died or moved out that month
    are counted in those states (the month's flows); every other state is the stock at month
    end. n_observed counts the people whose state came from a system live that month. -#}
with

person_months as (

    select * from {{ ref('fct_person_month') }}

),

persons as (

    select person_key, sex from {{ ref('dim_person') }}

),

banded as (

    select
        person_months.month_start,
        person_months.state,
        {{ llif.marts_age_band('person_months.age') }} as age_band,
        coalesce(persons.sex, 'U') as sex,
        person_months.need_level,
        person_months.weekly_care_hours,
        person_months.age,
        person_months.is_observed
    from person_months
    left join persons
        on person_months.person_key = persons.person_key

)

select
    {{ dbt.concat([llif.marts_date_text('month_start'), "':'", 'state', "':'", 'age_band', "':'", 'sex']) }} as case_mix_id,
    month_start,
    state,
    age_band,
    sex,
    count(*) as n_people,
    sum(is_observed) as n_observed,
    sum(case when need_level = 0 then 1 else 0 end) as n_need_none,
    sum(case when need_level = 1 then 1 else 0 end) as n_need_low,
    sum(case when need_level = 2 then 1 else 0 end) as n_need_medium,
    sum(case when need_level = 3 then 1 else 0 end) as n_need_high,
    sum(case when weekly_care_hours > 0 then 1 else 0 end) as n_with_home_care,
    avg(cast(weekly_care_hours as {{ llif.type_double() }})) as mean_weekly_care_hours,
    sum(weekly_care_hours) as total_weekly_care_hours,
    avg(cast(age as {{ llif.type_double() }})) as mean_age
from banded
group by month_start, state, age_band, sex
