"""The forecast engine: a Mesa model whose population is a struct of arrays.

Why arrays: one Mesa agent per person runs at well under a million person-months a second on
the 2-core machine, numpy over the whole population at tens of millions (docs/forecast_engine.md). The
per-person rules are written once, readably, in ``reference.py``; this module implements the
same rules over index arrays, and a test checks both give the same distributions.

One month, in this order (``ForecastModel.step``):
1. ageing and time; 2. arrivals (rate x trend x season x scenario, drawn from the recent
arrivals); 3. transition probabilities by lattice lookup x season x scenario, renormalised;
4. one uniform per slot from the transitions stream, inverse CDF; its residual, rescaled,
drives the need level and then the within-month hospital or hospice admission, so a person
still costs one draw a month; 5. capacity: units admit by priority, longest wait, tie-break,
and the rest queue where they are (in hospital: a delayed discharge); 6. moves applied, exits
free places; 7. costs by payer; 8. the month's KPIs.

Why the residual trick is exact: given the cell, the position of u inside the interval of the
outcome drawn is uniform on (0, 1) and independent of which outcome it was.

Hospital and hospice stays are mostly shorter than a month: the state at month end comes from
the table, admissions that start and end inside a month are events, and bed days are the
expected days of each kind of month (within, entering, leaving, staying) from the warehouse's
spells (``Hospital.bed_days``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np
from scipy.stats import nbinom, poisson

from contracts.vocabulary.kpis import ENGINE_KPIS
from simulation import kernel
from simulation.breakdowns import GroupCounter
from simulation.costs import COST_INPUTS, cost_by_payer
from simulation.inputs import (
    COMMUNITY,
    DIED,
    GENERAL_NEEDS,
    HOME_STATES,
    HOSPICE,
    HOSPITAL,
    HOUSING_STATES,
    MOVED_OUT,
    N_LIVE,
    N_STATES,
    NURSING,
    PLACE_STATES,
    RESIDENTIAL,
    TEAMS,
    TEMPORARY,
    SimulationInputs,
)
from simulation.lattice import AGE_BANDS, AGE_EDGES, MONTHS_IN_STATE_EDGES, STATES
from simulation.population import band_of_age
from simulation.scenarios import RunPlan, active_rule_key
from simulation.units import (
    PLACE_KIND_LABEL,
    CareHome,
    HomeCareTeam,
    Hospice,
    Hospital,
    Scheme,
    allocate,
    hashed_uniform,
)

WAITING = 11   # an arrival waiting outside for a place (not yet in a live state)
EMPTY = 12     # a pre-allocated slot nobody has arrived in
UNKNOWN_AGE = -(10 ** 7)

STREAMS = ("arrivals", "transitions", "rationing", "parameters")

_PLACE_LABELS = [PLACE_KIND_LABEL[s] for s in PLACE_STATES]
# What a replication writes, month by month: the KPI catalogue's engine rows, in its order (the
# order indexes ``out``; contracts/vocabulary/kpis.py). Blocks of the same measure are written
# as slices from their first KPI (people per live state, need levels, one per pool in the order
# of PLACE_STATES); tests/unit/test_vocabulary.py checks the catalogue keeps them contiguous.
KPIS: tuple[str, ...] = ENGINE_KPIS
K = {k: i for i, k in enumerate(KPIS)}

_AGE_LUT = np.array([len(AGE_BANDS) - 1] + [
    int(np.searchsorted(np.asarray(AGE_EDGES), m // 12, side="right") - 1) for m in range(12 * 151)
], dtype=np.int64)
_MIS_LUT = np.array([int(np.searchsorted(np.asarray(MONTHS_IN_STATE_EDGES), m, side="right") - 1)
                     for m in range(MONTHS_IN_STATE_EDGES[-1] + 1)], dtype=np.int64)
_PLACE_ARR = np.array(PLACE_STATES)
_NEED0 = K["people_need_0"]
_ADM0 = K["admissions_general_needs"]
_WAIT0 = K["waiting_general_needs"]
_MWAIT0 = K["mean_wait_months_general_needs"]
_OCC0 = K[f"occupied_{_PLACE_LABELS[0]}"]
_CAP0 = K[f"capacity_{_PLACE_LABELS[0]}"]




@dataclass
class MonthTable:
    """Month t's probabilities, with one extra row (the dead cell) at the end.

    ``q_lo``..``q_hi`` is the *quiet* interval of a cell: a uniform inside it means the person
    stays in the same state at the same need with no admission, which is what most people do
    in most months; only the others are processed individually."""

    cum0: np.ndarray       # (cells + 1, 12): 0 then the cumulative probabilities
    q_lo: np.ndarray
    q_hi: np.ndarray
    q_lo32: np.ndarray     # the same rounded outwards to float32, for the whole-population test
    q_hi32: np.ndarray
    p_hosp: np.ndarray     # within-month hospital admission
    p_hospice: np.ndarray


@dataclass
class ReplicationParams:
    """What one replication draws once and every scenario of it shares (common random numbers
    and parameter uncertainty): the tables, the arrival rates, the arrival uniforms and the
    seeds of the month-by-month streams."""

    rep: int
    transition: np.ndarray
    need_table: np.ndarray
    events: np.ndarray
    arrival_rate: np.ndarray
    arrival_growth: np.ndarray
    arrival_u: np.ndarray          # (months, n_entry)
    template_u: list               # per entry state, (cap,) uniforms
    arrival_caps: np.ndarray       # slots reserved per entry state
    seeds: dict
    ppu_factor: np.ndarray = None  # per census pool: this replication's people per unit / the census's
    need_cum0: np.ndarray = None
    need_lo: np.ndarray = None
    need_hi: np.ndarray = None
    rate_factor: np.ndarray = None  # (11,) this replication's multiplier on moves into each state
    relet_factor: np.ndarray = None  # (11,) and on each kind of housing's relet time
    # long runs (``walk=True``): the rates wander on as a random walk, per forecast year, on top
    # of the level above: (years, entry states) on arrivals, (years, 11) on moves into each state
    arrival_walk: np.ndarray = None
    rate_walk: np.ndarray = None
    cache: dict = field(default_factory=dict)


def stream_seeds(root: np.random.SeedSequence, rep: int) -> dict:
    """Named streams of one replication: child ``rep`` of the root, then one grandchild each."""
    child = np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + (rep,))
    return {name: np.random.SeedSequence(child.entropy, spawn_key=tuple(child.spawn_key) + (i,))
            for i, name in enumerate(STREAMS)}


def arrival_caps(inputs: SimulationInputs, plans: list[RunPlan], months: int, walk: bool = False) -> np.ndarray:
    """Slots to reserve per entry state: enough for the busiest plan with a wide margin
    (parameter draws, a plan's population growth and, in long runs, the rates' walk included).
    Fixed for a run set, so all its scenarios share a layout."""
    a = inputs.arrivals
    t = np.arange(1, months + 1) / 12.0
    mult = (np.max([p.arrival_mult * _demography_bound(p) for p in plans], axis=0) if plans
            else np.ones((months, len(a.entry_states))))
    growth = np.maximum(a.growth + 2 * a.growth_se.clip(0, 0.05), a.growth)
    # 4 sd of the year-to-year factor (a walk's sd grows with the square root of its years)
    steps = np.sqrt(max((months + 11) // 12, 1)) if walk else 1.0
    wander = np.exp(4 * steps * _zeros_if_none(a.drift_sd, len(a.base_rate)))
    monthly = a.base_rate[None, :] * wander[None, :] * (1 + growth[None, :]) ** t[:, None] * a.season.max() * mult
    lam = monthly.sum(axis=0) * 1.3
    # month-to-month overdispersion widens the total's spread: add 8 of its extra sd
    k = _zeros_if_none(a.overdispersion, len(a.base_rate))
    extra = 8 * np.sqrt(k * (monthly ** 2).sum(axis=0))
    return (np.ceil(poisson.ppf(1 - 1e-9, lam + 1.0) + extra) + 10).astype(np.int64)


def _demography_bound(plan: RunPlan) -> np.ndarray:
    """(months, 1): the largest population factor of any area and band each month (1 without)."""
    if getattr(plan, "demography", None) is None:
        return np.ones((plan.months, 1))
    return plan.demography.max(axis=(1, 2))[:, None]


# moves between states wander as a walk in steps of this many years: a month table is built per
# distinct factor (11 ms at the lattice's 27,000 cells), so a step a year would make 240 tables
# a 20-year replication instead of 12, more than the simulation itself; arrivals cost nothing
# to rescale and walk every year
TRANSITION_WALK_YEARS = 5


def arrival_counts(u: np.ndarray, lam: np.ndarray, overdispersion) -> np.ndarray:
    """Each month's arrivals per entry state by inverse CDF of the replication's uniforms:
    Poisson, or negative binomial where the counts vary more (``ArrivalModel.overdispersion``).
    Either way a larger mean gives at least as many arrivals from the same uniform, so a
    scenario with more arrivals has the baseline's and then some (common random numbers)."""
    k = _zeros_if_none(overdispersion, lam.shape[1])
    out = poisson.ppf(u, lam)
    over = k > 1e-6
    if over.any():
        r = 1.0 / k[over]
        out[:, over] = nbinom.ppf(u[:, over], r[None, :], r / (r + lam[:, over]))
    return out.astype(np.int64)


def _ones_if_none(a, n: int) -> np.ndarray:
    return np.ones(n) if a is None else np.asarray(a, dtype=float)


def _zeros_if_none(a, n: int) -> np.ndarray:
    return np.zeros(n) if a is None else np.asarray(a, dtype=float)


def _with_dead_row(a: np.ndarray, fill) -> np.ndarray:
    extra = np.full((1,) + a.shape[1:], fill, dtype=a.dtype)
    return np.concatenate([a, extra])


def draw_params(inputs: SimulationInputs, seeds: dict, months: int, caps: np.ndarray, rep: int = 0,
                parameter_uncertainty: bool = True, walk: bool = False) -> ReplicationParams:
    """What replication ``rep`` draws once. ``walk`` (long runs): the rates' year-to-year wander
    goes on as a random walk after the first year instead of one level for the horizon; its
    steps are drawn after everything else from the parameters stream, so the first year is the
    one-level draw exactly."""
    a = inputs.arrivals
    prng = np.random.default_rng(seeds["parameters"])
    if parameter_uncertainty:
        trans, need, events = inputs.replicate_tables(prng)
        rate = prng.gamma(a.window_count + 0.5, 1.0 / np.maximum(a.window_exposure, 1e-9))
        prior_var = 0.05 ** 2
        post_sd = np.sqrt(prior_var * a.growth_se ** 2 / (prior_var + a.growth_se ** 2))
        growth = np.exp(np.log1p(a.growth) + prng.normal(0, 1, len(a.growth)) * post_sd) - 1
    else:
        trans, need, events = inputs.transition, inputs.need_table, inputs.events
        rate, growth = a.base_rate.copy(), a.growth.copy()
    ppu_sd = np.array([p.persons_per_unit_sd for p in inputs.pools], dtype=float)
    ppu_factor = np.exp(prng.normal(0.0, 1.0, len(ppu_sd)) * ppu_sd) if parameter_uncertainty else np.ones(len(ppu_sd))
    rate_factor, relet_factor = np.ones(N_STATES), np.ones(N_STATES)
    if parameter_uncertainty:
        # the years ahead will not have the window's average rates: one mean-one lognormal
        # factor per destination (and per entry state) for the whole horizon, as wide as the
        # window's own years wandered; plus the table's estimation error when it has no
        # counts to bootstrap (a model's table)
        sd = _zeros_if_none(inputs.rate_drift_sd, N_STATES)
        if inputs.transition_counts is None:
            sd = np.sqrt(sd ** 2 + _zeros_if_none(inputs.rate_param_sd, N_STATES) ** 2)
        rate_factor = np.exp(prng.normal(0.0, 1.0, N_STATES) * sd - sd ** 2 / 2)
        a_sd = _zeros_if_none(a.drift_sd, len(rate))
        rate = rate * np.exp(prng.normal(0.0, 1.0, len(rate)) * a_sd - a_sd ** 2 / 2)
        common = np.exp(prng.normal(0.0, 1.0, N_STATES) * _zeros_if_none(inputs.household_size_sd, N_STATES))
        ppu_factor = ppu_factor * common[[p.state for p in inputs.pools]] if len(ppu_factor) else ppu_factor
        relet_sd = _zeros_if_none(inputs.relet_sd, N_STATES)
        relet_factor = np.exp(prng.normal(0.0, 1.0, N_STATES) * relet_sd - relet_sd ** 2 / 2)
    arrival_walk = rate_walk = None
    if walk and parameter_uncertainty:
        years = max((months + 11) // 12, 1)
        arrival_walk = _walk(prng, years, a_sd, 1)
        r_sd = _zeros_if_none(inputs.rate_drift_sd, N_STATES)
        if inputs.transition_counts is None:   # as the level: the table's own error too
            r_sd = np.sqrt(r_sd ** 2 + _zeros_if_none(inputs.rate_param_sd, N_STATES) ** 2)
        # no wander, no walk (and no month tables beyond the twelve)
        rate_walk = _walk(prng, years, r_sd, TRANSITION_WALK_YEARS) if r_sd.any() else None
    arng = np.random.default_rng(seeds["arrivals"])
    # rows are months, so the first m months' uniforms are the same whatever the horizon
    arrival_u = arng.random((months, len(a.entry_states)))
    # which recent arrival the j-th newcomer of an entry state copies: a counter-based uniform
    # per (state, j), so it does not depend on how many slots the other states reserve
    tsalt = np.random.SeedSequence(seeds["arrivals"].entropy, spawn_key=tuple(seeds["arrivals"].spawn_key) + (1,))
    tsalt = np.uint64(tsalt.generate_state(1, np.uint64)[0])
    template_u = [hashed_uniform(tsalt + np.uint64(int(s) * 7919), np.arange(int(c), dtype=np.uint64))
                  for s, c in zip(a.entry_states, caps)]
    p = ReplicationParams(rep=rep, transition=trans, need_table=need, events=events, arrival_rate=rate,
                          arrival_growth=growth, arrival_u=arrival_u, template_u=template_u,
                          arrival_caps=np.asarray(caps), seeds=seeds, ppu_factor=ppu_factor,
                          rate_factor=rate_factor, relet_factor=relet_factor, arrival_walk=arrival_walk,
                          rate_walk=rate_walk)
    cum0 = np.hstack([np.zeros((len(need), 1)), np.cumsum(need, axis=1)])
    cum0[:, -1] = 1.0 + 1e-12
    own = inputs.lattice.decode(np.arange(inputs.lattice.size))[1]
    rows = np.arange(len(need))
    p.need_cum0 = _with_dead_row(cum0, 1.0)
    p.need_lo = _with_dead_row(cum0[rows, own], 0.0)
    p.need_hi = _with_dead_row(cum0[rows, own + 1], 1.0)
    return p


def _walk(prng: np.random.Generator, years: int, sd: np.ndarray, every: int) -> np.ndarray:
    """(years, len(sd)): a mean-one lognormal random walk, 1 in the first ``every`` years, then a
    step every ``every`` years with the variance of ``every`` years of yearly steps of ``sd``."""
    n_steps = (years - 1) // every
    z = prng.normal(0.0, 1.0, (n_steps, len(sd))) * sd * np.sqrt(every) - every * sd ** 2 / 2
    level = np.exp(np.vstack([np.zeros((1, len(sd))), np.cumsum(z, axis=0)]))
    return level[np.arange(years) // every]


def month_table(inputs: SimulationInputs, params: ReplicationParams, plan: RunPlan, t: int) -> MonthTable:
    """Probabilities of month t: the replication's table x month-of-year x the scenario rules
    active then, renormalised. Cached by content in the replication, so scenarios without
    transition rules share the baseline's twelve tables."""
    key = (int(plan.moy[t]), active_rule_key(plan, t))
    walk = params.rate_walk[t // 12] if params.rate_walk is not None else None
    if walk is not None:   # a long run's walk: one table per step of it
        key = key + ((t // 12) // TRANSITION_WALK_YEARS,)
    hit = params.cache.get(key)
    if hit is not None:
        return hit
    P = params.transition
    if not P.flags.c_contiguous:          # a model's table arrives column-major from pandas
        P = params.transition = np.ascontiguousarray(P)
    n = len(P)
    state_of_cell = params.cache.get("state_of_cell")
    if state_of_cell is None:
        state_of_cell = params.cache["state_of_cell"] = inputs.lattice.decode(np.arange(n))[0]
    rows = np.arange(n)
    rf = params.rate_factor if params.rate_factor is not None else np.ones(N_STATES)
    if walk is not None:
        rf = rf * walk
    season = inputs.season_transition[plan.moy[t]] * rf
    # built in place in one (cells + 1, 12) array: 0, then the cumulative probabilities; the
    # last row is the dead cell (written in few passes: this runs ~30 times a replication)
    cum0 = np.empty((n + 1, N_STATES + 1))
    cum0[:n, 0] = 0.0
    body = cum0[:n, 1:]
    np.multiply(P, season[None, :], out=body)
    body[rows, state_of_cell] = P[rows, state_of_cell]   # staying put is not a move
    e_h = params.events[:, 0] * season[HOSPITAL]
    e_hs = params.events[:, 1] * rf[HOSPICE]
    for r in plan.rules:
        if not r.active[t]:
            continue
        for d in r.to:
            cells = r.cells[state_of_cell[r.cells] != d]
            body[cells, d] *= r.factor
            if d == HOSPITAL:
                e_h[cells] *= r.factor
            if d == HOSPICE:
                e_hs[cells] *= r.factor
    for j in range(1, N_STATES):         # column by column: np.cumsum along a short axis 1 is slow
        body[:, j] += body[:, j - 1]
    body *= (1.0 / body[:, -1])[:, None]  # renormalised
    body[:, -1] = 1.0 + 1e-12
    cum0[n] = 1.0
    lo = cum0[rows, state_of_cell]
    hi = cum0[rows, state_of_cell + 1]
    e_h = np.minimum(e_h, 0.95)
    e_hs = np.minimum(e_hs, 0.95 - e_h)
    nlo, nhi = params.need_lo[:n], params.need_hi[:n]
    width = hi - lo
    q_lo, q_hi = np.empty(n + 1), np.empty(n + 1)
    q_lo[:n] = lo + width * (nlo + (nhi - nlo) * (e_h + e_hs))
    q_hi[:n] = lo + width * nhi
    q_lo[n], q_hi[n] = -1.0, 2.0
    # float32 bounds narrowed inwards: a uniform near an edge is then looked at individually
    # (exactly, in float64) rather than wrongly taken as quiet
    lo32 = q_lo.astype(np.float32)
    lo32 = np.where(lo32 < q_lo, np.nextafter(lo32, np.float32(2)), lo32)
    hi32 = q_hi.astype(np.float32)
    hi32 = np.where(hi32 > q_hi, np.nextafter(hi32, np.float32(-1)), hi32)
    tbl = MonthTable(cum0=cum0, q_lo=q_lo, q_hi=q_hi, q_lo32=lo32.astype(np.float32),
                     q_hi32=hi32.astype(np.float32), p_hosp=_with_dead_row(e_h, 0.0),
                     p_hospice=_with_dead_row(e_hs, 0.0))
    params.cache[key] = tbl
    return tbl


_IS_PLACE = np.zeros(EMPTY + 1, dtype=bool)
_IS_PLACE[list(PLACE_STATES)] = True
_IS_HOME = np.zeros(EMPTY + 1, dtype=bool)
_IS_HOME[list(HOME_STATES)] = True
_IS_AWAY = np.zeros(EMPTY + 1, dtype=bool)
_IS_AWAY[[HOSPITAL, HOSPICE]] = True
_IS_CARE = np.zeros(EMPTY + 1, dtype=bool)
_IS_CARE[[RESIDENTIAL, NURSING]] = True
_IS_HOUSING = np.zeros(EMPTY + 1, dtype=bool)
_IS_HOUSING[list(HOUSING_STATES)] = True
_AGE_EDGE_MONTHS = np.array([e * 12 for e in AGE_EDGES[1:]], dtype=np.int64)
_MIS_EDGES = np.array(MONTHS_IN_STATE_EDGES[1:], dtype=np.int64)
_NEVER = 10 ** 9
_RELET_MAX = 5   # months of departures a void can still date from


def _months_to_next(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Months until x (growing by one a month) next reaches one of ``edges``; never if past all."""
    i = np.searchsorted(edges, x, side="right")
    nxt = np.where(i < len(edges), edges[np.minimum(i, len(edges) - 1)] - x, _NEVER)
    return np.where(x < 0, _NEVER, nxt)


# the same as lookups: index 0 is "unknown or past the last edge" (never)
_AGE_NEXT = np.r_[_NEVER, _months_to_next(np.arange(_AGE_EDGE_MONTHS[-1] + 1), _AGE_EDGE_MONTHS)]
_MIS_NEXT = np.r_[_months_to_next(np.arange(_MIS_EDGES[-1] + 1), _MIS_EDGES), _NEVER]
_LUTS = (_AGE_LUT, _MIS_LUT)   # the cell's look-ups, as the kernel takes them
_NONE = np.zeros(0, dtype=np.int64)


@dataclass(eq=False)
class _Month:
    """One month's working arrays, handed from each step of ``ForecastModel.step`` to the next:
    ``A`` the slots looked at one by one, ``s0`` their states at the start, ``dest`` where
    their draw sends them, ``cand`` who wants a constrained place, ``fin`` the states at the end."""

    t: int
    admissions: np.ndarray
    tbl: MonthTable | None = None
    new: np.ndarray | None = None
    n_arrived: int = 0
    looked_at: np.ndarray | None = None
    A: np.ndarray | None = None
    s0: np.ndarray | None = None
    cA: np.ndarray | None = None
    v: np.ndarray | None = None
    qA: np.ndarray | None = None
    override: np.ndarray | None = None
    dest: np.ndarray | None = None
    moved: np.ndarray | None = None
    exits: np.ndarray | None = None
    seek_c: np.ndarray | None = None
    cand: np.ndarray | None = None
    a_slots: np.ndarray | None = None
    from_hospital: int = 0
    fin: np.ndarray | None = None
    changed_state: np.ndarray | None = None
    nch: np.ndarray | None = None
    n_within_h: int = 0
    n_within_hs: int = 0
    unmet_total: float = 0.0
    hc_waiting: int = 0
    # who the month's flows were, for the breakdowns (breakdowns.GroupCounter): arrivals placed
    # on arrival, moves into unrationed places, within-month admissions of ``A`` (1 hospital,
    # 2 hospice) and each slot's unmet home-care hours (None when no team is capped)
    due: np.ndarray | None = None          # whose cell was refreshed at the month's start
    displaced: np.ndarray | None = None    # moved by a capacity cut
    placed_new: np.ndarray | None = None
    free_adm: np.ndarray | None = None
    ev: np.ndarray | None = None
    unmet: np.ndarray | None = None


class ForecastModel(mesa.Model):
    """One replication of one scenario: a Mesa model, people as arrays, units as agents.

    Time is kept as month numbers (0 = the census month) so ageing costs nothing: a slot stores
    its birth month and the month it entered its state, and its lattice cell is recomputed only
    when its keys change or an age or months-in-state band boundary comes round."""

    def __init__(self, inputs: SimulationInputs, plan: RunPlan, params: ReplicationParams,
                 breakdown: bool = False):
        super().__init__(rng=np.random.default_rng(params.seeds["transitions"]))
        self.inputs, self.plan, self.params = inputs, plan, params
        self.trng = self.rng  # the transitions stream: one uniform per slot per month
        # the compiled month kernel (simulation/month_kernel.py), or None: the numpy path below
        # each call; simulation/kernel.py chooses, and both give the same arrays bit for bit
        self.kernel = kernel.selected()
        months = plan.months
        n0 = inputs.n_people
        reg = inputs.register
        # applicants from outside waiting at the census: one slot per person of their households
        n_out = int(reg.size[reg.person < 0].sum()) if reg is not None else 0
        caps = params.arrival_caps
        self.block_start = n0 + n_out + np.r_[0, np.cumsum(caps)[:-1]].astype(np.int64)
        self.block_used = np.zeros(len(caps), dtype=np.int64)
        self.n_slots = N = int(n0 + n_out + caps.sum())
        # every slot's random identity: the census and the register keep their index, the j-th
        # arrival into entry state s is (s + 1) * 2^32 + j whatever the slots reserved (which
        # depend on the horizon and the scenarios run together), so a replication's baseline is
        # the same alone, with other scenarios or over a shorter horizon (its first months)
        self.n_fixed = n0 + n_out
        self.key = np.arange(N, dtype=np.uint64)
        for i, s in enumerate(inputs.arrivals.entry_states):
            self.key[self.block_start[i]:self.block_start[i] + caps[i]] = (
                np.uint64(int(s) + 1) << np.uint64(32)) + np.arange(int(caps[i]), dtype=np.uint64)
        lat = inputs.lattice
        self.dead_cell = lat.size
        self.r_need, self.r_age, self.r_sex, self.r_seg, self.r_mis = lat.radices[1:]
        self._dims = np.array([N_LIVE, self.r_need, self.r_age, self.r_sex * self.r_seg, self.r_mis, self.dead_cell],
                              dtype=np.int64)   # the cell's radices, for the kernel
        self.T = 0

        # ---- population: struct of arrays, stable slots
        self.state = np.full(N, EMPTY, dtype=np.int64)
        self.state[:n0] = inputs.state
        self.need = np.zeros(N, dtype=np.int64)
        self.need[:n0] = inputs.need
        self.birth = np.full(N, _NEVER, dtype=np.int64)       # month number of birth
        known = np.isfinite(inputs.age)
        self.birth[:n0][known] = -np.floor(inputs.age[known] * 12).astype(np.int64)
        self.sexseg = np.zeros(N, dtype=np.int64)
        self.sexseg[:n0] = inputs.sex.astype(np.int64) * self.r_seg + inputs.segment.astype(np.int64) + 1
        self.entered = np.zeros(N, dtype=np.int64)             # month number the state began
        self.entered[:n0] = -inputs.months_in_state.astype(np.int64)
        self.area = np.full(N, -1, dtype=np.int64)
        self.area[:n0] = inputs.area
        self.place = np.full(N, -1, dtype=np.int64)
        self.place[:n0] = inputs.pool
        self.team = np.zeros(N, dtype=np.int64)
        self.team[:n0] = inputs.team
        self.hours_dem = np.zeros(N)
        self.hours_dem[:n0] = np.where(_IS_HOME[inputs.state], inputs.weekly_hours, 0.0)
        self.hours_dem = np.minimum(self.hours_dem, plan.max_package)
        self.hours_del = self.hours_dem.copy()
        self.hours_total = float(self.hours_del.sum())
        self.hours_people = int(np.count_nonzero(self.hours_del))
        self.hc_wait = np.zeros(N, dtype=np.int64)
        self.queue = np.full(N, -1, dtype=np.int64)   # the state a person waits for
        self.wait = np.zeros(N, dtype=np.int64)
        self.qslots = np.zeros(0, dtype=np.int64)
        rseq = params.seeds["rationing"]
        ext_salt = np.random.SeedSequence(rseq.entropy, spawn_key=tuple(rseq.spawn_key) + (4000,))
        self.ext_u = hashed_uniform(np.uint64(ext_salt.generate_state(1, np.uint64)[0]), self.key)
        month_seq = np.random.SeedSequence(rseq.entropy, spawn_key=tuple(rseq.spawn_key) + (5000,))
        self.month_salt = month_seq.generate_state(months, np.uint64)   # arrivals' monthly uniforms
        self.discharge_share = _ones_if_none(inputs.discharge_to_care, N_STATES)
        self.any_external = bool((inputs.p_external > 0).any())
        self._u = np.zeros(N, dtype=np.float32)   # slots nobody has arrived in stay 0 (never looked at)
        self.cell = np.full(N, self.dead_cell, dtype=np.int64)
        self.code = np.full(N, N_LIVE * 4, dtype=np.int64)     # state x need for the counts
        self.code_counts = np.bincount(self.code, minlength=N_LIVE * 4 + 1)
        self.next_change = np.full(N, _NEVER, dtype=np.int64)
        self._keys_changed = np.zeros(N, dtype=bool)
        self._looked_at = np.zeros(N, dtype=bool)   # the kernel's mark of who is looked at, reused
        self._buf = np.empty(N, dtype=np.int64)      # and its scratch for lists of slots

        # ---- service units (Mesa agents); capacity in people per pool and month
        pools = plan.pools
        npool = len(pools)
        self.npool = npool
        self.pool_state = np.array([p.state for p in pools], dtype=np.int64)
        self.pool_ppu = np.array([p.persons_per_unit for p in pools], dtype=float)
        n_base = min(len(params.ppu_factor), npool)
        self.pool_ppu[:n_base] *= params.ppu_factor[:n_base]
        self.pool_cap_units = plan.cap_units
        self.pool_cap_people = np.floor(plan.cap_units * self.pool_ppu[:, None] + 1e-9)
        self.pool_housing = np.isin(self.pool_state, HOUSING_STATES)
        self.pool_unit = np.zeros(npool, dtype=np.int64)
        unit_pools: dict = {}
        for j, p in enumerate(pools):
            unit_pools.setdefault(p.unit_id, []).append(j)
        base_seq = params.seeds["rationing"]

        salts = params.cache.setdefault("salts", {})   # the same for every scenario of the replication

        def salt(k) -> np.uint64:
            """Unit k's own stream, as a key for hashed_uniform."""
            if k not in salts:
                seq = np.random.SeedSequence(base_seq.entropy, spawn_key=tuple(base_seq.spawn_key) + (k,))
                salts[k] = np.uint64(seq.generate_state(1, np.uint64)[0])
            return salts[k]

        self.place_units = []
        for u, (uid, pj) in enumerate(unit_pools.items()):
            first = pools[pj[0]]
            cls = CareHome if first.kind == "care_home" else Scheme
            self.place_units.append(cls(self, uid, first.name, first.kind, first.area, pj, salt(1000 + u)))
            self.pool_unit[pj] = u
        self.unit_salt = np.array([u.salt for u in self.place_units], dtype=np.uint64)
        self.discharge_salt = salt(3000)
        self.withdraw_salt = salt(7000)
        self.teams = [HomeCareTeam(self, name, i, plan.team_caps[i], salt(2000 + i)) for i, name in enumerate(TEAMS)]
        self.hospital = Hospital(self, inputs.bed_days)
        self.hospice = Hospice(self, inputs.bed_days)
        self.pref = self._preferred_pools(len(inputs.areas))
        finite_cap = np.where(np.isfinite(self.pool_cap_people), self.pool_cap_people, 1e15)
        self.capacity_cut = np.r_[False, (np.diff(finite_cap, axis=1) < 0).any(axis=0)] \
            if npool else np.zeros(months, dtype=bool)
        live = (self.state < N_LIVE) & (self.place >= 0)
        self.occ = np.bincount(self.place[live], minlength=npool).astype(float)
        self.moved_in = np.zeros(npool)
        self.moved_off = np.zeros(npool)
        # a place left in month t stays void for the pool's relet time: weights of this month's
        # and the previous months' departures still blocking places; the census's voids are
        # taken as spread over the last relet time
        rf = _ones_if_none(params.relet_factor, N_STATES)
        lag = np.array([inputs.relet_months.get(int(st), 0.0) * rf[st] if plan.constrained else 0.0
                        for st in self.pool_state], dtype=float).reshape(npool)
        self.relet_w = np.clip(lag[:, None] - np.arange(_RELET_MAX)[None, :], 0.0, 1.0)
        self.relet_hist = np.zeros((npool, _RELET_MAX))
        if npool:
            # in the steady state a pool's voids are its departures a month times the relet
            # time (Little's law), the oldest of which are let in the first forecast month:
            # departures of the census month and those before it, at voids / relet time each
            census_void = np.maximum(np.nan_to_num(self.pool_cap_people[:, 0], posinf=0.0) - self.occ, 0)
            per = np.where(lag > 0, census_void / np.maximum(self.relet_w.sum(axis=1), 1e-12), 0.0)
            self.relet_hist[:] = np.where(self.relet_w > 0, per[:, None], 0.0)
        # ---- arrivals' templates (recent arrivals newcomers are copied from)
        a = inputs.arrivals
        tmpl = a.templates
        self.tmpl_order = np.argsort(tmpl["state"], kind="stable")
        sorted_states = tmpl["state"][self.tmpl_order]
        self.tmpl_off = np.searchsorted(sorted_states, a.entry_states, side="left")
        self.tmpl_n = np.searchsorted(sorted_states, a.entry_states, side="right") - self.tmpl_off
        self.tmpl_age_m = np.where(np.isfinite(tmpl["age"]), np.floor(np.nan_to_num(tmpl["age"]) * 12),
                                   -_NEVER).astype(np.int64)
        # the same for the kernel, one integer array per attribute
        self._tmpl = tuple(np.asarray(tmpl[k], dtype=np.int64)
                           for k in ("state", "need", "sex", "segment", "area", "team", "pool"))

        # ---- tonight's register: the waiting lists start where the CRM's stand
        self.band = np.full(N, -1, dtype=np.int64)
        self.withdraw = np.zeros(N_STATES)
        self.has_register = reg is not None
        if reg is not None:
            self._enter_register(reg, n0, salt(6000))
        self._refresh(np.arange(self.n_fixed))

        # arrivals of every month at once (inverse CDF of the replication's uniforms, so a
        # scenario with more arrivals has the baseline's and then some)
        tt = np.arange(1, months + 1)[:, None] / 12.0
        lam = (params.arrival_rate[None, :] * (1 + params.arrival_growth[None, :]) ** tt
               * a.season[plan.moy][:, None] * plan.arrival_mult)
        if params.arrival_walk is not None:
            lam = lam * params.arrival_walk[np.arange(months) // 12]
        # a projection (long runs): each recent arrival's weight is its area and age band's
        # population factor, so a state's arrivals scale with the mean factor of its templates
        # and are copied in proportion to it - a band that grows in one area grows there only
        weights = self._template_weights(plan) if plan.demography is not None else None
        if weights is not None:
            lam = lam * np.stack([weights[:, self.tmpl_order[o:o + n]].mean(axis=1) if n else np.ones(months)
                                  for o, n in zip(self.tmpl_off, self.tmpl_n)], axis=1)
        self.arrival_counts = arrival_counts(params.arrival_u[:months], lam, a.overdispersion)
        # every arrival of the horizon: its month, slot (the entry state's block, in order) and
        # the recent arrival it copies (the replication's template uniforms, in order)
        months_of, slots_of, picks_of = [], [], []
        for i in range(len(a.entry_states)):
            total = int(self.arrival_counts[:, i].sum())
            if total > caps[i]:
                raise RuntimeError(f"arrivals into {STATES[a.entry_states[i]]} exceed the {caps[i]} slots reserved")
            months_of.append(np.repeat(np.arange(months), self.arrival_counts[:, i]))
            slots_of.append(self.block_start[i] + np.arange(total))
            if weights is None:
                picks_of.append(self.tmpl_order[self.tmpl_off[i] + (params.template_u[i][:total] * self.tmpl_n[i]).astype(np.int64)])
            else:
                picks_of.append(self._weighted_picks(weights, i, months_of[-1], params.template_u[i][:total]))
        order = np.argsort(np.concatenate(months_of), kind="stable")
        self.arrival_slots = np.concatenate(slots_of)[order]
        self.arrival_pick = np.concatenate(picks_of)[order]
        self.arrival_bounds = np.r_[0, np.cumsum(self.arrival_counts.sum(axis=1))]
        # the slots anyone has arrived in by the end of each month, as (first, end) rows: the
        # census and the register, then each entry state's block as far as it is used (the
        # kernel's passes skip the rest, which are empty)
        used = np.cumsum(self.arrival_counts, axis=0)
        self._segments = np.zeros((months, 1 + len(caps), 2), dtype=np.int64)
        self._segments[:, 0, 1] = self.n_fixed
        self._segments[:, 1:, 0] = self.block_start[None, :]
        self._segments[:, 1:, 1] = self.block_start[None, :] + used
        self.out = np.zeros((len(KPIS), months))
        self.raw = np.zeros((14, months))
        self.type_matrix = (self.pool_state[None, :] == np.array(PLACE_STATES)[:, None]).astype(float)
        self.housing_ppu_inv = np.where(self.pool_housing, 1.0 / self.pool_ppu, 0.0)
        finite = np.isfinite(self.pool_cap_units).all(axis=1) if npool else np.zeros(0, bool)
        self.void_mask = (self.pool_housing & finite).astype(float)
        self.void_cap = np.where(np.isfinite(self.pool_cap_units), self.pool_cap_units, 0.0)
        self.t = -1
        # the same KPIs by area, segment and age band (simulation/breakdowns.py), when asked
        self.groups = GroupCounter(self, _AGE_LUT) if breakdown else None

    # ------------------------------------------------------------------ helpers
    def _template_weights(self, plan: RunPlan) -> np.ndarray:
        """(months, templates): the population factor of each recent arrival's area and age
        band at its age on arrival (unknown area or age: the areas or bands together)."""
        tmpl = self.inputs.arrivals.templates
        area = np.where(tmpl["area"] >= 0, tmpl["area"], len(self.inputs.areas))
        return plan.demography[:, area, band_of_age(tmpl["age"])]

    def _weighted_picks(self, weights: np.ndarray, i: int, months_of: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The recent arrival each newcomer of entry state i copies, with probability in
        proportion to its weight in the newcomer's month: one inverse CDF per newcomer of the
        same uniform the unweighted pick uses, over the month's cumulative weights (laid end to
        end, row m spanning m .. m + 1, so one searchsorted serves every month)."""
        off, n = self.tmpl_off[i], self.tmpl_n[i]
        if not len(u) or not n:
            return self.tmpl_order[off + (u * n).astype(np.int64)]
        w = weights[:, self.tmpl_order[off:off + n]]
        cum = np.cumsum(w, axis=1)
        cum = cum / cum[:, -1:] + np.arange(len(w))[:, None]
        pos = np.searchsorted(cum.ravel(), months_of + u, side="right") - months_of * n
        return self.tmpl_order[off + np.clip(pos, 0, n - 1)]

    def _preferred_pools(self, n_areas: int) -> np.ndarray:
        """pref[state, area+1]: the pool a person of that area goes to first (the largest of
        the state in the area, else the largest of the state)."""
        pref = np.full((N_STATES, n_areas + 1), -1, dtype=np.int64)
        areas = self.inputs.areas
        self.pool_area = np.array([areas.index(p.area) if p.area in areas else -1 for p in self.plan.pools],
                                  dtype=np.int64)
        if not len(self.plan.pools):
            return pref
        cap = np.where(np.isfinite(self.pool_cap_units), self.pool_cap_units, 1e9).max(axis=1)
        for s in PLACE_STATES:
            js = np.flatnonzero(self.pool_state == s)
            if len(js) == 0:
                continue
            pref[s, :] = js[np.argmax(cap[js])]
            for a in range(n_areas):
                ja = js[self.pool_area[js] == a]
                if len(ja):
                    pref[s, a + 1] = ja[np.argmax(cap[ja])]
        return pref

    def _cell_of(self, idx, state, mis):
        age_m = self.T - self.birth[idx]
        ab = _AGE_LUT[np.clip(age_m + 1, 0, len(_AGE_LUT) - 1)]
        mb = _MIS_LUT[np.minimum(mis, len(_MIS_LUT) - 1)]
        return (((np.minimum(state, N_LIVE - 1) * self.r_need + self.need[idx]) * self.r_age + ab)
                * (self.r_sex * self.r_seg) + self.sexseg[idx]) * self.r_mis + mb

    def _refresh(self, idx: np.ndarray):
        """Recompute cell, state x need code and next band change of slots ``idx``."""
        if len(idx) == 0:
            return
        if self.kernel is not None:
            self.kernel.refresh(idx, self.T, self.state, self.need, self.birth, self.entered, self.sexseg, self.cell,
                                self.code, self.code_counts, self.next_change, _LUTS, _AGE_NEXT, _MIS_NEXT,
                                self._dims, _NEVER)
            return
        st = self.state[idx]
        live = st < N_LIVE
        mis = self.T - self.entered[idx]
        self.cell[idx] = np.where(live, self._cell_of(idx, st, mis), self.dead_cell)
        code = np.where(live, st * 4 + self.need[idx], N_LIVE * 4)
        # the state x need counts follow the codes (idx is unique), so a month needs no count
        # over the whole population
        self.code_counts += np.bincount(code, minlength=N_LIVE * 4 + 1) - np.bincount(self.code[idx], minlength=N_LIVE * 4 + 1)
        self.code[idx] = code
        age_m = self.T - self.birth[idx]
        a_next = _AGE_NEXT[np.where((age_m < 0) | (age_m >= len(_AGE_NEXT) - 1), -1, age_m) + 1]
        m_next = _MIS_NEXT[np.minimum(mis, len(_MIS_NEXT) - 1)]
        self.next_change[idx] = np.where(live, self.T + np.minimum(a_next, m_next), _NEVER)

    def _free(self, t: int) -> np.ndarray:
        """Places free for admission in month t, per pool, in people: capacity less occupancy
        less places still void after recent departures (relet time)."""
        blocked = self.relet_w[:, 0] * self.moved_off + (self.relet_w[:, 1:] * self.relet_hist[:, :-1]).sum(axis=1)
        return self.pool_cap_people[:, t] - self.occ - blocked

    def _allocate(self, cand, want, prio, wait, pref, free) -> np.ndarray:
        """``units.allocate``, compiled when the kernel is on."""
        if self.kernel is None:
            return allocate(self, cand, want, prio, wait, pref, free)
        return self.kernel.allocate(cand, want, prio, wait, pref, free, self.pool_state, self.unit_salt, self.pool_unit,
                                    self.key, N_STATES)

    def _set_place(self, slots: np.ndarray, places: np.ndarray, count: bool = True):
        """Move slots to places (-1: none), keeping occupancy and this month's moves in and out."""
        old = self.place[slots]
        o = old[old >= 0]
        n = places[places >= 0]
        if len(o):
            b = np.bincount(o, minlength=self.npool)
            self.occ -= b
            if count:
                self.moved_off += b
        if len(n):
            b = np.bincount(n, minlength=self.npool)
            self.occ += b
            if count:
                self.moved_in += b
            self.area[slots[places >= 0]] = self.pool_area[n]
        self.place[slots] = places

    def _enter_register(self, reg, n0: int, reg_salt: np.uint64) -> None:
        """Open applications into the queues: applicants in the census (with the people sharing
        their home) queue where they are; outsiders wait outside (WAITING), one slot per person
        of the household, copied from recent arrivals into what they applied for."""
        inputs = self.inputs
        self.withdraw = np.asarray(reg.withdraw, dtype=float)
        self.band_cum = np.cumsum(np.asarray(reg.band_mix, dtype=float), axis=1)
        self.band_u = hashed_uniform(reg_salt, self.key)
        inside = np.flatnonzero(reg.person >= 0)
        ins = reg.person[inside]
        outside = np.flatnonzero(reg.person < 0)
        sizes = reg.size[outside]
        slots = n0 + np.arange(int(sizes.sum()))
        app = np.repeat(outside, sizes)
        self.state[slots] = WAITING
        want = np.concatenate([reg.want[inside], reg.want[app]])
        who = np.concatenate([ins, slots])
        self.queue[who] = want
        self.wait[who] = np.concatenate([reg.months_waiting[inside], reg.months_waiting[app]])
        self.band[who] = np.concatenate([reg.band[inside], reg.band[app]])
        self.qslots = np.concatenate([self.qslots, who]).astype(np.int64)
        if len(slots):
            # who an outsider looks like: a recent arrival into the state applied for (else
            # anyone arriving), picked by the slot's key
            entry = list(inputs.arrivals.entry_states)
            u = hashed_uniform(reg_salt + np.uint64(1), self.key[slots])
            pick = np.empty(len(slots), dtype=np.int64)
            for st in np.unique(reg.want[app]):
                m = reg.want[app] == st
                i = entry.index(st) if st in entry and self.tmpl_n[entry.index(st)] > 0 else None
                off, n = (self.tmpl_off[i], self.tmpl_n[i]) if i is not None else (0, len(self.tmpl_order))
                pick[m] = self.tmpl_order[off + (u[m] * n).astype(np.int64)]
            self._copy_templates(slots, pick)
            area = reg.area[app]
            self.area[slots] = np.where(area >= 0, area, self.area[slots])
            self.hours_dem[slots] = 0.0   # not our home-care client while waiting outside

    def _copy_templates(self, slots: np.ndarray, pick: np.ndarray) -> np.ndarray:
        """Newcomers take the attributes of the recent arrivals ``pick``; returns their states."""
        tmpl = self.inputs.arrivals.templates
        s = tmpl["state"][pick]
        self.need[slots] = tmpl["need"][pick]
        self.birth[slots] = np.where(self.tmpl_age_m[pick] >= 0, self.T - self.tmpl_age_m[pick], _NEVER)
        self.sexseg[slots] = tmpl["sex"][pick] * self.r_seg + tmpl["segment"][pick] + 1
        self.area[slots] = tmpl["area"][pick]
        self.team[slots] = tmpl["team"][pick]
        self.entered[slots] = self.T
        self.hours_dem[slots] = np.minimum(np.where(_IS_HOME[s], tmpl["hours"][pick], 0.0), self.plan.max_package)
        return s

    def _priority(self, cand: np.ndarray, want: np.ndarray) -> np.ndarray:
        """Rationing priority: a delayed discharge first; then for housing the register's band
        (A first; a newcomer's band drawn from recent applications), for care homes the need."""
        prio = 10 * (self.state[cand] == HOSPITAL) + self.need[cand]
        if not self.has_register:
            return prio
        housing = _IS_HOUSING[want]
        if housing.any():
            c, w = cand[housing], want[housing]
            band = self.band[c]
            new = band < 0
            if new.any():
                # a newcomer's band from the recent applications for what they want; a household
                # moving on from temporary accommodation has a homeless application's
                mix = np.where((self.state[c[new]] == TEMPORARY) & (w[new] == GENERAL_NEEDS), TEMPORARY, w[new])
                band[new] = (self.band_u[c[new]][:, None] >= self.band_cum[mix][:, :-1]).sum(axis=1)
                self.band[c[new]] = band[new]
            prio[housing] = 10 * (self.state[c] == HOSPITAL) + 3 - band
        return prio

    def _withdrawals(self, t: int) -> None:
        """Applicants waiting for housing give up at the register's monthly rate: outsiders
        leave the forecast (they never arrived), people in the timeline stay where they are."""
        q = self.qslots
        want = self.queue[q]
        rate = self.withdraw[np.maximum(want, 0)]
        go = (rate > 0) & (self.state[q] != HOSPITAL) & (
            hashed_uniform(self.withdraw_salt + np.uint64(t), self.key[q]) < rate)
        if go.any():
            gone = q[go]
            self.queue[gone] = -1
            self.band[gone] = -1
            outside = gone[self.state[gone] == WAITING]
            self.state[outside] = EMPTY
            self.qslots = q[~go]

    def _month_uniforms(self, t: int) -> np.ndarray:
        """One float32 uniform per slot for month t (half the cost of float64, ample
        resolution): the census's from the transitions stream, the arrivals' by their keys.
        Slots nobody has arrived in keep stale values: their cell is the dead one, never
        looked at."""
        u = self._u
        self.trng.random(out=u[:self.n_fixed], dtype=np.float32)
        arrived = self.arrival_slots[:self.arrival_bounds[t]]
        if self.kernel is not None:
            self.kernel.hash_uniforms(u, arrived, self.key, self.month_salt[t])
        elif len(arrived):
            h = hashed_uniform(self.month_salt[t], self.key[arrived]).astype(np.float32)
            u[arrived] = np.minimum(h, np.float32(0.99999994))   # float32 rounding must not reach 1
        return u

    def _discharge(self, slots: np.ndarray, d: np.ndarray, at: np.ndarray, t: int) -> np.ndarray:
        holds = self.place[slots]
        home = np.where(holds >= 0, self.pool_state[np.maximum(holds, 0)], COMMUNITY)
        resident = _IS_CARE[home]
        drawn = d[at]
        to_care = _IS_CARE[drawn]
        new_admission = hashed_uniform(self.discharge_salt + np.uint64(t), self.key[slots]) < self.discharge_share[drawn]
        d = d.copy()
        d[at] = np.where(resident & ~to_care, home, np.where(~resident & to_care & ~new_admission, home, drawn))
        return d

    def _arrive(self, t: int) -> np.ndarray:
        """New people of month t into their entry state's reserved slots, copied from recent
        arrivals; those entering a full kind of place wait outside (state WAITING)."""
        lo, hi = self.arrival_bounds[t], self.arrival_bounds[t + 1]
        if lo == hi:
            return np.zeros(0, dtype=np.int64)
        slots = self.arrival_slots[lo:hi]
        pick = self.arrival_pick[lo:hi]
        tmpl = self.inputs.arrivals.templates
        s = self._copy_templates(slots, pick)
        waiting = self.plan.constrained_states[s]
        self.state[slots] = np.where(waiting, WAITING, s)
        self.queue[slots[waiting]] = s[waiting]
        self.wait[slots[waiting]] = 0
        placed = ~waiting & _IS_PLACE[s]
        if placed.any():
            pl = tmpl["pool"][pick[placed]]
            sl = slots[placed]
            self._set_place(sl, np.where(pl >= 0, pl, self.pref[s[placed], self.area[sl] + 1]))
        return slots

    # ------------------------------------------------------------------ the month
    def step(self):
        """One month, in the design's order (module docstring; docs/forecast_engine.md)."""
        m = self._begin_month()         # 1. ageing and time; queue waits and withdrawals
        self._arrivals(m)               # 2. arrivals take their slots
        self._draw_destinations(m)      # 3-4. lookup, one uniform per slot, where each goes
        self._move_unrationed(m)        # 5a. exits, hospital and hospice, community, own home, free places
        self._ration_places(m)          # 5b-6. places by priority; the rest queue where they are
        self._need_and_events(m)        # need level; admissions that begin and end inside the month
        self._home_care(m)              # cells refreshed; home-care packages and team caps
        self._count(m)                  # 7-8. the month's counts
        if self.groups is not None:
            self.groups.count(m)        # 8b. the same by area, segment and age band

    def _begin_month(self) -> _Month:
        self.t += 1
        t = self.t
        self.moved_in[:] = 0
        self.moved_off[:] = 0
        m = _Month(t=t, admissions=np.zeros(N_STATES))
        # only cells whose age or months-in-state band changes now
        self.T = t + 1
        due = (self.kernel.due(self.next_change, self.T, self._segments[t], self._buf) if self.kernel is not None
               else np.flatnonzero(self.next_change == self.T))
        self._refresh(due)
        m.due = due
        if len(self.qslots):
            self.wait[self.qslots] += 1
            if self.has_register:
                self._withdrawals(t)
        return m

    def _arrivals(self, m: _Month) -> None:
        """Arrivals take their slots now and start moving next month; their cells are set at
        the end of the month, so this month's draw leaves them alone."""
        state = self.state
        if self.kernel is not None:
            lo, hi = self.arrival_bounds[m.t], self.arrival_bounds[m.t + 1]
            m.new = self.arrival_slots[lo:hi]
            plan, tmpl = self.plan, self.inputs.arrivals.templates
            m.n_arrived, waiting = self.kernel.arrive(
                m.new, self.arrival_pick[lo:hi], self.T, self._tmpl, tmpl["hours"], self.tmpl_age_m, self.r_seg,
                _NEVER, float(plan.max_package), plan.constrained_states, state, self.need, self.birth, self.sexseg,
                self.area, self.team, self.entered, self.hours_dem, self.queue, self.wait, self.place, self.occ,
                self.moved_in, self.moved_off, self.pool_area, self.pref, m.admissions, N_LIVE, WAITING, _IS_HOME,
                _IS_PLACE)
            self.qslots = np.concatenate([self.qslots, waiting])
        else:
            m.new = new = self._arrive(m.t)
            m.n_arrived = int((state[new] < N_LIVE).sum()) if len(new) else 0
            if len(new):
                ns = state[new]
                m.admissions += np.bincount(ns[_IS_PLACE[ns]], minlength=N_STATES)
                self.qslots = np.concatenate([self.qslots, new[ns == WAITING]])
        if self.groups is not None and len(m.new):
            m.placed_new = m.new[_IS_PLACE[state[m.new]]]   # admitted on arrival (the rest wait)

    def _draw_destinations(self, m: _Month) -> None:
        """Lookup and one uniform per slot; only people outside their quiet interval (and people
        in a queue) are looked at one by one."""
        plan, state = self.plan, self.state
        m.tbl = tbl = month_table(self.inputs, self.params, plan, m.t)
        u = self._month_uniforms(m.t)
        cell = self.cell
        by_wait = plan.waiting_hospital_multiplier != 1.0
        if self.kernel is not None:
            m.looked_at = self._looked_at
            m.A = A = self.kernel.look(u, cell, tbl.q_lo32, tbl.q_hi32, self.qslots, state, N_LIVE, self.hc_wait,
                                       by_wait, self._segments[m.t], m.looked_at, self._buf)
            m.s0, m.cA, d, m.v = self.kernel.inverse_cdf(A, u, cell, state, tbl.cum0, N_STATES)
            m.qA, m.override, m.dest, m.moved = self.kernel.destinations(
                A, m.s0, d, m.t, self.place, self.pool_state, self.key, self.discharge_salt, self.discharge_share,
                self.queue, N_LIVE, COMMUNITY, _IS_AWAY, _IS_CARE)
            return
        looked_at = (u < tbl.q_lo32[cell]) | (u >= tbl.q_hi32[cell])
        looked_at[self.qslots[state[self.qslots] < N_LIVE]] = True
        if by_wait:
            looked_at |= self.hc_wait > 0
        m.looked_at = looked_at
        m.A = A = np.flatnonzero(looked_at)
        m.s0 = s0 = state[A]
        m.cA = cA = cell[A]
        uA = u[A].astype(np.float64)
        ar = np.arange(len(A))
        crow = tbl.cum0[cA]
        d = np.minimum((crow[:, 1:] <= uA[:, None]).sum(axis=1), N_STATES - 1)
        m.v = (uA - crow[ar, d]) / np.maximum(crow[ar, d + 1] - crow[ar, d], 1e-300)

        # leaving hospital or hospice for a home: the table's cell does not know where the
        # patient lives, so residents of a care home go back to their bed, and others' draws of
        # a care home are thinned to the share that are new admissions (inputs.discharge_to_care)
        disch = np.flatnonzero(_IS_AWAY[s0] & (d < N_LIVE) & ~_IS_AWAY[d])
        if len(disch):
            d = self._discharge(A[disch], d, disch, m.t)

        # queued people want their queue's state unless they die, leave or go to hospital/hospice
        m.qA = qA = self.queue[A]
        keep_draw = (d >= N_LIVE) | (_IS_AWAY[d] & (d != s0)) | (_IS_CARE[d] & (d != s0) & (d != qA))
        m.override = override = (qA >= 0) & ~keep_draw
        m.dest = np.where(override, s0, d)
        m.moved = m.dest != s0

    def _move_unrationed(self, m: _Month) -> None:
        """The moves that need no rationing: deaths and leavers, hospital and hospice, the
        community, back to one's own home, and places with no constraint on them."""
        state, plan = self.state, self.plan
        A, dest, moved = m.A, m.dest, m.moved
        if self.groups is not None:
            # admitted without rationing: moving to a place of an unconstrained kind that is not
            # the place they hold (going back to one's own home is no admission)
            held = self.place[A]
            own = (held >= 0) & (self.pool_state[np.maximum(held, 0)] == dest) if self.npool else held >= 0
            m.free_adm = A[moved & _IS_PLACE[dest] & ~own & ~plan.constrained_states[dest]]
        if self.kernel is not None:
            m.exits, m.seek_c = self.kernel.move_unrationed(
                A, dest, moved, self.T, state, self.place, self.queue, self.hours_dem, self.entered, self.occ,
                self.moved_in, self.moved_off, self.area, self.pool_area, self.pool_state, self.pref,
                plan.constrained_states, m.admissions, N_LIVE, COMMUNITY, _IS_AWAY, _IS_PLACE)
            return
        ex = moved & (dest >= N_LIVE)
        m.exits = exits = A[ex]
        if len(exits):
            state[exits] = dest[ex]
            self._set_place(exits, np.full(len(exits), -1))
            self.queue[exits] = -1
            self.hours_dem[exits] = 0.0
        away = moved & _IS_AWAY[dest]
        state[A[away]] = dest[away]
        cm = moved & (dest == COMMUNITY)
        if cm.any():
            state[A[cm]] = COMMUNITY
            self._set_place(A[cm], np.full(int(cm.sum()), -1))
        to_place = moved & _IS_PLACE[dest]
        holds = self.place[A]
        home = to_place & (holds >= 0)
        if home.any():
            home &= self.pool_state[np.maximum(holds, 0)] == dest
        state[A[home]] = dest[home]
        seek = to_place & ~home
        free_move = seek & ~plan.constrained_states[dest]
        if free_move.any():
            fm = A[free_move]
            state[fm] = dest[free_move]
            self._set_place(fm, self.pref[dest[free_move], self.area[fm] + 1])
            m.admissions += np.bincount(dest[free_move], minlength=N_STATES)
        m.seek_c = seek & plan.constrained_states[dest]
        self.entered[A[moved & ~m.seek_c]] = self.T

    def _ration_places(self, m: _Month) -> None:
        """Everyone who wants a constrained place (new seekers, queued people whose draw kept
        them waiting, the register's applicants) is offered one by priority, longest wait,
        tie-break; the rest queue where they are (in hospital: a delayed discharge)."""
        state, inputs = self.state, self.inputs
        A, dest, seek_c, override = m.A, m.dest, m.seek_c, m.override
        if self.kernel is not None:
            m.cand, want = self.kernel.candidates(A, seek_c, override, dest, m.qA, self.qslots, state, self.queue,
                                                  WAITING)
        else:
            waiting_out = self.qslots[state[self.qslots] == WAITING]
            m.cand = np.concatenate([A[seek_c], A[override], waiting_out])
            want = np.concatenate([dest[seek_c], m.qA[override], self.queue[waiting_out]])
        cand = m.cand
        m.from_hospital = 0
        newly = _NONE
        if len(cand):
            ext = self.ext_u[cand] < inputs.p_external[want] if self.any_external else np.zeros(len(cand), bool)
            free = self._free(m.t)
            prio = self._priority(cand, want)
            pref = self.pref[want, self.area[cand] + 1]
            got = np.full(len(cand), -1, dtype=np.int64)
            inside = np.flatnonzero(~ext & (pref >= 0))
            got[inside] = self._allocate(cand[inside], want[inside], prio[inside], self.wait[cand[inside]],
                                         pref[inside], free)
            if self.kernel is not None:
                m.a_slots, n_arrived, m.from_hospital, newly = self.kernel.admit(
                    cand, want, got, ext, self.T, state, self.place, self.occ, self.moved_in, self.moved_off,
                    self.area, self.pool_area, self.entered, self.queue, self.band, self.wait, m.admissions,
                    WAITING, HOSPITAL, RESIDENTIAL, NURSING)
                m.n_arrived += n_arrived
            else:
                adm = ext | (got >= 0)
                m.a_slots = a_slots = cand[adm]
                wa = want[adm]
                m.n_arrived += int((state[a_slots] == WAITING).sum())
                m.from_hospital = int(((state[a_slots] == HOSPITAL) & ((wa == RESIDENTIAL) | (wa == NURSING))).sum())
                self._set_place(a_slots, got[adm])
                state[a_slots] = wa
                self.entered[a_slots] = self.T
                self.queue[a_slots] = -1
                self.band[a_slots] = -1      # a band belongs to one application
                self.wait[a_slots] = 0
                m.admissions += np.bincount(wa, minlength=N_STATES)
                blocked = cand[~adm]
                newly = blocked[self.queue[blocked] < 0]     # the others are in the queue already
                self.queue[blocked] = want[~adm]
                self.qslots = np.concatenate([self.qslots, newly])
        if self.kernel is not None:
            self.qslots = self.kernel.still_queued(self.qslots, newly, self.queue)
        elif len(self.qslots):
            self.qslots = self.qslots[self.queue[self.qslots] >= 0]
        if self.capacity_cut[m.t]:
            m.displaced = self._displace(m.t)

    def _need_and_events(self, m: _Month) -> None:
        """The need level (own cell if the state is unchanged, else the new state's cell), from
        the residual of the month's uniform; then, from what is left of it, the admissions to
        hospital or a hospice that begin and end inside the month."""
        state, plan, tbl = self.state, self.plan, m.tbl
        A, cA, v = m.A, m.cA, m.v
        if self.kernel is not None:
            p = self.params
            m.fin, m.changed_state, m.nch, m.ev, m.n_within_h, m.n_within_hs = self.kernel.need_and_events(
                A, cA, v, m.s0, state, self.need, self.T, self.birth, self.entered, self.sexseg, _LUTS, self._dims,
                p.need_lo, p.need_hi, p.need_cum0, tbl.p_hosp, tbl.p_hospice, self.hc_wait,
                float(plan.waiting_hospital_multiplier), _IS_AWAY)
            return
        m.fin = fin = state[A]
        present = fin < N_LIVE
        m.changed_state = changed_state = present & (fin != m.s0)
        cn = cA.copy()
        if changed_state.any():
            cn[changed_state] = self._cell_of(A[changed_state], fin[changed_state], 0)
        nlo = self.params.need_lo[cn]
        nhi = self.params.need_hi[cn]
        m.nch = nch = present & ((v < nlo) | (v >= nhi))
        w = np.where(present, (v - nlo) / np.maximum(nhi - nlo, 1e-300), v)
        if nch.any():
            nrow = self.params.need_cum0[cn[nch]]
            vv = v[nch]
            nn = np.minimum((nrow[:, 1:] <= vv[:, None]).sum(axis=1), 3)
            r = np.arange(len(nn))
            w[nch] = (vv - nrow[r, nn]) / np.maximum(nrow[r, nn + 1] - nrow[r, nn], 1e-300)
            self.need[A[nch]] = nn
        ph = tbl.p_hosp[cA]
        if plan.waiting_hospital_multiplier != 1.0:
            ph = np.where(self.hc_wait[A] > 0, np.minimum(ph * plan.waiting_hospital_multiplier, 0.95), ph)
        not_away = ~_IS_AWAY[fin]
        ev_h = not_away & (w < ph)
        ev_hs = not_away & ~ev_h & (w < ph + tbl.p_hospice[cA])
        m.n_within_h = int(ev_h.sum())
        m.n_within_hs = int(ev_hs.sum())
        m.ev = ev_h.astype(np.int8) + 2 * ev_hs.astype(np.int8)

    def _home_care(self, m: _Month) -> None:
        """Cells and home-care demand of everyone whose keys changed; a package is reassessed
        only when its holder's state or need changes (or they arrive); teams with a cap on
        their hours ration them."""
        state, plan, inputs = self.state, self.plan, self.inputs
        A, cand, new = m.A, m.cand, m.new
        if self.kernel is not None:
            touched = self.kernel.touched(m.looked_at, A, cand, new, self._segments[m.t],
                                                    self._buf) if len(cand) or len(new) else A
        elif len(cand) or len(new):
            looked_at = m.looked_at
            looked_at[:] = False     # reused as the mark of who was touched (unique, in order)
            looked_at[A] = True
            looked_at[cand] = True
            looked_at[new] = True
            touched = np.flatnonzero(looked_at)
        else:
            touched = A
        self._refresh(touched)
        kc = self._keys_changed
        if self.kernel is not None:
            self.kernel.home_care_demand(touched, A, m.changed_state, m.nch, new, m.a_slots if len(cand) else _NONE,
                                         state, self.need, inputs.hours_by_need, float(plan.max_package), kc,
                                         self.hours_dem, N_STATES, _IS_HOME)
        else:
            kc[A[m.changed_state | m.nch]] = True
            kc[new] = True
            if len(cand):
                kc[m.a_slots] = True
            st_t = state[touched]
            nd_t = self.need[touched]
            in_home = _IS_HOME[st_t] & (nd_t > 0)
            target = np.minimum(np.where(in_home, inputs.hours_by_need[np.minimum(st_t, N_STATES - 1), nd_t], 0.0),
                                plan.max_package)
            self.hours_dem[touched] = np.where(kc[touched], target, self.hours_dem[touched])
            kc[touched] = False
        if np.isfinite(plan.team_caps).any():
            prev = self.hours_del.copy()
            delivered = self.hours_dem.copy()
            for team in self.teams:
                if not np.isfinite(team.hours_cap):
                    continue
                members = np.flatnonzero((self.team == team.index) & (self.hours_dem > 0))
                if self.hours_dem[members].sum() > team.hours_cap:
                    delivered[members] = team.ration(members, self.hours_dem[members], prev[members],
                                                     self.need[members], self.hc_wait[members])
            self.hours_del = delivered
            unmet = self.hours_dem - delivered
            self.hc_wait = np.where(unmet > 1e-9, self.hc_wait + 1, 0)
            m.unmet = unmet
            m.unmet_total = float(unmet.sum())
            m.hc_waiting = int((unmet > 1e-9).sum())
            self.hours_total = float(delivered.sum())
            self.hours_people = int(np.count_nonzero(delivered))
        elif self.kernel is not None:
            old_del, new_del, people = self.kernel.deliver(touched, self.hours_dem, self.hours_del)
            self.hours_total += float(new_del.sum() - old_del.sum())   # numpy's pairwise sums, as below
            self.hours_people += int(people)
            m.unmet_total, m.hc_waiting = 0.0, 0
        else:
            old_del = self.hours_del[touched]
            new_del = self.hours_dem[touched]
            self.hours_total += float(new_del.sum() - old_del.sum())
            self.hours_people += int(np.count_nonzero(new_del)) - int(np.count_nonzero(old_del))
            self.hours_del[touched] = new_del
            m.unmet_total, m.hc_waiting = 0.0, 0

    def _count(self, m: _Month) -> None:
        """The month's counts; bed days, costs and other linear KPIs are derived for all months
        at once in finish() (fewer small numpy calls in the loop)."""
        state, out, t = self.state, self.out, m.t
        fin, s0 = m.fin, m.s0
        tab = self.code_counts[:N_LIVE * 4].reshape(N_LIVE, 4)
        out[:N_LIVE, t] = tab.sum(axis=1)
        out[_NEED0:_NEED0 + 4, t] = tab.sum(axis=0)
        exit_states = state[m.exits]
        if self.kernel is not None:
            died, moved_out, enter_h, exit_h, enter_hs, exit_hs = self.kernel.month_counts(
                fin, s0, exit_states, DIED, MOVED_OUT, HOSPITAL, HOSPICE)
        else:
            died, moved_out = int((exit_states == DIED).sum()), int((exit_states == MOVED_OUT).sum())
            enter_h = int(((fin == HOSPITAL) & (s0 != HOSPITAL)).sum())
            exit_h = int(((s0 == HOSPITAL) & (fin != HOSPITAL)).sum())
            enter_hs = int(((fin == HOSPICE) & (s0 != HOSPICE)).sum())
            exit_hs = int(((s0 == HOSPICE) & (fin != HOSPICE)).sum())
        self.raw[:, t] = (
            m.n_arrived, died, moved_out, m.from_hospital, m.n_within_h, enter_h, exit_h,
            m.n_within_hs, enter_hs, exit_hs, self.hours_total, m.unmet_total, m.hc_waiting, self.hours_people,
        )
        out[_ADM0:_ADM0 + len(PLACE_STATES), t] = m.admissions[_PLACE_ARR]
        qs = self.qslots
        if len(qs):
            q_want = self.queue[qs]
            out[K["delayed_discharges"], t] = int((state[qs] == HOSPITAL).sum())
            out[_WAIT0:_WAIT0 + len(PLACE_STATES), t] = np.bincount(q_want, minlength=N_STATES)[_PLACE_ARR]
            out[_MWAIT0:_MWAIT0 + len(PLACE_STATES), t] = np.bincount(
                q_want, weights=self.wait[qs], minlength=N_STATES)[_PLACE_ARR]
        occ_units = self.occ / self.pool_ppu
        out[_OCC0:_OCC0 + len(PLACE_STATES), t] = self.type_matrix @ occ_units
        hv = self.housing_ppu_inv
        out[K["lets"], t] = self.moved_in @ hv
        out[K["tenancy_ends"], t] = self.moved_off @ hv
        out[K["voids"], t] = np.maximum(self.void_cap[:, t] - occ_units, 0) @ self.void_mask
        self.relet_hist[:, 1:] = self.relet_hist[:, :-1]
        self.relet_hist[:, 0] = self.moved_off

    def finish(self) -> np.ndarray:
        """Derive the linear KPIs of every month: bed days, capacity, waits, churn, costs."""
        out, raw, plan = self.out, self.raw, self.plan
        dim = plan.days
        weeks = dim / 7.0
        (arr, deaths, moved_out, from_hosp, within_h, enter_h, exit_h, within_hs, enter_hs, exit_hs,
         hours_week, unmet_week, hc_waiting, hc_people) = raw
        out[K["people_total"]] = out[:N_LIVE].sum(axis=0)
        out[K["arrivals"]] = arr
        out[K["deaths"]] = deaths
        out[K["moved_out"]] = moved_out
        out[K["care_home_admissions"]] = out[K["admissions_residential_care"]] + out[K["admissions_nursing_care"]]
        out[K["care_home_admissions_from_hospital"]] = from_hosp
        stay_h = out[K["people_hospital"]] - enter_h
        out[K["hospital_admissions"]] = enter_h + within_h
        out[K["hospital_bed_days"]] = self.hospital.bed_days(within_h, enter_h, stay_h, exit_h, dim)
        out[K["delayed_bed_days"]] = self.hospital.long_stay_days(within_h, enter_h, stay_h, exit_h, dim)
        out[K["hospice_admissions"]] = enter_hs + within_hs
        out[K["hospice_bed_days"]] = self.hospice.bed_days(within_hs, enter_hs, out[K["people_hospice"]] - enter_hs,
                                                          exit_hs, dim)
        out[_CAP0:_CAP0 + len(PLACE_STATES)] = [self.pool_cap_units[self.pool_state == st].sum(axis=0)
                                                for st in PLACE_STATES]
        n_wait = out[_WAIT0:_WAIT0 + len(PLACE_STATES)]
        out[_MWAIT0:_MWAIT0 + len(PLACE_STATES)] = np.divide(out[_MWAIT0:_MWAIT0 + len(PLACE_STATES)], n_wait,
                                                             out=np.zeros_like(n_wait), where=n_wait > 0)
        out[K["home_care_people"]] = hc_people
        out[K["home_care_hours"]] = hours_week * weeks
        out[K["home_care_hours_unmet"]] = unmet_week * weeks
        out[K["home_care_waiting"]] = hc_waiting
        occ_h = out[_OCC0:_OCC0 + len(PLACE_STATES)][[PLACE_STATES.index(s) for s in HOUSING_STATES]].sum(axis=0)
        out[K["churn_rate"]] = np.divide(out[K["tenancy_ends"]], occ_h, out=np.zeros_like(occ_h), where=occ_h > 0)
        for name, series in cost_by_payer({k: out[K[k]] for k in COST_INPUTS}, plan.costs, dim).items():
            out[K[name]] = series
        return out

    def _displace(self, t: int) -> np.ndarray:
        """A capacity cut (a closure) displaces the residents beyond the new capacity: they take
        free places of the same kind elsewhere, else placements outside our units (still in the
        same state, at the same cost). Returns who was displaced."""
        over = np.flatnonzero(self.occ > self.pool_cap_people[:, t])
        if len(over) == 0:
            return _NONE
        present = self.state < N_LIVE
        slots = []
        for j in over:
            residents = np.flatnonzero(present & (self.place == j))
            k = int(self.occ[j] - self.pool_cap_people[j, t])
            slots.append(residents[len(residents) - k:])
        slots = np.concatenate(slots)
        free = self._free(t)
        free[over] = 0
        want = self.pool_state[self.place[slots]]
        self._set_place(slots, np.full(len(slots), -1))
        pref = self.pref[want, self.area[slots] + 1]
        got = self._allocate(slots, want, np.full(len(slots), 100), self.wait[slots], pref, free)
        self._set_place(slots[got >= 0], got[got >= 0])
        return slots

    def run(self) -> np.ndarray:
        for _ in range(self.plan.months):
            self.step()
        return self.finish()

    def release(self):
        """Break the model <-> agent reference cycle and drop the population arrays now. Why:
        a worker runs thousands of models; left to the cyclic garbage collector (which counts
        objects, not bytes) their arrays piled up to gigabytes."""
        out = self.out
        self.remove_all_agents()
        self.place_units, self.teams, self.hospital, self.hospice = [], [], None, None
        self.params = self.inputs = self.plan = None
        for name in [k for k, v in vars(self).items() if isinstance(v, np.ndarray)]:
            setattr(self, name, None)
        self.groups = None
        self.out = out


def run_one(inputs: SimulationInputs, plan: RunPlan, params: ReplicationParams,
            breakdown: bool = False):
    """The KPI matrix (len(KPIS), months) of one replication of one plan; with ``breakdown``
    also the same by area, segment and age band, (``Layout.n_series``, months)
    (``simulation/breakdowns.py``): a pair."""
    model = ForecastModel(inputs, plan, params, breakdown=breakdown)
    try:
        out = model.run()
        return (out, model.groups.result()) if breakdown else out
    finally:
        model.release()
