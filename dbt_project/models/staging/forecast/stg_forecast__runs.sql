with

source as (

    select * from {{ source('forecast', 'runs') }}

),

renamed as (

    select
        {{ llif.as_string('run_id') }} as run_id,
        {{ llif.parse_date('run_date', 'iso') }} as run_date,
        {{ llif.parse_date('reference_month', 'iso') }} as reference_month,
        {{ llif.as_string('config_hash') }} as config_hash,
        cast(replications as {{ dbt.type_int() }}) as n_replications,
        cast(months as {{ dbt.type_int() }}) as n_months,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at

    from source

)

{#- the newest run written (a rerun or a backfill is newer than what it replaces); ties on
    created_at go to the larger run id, and a run without created_at is never the latest #}

select
    renamed.*,
    case
        when created_at is null then 0
        when row_number() over (
            order by case when created_at is null then 1 else 0 end, created_at desc, run_id desc
        ) = 1 then 1
        else 0
    end as is_latest_run
from renamed
