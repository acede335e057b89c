"""The golden back test: a small forecast's output, stored, so a change in the engine's output is
always a decision (issue 13 item 7).

A tiny fixed provider (``simulation.testing.toy_inputs(600, seed=13)``), three scenarios (the
baseline, a winter transition multiplier, a care-home closure), 20 replications over 12 months
from a fixed run date, run through the nightly asset's path (``run_forecast`` then the
``kpi_summary`` that ``write_forecast`` stores as ``forecast.kpi_summary``). A few KPIs' mean and
10th, 50th and 90th percentiles per month are compared with tests/snapshots/golden_forecast.csv
to 1e-12 (relative; the same machine gives them bit for bit, another platform's maths library
may differ in the last bits). What the run stood on - the inputs' fingerprint, the engine
version, the seed's configuration hash - is stored beside it (golden_forecast.json), so a
failure says whether the input moved or the engine did.

When the engine's output changes on purpose, regenerate both files and commit them with the
change that explains it:

    .venv/bin/python -m pytest tests/unit/test_golden_forecast.py --update-snapshots
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simulation.outputs import kpi_summary
from simulation.replications import run_forecast
from simulation.scenarios import validate
from simulation.testing import toy_inputs

from helpers.paths import SNAPSHOTS

GOLDEN = SNAPSHOTS / "golden_forecast.csv"
GOLDEN_META = SNAPSHOTS / "golden_forecast.json"
REGENERATE = ".venv/bin/python -m pytest tests/unit/test_golden_forecast.py --update-snapshots"

PEOPLE, SEED, REPLICATIONS, MONTHS, RUN_DATE = 600, 13, 20, 12, "2026-11-01"
SCENARIOS = (
    {"name": "baseline"},
    {"name": "winter", "transitions": [{"from": "community", "to": "hospital", "multiply": 1.5,
                                        "months_of_year": [12, 1, 2]}]},
    {"name": "closure", "capacity": [{"unit_type": "care_home", "start": 2, "absolute": 1}]},
)
# stocks, flows, a queue, a cost and an unconstrained ("needed") figure: each comes from a
# different part of the engine
KPIS = ("people_total", "hospital_admissions", "delayed_bed_days", "occupied_nursing_beds",
        "waiting_residential_care", "home_care_hours", "cost_total", "needed_nursing_beds")
STATS = ("mean", "p10", "median", "p90")
KEYS = ["scenario", "month", "kpi"]
RTOL = ATOL = 1e-12


def golden_run() -> tuple[pd.DataFrame, dict]:
    """The forecast the golden files hold, computed now: (table, what it stood on)."""
    inputs = toy_inputs(PEOPLE, seed=SEED)
    results = run_forecast(inputs, [validate(dict(s)) for s in SCENARIOS], replications=REPLICATIONS,
                           months=MONTHS, run_date=RUN_DATE)
    summary = kpi_summary(results)
    table = summary.loc[summary["kpi"].isin(KPIS), [*KEYS, *STATS]].copy()
    table["month"] = pd.to_datetime(table["month"]).dt.strftime("%Y-%m")
    table = table.sort_values(KEYS, kind="stable").reset_index(drop=True)
    meta = {k: results.metadata[k] for k in ("engine_version", "config_hash", "inputs_fingerprint", "run_date",
                                             "replications", "months")}
    return table, meta


@pytest.fixture(scope="module")
def computed():
    return golden_run()


def test_the_forecast_equals_the_stored_golden_forecast(computed, request):
    table, meta = computed
    if request.config.getoption("--update-snapshots"):
        SNAPSHOTS.mkdir(exist_ok=True)
        table.to_csv(GOLDEN, index=False, float_format="%.17g")
        GOLDEN_META.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    assert GOLDEN.exists() and GOLDEN_META.exists(), f"no golden forecast yet: {REGENERATE}"
    stored_meta = json.loads(GOLDEN_META.read_text())
    assert meta["inputs_fingerprint"] == stored_meta["inputs_fingerprint"], (
        "the toy inputs changed (simulation/testing.py or the inputs code), so every number moves with "
        f"them: check that was meant, then {REGENERATE}")
    assert meta == stored_meta, f"the run's basis changed {stored_meta} -> {meta}: if meant, {REGENERATE}"
    stored = pd.read_csv(GOLDEN, dtype={"month": str})
    assert table[KEYS].astype(str).equals(stored[KEYS].astype(str)), \
        f"scenarios, months or KPIs differ from the golden forecast: if meant, {REGENERATE}"
    got, want = table[list(STATS)].to_numpy(), stored[list(STATS)].to_numpy()
    close = np.isclose(got, want, rtol=RTOL, atol=ATOL)
    if not close.all():
        rows = np.flatnonzero(~close.all(axis=1))
        diff = table.iloc[rows[:8]][KEYS].assign(
            got=[dict(zip(STATS, got[r])) for r in rows[:8]], stored=[dict(zip(STATS, want[r])) for r in rows[:8]])
        pytest.fail(f"the engine's output moved in {len(rows)} of {len(table)} rows (engine "
                    f"{meta['engine_version']}); first ones:\n{diff.to_string()}\n"
                    f"If the change is meant, {REGENERATE} and commit the files with it.")


def test_the_golden_forecast_is_not_degenerate(computed):
    """The stored figures could not pass by accident: they vary by month and scenario, the
    bands have width, and the closure scenario queues for care homes where the baseline does less."""
    table, _ = computed
    assert len(table) == len(SCENARIOS) * len(KPIS) * MONTHS
    wide = table.pivot_table(index=["kpi", "month"], columns="scenario", values="mean")
    assert (table["p90"] >= table["median"]).all() and (table["median"] >= table["p10"]).all()
    assert (table["p90"] > table["p10"]).mean() > 0.5
    queue = wide.loc["waiting_residential_care"]
    assert queue["closure"].iloc[-1] > queue["baseline"].iloc[-1]
    assert table.loc[table["kpi"] == "people_total", "mean"].nunique() > 1
