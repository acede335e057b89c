"""Waiting lists start from tonight's register (simulation.register) and behave as it does: lets
by band then length of wait, withdrawals at the register's rate, a new scheme drawing from them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from simulation.forecast_model import KPIS, WAITING, ForecastModel, arrival_caps, draw_params, run_one, stream_seeds
from simulation.inputs import EXTRA_CARE, GENERAL_NEEDS, N_STATES, SHELTERED
from simulation.register import Register
from simulation.replications import root_seed, run_forecast
from simulation.scenarios import build_plan, validate
from simulation.testing import toy_inputs

K = {k: i for i, k in enumerate(KPIS)}


def _register(toy, n_outside: int, want: int, *, band=None, withdraw: float = 0.0, insiders: int = 0,
              months=None) -> Register:
    rng = np.random.default_rng(4)
    gn = np.flatnonzero(toy.state == GENERAL_NEEDS)[:insiders]
    n = n_outside + insiders
    withdraw_by = np.zeros(N_STATES)
    withdraw_by[want] = withdraw
    return Register(
        want=np.full(n, want), band=np.asarray(band if band is not None else rng.integers(0, 4, n)),
        months_waiting=np.asarray(months if months is not None else rng.integers(0, 40, n)),
        size=np.r_[rng.integers(1, 3, n_outside), np.ones(insiders, dtype=np.int64)],
        area=np.r_[np.zeros(n_outside, dtype=np.int64), toy.area[gn]],
        person=np.r_[np.full(n_outside, -1), gn], withdraw=withdraw_by)


def _model(inputs, plan):
    caps = arrival_caps(inputs, [plan], plan.months)
    params = draw_params(inputs, stream_seeds(root_seed("2026-11-01", "ab12"), 0), plan.months, caps)
    return ForecastModel(inputs, plan, params), params


def test_the_queues_start_as_tonights_register():
    toy = toy_inputs(1500, seed=2, occupancy=1.0)
    reg = _register(toy, 30, EXTRA_CARE, insiders=12)
    inputs = replace(toy, register=reg)
    model, _ = _model(inputs, build_plan(inputs, None, 6))
    q = model.qslots
    waiting = np.bincount(model.queue[q], weights=np.ones(len(q)), minlength=N_STATES)
    assert waiting[EXTRA_CARE] == reg.people_waiting()[EXTRA_CARE] == reg.size[:30].sum() + 12
    outsiders = q[model.state[q] == WAITING]
    assert len(outsiders) == reg.size[:30].sum()
    # who waits outside looks like those who arrived into what they wait for: older, with needs
    assert (model.need[outsiders] >= 0).all() and np.isin(model.area[outsiders], [0]).all()
    # month 1's waiting list is tonight's, less the month's lets and plus its newcomers
    out = run_one(inputs, build_plan(inputs, None, 6), _model(inputs, build_plan(inputs, None, 6))[1])
    assert abs(out[K["waiting_extra_care"], 0] - waiting[EXTRA_CARE]) <= 6


def test_lets_go_by_band_then_length_of_wait():
    toy = toy_inputs(2000, seed=3, occupancy=1.0)
    n = 60
    band = np.r_[np.zeros(n // 2, dtype=np.int64), np.full(n // 2, 3)]     # half A, half D
    months = np.r_[np.full(n // 2, 1), np.full(n // 2, 60)]                  # the D's waited far longer
    reg = replace(_register(toy, n, SHELTERED, band=band, months=months), size=np.ones(n, dtype=np.int64))
    inputs = replace(toy, register=reg)
    plan = build_plan(inputs, validate({"name": "more", "capacity": [
        {"unit_type": "sheltered", "area": "CDF", "start": 1, "delta": 12}]}), 3)
    model, _ = _model(inputs, plan)
    outsiders = np.flatnonzero(model.state == WAITING)
    a, d = outsiders[: n // 2], outsiders[n // 2:]
    model.run()
    housed_a = (model.state[a] == SHELTERED).mean()
    housed_d = (model.state[d] == SHELTERED).mean()
    assert housed_a > 0.2 and housed_d < housed_a


def test_applicants_withdraw_at_the_registers_rate():
    toy = toy_inputs(1500, seed=5, occupancy=1.0)
    none = replace(toy, register=_register(toy, 200, EXTRA_CARE, withdraw=0.0))
    some = replace(toy, register=_register(toy, 200, EXTRA_CARE, withdraw=0.08))
    plan_a, plan_b = build_plan(none, None, 12), build_plan(some, None, 12)
    out_a = run_one(none, plan_a, _model(none, plan_a)[1])
    out_b = run_one(some, plan_b, _model(some, plan_b)[1])
    start = some.register.people_waiting()[EXTRA_CARE]
    kept = out_b[K["waiting_extra_care"], -1] / start
    assert out_b[K["waiting_extra_care"], -1] < out_a[K["waiting_extra_care"], -1]
    assert kept == pytest.approx(0.92 ** 12, abs=0.12)


def test_a_new_scheme_draws_from_the_waiting_list():
    toy = toy_inputs(3000, seed=6, occupancy=1.0)
    inputs = replace(toy, register=_register(toy, 150, EXTRA_CARE))
    new = validate({"name": "new", "capacity": [{"unit_type": "extra_care", "area": "CDF", "new_unit": "new scheme",
                                                 "start": 3, "delta": 40}]})
    res = run_forecast(inputs, [validate({"name": "baseline"}), new], replications=4, months=12,
                       run_date="2026-11-01", needed=False)
    k = K["waiting_extra_care"]
    drop = (res.values["baseline"][:, k, -1] - res.values["new"][:, k, -1]).mean()
    assert drop > 25    # most of the 40 new flats' worth of people came off the list, not 1
