with

source as (

    select * from {{ source('forecast', 'scenario_differences') }}

),

renamed as (

    select
        {{ llif.as_string('run_id') }} as run_id,
        {{ llif.as_string('scenario') }} as scenario,
        {{ llif.as_string('baseline') }} as baseline_scenario,
        cast(month as {{ llif.type_date() }}) as month_start,
        cast(month_index as {{ dbt.type_int() }}) as month_index,
        {{ llif.as_string('kpi') }} as kpi,
        {{ llif.forecast_statistics() }},
        cast(p_higher as {{ llif.type_double() }}) as p_higher,
        cast(p_lower as {{ llif.type_double() }}) as p_lower

    from source

)

select * from renamed
