{#- Occupancy and spare capacity by scheme (estate, sheltered or extra-care scheme, temporary
    project, care home) and month, from the month it opened (never before January 1998) to the
    month it closed or the warehouse stands at.
    - capacity: the asset system's units (care homes: beds) available by month end;
    - occupied_end: tenancies (care homes: stays of either vendor) open at month end;
    - void_units_end: units with an open void at month end (housing);
    - spare_capacity_end = capacity - occupied_end; occupancy_rate = occupied_end / capacity.
    A care home's occupancy before its vendor's go-live (A 2009, B 2014) is unknown: NULL, with
    is_observed 0. -#}
with

months as (

    select month_start, month_end from {{ ref('int_months_generated') }}

),

schemes as (

    select * from {{ ref('dim_scheme') }}

),

grid as (

    select
        schemes.scheme_id,
        schemes.scheme_type,
        schemes.care_records_from_date,
        months.month_start,
        months.month_end
    from schemes
    inner join months
        on months.month_end >= schemes.opened_date
        and (schemes.closed_date is null or months.month_start <= schemes.closed_date)

),

capacity as (

    select
        grid.scheme_id,
        grid.month_start,
        count(*) as capacity,
        sum(case when units.unit_type = 'residential' then 1 else 0 end) as residential_beds,
        sum(case when units.unit_type = 'nursing' then 1 else 0 end) as nursing_beds
    from grid
    inner join {{ ref('stg_assets__units') }} as units
        on units.scheme_id = grid.scheme_id
        and units.available_from_date <= grid.month_end
    group by grid.scheme_id, grid.month_start

),

housing_occupied as (

    select
        grid.scheme_id,
        grid.month_start,
        count(*) as occupied_end
    from grid
    inner join {{ ref('int_tenancies_cleaned') }} as tenancies
        on tenancies.scheme_id = grid.scheme_id
        and {{ llif.marts_covers('tenancies.start_date', 'tenancies.end_date', 'grid.month_end') }}
    group by grid.scheme_id, grid.month_start

),

care_occupied as (

    select
        grid.scheme_id,
        grid.month_start,
        count(*) as occupied_end,
        sum(case when stays.care_type = 'residential' then 1 else 0 end) as residential_occupied_end,
        sum(case when stays.care_type = 'nursing' then 1 else 0 end) as nursing_occupied_end
    from grid
    inner join {{ ref('int_care_home_stays_unioned') }} as stays
        on stays.scheme_id = grid.scheme_id
        and {{ llif.marts_covers('stays.admission_date', 'stays.discharge_date', 'grid.month_end') }}
    group by grid.scheme_id, grid.month_start

),

voids as (

    select
        grid.scheme_id,
        grid.month_start,
        count(distinct voids.unit_id) as void_units_end
    from grid
    inner join {{ ref('stg_assets__units') }} as units
        on units.scheme_id = grid.scheme_id
    inner join {{ ref('stg_assets__voids') }} as voids
        on voids.unit_id = units.unit_id
        and voids.is_end_before_start = 0
        and {{ llif.marts_covers('voids.start_date', 'voids.end_date', 'grid.month_end') }}
    group by grid.scheme_id, grid.month_start

),

joined as (

    select
        grid.scheme_id,
        grid.scheme_type,
        grid.month_start,
        coalesce(capacity.capacity, 0) as capacity,
        coalesce(capacity.residential_beds, 0) as residential_beds,
        coalesce(capacity.nursing_beds, 0) as nursing_beds,
        case
            when grid.scheme_type <> 'care_home' then coalesce(housing_occupied.occupied_end, 0)
            when grid.care_records_from_date <= grid.month_end then coalesce(care_occupied.occupied_end, 0)
        end as occupied_end,
        case
            when grid.scheme_type = 'care_home' and grid.care_records_from_date <= grid.month_end
                then coalesce(care_occupied.residential_occupied_end, 0)
        end as residential_occupied_end,
        case
            when grid.scheme_type = 'care_home' and grid.care_records_from_date <= grid.month_end
                then coalesce(care_occupied.nursing_occupied_end, 0)
        end as nursing_occupied_end,
        case when grid.scheme_type <> 'care_home' then coalesce(voids.void_units_end, 0) end as void_units_end,
        case
            when grid.scheme_type <> 'care_home' then 1
            when grid.care_records_from_date <= grid.month_start then 1
            else 0
        end as is_observed
    from grid
    left join capacity
        on grid.scheme_id = capacity.scheme_id and grid.month_start = capacity.month_start
    left join housing_occupied
        on grid.scheme_id = housing_occupied.scheme_id and grid.month_start = housing_occupied.month_start
    left join care_occupied
        on grid.scheme_id = care_occupied.scheme_id and grid.month_start = care_occupied.month_start
    left join voids
        on grid.scheme_id = voids.scheme_id and grid.month_start = voids.month_start

)

select
    {{ dbt.concat(['scheme_id', "':'", llif.marts_date_text('month_start')]) }} as occupancy_id,
    scheme_id,
    scheme_type,
    month_start,
    capacity,
    residential_beds,
    nursing_beds,
    occupied_end,
    residential_occupied_end,
    nursing_occupied_end,
    void_units_end,
    case when occupied_end is not null then capacity - occupied_end end as spare_capacity_end,
    {{ llif.marts_ratio('occupied_end', 'capacity') }} as occupancy_rate,
    is_observed
from joined
