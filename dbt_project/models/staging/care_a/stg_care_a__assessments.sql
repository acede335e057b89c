with

source as (

    select * from {{ source('care_a', 'assessment') }}

),

renamed as (

    select
        {{ llif.home_scoped_key('_source', 'assessmentid') }} as assessment_key,
        _source as home_key,
        cast(assessmentid as {{ dbt.type_bigint() }}) as assessment_id,
        {{ llif.home_scoped_key('_source', 'stayid') }} as stay_key,
        {{ llif.home_scoped_key('_source', 'residentno') }} as resident_key,
        {{ llif.parse_date('assessmentdate', 'dd/mm/yyyy') }} as assessment_date,
        upper(trim(assessmenttype)) as assessment_type_code,
        case upper(trim(assessmenttype))
            when 'ADMISSION' then 'admission'
            when 'REVIEW' then 'review'
        end as assessment_type,
        cast(dependencyscore as {{ dbt.type_int() }}) as dependency_score,
        {{ llif.parse_timestamp('lastmodified') }} as updated_at,
        _source,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
