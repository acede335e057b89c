"""The engine: determinism, common random numbers, capacity and queues, the estimator."""

import numpy as np
import pandas as pd
import pytest

from simulation.forecast_model import KPIS, ForecastModel, K, arrival_caps, draw_params, run_one, stream_seeds
from simulation.inputs import N_STATES, tables_from_counts
from simulation.lattice import NEED_COLUMNS, TRANSITION_COLUMNS, Lattice
from simulation.scenarios import build_plan, validate
from simulation.tables import backoff, level_groups
from simulation.testing import toy_inputs

MONTHS = 18


@pytest.fixture(scope="module")
def toy():
    return toy_inputs(1500, seed=11)


def _params(inputs, plans, rep=0, uncertainty=True):
    caps = arrival_caps(inputs, plans, MONTHS)
    return draw_params(inputs, stream_seeds(np.random.SeedSequence(2026), rep), MONTHS, caps, rep=rep,
                       parameter_uncertainty=uncertainty)


def test_model_is_mesa_with_unit_agents(toy):
    plan = build_plan(toy, None, MONTHS)
    m = ForecastModel(toy, plan, _params(toy, [plan]))
    kinds = {type(a).__name__ for a in m.agents}
    assert {"CareHome", "Scheme", "HomeCareTeam", "Hospital", "Hospice"} <= kinds
    assert len(m.agents) < 60          # tens of unit agents, never one per person


def test_same_seed_same_output_and_different_seed_differs(toy):
    plan = build_plan(toy, None, MONTHS)
    a = run_one(toy, plan, _params(toy, [plan], rep=0))
    b = run_one(toy, plan, _params(toy, [plan], rep=0))
    c = run_one(toy, plan, _params(toy, [plan], rep=1))
    assert a.shape == (len(KPIS), MONTHS)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.isfinite(a).all()


def test_a_scenario_that_changes_nothing_differs_by_exactly_zero(toy):
    base = build_plan(toy, None, MONTHS)
    same = build_plan(toy, validate({"name": "noop", "description": "changes nothing",
                                     "transitions": [{"from": "community", "to": "died", "multiply": 1.0}],
                                     "arrivals": [{"state": "temporary", "multiply": 1.0}],
                                     "costs": {"residential_week": 850}}), MONTHS)
    params = _params(toy, [base, same])
    assert np.array_equal(run_one(toy, base, params), run_one(toy, same, params))


def test_a_real_change_moves_only_what_it_should_at_first(toy):
    base = build_plan(toy, None, MONTHS)
    dearer = build_plan(toy, validate({"name": "dear", "costs": {"residential_week": 1700}}), MONTHS)
    params = _params(toy, [base, dearer])
    a, b = run_one(toy, base, params), run_one(toy, dearer, params)
    assert np.array_equal(a[K["people_total"]], b[K["people_total"]])      # costs change no flows
    assert (b[K["cost_local_authority"]] > a[K["cost_local_authority"]]).all()


def test_binding_capacity_creates_queues_and_delayed_discharges():
    tight = toy_inputs(1500, seed=5, occupancy=1.0)
    cut = validate({"name": "cut", "capacity": [
        {"unit_type": "care_home", "start": 2, "absolute": 1}]})
    base = build_plan(tight, None, MONTHS)
    plan = build_plan(tight, cut, MONTHS)
    free = build_plan(tight, cut, MONTHS, constrained=False)
    params = _params(tight, [base, plan, free])
    out = run_one(tight, plan, params)
    unc = run_one(tight, free, params)
    assert out[K["waiting_residential_care"], -1] + out[K["waiting_nursing_care"], -1] > 0
    assert out[K["delayed_discharges"]].sum() > 0
    # delayed bed days are days beyond the 21st of a stay (the warehouse's measure); people held
    # in hospital by the cut stay whole months, so the cut raises them
    held = run_one(tight, base, params)
    assert out[K["delayed_bed_days"]].sum() > held[K["delayed_bed_days"]].sum()
    assert plan.days[:3].tolist() == [30, 31, 31]          # November, December, January
    assert (out[K["occupied_residential_beds"], 2:] <= out[K["capacity_residential_beds"], 2:] + 1e-9).all()
    # unlimited capacity: no one waits, and more people are in care homes than the cut allows
    assert unc[K["waiting_residential_care"]].sum() == 0 and unc[K["delayed_discharges"]].sum() == 0
    assert unc[K["people_residential_care"], -1] > out[K["occupied_residential_beds"], -1]


def test_home_care_cap_limits_delivered_hours():
    toy = toy_inputs(1500, seed=6)
    cap = build_plan(toy, validate({"name": "cap", "rationing": {"home_care": {"weekly_hours_cap_fraction": 0.8}}}), MONTHS)
    base = build_plan(toy, None, MONTHS)
    params = _params(toy, [base, cap])
    a, b = run_one(toy, base, params), run_one(toy, cap, params)
    weeks = cap.days / 7
    limit = 0.8 * toy.weekly_hours.sum() * weeks
    # packages already running keep their hours, so the cap is reached as they end
    assert (np.diff(b[K["home_care_hours"]] / weeks) <= 1e-6).sum() >= MONTHS // 2
    assert (b[K["home_care_hours"]][-6:] <= 1.01 * limit[-6:]).all()
    assert b[K["home_care_hours_unmet"]].sum() > 0 and a[K["home_care_hours_unmet"]].sum() == 0
    assert b[K["home_care_waiting"]].max() > 0


def test_costs_split_by_payer_add_up(toy):
    plan = build_plan(toy, None, MONTHS)
    out = run_one(toy, plan, _params(toy, [plan]))
    parts = out[K["cost_nhs"]] + out[K["cost_local_authority"]] + out[K["cost_provider"]] + out[K["cost_charity"]]
    assert np.allclose(parts, out[K["cost_total"]])
    assert (out[K["cost_nhs"]] > 0).all() and (out[K["cost_local_authority"]] > 0).all()


def test_backoff_gives_sparse_cells_their_parents_pattern():
    lat = Lattice(0)
    counts = np.zeros((lat.size, N_STATES))
    state, need, age, sex, seg, mis = lat.decode(np.arange(lat.size))
    dense = (state == 0) & (need == 0) & (age == 2) & (sex == 0) & (mis == 3)
    counts[dense, 0] = 9000
    counts[dense, 10] = 1000
    t, n, e = tables_from_counts(lat, counts, np.ones((lat.size, 4)), np.ones((lat.size, 3)))
    assert np.allclose(t.sum(axis=1), 1)
    assert t[dense, 10][0] == pytest.approx(0.1, abs=0.002)
    # an empty general-needs cell borrows the state's death rate; an empty state stays put
    empty_gn = np.flatnonzero((state == 0) & (need == 3) & (age == 7))[0]
    assert 0.05 < t[empty_gn, 10] < 0.15
    empty_hospice = np.flatnonzero(state == 8)[0]
    assert t[empty_hospice, 8] == pytest.approx(1.0)
    assert backoff(counts, level_groups(lat), t).shape == t.shape


def test_bootstrap_tables_vary_but_stay_valid(toy):
    t1, n1, e1 = toy.replicate_tables(np.random.default_rng(1))
    t2, _, _ = toy.replicate_tables(np.random.default_rng(2))
    assert np.allclose(t1.sum(axis=1), 1) and np.allclose(n1.sum(axis=1), 1)
    assert not np.array_equal(t1, t2)
    assert np.abs(t1 - toy.transition).max() < 0.5


def test_model_tables_in_lattice_format_replace_the_estimate(toy):
    frame = toy.lattice.frame()
    tt = pd.concat([frame, pd.DataFrame(toy.transition, columns=TRANSITION_COLUMNS)], axis=1)
    nt = pd.concat([frame, pd.DataFrame(toy.need_table, columns=NEED_COLUMNS)], axis=1)
    swapped = toy.with_tables(tt.sample(frac=1, random_state=0), nt)
    assert np.allclose(swapped.transition, toy.transition)
    assert swapped.transition_counts is None
    t, _, _ = swapped.replicate_tables(np.random.default_rng(0))
    assert t is swapped.transition


def test_leaving_hospital_residents_go_back_and_others_are_thinned(toy):
    """Residents in hospital return to their own bed (no admission); other patients' care-home
    draws become admissions only in the estimated share."""
    from dataclasses import replace

    from simulation.inputs import HOSPICE, HOSPITAL, N_LIVE, NURSING, RESIDENTIAL

    plan = build_plan(toy, None, MONTHS)
    k = K["care_home_admissions_from_hospital"]
    share = np.ones(N_STATES)
    got = {}
    for name, s in (("all", 1.0), ("none", 0.0)):
        share[[RESIDENTIAL, NURSING]] = s
        inputs = replace(toy, discharge_to_care=share.copy())
        got[name] = sum(run_one(inputs, plan, _params(inputs, [plan], rep=r))[k].sum() for r in range(6))
    # (with none, only people already waiting for a care home before they went into hospital)
    assert got["all"] > 20 and got["none"] < 0.25 * got["all"]
    # a resident in hospital keeps their bed and comes back to it: never a care-home admission
    m = ForecastModel(toy, plan, _params(toy, [plan]))
    residents = np.flatnonzero(np.isin(m.state, (RESIDENTIAL, NURSING)) & (m.place >= 0))
    m.state[residents] = HOSPITAL
    m._refresh(residents)
    bed = m.place[residents].copy()
    back = np.zeros(len(residents), dtype=bool)
    for _ in range(6):
        m.step()
        st = m.state[residents]
        home = (st < N_LIVE) & ~np.isin(st, (HOSPITAL, HOSPICE))
        assert np.isin(st[home], (RESIDENTIAL, NURSING)).all()   # nobody left for anywhere but their home
        own = m.place[residents[home]] == bed[home]
        same_kind = m.pool_state[m.place[residents[home]]] == m.pool_state[bed[home]]
        assert own[same_kind].all()   # back to their own bed (or, drawn so, to the other kind of care)
        back |= home
    assert back.sum() >= 5
