"""Year-to-year wander of the rates: estimated beyond chance, drawn per replication, widening the bands."""

from dataclasses import replace

import numpy as np
import pytest

from simulation.forecast_model import KPIS, arrival_caps, draw_params, month_table, stream_seeds
from simulation.inputs import DIED, N_STATES, rate_drift
from simulation.recency import extra_poisson_sd, step_robust_wander_sd
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


def _person_months(p_by_year, n_per_month=3000, seed=2):
    """Five years of monthly person-months back from a census of 2026-10, deaths at the given
    rate for each year (year 0 the latest), against a table at the five years' average."""
    rng = np.random.default_rng(seed)
    months = (np.datetime64("2026-10", "M") - 1 - np.arange(60)).astype("datetime64[D]")
    month = np.repeat(months, n_per_month)
    origin = np.zeros(len(month), dtype=np.int64)
    cell = np.zeros(len(month), dtype=np.int64)
    year = np.arange(len(month)) // (12 * n_per_month)
    p = np.asarray(p_by_year)[year]
    table = np.zeros((1, N_STATES))
    table[0, DIED] = p.mean()
    table[0, 0] = 1 - p.mean()
    dest = np.where(rng.random(len(month)) < p, DIED, 0)
    return origin, dest, cell, month, table, np.datetime64("2026-10-01")


def test_rate_drift_reads_years_back_from_the_census():
    # deaths up and down by a fifth year after year, counted in years that end at the census:
    # a wander the table (the five years' average) misses every year
    sd = rate_drift(*_person_months([0.012, 0.0085, 0.012, 0.0085, 0.012]))
    assert sd[DIED] > 0.12
    assert sd[0] == 0.0   # nobody moves into state 0 from elsewhere


def test_rate_drift_does_not_count_a_step_as_wander():
    # deaths 60% up in the last year only: the recalibration follows the new level, and the
    # band must not also take the step for year-to-year wander
    sd = rate_drift(*_person_months([0.016, 0.01, 0.01, 0.01, 0.01]))
    assert sd[DIED] < 0.05


def test_step_robust_wander_recovers_real_wander_and_gives_none_for_chance():
    rng = np.random.default_rng(1)
    expected = np.full(5, 2000.0)
    est = [step_robust_wander_sd(o, expected) for o in _years(rng, 400, expected, 0.15)]
    # the smaller half of four differences, scaled: unbiased in the variance, noisier per set
    # than the moments (extra_poisson_sd)
    assert 0.12 < np.sqrt(np.mean(np.square(est))) < 0.18
    chance = [step_robust_wander_sd(o, expected) for o in _years(rng, 400, expected, 0.0)]
    assert np.median(chance) == 0.0
    assert np.mean(chance) < 0.02
    assert step_robust_wander_sd(np.array([3, 9, 1]), np.array([4.0, 4, 4])) == 0.0
    assert step_robust_wander_sd(np.array([300, 500]), np.array([400.0, 400])) == 0.0


@pytest.mark.parametrize("factor, share_of_year_1", [(1.8, 0.0), (1.8, 1 / 3), (5.0, 1 / 3), (0.5, 0.5)])
def test_a_step_in_a_yearly_series_is_not_counted_as_wander(factor, share_of_year_1):
    # a level that changed once, in the latest year or part-way through the year before (then
    # two differences move): the moments take it for wander, the robust scale does not
    rng = np.random.default_rng(7)
    expected = np.full(5, 400.0)
    level = np.array([factor, 1 + (factor - 1) * share_of_year_1, 1, 1, 1])
    years = rng.poisson(expected * level, (200, 5))
    robust = np.mean([step_robust_wander_sd(o, expected) for o in years])
    moments = np.mean([extra_poisson_sd(o, expected) for o in years])
    assert robust < 0.08
    assert moments > 0.2


def test_uncertainty_draws_are_mean_preserving(toy):
    # the replication's factors are mean one on the rate scale whatever their width: moves into
    # a destination and arrivals average the point estimate's
    drift = np.zeros(N_STATES)
    drift[DIED] = 0.5
    arrivals = replace(toy.arrivals, drift_sd=np.full(len(toy.arrivals.base_rate), 0.5))
    inputs = replace(toy, rate_drift_sd=drift, arrivals=arrivals)
    plan = build_plan(inputs, None, 12)
    caps = arrival_caps(inputs, [plan], 12)
    root = np.random.SeedSequence(11)
    draws = [draw_params(inputs, stream_seeds(root, r), 12, caps, rep=r) for r in range(2000)]
    factors = np.array([d.rate_factor[DIED] for d in draws])
    assert abs(factors.mean() - 1) < 0.03
    assert np.median(factors) < 0.92     # lognormal: the median sits below the mean
    rates = np.array([d.arrival_rate for d in draws])
    # the wander keeps the arrival rate's own posterior mean (a gamma with half a pseudo-arrival)
    a = inputs.arrivals
    posterior = (a.window_count + 0.5) / a.window_exposure
    assert np.all(np.abs(rates.mean(axis=0) / posterior - 1) < 0.05)


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
