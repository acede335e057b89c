{#- One row per month of the timeline (January 1998 to the month the warehouse stands at), with
    its calendar and financial year and which source systems were live by its last day. -#}
with

months as (

    select * from {{ ref('int_months_generated') }}

),

as_of as (

    select max(data_as_of_date) as data_as_of_date
    from {{ ref('int_source_systems_summarised') }}

),

numbered as (

    select
        months.month_start,
        months.month_end,
        months.month_number,
        {{ llif.marts_months_between(llif.marts_date('1900-01-01'), 'months.month_start') }} as months_since_1900,
        as_of.data_as_of_date
    from months
    cross join as_of

),

calendar as (

    select
        numbered.*,
        1900 + cast(floor(months_since_1900 / 12.0) as {{ dbt.type_int() }}) as calendar_year,
        1 + (months_since_1900 % 12) as month_of_year
    from numbered

)

select
    month_start,
    month_end,
    month_number,
    calendar_year,
    month_of_year,
    case when month_of_year >= 4 then calendar_year else calendar_year - 1 end as financial_year_start,
    {{ dbt.concat([
        llif.as_string('case when month_of_year >= 4 then calendar_year else calendar_year - 1 end'),
        "'-'",
        'substring(' ~ llif.as_string('case when month_of_year >= 4 then calendar_year + 1 else calendar_year end') ~ ', 3, 2)'
    ]) }} as financial_year,
    {{ llif.marts_days_between('month_start', 'month_end') }} + 1 as days_in_month,
    {{ llif.flag('month_of_year in (12, 1, 2)') }} as is_winter,
    {{ llif.flag(llif.marts_go_live('crm') ~ ' <= month_end') }} as is_crm_live,
    {{ llif.flag(llif.marts_go_live('assets') ~ ' <= month_end') }} as is_assets_live,
    {{ llif.flag(llif.marts_go_live('care_a') ~ ' <= month_end') }} as is_care_a_live,
    {{ llif.flag(llif.marts_go_live('care_b') ~ ' <= month_end') }} as is_care_b_live,
    {{ llif.flag(llif.marts_go_live('domcare') ~ ' <= month_end') }} as is_domcare_live,
    {{ llif.flag('month_end <= data_as_of_date') }} as is_complete
from calendar
