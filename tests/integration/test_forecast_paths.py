"""One forecast, whoever asks for it: the nightly asset, `llif forecast run` and the explorer's
what-if build their inputs one way (simulation.forecast_inputs) and seed from the night, so the
same warehouse, run date and seed give the same baseline; and rerunning a night's job gives
bit-identical forecast tables.

On a copy of the session's first night (tests/conftest.py: `llif demo`, scale 0.02, 6 runs).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

FORECAST_TABLES = ("kpi_summary", "kpi_breakdown", "kpi_annual", "scenario_differences", "bottlenecks", "statements",
                   "cost_sensitivity", "home_care_staffing", "block_spot")
MONTHS = 60
RUNS = 6   # FIRST_NIGHT_DEMO's --replications


@pytest.fixture(scope="module")
def night(first_night, tmp_path_factory):
    home = tmp_path_factory.mktemp("paths") / "home"
    shutil.copytree(first_night.home, home)
    return home


def _latest(home):
    from simulation.outputs import latest_run
    from warehouse import duck

    with duck.open_reader(home / "warehouse.duckdb") as con:
        return latest_run(con)


def _baseline_summary(home, run_id) -> pd.DataFrame:
    from warehouse import duck

    with duck.open_reader(home / "warehouse.duckdb") as con:
        return con.execute("select month, kpi, mean, p10, p90 from forecast.kpi_summary "
                           "where run_id = ? and scenario = 'baseline' order by kpi, month", [run_id]).df()


def test_the_night_is_the_morning_after_the_sources_and_seeds_the_forecast(night):
    run_id, run_date = _latest(night)
    assert run_date == "2026-11-01"   # the sources stand at 2026-10-31


def test_the_night_writes_the_forecast_by_area_segment_and_age_band(night):
    """The nightly asset's writer lands forecast.kpi_breakdown: the eight local authorities,
    each age band, the segments of tonight's segmentation, and the provider's total as its own
    rows, whose means the areas' add up to."""
    from contracts.vocabulary.areas import AREA_CODES
    from warehouse import duck

    run_id, _ = _latest(night)
    with duck.open_reader(night / "warehouse.duckdb") as con:
        b = con.execute("select * from forecast.kpi_breakdown where run_id = ? and scenario = 'baseline'",
                        [run_id]).df()
    assert set(AREA_CODES) <= set(b.area.dropna()) and (b.n_replications == RUNS).all()
    assert b.age_band.nunique() >= 5 and b.segment.nunique() >= 1
    people = b[(b.kpi == "people_total") & b.segment.isna() & b.age_band.isna()]
    total = people[people.area.isna()].set_index("month")["mean"]
    by_area = people[people.area.notna()].groupby("month")["mean"].sum()
    np.testing.assert_allclose(by_area.reindex(total.index).to_numpy(), total.to_numpy(), rtol=1e-6)
    assert len(total) == MONTHS


def test_the_command_line_and_the_explorer_give_the_nightly_baseline(night, monkeypatch, tmp_path):
    from explorer import forecasting
    from llif.cli import main
    from simulation.outputs import kpi_summary

    run_id, run_date = _latest(night)
    nightly = _baseline_summary(night, run_id)
    monkeypatch.setenv("LLIF_HOME", str(night))

    # `llif forecast run`: the run date defaults to the night the warehouse last forecast
    out = tmp_path / "cli"
    assert main(["forecast", "run", "--replications", str(RUNS), "--months", str(MONTHS), "--processes", "1",
                 "--out", str(out)]) == 0
    cli = pd.read_csv(out / "kpi_summary.csv")
    cli = cli[cli.scenario == "baseline"].sort_values(["kpi", "month"]).reset_index(drop=True)
    assert len(cli) == len(nightly)
    for stat in ("mean", "p10", "p90"):
        assert np.allclose(cli[stat].to_numpy(), nightly[stat].to_numpy(), rtol=1e-9, atol=1e-9), stat

    # the explorer's what-if, rebuilding its inputs from the warehouse (not the nightly's kept copy)
    (night / "forecasts" / "inputs.pkl").unlink()
    forecasting._INPUTS.clear()
    replications, outputs = forecasting._engine_api()
    spec = {"name": "same", "description": "changes nothing"}
    from simulation.scenarios import baseline, validate

    inputs = forecasting._inputs_for(night / "warehouse.duckdb")
    results = replications.run_forecast(inputs, [baseline(), validate(spec, where="test")], replications=RUNS,
                                        months=MONTHS, run_date=forecasting._night_for(night / "warehouse.duckdb"),
                                        processes=1, needed=False)
    what_if = kpi_summary(results)
    what_if = what_if[what_if.scenario == "baseline"]
    # the what-if runs no unconstrained demand (needed_*), the nightly does: every KPI it has
    both = what_if.merge(nightly, on=["kpi", "month"], suffixes=("", "_nightly"))
    assert len(both) == len(what_if) > 0
    for stat in ("mean", "p10", "p90"):
        assert np.array_equal(both[stat].to_numpy(), both[f"{stat}_nightly"].to_numpy()), stat
    # and a 24-month what-if is the first 24 months of it
    short = forecasting._run_with_engine(night / "warehouse.duckdb", spec, RUNS, 24, None)[0]
    short = short[short.scenario == "baseline"]
    merged = nightly.merge(short, on=["kpi", "month"], suffixes=("", "_what_if"))
    assert len(merged) == len(short) and np.array_equal(merged["mean"], merged["mean_what_if"])


def test_rerunning_the_nights_forecast_gives_bit_identical_tables(night, monkeypatch):
    import dagster as dg

    from orchestration.assets.forecast import BASELINE, SCENARIO_FORECASTS
    from orchestration.definitions import build_definitions
    from orchestration.night import RUN_DATE_TAG
    from warehouse import duck

    first_id, run_date = _latest(night)
    monkeypatch.setenv("LLIF_HOME", str(night))
    monkeypatch.setenv("LLIF_WAREHOUSE", str(night / "warehouse.duckdb"))   # the code location sets it for dbt
    job = build_definitions().resolve_job_def("nightly_refresh")
    # a re-execution carries the night's tags (Dagster copies them to the new run)
    again = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=[BASELINE, SCENARIO_FORECASTS],
        tags={RUN_DATE_TAG: run_date},
        run_config={"ops": {"forecast__scenario_forecasts": {"config": {"replications": RUNS}}}})
    assert again.success
    second_id, second_date = _latest(night)
    assert second_id != first_id and second_date == run_date
    with duck.open_reader(night / "warehouse.duckdb") as con:
        for table in FORECAST_TABLES:
            a = con.execute(f"select * exclude (run_id) from forecast.{table} where run_id = ? order by all",
                            [first_id]).df()
            b = con.execute(f"select * exclude (run_id) from forecast.{table} where run_id = ? order by all",
                            [second_id]).df()
            assert len(a) > 0, table
            pd.testing.assert_frame_equal(a, b, check_exact=True, obj=table)


def test_the_backtest_compares_every_key_series_with_what_the_warehouse_recorded(night):
    from simulation.backtest import KEY_SERIES, actual_series, run_backtest
    from warehouse import duck

    with duck.open_reader(night / "warehouse.duckdb") as con:
        out = run_backtest(con, 12, replications=4, run_date="2026-11-01")
        actual = actual_series(con, out["cutoff"], 12)
    table = out["series"].set_index("series")
    assert list(table.index) == list(KEY_SERIES)
    # every series has an actual; the register, home care, delays and cost are really measured
    for s in ("people_total", "waiting_general_needs", "home_care_hours", "cost_total", "hospital_admissions"):
        assert table.loc[s, "actual"] > 0, s
    assert (actual["cost_total"] >= actual["cost_local_authority"]).all()
    assert table["coverage95"].between(0, 1).all() and (table["width95_pct"] >= table["width80_pct"]).all()
    assert out["tables"] == "backoff" and out["census_people"] > 0
    # and area by area (issue 12): each area's own forecast against what the timeline recorded
    # there; the areas add up to the provider on both sides
    from contracts.vocabulary.areas import AREA_CODES
    from simulation.backtest import AREA_SERIES

    areas = out["areas"]
    assert set(areas["area"]) <= {*AREA_CODES, "unknown"} and len(set(areas["area"]) & set(AREA_CODES)) >= 4
    assert set(areas["series"]) <= set(AREA_SERIES)
    people = areas[areas["series"] == "people_total"]
    assert people["actual"].sum() == pytest.approx(table.loc["people_total", "actual"])
    assert people["forecast"].sum() == pytest.approx(table.loc["people_total", "forecast"], rel=1e-6)
    assert areas["coverage95"].between(0, 1).all()


def test_the_nightly_backtest_runs_the_production_path_on_cached_cutoff_models(night):
    """The night's backtest came from models trained only up to each cut-off (their tables are
    cached under forecasts/backtest_models/<cut-off>/), and a rerun from that cache gives the
    very series the night wrote to forecast.backtest_series."""
    from models_ml.forecast_tables import production_tables
    from simulation.backtest import run_backtests
    from simulation.inputs import month_add, reference_month_of
    from warehouse import duck

    cache = night / "forecasts" / "backtest_models"
    with duck.open_reader(night / "warehouse.duckdb") as con:
        ref = reference_month_of(con)
        assert {p.name for p in cache.iterdir()} == {str(month_add(ref, -k))[:7] for k in (12, 24)}
        written = con.execute("select series, forecast, coverage95 from forecast.backtest_series "
                              "where cutoff_months = 12 order by series").df()
        out = run_backtests(con, [12], tables_for=production_tables(cache), replications=RUNS,
                            run_date="2026-11-01")[12]
    assert out["tables"] == "model" and out["models"]["trained"] is False
    assert out["models"]["cutoff"] == str(month_add(ref, -12))[:7]
    again = out["series"].sort_values("series")[["series", "forecast", "coverage95"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, written, check_exact=True)


def test_the_same_warehouse_in_another_row_order_gives_the_same_forecast(night, tmp_path):
    """Issue 16.7: a real warehouse gives rows back in whatever order its storage holds them, so
    every table the forecast reads is rewritten here in a shuffled order; the census, the tables
    and the segments must come back in the same order (who draws which random number) and the
    forecast must be bit-identical."""
    from simulation.forecast_inputs import build_forecast_inputs
    from simulation.outputs import kpi_summary
    from simulation.replications import run_forecast
    from warehouse import duck

    shuffled = tmp_path / "shuffled.duckdb"
    shutil.copy(night / "warehouse.duckdb", shuffled)
    with duck.open_writer(shuffled) as con:
        con.execute("select setseed(0.25)")
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_type = 'BASE TABLE' and table_schema in ('marts', 'ml')").fetchall()
        for schema, table in tables:
            con.execute(f'create or replace table {schema}."{table}" as '
                        f'select * from {schema}."{table}" order by random()')
        first = con.execute("select person_key from marts.fct_person_month limit 5").fetchall()
    assert len(tables) > 5
    with duck.open_reader(night / "warehouse.duckdb") as con:
        assert first != con.execute("select person_key from marts.fct_person_month limit 5").fetchall()

    def forecast(path):
        with duck.open_reader(path) as con:
            inputs = build_forecast_inputs(con)
        return kpi_summary(run_forecast(inputs, replications=3, months=12, run_date="2026-11-01", processes=1))

    pd.testing.assert_frame_equal(forecast(night / "warehouse.duckdb"), forecast(shuffled), check_exact=True)
