"""The compiled month kernel (simulation/month_kernel.py) gives the numpy path's arrays bit for bit.

Both paths draw the same uniforms from the same streams and compare them with the same
cumulative probabilities in the same float operations, so a forecast's KPI matrices must be
equal exactly (``np.array_equal``, not a tolerance), for several seeds, with segments, with a
register's waiting lists, and under every kind of scenario: capacity added and cut (a
closure), transition and arrival multipliers, a home-care cap and the waiting-for-care
hospital multiplier (which changes who is looked at). The golden forecast
(test_golden_forecast.py) runs with the kernel on as well (the default).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from simulation import kernel
from simulation.forecast_model import arrival_caps, draw_params, run_one, stream_seeds
from simulation.inputs import N_STATES
from simulation.replications import root_seed, run_forecast
from simulation.scenarios import build_plan, validate
from simulation.testing import toy_inputs

from helpers.forecast_cases import SCENARIOS, small_register
from helpers.paths import ROOT

pytest.importorskip("numba")


def _with(monkeypatch, which: str):
    monkeypatch.setenv("LLIF_FORECAST_KERNEL", which)
    assert kernel.name() == which


def _runs(inputs, months: int, reps: int, seed: int) -> dict:
    """Every scenario's KPI matrix and breakdown (by area, segment, age band) for replications
    0..reps-1 (the same params for both paths)."""
    plans = [build_plan(inputs, validate(dict(s)), months) for s in SCENARIOS]
    plans.append(build_plan(inputs, None, months, constrained=False))
    caps = arrival_caps(inputs, plans, months)
    root = root_seed("2026-11-01", f"{seed:04x}")
    out = {}
    for r in range(reps):
        params = draw_params(inputs, stream_seeds(root, r), months, caps, rep=r)
        for i, plan in enumerate(plans):
            out[(r, i)] = run_one(inputs, plan, params, breakdown=True)
    return out


@pytest.mark.parametrize("seed, segments, register", [(3, 0, False), (8, 4, False), (21, 3, True)])
def test_kernel_equals_numpy_bit_for_bit(monkeypatch, seed, segments, register):
    inputs = toy_inputs(1200, seed=seed, occupancy=1.0, n_segments=segments)
    if register:
        inputs = replace(inputs, register=small_register(inputs))
    _with(monkeypatch, "numpy")
    expected = _runs(inputs, 18, 2, seed)
    _with(monkeypatch, "numba")
    got = _runs(inputs, 18, 2, seed)
    assert expected.keys() == got.keys()
    for k, (e, e_groups) in expected.items():
        what = f"replication {k[0]}, {SCENARIOS[k[1]]['name'] if k[1] < len(SCENARIOS) else 'unconstrained'}"
        assert np.array_equal(e, got[k][0]), what
        assert np.array_equal(e_groups, got[k][1]), f"{what}: breakdown"
    # the scenarios did move things (the comparison is not of idle runs)
    assert any(not np.array_equal(expected[(0, 0)][0], expected[(0, i)][0]) for i in range(1, len(SCENARIOS)))


def test_run_forecast_same_with_either_kernel(monkeypatch):
    inputs = toy_inputs(800, seed=5)
    scen = [validate(dict(s)) for s in SCENARIOS[:3]]
    _with(monkeypatch, "numpy")
    a = run_forecast(inputs, scen, replications=4, months=12, run_date="2026-11-01")
    _with(monkeypatch, "numba")
    b = run_forecast(inputs, scen, replications=4, months=12, run_date="2026-11-01")
    assert a.values.keys() == b.values.keys()
    for name in a.values:
        assert np.array_equal(a.values[name], b.values[name])


def test_setting_is_checked(monkeypatch):
    monkeypatch.setenv("LLIF_FORECAST_KERNEL", "fortran")
    with pytest.raises(ValueError, match="LLIF_FORECAST_KERNEL"):
        kernel.selected()
    monkeypatch.delenv("LLIF_FORECAST_KERNEL")
    assert kernel.name() == "numba"   # the default when numba is importable


def test_compiled_allocate_equals_units_allocate():
    """Rationing under contention (own pool, any pool of the kind, nobody hopeful) gives the same
    places and leaves the same free places, to the last bit, in thousands of random cases."""
    from types import SimpleNamespace

    from simulation.units import allocate

    mk = kernel._compiled()
    rng = np.random.default_rng(0)
    for case in range(3000):
        npool, n = int(rng.integers(1, 8)), int(rng.integers(0, 60))
        model = SimpleNamespace(pool_state=rng.integers(0, 4, npool), unit_salt=rng.integers(0, 2**63, 5, dtype=np.uint64),
                                pool_unit=rng.integers(0, 5, npool), key=rng.permutation(500).astype(np.uint64))
        cand = rng.choice(500, n, replace=False).astype(np.int64)
        pref = rng.integers(0, npool, n)
        want = model.pool_state[pref].copy()
        prio = rng.integers(0, 3, n) + 10 * (rng.random(n) < 0.1)
        wait = rng.integers(0, 4, n)
        free = np.round(rng.uniform(-2, 8, npool), 1) + (rng.random(npool) < 0.3) * 0.37
        f_np, f_nb = free.copy(), free.copy()
        expected = allocate(model, cand, want, prio, wait, pref, f_np)
        got = mk.allocate(cand, want, prio, wait, pref, f_nb, model.pool_state, model.unit_salt, model.pool_unit,
                          model.key, N_STATES)
        assert np.array_equal(expected, got), case
        assert np.array_equal(f_np, f_nb), case


def test_warm_up_compiles_every_kernel_before_the_pool_starts(tmp_path):
    """``replications.warm_kernel`` (called before a pool of workers starts) leaves every
    compiled function of the kernel compiled in the parent, so forked workers inherit it rather
    than each compiling it on a cold cache; a fresh process with an empty cache shows it."""
    code = ("import numba; from simulation import month_kernel as mk, replications as R; "
            "from simulation.testing import toy_inputs; from simulation.scenarios import baseline; "
            "R.warm_kernel(toy_inputs(500, seed=1), baseline()); "
            "fs = [n for n, f in vars(mk).items() if isinstance(f, numba.core.registry.CPUDispatcher)]; "
            "print(len(fs), ' '.join(n for n in fs if not getattr(mk, n).signatures))")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "LLIF_FORECAST_KERNEL": "numba"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    n, *missing = done.stdout.split()
    assert int(n) >= 15 and missing == [], f"not compiled by the warm-up: {missing}"
