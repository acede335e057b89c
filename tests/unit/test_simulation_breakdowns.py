"""The forecast by area, segment and age band (simulation/breakdowns.py) adds up to the provider.

Each dimension's groups are counted person by person, never shared out, so in every replication,
month and breakdown KPI they must add up to the total the engine reports: exactly for counts
(people, admissions, deaths, waiting lists), to float32 rounding for hours, bed days and costs.
Run under every kind of scenario (capacity cut and added, transition and arrival multipliers,
a home-care cap: ``helpers.forecast_cases``), with segments and a register's queues, and
unconstrained. A person placed in another area's pool is counted in that area from then on.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from simulation.breakdowns import BKPIS, MAIN_KPIS, RAW, layout_of
from simulation.forecast_model import KPIS, ForecastModel, arrival_caps, draw_params, run_one, stream_seeds
from simulation.inputs import EXTRA_CARE, N_LIVE, SHELTERED
from simulation.lattice import AGE_BANDS
from simulation.replications import root_seed
from simulation.scenarios import build_plan, validate
from simulation.testing import toy_inputs

from helpers.forecast_cases import SCENARIOS, small_register

# KPIs whose values are whole numbers: their groups must add up exactly
COUNTS = {k for k in BKPIS if not k.startswith(("home_care_hours", "cost_")) and not k.endswith("bed_days")}
DIMS = {"area": 0, "segment": 1, "age_band": 2}


def _inputs(segments=3, register=True):
    toy = toy_inputs(1500, seed=8, occupancy=1.0, n_segments=segments)
    return replace(toy, register=small_register(toy)) if register else toy


def _plans(inputs, months):
    """Every scenario of the kernel's comparison, the unconstrained run, and the baseline with
    sheltered and extra-care places unrationed (moves into them are admissions without a queue)."""
    plans = [build_plan(inputs, validate(dict(s)), months) for s in SCENARIOS]
    base = build_plan(inputs, None, months)
    free = base.constrained_states.copy()
    free[[SHELTERED, EXTRA_CARE]] = False
    return plans + [build_plan(inputs, None, months, constrained=False), replace(base, constrained_states=free)]


def _rows(layout, dim: str, kpi: str) -> list[int]:
    """Rows of the breakdown that split ``kpi`` by ``dim`` alone."""
    j = DIMS[dim]
    return [i for i, s in enumerate(layout.series)
            if s[3] == kpi and s[j] is not None and all(s[x] is None for x in range(3) if x != j)]


def test_every_dimension_adds_up_to_the_provider_in_every_replication_and_month():
    inputs = _inputs()
    months = 14
    plans = _plans(inputs, months)
    caps = arrival_caps(inputs, plans, months)
    root = root_seed("2026-11-01", "00b2")
    lay = layout_of(inputs)
    moved = {k: 0.0 for k in BKPIS}
    for r in range(2):
        params = draw_params(inputs, stream_seeds(root, r), months, caps, rep=r)
        for name, plan in zip([s["name"] for s in SCENARIOS] + ["unconstrained", "unrationed"], plans):
            out, groups = run_one(inputs, plan, params, breakdown=True)
            assert groups.shape == (lay.n_series, months)
            for kpi in BKPIS:
                total = out[KPIS.index(kpi)]
                moved[kpi] += float(np.abs(total).sum())
                for dim in DIMS:
                    got = groups[_rows(lay, dim, kpi)].astype(float).sum(axis=0)
                    if kpi in COUNTS:
                        assert np.array_equal(got, total), (name, r, kpi, dim, got - total)
                    else:
                        np.testing.assert_allclose(got, total, rtol=2e-6, atol=1e-3, err_msg=f"{name} {kpi} {dim}")
                if kpi in MAIN_KPIS:   # area x segment too
                    rows = [i for i, s in enumerate(lay.series) if s[3] == kpi and s[0] and s[1]]
                    assert len(rows) == lay.n_area * lay.n_seg
                    np.testing.assert_allclose(groups[rows].astype(float).sum(axis=0), total, rtol=2e-6, atol=1e-3)
    # the check was not of zeros: every breakdown KPI happened in these runs
    assert all(v > 0 for v in moved.values()), [k for k, v in moved.items() if v == 0]


def test_groups_are_counted_not_shared_out():
    """Areas' shares of the people differ between KPIs and move month to month (a fixed
    proportion of the total would not)."""
    inputs = _inputs(segments=0, register=False)
    months = 12
    plans = _plans(inputs, months)[:1]
    params = draw_params(inputs, stream_seeds(root_seed("2026-11-01", "0001"), 0), months,
                         arrival_caps(inputs, plans, months))
    _, groups = run_one(inputs, plans[0], params, breakdown=True)
    lay = layout_of(inputs)
    people = groups[_rows(lay, "area", "people_total")]
    deaths = groups[_rows(lay, "area", "deaths")].sum(axis=1)
    share = people / people.sum(axis=0)
    assert np.ptp(share, axis=1).max() > 0
    assert not np.allclose(deaths / deaths.sum(), share[:, 0], atol=1e-3)
    ages = groups[_rows(lay, "age_band", "people_total")]
    assert ages.shape[0] == len(AGE_BANDS) and (ages[:-1].sum(axis=1) > 0).sum() >= 4


def test_a_person_placed_in_another_area_is_counted_there():
    """Month by month, the breakdown's people by area are the population's areas at the month's
    end, and people did change area (admissions into another area's pools, the closure's
    displacements), so the test follows them; the counts kept up to date month by month equal
    a recount of everyone (areas, age bands, hours)."""
    inputs = _inputs(segments=0)
    months = 10
    plan = build_plan(inputs, validate(dict(SCENARIOS[1])), months)   # the closure
    params = draw_params(inputs, stream_seeds(root_seed("2026-11-01", "0002"), 0), months,
                         arrival_caps(inputs, [plan], months))
    model = ForecastModel(inputs, plan, params, breakdown=True)
    lay = model.groups.layout
    first = model.area.copy()
    codes = [RAW.index(f"code_{c}") for c in range(N_LIVE * 4)]
    changed = 0
    for t in range(months):
        model.step()
        live = model.state < N_LIVE
        area = np.where(model.area < 0, lay.n_area - 1, model.area)
        expect = np.bincount(area[live], minlength=lay.n_area)
        cube = model.groups.raw[t].reshape(lay.n_area, lay.n_seg, lay.n_age, len(RAW))
        assert np.array_equal(cube[..., codes].sum(axis=(1, 2, 3)), expect), t
        # the incremental counts are a full recount's: every living slot's cross code and state x
        # need now (age bands come round, areas change), and everyone's delivered hours
        everyone = np.flatnonzero(live)
        key = model.groups.cross(everyone) * (N_LIVE * 4) + model.code[everyone]
        assert np.array_equal(model.groups.stock_counts, np.bincount(key, minlength=lay.n_cross * N_LIVE * 4)), t
        hc = np.flatnonzero(model.hours_del)
        np.testing.assert_allclose(model.groups.hours_cross, np.bincount(
            model.groups.cross(hc), weights=model.hours_del[hc], minlength=lay.n_cross), atol=1e-6)
        stayed = live[: len(first)] & (first >= 0)
        changed = max(changed, int((model.area[: len(first)][stayed] != first[stayed]).sum()))
    assert changed > 0, "nobody changed area: the test did not exercise a move"
    model.release()


@pytest.mark.parametrize("kernel", ["numpy", "numba"])
def test_breakdown_off_leaves_the_forecast_alone(monkeypatch, kernel):
    """Counting groups only reads the arrays: the KPI matrix is the same with it on or off."""
    if kernel == "numba":
        pytest.importorskip("numba")
    monkeypatch.setenv("LLIF_FORECAST_KERNEL", kernel)
    inputs = _inputs()
    months = 8
    plans = _plans(inputs, months)
    caps = arrival_caps(inputs, plans, months)
    params = draw_params(inputs, stream_seeds(root_seed("2026-11-01", "0003"), 0), months, caps)
    for plan in plans:
        assert np.array_equal(run_one(inputs, plan, params), run_one(inputs, plan, params, breakdown=True)[0])
