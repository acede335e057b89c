"""A synthetic ``SimulationInputs`` for fast tests and benchmarks.

Why: tests must run in seconds and in CI, where no warehouse exists. The toy provider has the
shape of the real one (mostly general-needs tenants, a few schemes and care homes, capacity
near full) and its tables are estimated by the same back-off code from counts drawn from a
known monthly process, so bootstrap replicates work as they do on real data.
"""

from __future__ import annotations

import numpy as np

from simulation.inputs import (
    COMMUNITY,
    DEFAULT_COSTS,
    DIED,
    EXTRA_CARE,
    GENERAL_NEEDS,
    HOSPICE,
    HOSPITAL,
    MOVED_OUT,
    N_STATES,
    NURSING,
    RESIDENTIAL,
    SHELTERED,
    TEAMS,
    TEMPORARY,
    ArrivalModel,
    Pool,
    SimulationInputs,
    cells_of,
    tables_from_counts,
)
from simulation.lattice import Lattice

AREAS = ("CDF", "VOG", "RCT", "NPT")
# census mix by state
MIX = {GENERAL_NEEDS: 0.80, SHELTERED: 0.08, EXTRA_CARE: 0.025, TEMPORARY: 0.03, COMMUNITY: 0.03,
       RESIDENTIAL: 0.015, NURSING: 0.01, HOSPITAL: 0.008, HOSPICE: 0.002}
# monthly moves out of each state (the rest stays); death is scaled by age below
MOVES = {
    GENERAL_NEEDS: {MOVED_OUT: 0.005, DIED: 0.0008, SHELTERED: 0.0006, HOSPITAL: 0.0015, RESIDENTIAL: 0.0002,
                    EXTRA_CARE: 0.0002, COMMUNITY: 0.0002},
    SHELTERED: {MOVED_OUT: 0.003, DIED: 0.002, HOSPITAL: 0.004, EXTRA_CARE: 0.0006, RESIDENTIAL: 0.0005, NURSING: 0.0002},
    EXTRA_CARE: {MOVED_OUT: 0.003, DIED: 0.006, HOSPITAL: 0.008, RESIDENTIAL: 0.002, NURSING: 0.001},
    TEMPORARY: {GENERAL_NEEDS: 0.05, MOVED_OUT: 0.04},
    COMMUNITY: {DIED: 0.006, HOSPITAL: 0.01, RESIDENTIAL: 0.002, NURSING: 0.001, MOVED_OUT: 0.004, EXTRA_CARE: 0.0005},
    RESIDENTIAL: {DIED: 0.025, HOSPITAL: 0.01, NURSING: 0.008, MOVED_OUT: 0.002},
    NURSING: {DIED: 0.04, HOSPITAL: 0.012},
    HOSPITAL: {GENERAL_NEEDS: 0.3, SHELTERED: 0.08, EXTRA_CARE: 0.03, COMMUNITY: 0.1, RESIDENTIAL: 0.06,
               NURSING: 0.05, DIED: 0.1, HOSPICE: 0.02},
    HOSPICE: {DIED: 0.6, COMMUNITY: 0.1, GENERAL_NEEDS: 0.1},
}


def _true_probs(state, need, age) -> np.ndarray:
    """The toy's true monthly transition probabilities for people with these keys."""
    n = len(state)
    p = np.zeros((n, N_STATES))
    age_f = np.where(np.isfinite(age), np.exp((np.nan_to_num(age, nan=70) - 70) / 12.0), 1.0)
    need_f = 1.0 + 0.5 * need
    for s, moves in MOVES.items():
        m = state == s
        for d, q in moves.items():
            f = age_f[m] if d == DIED else (need_f[m] if d in (RESIDENTIAL, NURSING, EXTRA_CARE) else 1.0)
            p[m, d] = np.minimum(q * f, 0.5)
    p = np.minimum(p, 0.9)
    rows = np.arange(n)
    p[rows, state] = 0
    p[rows, state] = np.maximum(1 - p.sum(axis=1), 0.02)
    return p / p.sum(axis=1, keepdims=True)


def _population(n: int, rng: np.random.Generator, pools: list[Pool]):
    states = np.array(list(MIX))
    state = rng.choice(states, n, p=np.array(list(MIX.values())) / sum(MIX.values()))
    older = np.isin(state, (SHELTERED, EXTRA_CARE, RESIDENTIAL, NURSING, COMMUNITY, HOSPITAL, HOSPICE))
    age = np.where(older, rng.normal(80, 8, n), rng.normal(45, 16, n)).clip(18, 104)
    age[rng.random(n) < 0.01] = np.nan
    need = np.where(older, rng.choice(4, n, p=[0.3, 0.2, 0.3, 0.2]), rng.choice(4, n, p=[0.93, 0.03, 0.03, 0.01]))
    need = np.where(state == NURSING, 3, need)
    sex = rng.choice(3, n, p=[0.55, 0.44, 0.01])
    mis = rng.integers(0, 120, n)
    mis = np.where(np.isin(state, (HOSPITAL, HOSPICE)), 0, mis)
    return state, need, age, sex, mis


def toy_inputs(n_people: int = 2000, seed: int = 0, *, occupancy: float = 0.95, n_segments: int = 0,
               bootstrap: bool = True) -> SimulationInputs:
    """A small synthetic provider of about ``n_people`` people, capacity at ``occupancy``."""
    rng = np.random.default_rng(seed)
    lat = Lattice(n_segments)
    pools: list[Pool] = []
    state, need, age, sex, mis = _population(n_people, rng, pools)
    area = rng.choice(len(AREAS), n_people, p=[0.4, 0.2, 0.25, 0.15])
    segment = rng.integers(-1, n_segments, n_people) if n_segments else np.full(n_people, -1)
    # pools: housing per area for general needs, one sheltered, extra-care and temporary scheme
    # per two areas, two care homes; sized from the census people in them
    pool = np.full(n_people, -1)
    spec = [("general_needs", GENERAL_NEEDS, a, 2.2) for a in range(4)] + \
           [("sheltered", SHELTERED, a, 1.4) for a in (0, 2)] + \
           [("extra_care", EXTRA_CARE, 0, 1.3), ("temporary", TEMPORARY, 1, 1.2)] + \
           [("care_home", RESIDENTIAL, 0, 1.0), ("care_home", NURSING, 0, 1.0),
            ("care_home", RESIDENTIAL, 2, 1.0), ("care_home", NURSING, 2, 1.0)]
    holder = state.copy()
    away = np.isin(state, (HOSPITAL, HOSPICE))
    holder[away] = rng.choice([GENERAL_NEEDS, SHELTERED, EXTRA_CARE, RESIDENTIAL, NURSING, COMMUNITY], away.sum())
    for j, (kind, s, a, ppu) in enumerate(spec):
        same = [k for k, x in enumerate(spec) if x[1] == s]
        if len(same) > 1:
            members = np.flatnonzero((holder == s) & (area % len(same) == same.index(j) % 4 % len(same)))
        else:
            members = np.flatnonzero(holder == s)
        pool[members] = j
        area[members] = a
        units = max(int(np.ceil(len(members) / ppu / occupancy)), 2)
        unit_id = f"C{j // 2:03d}" if kind == "care_home" else f"S{j:03d}"
        pools.append(Pool(unit_id=unit_id, name=f"toy {kind} {j}", kind=kind, state=s, area=AREAS[a],
                          capacity=float(units), persons_per_unit=ppu))
    team = np.array([0, 0, 1, 2])[area]
    hours_by_need = np.zeros((N_STATES, 4))
    for s in (GENERAL_NEEDS, SHELTERED, EXTRA_CARE, TEMPORARY, COMMUNITY):
        hours_by_need[s] = [0.0, 3.0, 10.0, 21.0]
    weekly_hours = np.where((need > 0) & np.isin(state, (GENERAL_NEEDS, SHELTERED, EXTRA_CARE, TEMPORARY, COMMUNITY)),
                            hours_by_need[state, need], 0.0)

    # training counts: five years of the known process on a population like the census
    cell = cells_of(lat, state, need, age, sex, segment, mis)
    exposure = np.bincount(cell, minlength=lat.size) * 60.0
    occ_cells = np.flatnonzero(exposure > 0)
    keys = lat.decode(occ_cells)
    rep_age = np.array([20, 30, 47, 60, 70, 80, 90, 97, np.nan])[keys[2]]
    P = _true_probs(keys[0], keys[1], rep_age)
    t_counts = np.zeros((lat.size, N_STATES))
    t_counts[occ_cells] = rng.poisson(P * exposure[occ_cells, None])
    n_counts = np.zeros((lat.size, 4))
    stay_n = np.full((len(occ_cells), 4), 0.0008)
    stay_n[np.arange(len(occ_cells)), keys[1]] = 0.0
    up = np.minimum(keys[1] + 1, 3)
    stay_n[np.arange(len(occ_cells)), up] += np.where(rep_age >= 65, 0.006, 0.0008)
    down = np.maximum(keys[1] - 1, 0)
    stay_n[np.arange(len(occ_cells)), down] += 0.004 * (keys[1] > 0)
    stay_n[np.arange(len(occ_cells)), keys[1]] = 1 - stay_n.sum(axis=1) + stay_n[np.arange(len(occ_cells)), keys[1]]
    n_counts[occ_cells] = rng.poisson(stay_n * exposure[occ_cells, None])
    e_counts = np.zeros((lat.size, 3))
    ph = np.where(np.isin(keys[0], (HOSPITAL, HOSPICE)), 0.0, 0.004 * (1 + keys[1]) * np.where(rep_age >= 65, 2.0, 1.0))
    e_counts[occ_cells, 0] = rng.poisson(ph * exposure[occ_cells])
    e_counts[occ_cells, 1] = rng.poisson(0.0003 * exposure[occ_cells])
    e_counts[occ_cells, 2] = exposure[occ_cells] - e_counts[occ_cells, :2].sum(axis=1)
    transition, need_table, events = tables_from_counts(lat, t_counts, n_counts, e_counts)

    entry = np.array([GENERAL_NEEDS, SHELTERED, EXTRA_CARE, TEMPORARY, COMMUNITY, RESIDENTIAL, NURSING])
    base = n_people * np.array([1 / 250, 1 / 1500, 1 / 8000, 1 / 450, 1 / 900, 1 / 5000, 1 / 7000])
    n_t = 300
    t_state = rng.choice(entry, n_t, p=base / base.sum())
    t_state[: len(entry)] = entry
    t_old = np.isin(t_state, (SHELTERED, EXTRA_CARE, RESIDENTIAL, NURSING, COMMUNITY))
    templates = {
        "state": t_state,
        "need": np.where(t_state == NURSING, 3, np.where(t_old, rng.choice(4, n_t, p=[0.3, 0.2, 0.3, 0.2]), 0)),
        "age": np.where(t_old, rng.normal(82, 7, n_t), rng.normal(35, 12, n_t)).clip(18, 100),
        "sex": rng.choice(2, n_t), "segment": rng.integers(-1, n_segments, n_t) if n_segments else np.full(n_t, -1),
        "area": rng.choice(len(AREAS), n_t), "pool": np.full(n_t, -1), "team": rng.choice(len(TEAMS), n_t),
        "hours": np.zeros(n_t),
    }
    season = 1 + 0.1 * np.cos(2 * np.pi * np.arange(12) / 12)
    arrivals = ArrivalModel(entry_states=entry, base_rate=base, growth=np.full(len(entry), 0.01),
                            growth_se=np.full(len(entry), 0.02), window_count=base * 36,
                            window_exposure=np.full(len(entry), 36.0), season=season / season.mean(),
                            templates=templates)
    season_t = np.ones((12, N_STATES))
    season_t[:, HOSPITAL] = 1 + 0.15 * np.cos(2 * np.pi * (np.arange(12) - 0.5) / 12)
    return SimulationInputs(
        reference_month=np.datetime64("2026-10-01"), n_segments=n_segments,
        state=state.astype(np.int8), need=need.astype(np.int8), age=age, sex=sex.astype(np.int8),
        segment=segment.astype(np.int8), months_in_state=mis.astype(np.int32), area=area.astype(np.int64),
        pool=pool.astype(np.int64), team=team.astype(np.int64), weekly_hours=weekly_hours,
        transition=transition, need_table=need_table, events=events, season_transition=season_t,
        arrivals=arrivals, pools=pools, areas=AREAS, hours_by_need=hours_by_need,
        bed_days={"hospital_within": 7.0, "hospital_enter": 8.0, "hospital_exit": 7.0,
                  "hospice_within": 15.0, "hospice_enter": 8.0, "hospice_exit": 8.0},
        p_external=np.zeros(N_STATES), costs=dict(DEFAULT_COSTS),
        transition_counts=t_counts if bootstrap else None, need_counts=n_counts if bootstrap else None,
        event_counts=e_counts if bootstrap else None,
        provenance={"source": "toy", "seed": seed, "n_people": n_people},
    )


__all__ = ["toy_inputs", "scale_inputs", "AREAS"]


def scale_inputs(inputs: SimulationInputs, factor: float, seed: int = 0) -> SimulationInputs:
    """The same provider ``factor`` times the size: the census resampled (every person copied
    floor(factor) times plus a random share), capacity and arrival rates scaled. Why: the
    benchmarks need a full-size census with realistic flows when only a small warehouse is at
    hand; the probability tables are per person, so they stay as they are."""
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    n = inputs.n_people
    whole = int(np.floor(factor))
    extra = rng.choice(n, int(round((factor - whole) * n)), replace=False)
    idx = np.concatenate([np.tile(np.arange(n), whole), np.sort(extra)])
    fields = ("state", "need", "age", "sex", "segment", "months_in_state", "area", "pool", "team", "weekly_hours")
    pools = [Pool(**{**vars(p), "capacity": p.capacity * factor}) for p in inputs.pools]
    a = inputs.arrivals
    arrivals = ArrivalModel(entry_states=a.entry_states, base_rate=a.base_rate * factor, growth=a.growth,
                            growth_se=a.growth_se, window_count=a.window_count * factor,
                            window_exposure=a.window_exposure, season=a.season, templates=a.templates)
    return replace(inputs, **{f: getattr(inputs, f)[idx] for f in fields}, pools=pools, arrivals=arrivals,
                   provenance={**inputs.provenance, "scaled_by": factor})


def toy_forecast(replications: int, months: int):
    """A small real forecast for output tests: a full toy provider (1,000 people), the baseline, a
    scenario that changes only a cost (so differs by zero in people) and one that closes a care
    home's beds from month 2 (so flags a bottleneck)."""
    from simulation.replications import run_forecast
    from simulation.scenarios import validate

    toy = toy_inputs(1000, seed=8, occupancy=1.0)
    scen = [validate({"name": "baseline"}),
            validate({"name": "same", "costs": {"void_week": 110}}),
            validate({"name": "closure", "capacity": [{"unit_type": "care_home", "start": 2, "absolute": 1}]})]
    return run_forecast(toy, scen, replications=replications, months=months, run_date="2026-11-01")
