"""Replications: same arrays whatever the number of processes; seeds from date and config."""

import numpy as np
import pytest

from simulation.replications import config_hash, root_seed, run_forecast
from simulation.scenarios import validate
from simulation.testing import toy_inputs


@pytest.fixture(scope="module")
def toy():
    return toy_inputs(800, seed=21)


SCEN = [validate({"name": "baseline"}),
        validate({"name": "winter", "transitions": [{"from": "community", "to": "hospital", "multiply": 1.5,
                                                     "months_of_year": [12, 1, 2]}]})]


def test_one_and_two_processes_give_identical_arrays(toy):
    a = run_forecast(toy, SCEN, replications=6, months=8, run_date="2026-11-01", processes=1)
    b = run_forecast(toy, SCEN, replications=6, months=8, run_date="2026-11-01", processes=2, chunk=2)
    for name in a.values:
        assert np.array_equal(a.values[name], b.values[name])
    assert a.unconstrained.keys() == b.unconstrained.keys()
    for key in a.unconstrained:
        assert np.array_equal(a.unconstrained[key], b.unconstrained[key])
    for name in a.values:
        assert a.breakdown[name].shape == (6, a.breakdown_layout.n_series, 8)
        assert np.array_equal(a.breakdown[name], b.breakdown[name])
    assert a.metadata["root_entropy"] == b.metadata["root_entropy"]


def test_breakdowns_come_from_the_same_runs_as_the_values(toy):
    """Each replication's breakdown is of that replication (its areas add up to its own total),
    and asking for none changes no value."""
    from simulation.forecast_model import KPIS

    on = run_forecast(toy, SCEN, replications=4, months=6, run_date="2026-11-01")
    off = run_forecast(toy, SCEN, replications=4, months=6, run_date="2026-11-01", breakdowns=False)
    assert off.breakdown == {} and off.breakdown_layout is None
    lay = on.breakdown_layout
    rows = [i for i, s in enumerate(lay.series) if s[3] == "people_total" and s[0] and s[1] is None]
    for name in on.values:
        assert np.array_equal(on.values[name], off.values[name])
        by_area = on.breakdown[name][:, rows].astype(float).sum(axis=1)
        assert np.array_equal(by_area, on.values[name][:, KPIS.index("people_total")])


def test_replications_do_not_depend_on_how_many_there_are(toy):
    a = run_forecast(toy, SCEN[:1], replications=3, months=6, run_date="2026-11-01")
    b = run_forecast(toy, SCEN[:1], replications=5, months=6, run_date="2026-11-01")
    assert np.array_equal(a.values["baseline"], b.values["baseline"][:3])


def test_seed_comes_from_date_and_config(toy):
    h = config_hash(toy, 6, True)
    assert root_seed("2026-11-01", h).entropy != root_seed("2026-11-02", h).entropy
    assert config_hash(toy, 6, True) == h and config_hash(toy, 6, False) != h
    a = run_forecast(toy, SCEN[:1], replications=2, months=6, run_date="2026-11-01")
    b = run_forecast(toy, SCEN[:1], replications=2, months=6, run_date="2026-11-02")
    assert not np.array_equal(a.values["baseline"], b.values["baseline"])


def test_parameter_uncertainty_widens_the_bands(toy):
    on = run_forecast(toy, SCEN[:1], replications=12, months=12, run_date="2026-11-01", needed=False)
    off = run_forecast(toy, SCEN[:1], replications=12, months=12, run_date="2026-11-01", needed=False,
                       parameter_uncertainty=False)
    k = on.kpis.index("deaths")
    assert on.values["baseline"][:, k].sum(axis=1).std() > 0
    assert off.values["baseline"][:, k].sum(axis=1).std() > 0
    assert not np.array_equal(on.values["baseline"], off.values["baseline"])


def test_the_baseline_is_the_same_alone_with_other_scenarios_and_over_a_shorter_horizon(toy):
    """Same inputs, run date and seed: the same baseline whoever runs it - the nightly (seven
    scenarios, 60 months), `llif forecast run` (one scenario) or a what-if (24 months). A
    scenario with many more arrivals reserves more slots, which must not move anyone's draws."""
    from simulation.scenarios import validate

    growth = validate({"name": "growth", "arrivals": [{"state": s, "multiply": 1.5, "annual_growth": 0.3}
                                                     for s in ("general_needs", "temporary", "community")]})
    alone = run_forecast(toy, SCEN[:1], replications=3, months=12, run_date="2026-11-01", needed=False)
    with_more = run_forecast(toy, [SCEN[0], growth], replications=3, months=12, run_date="2026-11-01", needed=True)
    shorter = run_forecast(toy, SCEN[:1], replications=3, months=5, run_date="2026-11-01", needed=False)
    assert np.array_equal(alone.values["baseline"], with_more.values["baseline"])
    assert np.array_equal(alone.values["baseline"][:, :, :5], shorter.values["baseline"])
    assert not np.array_equal(alone.values["baseline"], with_more.values["growth"])
