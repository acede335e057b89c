"""The planning marts (dbt_project/models/planning/) on a real, small forecast.

Two forecast runs are written into a temporary warehouse with the engine's own writer
(simulation/outputs.py): an older night's (other scenarios, a shorter horizon, a run id that
sorts last) and tonight's. Then `dbt build --select tag:planning` (the forecast's staging
views, the marts, their data and unit tests) runs on it, and the marts are checked against
the replication arrays: only tonight's run, shortfall = need - capacity, yearly totals and
their bands from the replications, paired differences at months 12, 24 and the horizon.
Last, the same models run as the Dagster asset the nightly job runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from simulation.forecast_model import KPIS  # noqa: E402
from simulation.outputs import write_forecast  # noqa: E402
from simulation.replications import run_forecast  # noqa: E402
from simulation.scenarios import validate  # noqa: E402
from simulation.testing import toy_forecast, toy_inputs  # noqa: E402

from helpers.dbt_runs import run_dbt, run_results

REPS, MONTHS = 8, 30
TONIGHT, OLDER = "aa-tonight", "zz-older-night"  # max(run_id) would pick the wrong one
PLANNING_MODELS = {"stg_forecast__runs", "stg_forecast__monthly_kpis", "stg_forecast__annual_kpis",
                   "stg_forecast__scenario_differences", "plan_capacity_outlook", "plan_annual_outlook",
                   "plan_scenario_comparison", "stg_forecast__kpi_breakdowns", "plan_area_outlook"}
RESOURCES = {"general_needs_units", "sheltered_units", "extra_care_flats", "temporary_units", "residential_beds",
             "nursing_beds", "home_care_hours"}
K = {k: i for i, k in enumerate(KPIS)}


@pytest.fixture(scope="module")
def results():
    return toy_forecast(REPS, MONTHS)


@pytest.fixture(scope="module")
def home(results, tmp_path_factory) -> Path:
    """An LLIF_HOME whose warehouse holds last night's forecast, then tonight's."""
    home = tmp_path_factory.mktemp("planning_home")
    older = run_forecast(toy_inputs(600, seed=3), [validate({"name": "baseline"}), validate({"name": "old_only"})],
                         replications=3, months=12, run_date="2026-10-31")
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    try:
        write_forecast(con, older, {"run_id": OLDER})
        write_forecast(con, results, {"run_id": TONIGHT})
        # written a night apart, as the nightly job would (write_forecast stamps created_at now)
        con.execute("update forecast.runs set created_at = created_at - interval 1 day where run_id = ?", [OLDER])
    finally:
        con.close()
    return home


@pytest.fixture(scope="module")
def build(home, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("planning_dbt")
    run_dbt(["build", "--select", "tag:planning"], work, {"LLIF_WAREHOUSE": str(home / "warehouse.duckdb")})
    return work


def _read(home: Path, sql: str, params=None) -> pd.DataFrame:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).df()


def test_planning_builds_with_its_tests_on_a_real_forecast(build):
    results = run_results(build)
    bad = [f"{r['unique_id']}: {r['status']} {r.get('message') or ''}" for r in results
           if r["status"] not in ("success", "pass")]
    assert not bad, "planning nodes that did not pass:\n" + "\n".join(bad)
    built = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}
    assert built == PLANNING_MODELS
    unit = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("unit_test.")}
    assert {"forecast_runs_mark_the_run_written_last",
            "capacity_outlook_lines_up_need_and_capacity_of_the_latest_run",
            "scenario_comparison_takes_months_12_24_and_the_horizon_of_the_latest_run",
            "annual_outlook_keeps_the_key_kpis_of_the_latest_run",
            "area_outlook_keeps_the_groups_of_the_latest_run_beside_the_total"} <= unit
    assert sum(r["unique_id"].startswith("test.") for r in results) > 60


def test_only_the_latest_run_reaches_the_marts(build, home):
    runs = _read(home, "select run_id, is_latest_run from staging.stg_forecast__runs order by run_id")
    assert runs.to_dict("list") == {"run_id": [TONIGHT, OLDER], "is_latest_run": [1, 0]}
    for mart in ("plan_capacity_outlook", "plan_annual_outlook", "plan_scenario_comparison", "plan_area_outlook"):
        found = _read(home, f"select distinct run_id, scenario from planning.{mart}")
        assert set(found.run_id) == {TONIGHT}, mart
        expected = {"baseline", "same", "closure"} if mart != "plan_scenario_comparison" else {"same", "closure"}
        assert set(found.scenario) == expected, mart
    # the staging views keep both runs
    assert set(_read(home, "select distinct run_id from staging.stg_forecast__monthly_kpis").run_id) == {TONIGHT, OLDER}


def test_capacity_outlook_holds_capacity_need_and_shortfall_from_the_replications(build, home, results):
    df = _read(home, "select * from planning.plan_capacity_outlook order by scenario, resource, month_index")
    assert set(df.resource) == RESOURCES
    assert len(df) == 3 * len(RESOURCES) * MONTHS
    assert df.month_start.min() == pd.Timestamp("2026-11-01")
    for scenario in ("baseline", "closure"):
        arr, need = results.values[scenario], results.needed(scenario)
        got = df[(df.scenario == scenario) & (df.resource == "residential_beds")]
        assert got.month_index.tolist() == list(range(1, MONTHS + 1))
        capacity = arr[:, K["capacity_residential_beds"]].mean(axis=0)
        occupied = arr[:, K["occupied_residential_beds"]]
        needed = need[:, K["occupied_residential_beds"]]
        np.testing.assert_allclose(got.capacity, capacity)
        np.testing.assert_allclose(got.occupied_mean, occupied.mean(axis=0))
        np.testing.assert_allclose(got.occupied_p10, np.quantile(occupied, 0.10, axis=0))
        np.testing.assert_allclose(got.occupied_p97_5, np.quantile(occupied, 0.975, axis=0))
        np.testing.assert_allclose(got.needed_mean, needed.mean(axis=0))
        np.testing.assert_allclose(got.needed_p90, np.quantile(needed, 0.90, axis=0))
        np.testing.assert_allclose(got.waiting_mean, arr[:, K["waiting_residential_care"]].mean(axis=0))
        np.testing.assert_allclose(got.shortfall, needed.mean(axis=0) - capacity)
        np.testing.assert_allclose(got.utilisation, occupied.mean(axis=0) / capacity)
        assert got.has_shortfall.tolist() == (needed.mean(axis=0) > capacity).astype(int).tolist()
    # the closure takes beds away: capacity falls and need goes unmet
    closed = df[(df.scenario == "closure") & (df.resource == "residential_beds")].iloc[-1]
    base = df[(df.scenario == "baseline") & (df.resource == "residential_beds")].iloc[-1]
    assert closed.capacity < base.capacity and closed.shortfall > base.shortfall and closed.has_shortfall == 1
    # home care: hours delivered against hours needed, no capacity
    hc = df[(df.scenario == "baseline") & (df.resource == "home_care_hours")]
    assert hc.capacity.isna().all() and hc.shortfall.isna().all() and hc.utilisation.isna().all()
    np.testing.assert_allclose(hc.unmet_need, results.needed("baseline")[:, K["home_care_hours"]].mean(axis=0)
                               - results.values["baseline"][:, K["home_care_hours"]].mean(axis=0))


def test_annual_outlook_totals_each_replication_before_its_bands(build, home, results):
    df = _read(home, "select * from planning.plan_annual_outlook")
    assert {"cost_total", "cost_nhs", "cost_local_authority", "cost_provider", "cost_charity", "hospital_admissions",
            "care_home_admissions", "hospital_bed_days", "delayed_bed_days", "lets"} <= set(df.kpi)
    assert "waiting_extra_care" not in set(df.kpi)  # a stock: a yearly sum of it means nothing
    years = df.drop_duplicates("forecast_year").set_index("forecast_year").sort_index()
    assert years.months_in_year.tolist() == [12, 12, 6] and years.is_complete_year.tolist() == [1, 1, 0]
    for scenario in ("baseline", "closure"):
        for kpi in ("cost_total", "delayed_bed_days"):
            got = df[(df.scenario == scenario) & (df.kpi == kpi)].set_index("forecast_year").sort_index()
            for year, (a, b) in enumerate(((0, 12), (12, 24), (24, 30)), start=1):
                totals = results.values[scenario][:, K[kpi], a:b].sum(axis=1)
                row = got.loc[year]
                assert row.total_mean == pytest.approx(totals.mean()), (scenario, kpi, year)
                assert row.total_p10 == pytest.approx(np.quantile(totals, 0.10))
                assert row.total_p90 == pytest.approx(np.quantile(totals, 0.90))
                assert row.total_p2_5 == pytest.approx(np.quantile(totals, 0.025))
                assert row.n_replications == REPS
    # cost by payer adds up to the total, year by year (means are additive; the check is real)
    cost = df[df.kpi.str.startswith("cost_")].pivot_table(index=["scenario", "forecast_year"], columns="kpi",
                                                          values="total_mean")
    payers = cost[["cost_nhs", "cost_local_authority", "cost_provider", "cost_charity"]].sum(axis=1)
    np.testing.assert_allclose(payers, cost["cost_total"], rtol=1e-9)


def test_scenario_comparison_pairs_each_scenario_with_the_baseline(build, home, results):
    df = _read(home, "select * from planning.plan_scenario_comparison")
    assert set(df.month_index) == {12, 24, MONTHS}
    assert set(df[df.is_horizon == 1].month_index) == {MONTHS}
    assert set(df.baseline_scenario) == {"baseline"}
    assert df.scenario_comparison_id.is_unique
    np.testing.assert_allclose(df.difference_mean, df.scenario_mean - df.baseline_mean, atol=1e-6)
    # a scenario that changes only a unit cost leaves the waiting list exactly where it was (CRN)
    same = df[(df.scenario == "same") & (df.kpi == "waiting_residential_care")]
    assert (same.difference_mean == 0).all() and (same.is_clear_difference == 0).all()
    closure = df[(df.scenario == "closure") & (df.kpi == "waiting_residential_care")].set_index("month_index")
    for month in (12, 24, MONTHS):
        d = (results.values["closure"] - results.values["baseline"])[:, K["waiting_residential_care"], month - 1]
        row = closure.loc[month]
        assert row.difference_mean == pytest.approx(d.mean())
        assert row.difference_p97_5 == pytest.approx(np.quantile(d, 0.975))
        base = results.values["baseline"][:, K["waiting_residential_care"], month - 1]
        assert row.baseline_mean == pytest.approx(base.mean())
        assert row.difference_ci_low <= row.difference_mean <= row.difference_ci_high
    assert closure.loc[MONTHS].difference_mean > 0


def test_the_planning_dbt_asset_runs_in_dagster_after_the_forecast(build, home, monkeypatch):
    """The op the nightly job runs: `dbt build` of tag:planning, its tests as asset checks."""
    import dagster as dg

    monkeypatch.setenv("LLIF_HOME", str(home))
    monkeypatch.setenv("LLIF_WAREHOUSE", str(home / "warehouse.duckdb"))  # dbt_resource() sets it; undone after
    from llif.dbt_manifest import ensure

    ensure()
    from orchestration.assets.dbt import build_dbt_assets
    from orchestration.assets.forecast import SCENARIO_FORECASTS
    from orchestration.dbt import dbt_resource, manifest_path

    main, planning, _docs = build_dbt_assets()
    planning_keys = {k.to_user_string() for k in planning.keys}
    assert planning_keys == {f"planning/{m}" if m.startswith("plan_") else f"staging/{m}" for m in PLANNING_MODELS}
    assert not {k.to_user_string() for k in main.keys} & planning_keys
    assert SCENARIO_FORECASTS in planning.dependency_keys and SCENARIO_FORECASTS not in main.dependency_keys

    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("drop schema planning cascade")  # built by the fixture: Dagster must build it again
    # dagster-dbt keeps each run's target/ in the project's; this test's is removed afterwards
    target = Path(manifest_path()).parent
    before = set(target.glob("llif_dbt_planning-*"))
    try:
        result = dg.materialize([planning], resources={"dbt": dbt_resource()}, instance=dg.DagsterInstance.ephemeral())
    finally:
        for left in set(target.glob("llif_dbt_planning-*")) - before:
            shutil.rmtree(left, ignore_errors=True)
    assert result.success
    made = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert made == planning_keys
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(checks) > 60 and all(c.passed for c in checks)
    assert set(_read(home, "select distinct run_id from planning.plan_capacity_outlook").run_id) == {TONIGHT}


def test_area_outlook_holds_each_groups_own_replications_and_the_total(build, home, results):
    """By area, the means add up to the provider's (they are counted person by person) and match
    the replications' arrays; a group's 80% band is its own replications' quantiles; every area
    of the run is there with its name from the vocabulary."""
    from contracts.vocabulary.areas import AREA_NAME

    got = _read(home, "select * from planning.plan_area_outlook where scenario = 'baseline' "
                      "and kpi = 'waiting_residential_care'")
    total = got[got.breakdown == "total"].set_index("month_index")
    areas = got[got.breakdown == "area"]
    assert set(areas.area_code) == set(results.breakdown_layout.areas) and set(total.area_name) == {"all areas"}
    assert (areas.area_name == areas.area_code.map(AREA_NAME)).all()
    by_area = areas.groupby("month_index")["mean"].sum()
    np.testing.assert_allclose(by_area.to_numpy(), total["mean"].reindex(by_area.index).to_numpy(), rtol=1e-6)
    lay = results.breakdown_layout
    row = lay.series.index(("CDF", None, None, "waiting_residential_care"))
    reps = results.breakdown["baseline"][:, row].astype(float)
    cdf = areas[areas.area_code == "CDF"].set_index("month_index").sort_index()
    np.testing.assert_allclose(cdf["mean"].to_numpy(), reps.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(cdf["p90"].to_numpy(), np.quantile(reps, 0.9, axis=0), rtol=1e-9)
    assert set(got.breakdown) == {"total", "area", "segment", "age_band", "area_segment"}
    assert got.share_of_provider.dropna().between(0, 1 + 1e-6).all()
