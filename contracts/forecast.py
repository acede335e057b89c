"""The forecast schema as a contract: the tables the engine writes and everyone else reads.

Why: the explorer, dbt's forecast staging models, ``llif demo`` and the forecast command all read
``forecast.*``. They used to read it each their own way: the explorer guessed the band columns'
names with regular expressions and had its own notion of "the newest run", dbt and the engine
had theirs. Now the writer (``simulation.outputs.write_forecast``) writes exactly these columns
and refuses to write others, and every reader takes the column names and the latest-run rule from
here.
"""

from __future__ import annotations

SCHEMA = "forecast"

# The statistics of every summarised series, as columns: the mean and median over replications,
# the 95%, 80% and 50% bands, and a 95% confidence interval of the mean.
STATS = ("mean", "median", "p2_5", "p10", "p25", "p75", "p90", "p97_5", "mean_ci_low", "mean_ci_high")
# The bands by what planners call them: "likely range" (80%), "could be" (95%), middle half (50%).
BANDS = {"lo50": "p25", "hi50": "p75", "lo80": "p10", "hi80": "p90", "lo95": "p2_5", "hi95": "p97_5",
         "mean_lo": "mean_ci_low", "mean_hi": "mean_ci_high"}

TABLES: dict[str, tuple[str, ...]] = {
    "runs": ("run_id", "run_date", "reference_month", "config_hash", "replications", "months", "seeds",
             "package_versions", "model_versions", "scenario_hashes", "metadata", "created_at"),
    "kpi_summary": ("run_id", "scenario", "month", "month_index", "kpi", *STATS, "n_replications"),
    # the same by area, segment and age band (simulation/breakdowns.py): a column per dimension,
    # NULL where a row is not broken down by it, so the provider's total has all three NULL
    "kpi_breakdown": ("run_id", "scenario", "month", "month_index", "kpi", "area", "segment", "age_band", *STATS,
                      "n_replications"),
    "kpi_annual": ("run_id", "scenario", "year", "year_start", "year_end", "months_in_year", "kpi", *STATS,
                   "n_replications"),
    "scenario_differences": ("run_id", "scenario", "baseline", "month", "month_index", "kpi", *STATS,
                             "p_higher", "p_lower"),
    "bottlenecks": ("run_id", "scenario", "resource", "kind", "first_month", "share_of_months", "probability",
                    "value", "description"),
    "statements": ("run_id", "scenario", "kpi", "month", "probability", "threshold", "statement"),
    # the tornado chart: each year's mean cost per payer with one unit cost at the low and the high
    # end of its range (simulation/cost_sensitivity.py)
    # home-care hours and the full-time carers they take, per team (simulation/staffing.py):
    # measure is home_care_hours or carers_needed; team east, central, west, "area not recorded", "all"
    "home_care_staffing": ("run_id", "scenario", "month", "month_index", "measure", "team", *STATS,
                           "contact_hours_per_carer_week", "n_replications"),
    # care-home places bought as block contracts, spot or out of area, per block size compared
    # (simulation/block_spot.py): measure in block_spot.MEASURES; area codes, "area not recorded", "all"
    "block_spot": ("run_id", "scenario", "year", "year_start", "year_end", "months_in_year", "care_type", "area",
                   "block_share", "block_beds", "measure", *STATS, "n_replications"),
    "cost_sensitivity": ("run_id", "scenario", "year", "year_start", "year_end", "months_in_year", "payer",
                         "unit_cost", "value_low", "value_forecast", "value_high", "cost_low", "cost_forecast",
                         "cost_high", "swing", "n_replications"),
}

# Every table keeps every night's rows; planners read the run written last (a rerun or a backfill
# is newer than what it replaces, whatever its run date), ties to the larger run id. The planning
# marts choose it the same way (dbt_project/models/staging/forecast/stg_forecast__runs.sql).
LATEST_RUN_SQL = (f"select run_id, run_date from {SCHEMA}.runs "
                  "order by created_at desc nulls last, run_id desc limit 1")


def qualified(table: str) -> str:
    """``forecast.<table>`` for a declared table (a KeyError names an undeclared one)."""
    if table not in TABLES:
        raise KeyError(f"llif: {table!r} is not a forecast table; declared: {', '.join(TABLES)}")
    return f"{SCHEMA}.{table}"
