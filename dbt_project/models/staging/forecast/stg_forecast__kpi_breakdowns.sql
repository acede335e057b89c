{#- forecast.kpi_breakdown renamed and typed. A dimension a row is not broken down by reads
    'all' (the engine writes NULL), so every row has a key and a planner filters on a value;
    `breakdown` names the row's dimensions: total, area, segment, age_band or area_segment. -#}
with

source as (

    select * from {{ source('forecast', 'kpi_breakdown') }}

),

renamed as (

    select
        {{ llif.as_string('run_id') }} as run_id,
        {{ llif.as_string('scenario') }} as scenario,
        cast(month as {{ llif.type_date() }}) as month_start,
        cast(month_index as {{ dbt.type_int() }}) as month_index,
        {{ llif.as_string('kpi') }} as kpi,
        case
            when area is null and segment is null and age_band is null then 'total'
            when area is not null and segment is not null then 'area_segment'
            when area is not null then 'area'
            when segment is not null then 'segment'
            else 'age_band'
        end as breakdown,
        coalesce({{ llif.as_string('area') }}, 'all') as area_code,
        coalesce({{ llif.as_string('segment') }}, 'all') as segment,
        coalesce({{ llif.as_string('age_band') }}, 'all') as age_band,
        {{ llif.forecast_statistics() }},
        cast(n_replications as {{ dbt.type_int() }}) as n_replications

    from source

)

select * from renamed
