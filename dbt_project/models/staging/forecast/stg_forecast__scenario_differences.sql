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
        cast(mean as {{ llif.type_double() }}) as mean,
        cast(median as {{ llif.type_double() }}) as median,
        cast(p2_5 as {{ llif.type_double() }}) as p2_5,
        cast(p10 as {{ llif.type_double() }}) as p10,
        cast(p25 as {{ llif.type_double() }}) as p25,
        cast(p75 as {{ llif.type_double() }}) as p75,
        cast(p90 as {{ llif.type_double() }}) as p90,
        cast(p97_5 as {{ llif.type_double() }}) as p97_5,
        cast(mean_ci_low as {{ llif.type_double() }}) as mean_ci_low,
        cast(mean_ci_high as {{ llif.type_double() }}) as mean_ci_high,
        cast(p_higher as {{ llif.type_double() }}) as p_higher,
        cast(p_lower as {{ llif.type_double() }}) as p_lower

    from source

)

select * from renamed
