"""Outputs: tidy summaries, paired differences, bottlenecks, statements, the forecast schema."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from simulation.engine import KPIS
from simulation.outputs import (
    NEEDED_KPIS, STATS, bottlenecks, kpi_summary, likelihood, nice_floor, scenario_differences, search_capacity,
    statements, write_forecast,
)
from simulation.replications import run_forecast
from simulation.scenarios import validate
from simulation.testing import toy_inputs

REPS, MONTHS = 10, 12


@pytest.fixture(scope="module")
def results():
    toy = toy_inputs(1000, seed=8, occupancy=1.0)
    scen = [validate({"name": "baseline"}),
            validate({"name": "same", "costs": {"void_week": 110}}),
            validate({"name": "closure", "capacity": [{"unit_type": "care_home", "start": 2, "absolute": 1}]})]
    return run_forecast(toy, scen, replications=REPS, months=MONTHS, run_date="2026-11-01")


def test_kpi_summary_is_tidy_and_ordered(results):
    s = kpi_summary(results)
    n_kpis = len(KPIS) + len(NEEDED_KPIS)
    assert len(s) == 3 * n_kpis * MONTHS
    assert list(s.columns[:4]) == ["scenario", "month", "month_index", "kpi"] and set(STATS) <= set(s.columns)
    ok = s.dropna()
    assert (ok.p2_5 <= ok.p10 + 1e-9).all() and (ok.p10 <= ok.p25 + 1e-9).all()
    assert (ok.p25 <= ok["median"] + 1e-9).all() and (ok["median"] <= ok.p75 + 1e-9).all()
    assert (ok.p90 <= ok.p97_5 + 1e-9).all() and (ok.mean_ci_low <= ok.mean_ci_high + 1e-9).all()
    assert s.month.min() == pd.Timestamp("2026-11-01")
    needed = s[(s.scenario == "closure") & (s.kpi == "needed_residential_beds")]
    occupied = s[(s.scenario == "closure") & (s.kpi == "occupied_residential_beds")]
    assert needed["mean"].iloc[-1] > occupied["mean"].iloc[-1]     # the closure leaves need unmet


def test_paired_difference_of_a_no_op_is_exactly_zero(results):
    d = scenario_differences(results)
    same = d[d.scenario == "same"]
    assert set(d.scenario) == {"same", "closure"}
    assert (same[list(STATS)].abs().to_numpy() == 0).all()
    closure = d[(d.scenario == "closure") & (d.kpi == "waiting_residential_care")]
    assert closure["mean"].iloc[-1] > 0 and closure.p_higher.iloc[-1] > 0.5


def test_bottlenecks_flag_the_closed_beds(results):
    b = bottlenecks(results)
    c = b[(b.scenario == "closure") & (b.resource == "residential_beds")]
    assert "utilisation" in set(c.kind)
    assert list(b.columns) == ["scenario", "resource", "kind", "first_month", "share_of_months", "probability",
                               "value", "description"]


def test_statements_read_as_sentences(results):
    st = statements(results)
    assert len(st) > 0 and st.statement.str.len().min() > 20
    text = " | ".join(st.statement)
    assert "residential care-home" in text and "likely" in text
    assert any(s.startswith("compared with the baseline, closure") for s in st.statement)
    assert nice_floor(47) == 20 and nice_floor(7) == 5 and nice_floor(0.4) == 0.2
    assert likelihood(0.97) == "very likely" and likelihood(0.85) == "likely"


def test_write_forecast_creates_the_schema_and_replaces_a_rerun(results):
    con = duckdb.connect()
    written = write_forecast(con, results, {"model_versions": {"transition": "backoff"}})
    assert set(written) == {"kpi_summary", "scenario_differences", "bottlenecks", "statements", "runs"}
    again = write_forecast(con, results)
    assert again == written
    n = con.execute("select count(*) from forecast.kpi_summary").fetchone()[0]
    assert n == written["kpi_summary"]
    runs = con.execute("select run_id, seeds, scenario_hashes from forecast.runs").df()
    assert len(runs) == 1 and "root_entropy" in runs.seeds.iloc[0] and "closure" in runs.scenario_hashes.iloc[0]


def test_capacity_search_finds_a_monotone_answer():
    toy = toy_inputs(1500, seed=7, occupancy=1.0)
    found = search_capacity(toy, beds="residential", kpi="waiting_residential_care", below=1, level=0.75,
                            replications=4, months=12, run_date="2026-11-01", max_beds=80)
    assert found["beds_added"] is not None and found["beds_added"] > 0
    tried = found["tried"]
    assert tried[found["beds_added"]] >= 0.75
    assert all(v < 0.75 for k, v in tried.items() if k < found["beds_added"])
    assert np.isfinite(list(tried.values())).all()
