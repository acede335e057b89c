with

source as (

    select * from {{ source('crm', 'circumstance') }}

),

renamed as (

    select
        cast(circ_ref as {{ dbt.type_bigint() }}) as circumstance_id,
        cast(tenancy_ref as {{ dbt.type_bigint() }}) as tenancy_id,
        cast(contact_ref as {{ dbt.type_bigint() }}) as contact_id,
        {{ llif.parse_date('review_date', 'iso') }} as review_date,
        upper(trim(review_type)) as review_type_code,
        case upper(trim(review_type))
            when 'NEW' then 'new'
            when 'REV' then 'review'
            when 'MIG' then 'migrated'
        end as review_type,
        upper(trim(employment_status)) as employment_status_code,
        case upper(trim(employment_status))
            when 'EMP' then 'employed'
            when 'UNE' then 'unemployed'
            when 'RET' then 'retired'
            when 'LTS' then 'unable_to_work'
            when 'STU' then 'student'
        end as employment_status,
        upper(trim(benefit_type)) as benefit_type_code,
        case upper(trim(benefit_type))
            when 'UC' then 'universal_credit'
            when 'HB' then 'housing_benefit'
            when 'PC' then 'pension_credit'
            when 'NON' then 'none'
        end as benefit_type,
        upper(trim(income_band)) as income_band_code,
        case upper(trim(income_band))
            when 'L' then 'low'
            when 'M' then 'middle'
            when 'H' then 'high'
        end as income_band,
        upper(trim(arrears_band)) as arrears_band_code,
        case upper(trim(arrears_band))
            when 'NIL' then 0
            when 'LT13' then 1
            when 'GE13' then 2
        end as arrears_band,
        case when support_flag = 1 then 1 when support_flag = 0 then 0 end as has_support_need,
        cast(wellbeing_score as {{ dbt.type_int() }}) as wellbeing_score,
        {{ llif.parse_timestamp('last_updated') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
