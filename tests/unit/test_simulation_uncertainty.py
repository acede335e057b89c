"""Year-to-year wander of the rates: estimated beyond chance, drawn per replication, widening the bands."""

from dataclasses import replace

import numpy as np
import pytest

from simulation.forecast_model import KPIS, arrival_caps, draw_params, month_table, stream_seeds
from simulation.inputs import DIED, N_STATES, extra_poisson_sd, rate_drift
from simulation.replications import run_forecast
from simulation.scenarios import build_plan
from simulation.testing import toy_inputs


@pytest.fixture(scope="module")
def toy():
    return toy_inputs(600, seed=5)


def _years(rng, n_sets, expected, wander):
    mult = np.exp(rng.normal(0, wander, (n_sets, len(expected))) - wander ** 2 / 2)
    return rng.poisson(expected * mult)


def test_chance_alone_gives_about_no_wander():
    rng = np.random.default_rng(0)
    expected = np.array([400.0, 420, 390, 410, 405])
    est = [extra_poisson_sd(o, expected) for o in _years(rng, 400, expected, 0.0)]
    assert np.mean(est) < 0.03
    assert np.median(est) == 0.0


def test_real_wander_is_recovered():
    rng = np.random.default_rng(1)
    expected = np.full(5, 2000.0)
    est = [extra_poisson_sd(o, expected) for o in _years(rng, 400, expected, 0.15)]
    # method of moments on five years: unbiased-ish in the variance, noisy per set
    assert 0.11 < np.sqrt(np.mean(np.square(est))) < 0.19


def test_too_little_data_says_nothing():
    assert extra_poisson_sd(np.array([3, 9, 1]), np.array([4.0, 4, 4])) == 0.0
    assert extra_poisson_sd(np.array([300, 500]), np.array([400.0, 400])) == 0.0


def test_rate_drift_reads_years_back_from_the_census():
    rng = np.random.default_rng(2)
    ref = np.datetime64("2026-10-01")
    months = (np.datetime64("2026-10", "M") - 1 - np.arange(60)).astype("datetime64[D]")
    n_per_month = 3000
    month = np.repeat(months, n_per_month)
    origin = np.zeros(len(month), dtype=np.int64)
    cell = np.zeros(len(month), dtype=np.int64)
    table = np.zeros((1, N_STATES))
    table[0, DIED], table[0, 0] = 0.0106, 0.9894
    # deaths 30% up in the last year only: a wander the table (the five years' average) misses
    year = np.arange(len(month)) // (12 * n_per_month)
    p = np.where(year == 0, 0.013, 0.01)
    dest = np.where(rng.random(len(month)) < p, DIED, 0)
    sd = rate_drift(origin, dest, cell, month, table, ref)
    assert sd[DIED] > 0.08
    assert sd[0] == 0.0   # nobody moves into state 0 from elsewhere


def test_replications_draw_a_factor_per_destination_and_tables_use_it(toy):
    drift = np.zeros(N_STATES)
    drift[DIED] = 0.3
    inputs = replace(toy, rate_drift_sd=drift)
    plan = build_plan(inputs, None, 12)
    caps = arrival_caps(inputs, [plan], 12)
    root = np.random.SeedSequence(3)
    factors = np.array([draw_params(inputs, stream_seeds(root, r), 12, caps, rep=r).rate_factor for r in range(200)])
    assert 0.2 < factors[:, DIED].std() < 0.4
    assert abs(factors[:, DIED].mean() - 1) < 0.06   # mean one: the wander does not shift the centre
    # destinations without wander do not move (the toy's table has counts to bootstrap instead)
    others = np.delete(factors, DIED, axis=1)
    assert np.allclose(others, 1.0)
    params = draw_params(inputs, stream_seeds(root, 0), 12, caps)
    flat = draw_params(inputs, stream_seeds(root, 0), 12, caps, parameter_uncertainty=False)
    t_w, t_f = month_table(inputs, params, plan, 0), month_table(inputs, flat, plan, 0)
    p_w = np.diff(t_w.cum0[:-1], axis=1)[:, DIED]
    p_f = np.diff(t_f.cum0[:-1], axis=1)[:, DIED]
    live = p_f > 1e-6
    ratio = p_w[live] / p_f[live]
    # the bootstrap moves cells a little; the factor moves them all one way
    assert np.median(np.abs(np.log(ratio) - np.log(params.rate_factor[DIED]))) < 0.25


def test_wander_widens_the_deaths_band(toy):
    drift = np.zeros(N_STATES)
    drift[DIED] = 0.35
    k = KPIS.index("deaths")
    spread = {}
    for name, inp in (("chance", toy), ("wander", replace(toy, rate_drift_sd=drift))):
        res = run_forecast(inp, None, replications=40, months=12, run_date="2026-11-01", needed=False)
        spread[name] = res.values["baseline"][:, k].sum(axis=1).std()
    assert spread["wander"] > 1.3 * spread["chance"]


def test_overdispersed_arrivals_vary_as_estimated_and_keep_common_random_numbers():
    from simulation.forecast_model import arrival_counts

    rng = np.random.default_rng(4)
    u = rng.random((20000, 2))
    lam = np.tile([[40.0, 40.0]], (20000, 1))
    c = arrival_counts(u, lam, np.array([0.0, 0.05]))
    assert abs(c[:, 0].var() / 40 - 1) < 0.05                   # Poisson
    assert abs(c[:, 1].var() / (40 + 0.05 * 40 ** 2) - 1) < 0.08  # mean + k mean^2
    more = arrival_counts(u, lam * 1.1, np.array([0.0, 0.05]))
    assert (more >= c).all()   # a scenario with more arrivals has the baseline's and then some
