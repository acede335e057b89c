with

source as (

    select * from {{ source('forecast', 'kpi_summary') }}

),

renamed as (

    select
        {{ llif.as_string('run_id') }} as run_id,
        {{ llif.as_string('scenario') }} as scenario,
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
        cast(n_replications as {{ dbt.type_int() }}) as n_replications

    from source

)

select * from renamed
