with

source as (

    select * from {{ source('forecast', 'kpi_annual') }}

),

renamed as (

    select
        {{ llif.as_string('run_id') }} as run_id,
        {{ llif.as_string('scenario') }} as scenario,
        cast(year as {{ dbt.type_int() }}) as forecast_year,
        cast(year_start as {{ llif.type_date() }}) as year_start,
        cast(year_end as {{ llif.type_date() }}) as year_end,
        cast(months_in_year as {{ dbt.type_int() }}) as months_in_year,
        {{ llif.as_string('kpi') }} as kpi,
        {{ llif.forecast_statistics() }},
        cast(n_replications as {{ dbt.type_int() }}) as n_replications

    from source

)

select * from renamed
