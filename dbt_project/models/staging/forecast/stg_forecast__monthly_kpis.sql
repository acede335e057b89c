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
        {{ llif.forecast_statistics() }},
        cast(n_replications as {{ dbt.type_int() }}) as n_replications

    from source

)

select * from renamed
