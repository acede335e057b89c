"""Everything the forecast engine needs, estimated once from the warehouse.

Why one frozen bundle of arrays: every replication (and every worker process) starts from the
same census, tables and rates; pickling one dataclass of numpy arrays to each worker is cheap,
and a fingerprint of its contents seeds the run, so the same warehouse gives the same forecast.

The estimators here are the fallback "tables estimated from the timeline" (docs/forecast_engine.md): the
transition and need tables are hierarchical back-off frequencies over the lattice
(``simulation.tables``); ``SimulationInputs.with_tables`` swaps in models_ml's LightGBM tables
when they exist, as they share the lattice contract.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.vocabulary import states as V
from contracts.vocabulary.areas import AREA_TEAM, TEAMS
from contracts.vocabulary.costs import default_costs
from simulation.lattice import (
    LIVE_STATES,
    NEED_COLUMNS,
    STATE_CODE,
    STATES,
    TRANSITION_COLUMNS,
    Lattice,
    age_band_index,
    months_in_state_band_index,
    validate_table,
)
from simulation.recency import (
    CHANGE_PRIOR,
    apply_transition_factors,
    credibility,
    step_robust_wander_sd,
    transition_factors,
    yearly_of_counts,
)
from simulation.register import Register, read_register
from simulation.stays import expected_days, stay_months
from simulation.tables import backoff, level_groups, poisson_bootstrap

N_STATES = len(STATES)
N_LIVE = len(LIVE_STATES)
MOVED_OUT = STATE_CODE["moved_out"]
DIED = STATE_CODE["died"]
HOSPITAL = STATE_CODE["hospital"]
HOSPICE = STATE_CODE["hospice"]
RESIDENTIAL = STATE_CODE["residential_care"]
NURSING = STATE_CODE["nursing_care"]
EXTRA_CARE = STATE_CODE["extra_care"]
TEMPORARY = STATE_CODE["temporary"]
SHELTERED = STATE_CODE["sheltered"]
GENERAL_NEEDS = STATE_CODE["general_needs"]
COMMUNITY = STATE_CODE["community"]

# The vocabulary's groups of states, as codes: whose people hold a place (a flat, a unit, a
# bed) in one of the provider's pools; the housing ones; where home care is delivered (in
# hospital a package is suspended).
PLACE_STATES: tuple[int, ...] = tuple(STATE_CODE[s] for s in V.PLACE_STATES)
HOUSING_STATES: tuple[int, ...] = tuple(STATE_CODE[s] for s in V.HOUSING_STATES)
HOME_STATES: tuple[int, ...] = tuple(STATE_CODE[s] for s in V.HOME_STATES)
# Capacity binds in every pool: the stock is finite, and historical moves in were what the
# stock allowed, so an unconstrained general-needs estate would drift past its own size.
DEFAULT_CONSTRAINED: tuple[int, ...] = (GENERAL_NEEDS, SHELTERED, EXTRA_CARE, TEMPORARY, RESIDENTIAL, NURSING)

SEXES_CODE = {"F": 0, "M": 1}
# Void time between tenancies when the warehouse cannot say (about 60 days in housing, a month
# in temporary accommodation; a care-home bed is refilled at once).
DEFAULT_RELET_MONTHS = {GENERAL_NEEDS: 2.0, SHELTERED: 2.0, EXTRA_CARE: 1.8, TEMPORARY: 0.9, RESIDENTIAL: 0.0,
                        NURSING: 0.0}
# The home-care teams and the areas they cover (AREA_TEAM, TEAMS) and the unit costs are the
# vocabulary's (contracts/vocabulary/areas.py, costs.py); every cost is overridable by a scenario.
DEFAULT_COSTS: dict[str, float] = default_costs()


@dataclass
class Pool:
    """A set of identical places in one service unit: a scheme's flats, or a care home's
    residential or nursing beds. ``capacity`` is in units (flats, beds); ``persons_per_unit``
    converts to people, because the timeline counts people and a flat holds a household."""

    unit_id: str
    name: str
    kind: str            # general_needs, sheltered, extra_care, temporary, care_home
    state: int           # the state its occupants are in
    area: str
    capacity: float
    persons_per_unit: float = 1.0
    persons_per_unit_sd: float = 0.0   # relative: how much the people per unit wander month to month


@dataclass
class ArrivalModel:
    """Monthly arrivals by entry state: rate at the reference month (de-seasonalised), annual
    growth, month-of-year factors, and the recent arrivals to draw newcomers from."""

    entry_states: np.ndarray            # state codes
    base_rate: np.ndarray               # per month, at the reference month
    growth: np.ndarray                  # annual multiplicative growth - 1
    growth_se: np.ndarray
    window_count: np.ndarray            # arrivals counted in the estimation window
    window_exposure: np.ndarray         # season-and-trend-weighted months of that window
    season: np.ndarray                  # (12,) month-of-year factors, mean 1
    templates: dict[str, np.ndarray]    # recent arrivals: state, need, age, sex, segment, area, pool, team, hours
    drift_sd: np.ndarray | None = None  # per entry state: sd of a year's log rate beyond chance
    # per entry state: month-to-month overdispersion (variance = mean + k * mean^2): people
    # arrive in households and a new scheme lets many flats at once, so monthly counts vary
    # more than Poisson
    overdispersion: np.ndarray | None = None
    recency: dict = field(default_factory=dict)   # entry states whose level followed the last 12 months


@dataclass
class SimulationInputs:
    reference_month: np.datetime64      # the census month (forecast month 1 is the next one)
    n_segments: int
    # census, one entry per live person
    state: np.ndarray
    need: np.ndarray
    age: np.ndarray                     # float years, NaN unknown
    sex: np.ndarray                     # 0 F, 1 M, 2 unknown (lattice.SEXES)
    segment: np.ndarray                 # -1 unknown
    months_in_state: np.ndarray
    area: np.ndarray                    # index into areas, -1 unknown
    pool: np.ndarray                    # index into pools, -1 none (the place held)
    team: np.ndarray                    # index into TEAMS
    weekly_hours: np.ndarray
    # tables over the lattice
    transition: np.ndarray              # (lattice.size, 11)
    need_table: np.ndarray              # (lattice.size, 4)
    events: np.ndarray                  # (lattice.size, 2): within-month hospital, hospice admission
    season_transition: np.ndarray       # (12, 11) multipliers on moves into each state
    arrivals: ArrivalModel
    pools: list[Pool]
    areas: tuple[str, ...]
    hours_by_need: np.ndarray           # (11, 4) mean weekly home-care hours
    bed_days: dict[str, float]          # hospital: within, enter, exit; hospice: stay
    p_external: np.ndarray              # (11,) share of admissions to a state placed outside our pools
    costs: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_COSTS))
    # months a place stays void after its occupant leaves, by state (repairs, relet)
    relet_months: dict = field(default_factory=lambda: dict(DEFAULT_RELET_MONTHS))
    # raw counts for bootstrap replicates (None when the tables came from a model)
    transition_counts: np.ndarray | None = None
    need_counts: np.ndarray | None = None
    event_counts: np.ndarray | None = None
    backoff_strength: float = 10.0
    # per destination state: how far a year's rate of moves into it strays from the table beyond
    # chance (sd of the log), and the table's own estimation error (used when a model's table
    # carries no counts to bootstrap); see rate_drift()
    rate_drift_sd: np.ndarray | None = None
    # (11,) relative spread of people per unit of each kind of housing as a whole (one factor
    # per replication shared by all its pools, on top of each pool's own persons_per_unit_sd)
    household_size_sd: np.ndarray | None = None
    relet_sd: np.ndarray | None = None   # (11,) sd of the log of a year's mean relet time
    # (11,) of the moves from hospital or hospice into a care home drawn for someone who does
    # not live in one, the share that is a new admission (see discharge_to_care()); None: all
    discharge_to_care: np.ndarray | None = None
    rate_param_sd: np.ndarray | None = None
    # (11, 11) factors on moves origin -> destination recalibrating the table to the last 12
    # months (simulation.recency); applied to the point table and again to every bootstrap
    # replicate of the counts (a replicate is re-backed-off from counts of five years)
    transition_recency: np.ndarray | None = None
    # (11, 2) factors on within-month hospital and hospice admissions by origin state, likewise
    # reapplied to every bootstrap replicate of the event counts (else replicates would forget them)
    event_recency: np.ndarray | None = None
    # tonight's open register applications and the register's rates (simulation.register);
    # None: waiting lists start empty (a warehouse without the register mart, a toy provider)
    register: Register | None = None
    provenance: dict = field(default_factory=dict)

    @property
    def lattice(self) -> Lattice:
        return Lattice(self.n_segments)

    @property
    def n_people(self) -> int:
        return int(len(self.state))

    def fingerprint(self) -> str:
        """A content hash: same warehouse, same estimates, same hash (it seeds the run)."""
        h = hashlib.sha256()
        for name in ("state", "need", "age", "sex", "segment", "months_in_state", "area", "pool",
                     "weekly_hours", "transition", "need_table", "events", "season_transition"):
            h.update(np.ascontiguousarray(getattr(self, name)).tobytes())
        h.update(str(self.reference_month).encode())
        h.update(repr([(p.unit_id, p.state, p.capacity, round(p.persons_per_unit, 9), round(p.persons_per_unit_sd, 9))
                       for p in self.pools]).encode())
        a = self.arrivals
        for arr in (a.entry_states, a.base_rate, a.growth, a.season):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(repr(sorted(self.costs.items())).encode())
        extra = self.register.fingerprint_parts() if self.register is not None else []
        for arr in (self.rate_drift_sd, self.rate_param_sd, a.drift_sd, a.overdispersion, self.discharge_to_care,
                    self.household_size_sd, self.relet_sd, *extra):
            if arr is not None:
                h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        return h.hexdigest()

    def with_tables(self, transition_table: pd.DataFrame, need_table: pd.DataFrame) -> "SimulationInputs":
        """The same inputs with models_ml's probability tables (lattice.py format). Model tables
        carry no counts, so replications then share the table (no bootstrap)."""
        lat = self.lattice
        return replace(
            self,
            transition=np.hstack([validate_table(transition_table, lat, TRANSITION_COLUMNS, "transition table")]),
            need_table=validate_table(need_table, lat, NEED_COLUMNS, "need table"),
            transition_counts=None, need_counts=None,
            provenance={**self.provenance, "tables": "model"},
        )

    def replicate_tables(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Transition, need and event tables for one replication: a Poisson bootstrap of the
        training person-months when the counts are known, else the point tables."""
        if self.transition_counts is None:
            return self.transition, self.need_table, self.events
        groups = level_groups(self.lattice)
        prior_t, prior_n, prior_e = root_priors(self.lattice)
        t = backoff(poisson_bootstrap(self.transition_counts, rng), groups, prior_t, self.backoff_strength)
        if self.transition_recency is not None:
            t = apply_transition_factors(t, self.lattice.decode(np.arange(self.lattice.size))[0],
                                         self.transition_recency)
        n = self.need_table if self.need_counts is None else backoff(
            poisson_bootstrap(self.need_counts, rng), groups, prior_n, self.backoff_strength)
        e = self.events if self.event_counts is None else backoff(
            poisson_bootstrap(self.event_counts, rng), groups, prior_e, self.backoff_strength)[:, :2]
        if self.event_counts is not None and self.event_recency is not None:
            e = np.minimum(e * self.event_recency[self.lattice.decode(np.arange(self.lattice.size))[0]], 0.95)
        return t, n, e


# --------------------------------------------------------------------------------------------
# Estimation helpers shared with the toy builder


def root_priors(lattice: Lattice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a state with no data at all does: stays put (transitions), keeps its need level
    (needs), has no events. Weight 1 pseudo-observation, so any data overrides it."""
    state, need, *_ = lattice.decode(np.arange(lattice.size))
    prior_t = np.zeros((lattice.size, N_STATES))
    prior_t[np.arange(lattice.size), state] = 1.0
    prior_n = np.zeros((lattice.size, 4))
    prior_n[np.arange(lattice.size), need] = 1.0
    prior_e = np.zeros((lattice.size, 3))
    prior_e[:, 2] = 1.0
    return prior_t, prior_n, prior_e


def tables_from_counts(lattice: Lattice, t_counts, n_counts, e_counts, strength: float = 10.0):
    groups = level_groups(lattice)
    prior_t, prior_n, prior_e = root_priors(lattice)
    return (backoff(t_counts, groups, prior_t, strength), backoff(n_counts, groups, prior_n, strength),
            backoff(e_counts, groups, prior_e, strength)[:, :2])


def cells_of(lattice: Lattice, state, need, age, sex, segment, months_in_state) -> np.ndarray:
    return lattice.encode(np.asarray(state), np.asarray(need), age_band_index(age), np.asarray(sex),
                          np.asarray(segment), months_in_state_band_index(months_in_state))


def month_add(month: np.datetime64, k: int) -> np.datetime64:
    return (np.datetime64(month, "M") + np.timedelta64(int(k), "M")).astype("datetime64[D]")


def days_in_months(dates) -> np.ndarray:
    """Days in each month of ``dates`` (month starts): what costs by the week are priced on."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    return ((dates.astype("datetime64[M]") + 1).astype("datetime64[D]") - dates).astype(float)


def _month(value) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).to_period("M").to_timestamp().date(), "D")


# --------------------------------------------------------------------------------------------
# From the warehouse

_ROWS_SQL = """
with pm as (
    select f.person_key, f.month_start, f.state, f.need_level, f.weekly_care_hours, f.age,
           f.area_code, f.scheme_id, f.unit_id, f.is_first_month, f.is_hospital_admission,
           f.is_hospice_admission,
           case when f.state = lag(f.state) over w then 0 else 1 end as is_change
    from marts.fct_person_month f
    where f.month_start <= ?
    window w as (partition by f.person_key order by f.month_start)
), runs as (
    select *, sum(is_change) over (partition by person_key order by month_start
                                   rows between unbounded preceding and current row) as run_id
    from pm
), feats as (
    select *, row_number() over (partition by person_key, run_id order by month_start) - 1 as months_in_state,
           lead(state) over (partition by person_key order by month_start) as next_state,
           lead(need_level) over (partition by person_key order by month_start) as next_need,
           lead(is_hospital_admission) over (partition by person_key order by month_start) as next_hosp,
           lead(is_hospice_admission) over (partition by person_key order by month_start) as next_hospice,
           lead(month_start) over (partition by person_key order by month_start) as next_month
    from runs
)
select f.person_key, f.month_start, f.state, f.need_level, f.weekly_care_hours, f.age,
       f.area_code, f.scheme_id, f.unit_id, f.is_first_month, f.months_in_state,
       f.next_state, f.next_need, f.next_hosp, f.next_hospice, f.next_month,
       p.sex, p.birth_month
from feats f left join marts.dim_person p on p.person_key = f.person_key
where f.month_start >= ?
order by f.person_key, f.month_start  -- the census's order decides who draws which random number
"""


def reference_month_of(con, as_of=None) -> np.datetime64:
    """The census month: the latest complete month of the timeline, or the month of ``as_of``."""
    last = con.execute(
        "select max(f.month_start) from marts.fct_person_month f "
        "join marts.dim_month m on m.month_start = f.month_start where m.is_complete = 1").fetchone()[0]
    if last is None:
        raise ValueError("marts.fct_person_month: no complete month to take a census from")
    ref = _month(last)
    if as_of is not None:
        ref = min(ref, _month(as_of))
    return ref


def estimate_inputs(con, as_of=None, n_segments: int = 0, segments=None, *, tables=None, recency: bool = True,
                    window_months: int = 60, arrival_window_months: int = 36, template_months: int = 24,
                    backoff_strength: float = 10.0) -> SimulationInputs:
    """Build the engine's inputs from the warehouse (a DuckDB connection, read-only is enough).

    Only data up to the census month ``as_of`` is read (the backtest relies on it): transitions
    from month t to t+1 with t+1 at or before it, arrivals up to it, the census at it, capacity
    as of it. ``segments`` maps person_key to a segment 0..n_segments-1 (a DataFrame with
    person_key and segment, or a mapping); unknown people get -1.

    ``tables``: the models' probability tables (a ``ProbabilityTables``, or a pair of
    transition and need DataFrames in lattice.py's format) to use instead of the back-off
    estimate. Everything estimated *against* the table (month-of-year factors, the year-to-year
    wander, the share of discharges to care that are admissions, the recalibration to the last
    12 months) is then measured against the table the engine will run on.
    ``recency``: recalibrate transitions, within-month admissions and arrivals to the last 12
    months (``simulation.recency``). Callers should use ``forecast_inputs.build_forecast_inputs``,
    the one way the nightly forecast, the command line and the explorer build their inputs.
    """
    ref = reference_month_of(con, as_of)
    lat = Lattice(n_segments)
    start = month_add(ref, -max(window_months, arrival_window_months, template_months) - 1)
    rows = con.execute(_ROWS_SQL, [pd.Timestamp(ref).date(), pd.Timestamp(start).date()]).df()
    if rows.empty:
        raise ValueError("marts.fct_person_month: no rows before the census month")
    rows["month_start"] = pd.to_datetime(rows["month_start"]).values.astype("datetime64[D]")
    seg = _segments_for(rows["person_key"], segments, n_segments)
    sex = rows["sex"].map(SEXES_CODE).fillna(2).to_numpy(np.int64)
    state = rows["state"].map(STATE_CODE).to_numpy(np.int64)
    need = rows["need_level"].fillna(0).to_numpy(np.int64).clip(0, 3)
    age_whole = rows["age"].to_numpy(dtype=float, na_value=np.nan)
    mis = rows["months_in_state"].to_numpy(np.int64)
    month = rows["month_start"].to_numpy()

    # ---- transition, need and event counts over the lattice
    train_from = month_add(ref, -window_months)
    nxt = rows["next_state"].map(STATE_CODE)
    is_train = (nxt.notna().to_numpy() & (state < N_LIVE) & (month >= train_from)
                & (rows["next_month"].notna().to_numpy()))
    tr = np.flatnonzero(is_train)
    cell = cells_of(lat, state[tr], need[tr], age_whole[tr], sex[tr], seg[tr], mis[tr])
    to = nxt.to_numpy()[tr].astype(np.int64)
    t_counts = np.bincount(cell * N_STATES + to, minlength=lat.size * N_STATES).reshape(lat.size, N_STATES).astype(float)
    nn = rows["next_need"].to_numpy(dtype=float, na_value=0)[tr].astype(np.int64).clip(0, 3)
    live_next = to < N_LIVE
    n_counts = np.bincount(cell[live_next] * 4 + nn[live_next], minlength=lat.size * 4).reshape(lat.size, 4).astype(float)
    hosp = (rows["next_hosp"].fillna(0).to_numpy()[tr] == 1) & (to != HOSPITAL)
    hospice = (rows["next_hospice"].fillna(0).to_numpy()[tr] == 1) & (to != HOSPICE) & ~hosp
    ev, not_away, e_counts = within_month_counts(cell, to, hosp, hospice, lat.size)
    transition, need_table, events = tables_from_counts(lat, t_counts, n_counts, e_counts, backoff_strength)
    table_source = "backoff"
    if tables is not None:
        transition, need_table = _model_tables(tables, lat)
        table_source = "model"
    state_of_cell = lat.decode(np.arange(lat.size))[0]

    # ---- month-of-year effects on moves into hospital and death (winter pressure)
    month_of_year = (month[tr].astype("datetime64[M]").astype(np.int64) % 12) + 1  # of month t
    # the move lands in month t+1
    moy_next = (month_of_year % 12)
    season_transition = np.ones((12, N_STATES))
    moved = to != state[tr]
    for dest in (HOSPITAL, DIED):
        obs = np.bincount(moy_next[moved & (to == dest)], minlength=12).astype(float)
        p_move = transition[cell, dest] * (state[tr] != dest)
        exp = np.bincount(moy_next, weights=p_move, minlength=12)
        k = 5.0
        f = (obs + k) / (exp + k)
        season_transition[:, dest] = f / np.mean(f)

    # ---- how much the rates wander from year to year beyond chance (widens the bands)
    rate_drift_sd = rate_drift(state[tr], to, cell, month[tr], transition, ref,
                               hospital_events=(ev == 0), hospital_expected=events[cell, 0] * not_away)
    cell_state = lat.decode(np.arange(lat.size))[0]
    moves_into = t_counts.sum(axis=0) - np.bincount(cell_state, weights=t_counts[np.arange(lat.size), cell_state],
                                                    minlength=N_STATES)
    # (capped: a move seen a handful of times is too rare for its factor to matter, and an
    # uncapped 1/sqrt(1) would multiply it by anything from a tenth to ten)
    rate_param_sd = np.minimum(1.0 / np.sqrt(np.maximum(moves_into, 1.0)), 0.3)

    discharge = discharge_to_care(rows, state, tr, cell, to, transition)

    # ---- recent change: the table's moves and within-month admissions recalibrated to the
    # last 12 months where the flows have shifted beyond their usual wander (simulation.recency)
    recency_record = {"transitions": {}, "events": {}}
    t_factors = None
    e_factors = np.ones((N_STATES, 2))
    if recency:
        # within-month admissions by origin, yearly: pooled with the moves into the same place
        # (a change in hospital admissions shows in both) for each destination's prior
        event_years = {}
        for j, dest in ((0, HOSPITAL), (1, HOSPICE)):
            for o in range(N_LIVE):
                rows_o = (state[tr] == o) & not_away
                if rows_o.any():
                    event_years[j, o] = yearly_of_counts((ev[rows_o] == j).astype(float), month[tr][rows_o],
                                                         events[cell[rows_o], j], ref)
        also_into = {dest: tuple(np.sum([v[i] for (jj, _), v in event_years.items() if jj == j], axis=0)
                                 for i in (0, 1))
                     for j, dest in ((0, HOSPITAL), (1, HOSPICE)) if any(jj == j for jj, _ in event_years)}
        t_factors, moved_flows, into = transition_factors(state[tr], to, cell, month[tr], transition, ref, N_LIVE,
                                                          also_into=also_into)
        transition = apply_transition_factors(transition, state_of_cell, t_factors)
        recency_record["transitions"] = {f"{STATES[o]}->{STATES[d]}": c.__dict__ for (o, d), c in moved_flows.items()}
        recency_record["destinations"] = {STATES[d]: {"prior": prior, "p_change": p}
                                          for d, (prior, p) in into.items() if prior > CHANGE_PRIOR}
        for (j, o), (obs_y, exp_y) in event_years.items():
            kind = "hospital" if j == 0 else "hospice"
            c = credibility(obs_y, exp_y, change_prior=into[HOSPITAL if j == 0 else HOSPICE][0])
            e_factors[o, j] = c.factor
            if c.factor != 1.0:
                events[state_of_cell == o, j] *= c.factor
                if abs(c.factor - 1.0) >= 0.02:
                    recency_record["events"][f"{STATES[o]} within-month {kind}"] = c.__dict__
        events[:, :2] = np.minimum(events[:, :2], 0.95)

    # ---- census
    at_ref = np.flatnonzero((month == ref) & (state < N_LIVE))
    birth = pd.to_datetime(rows["birth_month"].iloc[at_ref]).to_numpy().astype("datetime64[M]")
    ref_m = np.datetime64(ref, "M")
    age_months = (ref_m - birth).astype("timedelta64[M]").astype(float)
    age_months[np.isnat(birth)] = np.nan
    age_months[age_months < 0] = np.nan
    census_age = (age_months + 0.5) / 12.0
    pools, pool_index = _pools(con, ref, rows, at_ref, state)
    household_size_sd = _household_size_spread(pools, rows, month, ref)
    areas = tuple(sorted(set(AREA_TEAM) | {p.area for p in pools if p.area}))
    area_idx = {a: i for i, a in enumerate(areas)}
    c_state = state[at_ref]
    c_scheme = rows["scheme_id"].iloc[at_ref].to_numpy(dtype=object)
    home_state = _home_states(rows, at_ref, state)
    c_pool = np.array([pool_index.get((s, hs), -1) if s is not None else -1
                       for s, hs in zip(c_scheme, home_state)], dtype=np.int64)
    c_area_code = rows["area_code"].iloc[at_ref].to_numpy(dtype=object)
    c_area = np.array([area_idx.get(a, -1) if isinstance(a, str) else -1 for a in c_area_code], dtype=np.int64)
    c_keys = rows["person_key"].iloc[at_ref].to_numpy(dtype=object)
    c_hours = rows["weekly_care_hours"].iloc[at_ref].fillna(0).to_numpy(float)
    team = _teams(c_area_code, c_keys, c_hours)

    # ---- home-care hours by state and need (last 12 months)
    recent = month > month_add(ref, -12)
    hours = rows["weekly_care_hours"].fillna(0).to_numpy(float)
    hours_by_need = _hours_by_need(state[recent], need[recent], hours[recent])

    # ---- arrivals
    arrivals = _arrivals(rows, state, need, age_whole, sex, seg, month, ref, arrival_window_months,
                         template_months, pool_index, area_idx, hours, recency=recency)
    if recency:
        recency_record["arrivals"] = arrivals.recency

    # ---- where admissions go: a share of care-home entrants live in homes we do not run
    p_external = np.zeros(N_STATES)
    first_rows = (mis == 0) & (month > train_from)
    for s in (RESIDENTIAL, NURSING):
        entered = first_rows & (state == s)
        if entered.sum() >= 5:
            p_external[s] = float(rows["scheme_id"].isna().to_numpy()[entered].mean())

    # ---- tonight's register: the waiting lists the forecast starts from; newcomers into the
    # housing it covers arrive at the register's rate of applications per let (demand, not the
    # lets capacity allowed), and the people sharing an applicant's home queue with them
    register = read_register(con, ref, c_keys, c_state, area_idx)
    if register is not None:
        register = _with_co_residents(register, rows["unit_id"].iloc[at_ref].to_numpy(dtype=object), c_state)
        for i, st in enumerate(arrivals.entry_states):
            f = register.inflow[st]
            if f != 1.0:
                arrivals.base_rate[i] *= f
                arrivals.window_exposure[i] /= f
        # our own people apply for sheltered and extra care too: the moves into them the table
        # learnt were lets, the demand is the register's applications per let of them
        demand = np.ones((N_STATES, N_STATES))
        for d in (SHELTERED, EXTRA_CARE):
            demand[:, d] = register.inflow[d]
            demand[d, d] = 1.0
        transition = apply_transition_factors(transition, state_of_cell, demand)
        t_factors = demand if t_factors is None else t_factors * demand

    bed_days = _bed_days(con, ref, window_months)
    relet, relet_sd = _relet_months(con, ref)
    relet = _relet_by_littles_law(relet, pools, c_pool, state, rows["next_state"], month, ref)
    return SimulationInputs(
        reference_month=ref, n_segments=n_segments,
        state=c_state.astype(np.int8), need=need[at_ref].astype(np.int8), age=census_age.astype(np.float64),
        sex=sex[at_ref].astype(np.int8), segment=seg[at_ref].astype(np.int8),
        months_in_state=mis[at_ref].astype(np.int32), area=c_area, pool=c_pool, team=team,
        weekly_hours=c_hours, transition=transition, need_table=need_table, events=events,
        season_transition=season_transition, arrivals=arrivals, pools=pools, areas=areas,
        hours_by_need=hours_by_need, bed_days=bed_days, p_external=p_external, relet_months=relet,
        transition_counts=t_counts if table_source == "backoff" else None,
        need_counts=n_counts if table_source == "backoff" else None, event_counts=e_counts,
        backoff_strength=backoff_strength, rate_drift_sd=rate_drift_sd, rate_param_sd=rate_param_sd,
        discharge_to_care=discharge, household_size_sd=household_size_sd, relet_sd=relet_sd,
        transition_recency=t_factors if table_source == "backoff" else None,
        event_recency=e_factors if recency else None, register=register,
        provenance={"source": "warehouse", "tables": table_source, "window_months": window_months,
                    "training_person_months": int(len(tr)), "census_people": int(len(at_ref)),
                    "reference_month": str(ref), "recency": recency_record},
    )


def _with_co_residents(reg: Register, census_unit: np.ndarray, census_state: np.ndarray) -> Register:
    """Applicants in the census bring the people sharing their home (same unit, same state):
    a household moves together. Each becomes its own entry (size 1) of the applicant's
    application; outsiders keep one entry for the household (size = its people)."""
    inside = np.flatnonzero(reg.person >= 0)
    if len(inside) == 0:
        return reg
    by_home: dict = {}
    for i, (u, st) in enumerate(zip(census_unit, census_state)):
        if u is not None and not (isinstance(u, float) and np.isnan(u)):
            by_home.setdefault((u, int(st)), []).append(i)
    rows, people = [], []
    taken: set = set()
    for j in range(reg.n):
        p = int(reg.person[j])
        if p < 0:
            rows.append(j)
            people.append(-1)
            continue
        home = (census_unit[p], int(census_state[p]))
        for q in [p] + [q for q in by_home.get(home, []) if q != p]:
            if q not in taken:        # on two lists (sheltered and extra care): the first keeps them
                taken.add(q)
                rows.append(j)
                people.append(q)
    rows = np.asarray(rows, dtype=np.int64)
    people = np.asarray(people, dtype=np.int64)
    size = np.where(people >= 0, 1, reg.size[rows])
    return replace(reg, want=reg.want[rows], band=reg.band[rows], months_waiting=reg.months_waiting[rows],
                   size=size, area=reg.area[rows], person=people)


def _model_tables(tables, lattice: Lattice) -> tuple[np.ndarray, np.ndarray]:
    """The models' transition and need tables as arrays over ``lattice`` (validated)."""
    transition, need = (tables.transition, tables.need) if hasattr(tables, "transition") else tables
    if hasattr(tables, "lattice") and tables.lattice.n_segments != lattice.n_segments:
        raise ValueError(f"the probability tables are for {tables.lattice.n_segments} segments, "
                         f"the census for {lattice.n_segments}: pass the segments the tables were built with")
    return (np.ascontiguousarray(validate_table(transition, lattice, TRANSITION_COLUMNS, "transition table")),
            np.ascontiguousarray(validate_table(need, lattice, NEED_COLUMNS, "need table")))


def _segments_for(keys: pd.Series, segments, n_segments: int) -> np.ndarray:
    if segments is None or n_segments == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    if isinstance(segments, pd.DataFrame):
        mapping = dict(zip(segments["person_key"], segments["segment"]))
    else:
        mapping = dict(segments)
    out = keys.map(mapping).fillna(-1).to_numpy(np.int64)
    if out.max(initial=-1) >= n_segments:
        raise ValueError(f"segments: values must be -1..{n_segments - 1}")
    return out


def _home_states(rows: pd.DataFrame, at_ref: np.ndarray, state: np.ndarray) -> np.ndarray:
    """For people away (hospital, hospice) at the census, the state of the place they hold: the
    last month they were not away. Others: their state."""
    out = state[at_ref].copy()
    away = np.flatnonzero(np.isin(out, (HOSPITAL, HOSPICE)))
    if len(away):
        keys = set(rows["person_key"].iloc[at_ref[away]])
        sub = rows[rows["person_key"].isin(keys) & ~rows["state"].isin(["hospital", "hospice"])]
        last = sub.sort_values("month_start").groupby("person_key")["state"].last().map(STATE_CODE)
        for i in away:
            out[i] = int(last.get(rows["person_key"].iloc[at_ref[i]], out[i]))
    return out


def _pools(con, ref, rows, at_ref, state) -> tuple[list[Pool], dict]:
    """The provider's pools of places open at the census month, with capacity as the asset
    system holds it then, and the people per occupied unit observed in the census."""
    ref_d = pd.Timestamp(ref).date()
    schemes = con.execute(
        """select s.scheme_id, coalesce(s.scheme_name, s.scheme_id) as scheme_name, s.scheme_type,
                  s.area_code, coalesce(o.capacity, s.capacity) as capacity,
                  coalesce(o.residential_beds, s.residential_beds) as residential_beds,
                  coalesce(o.nursing_beds, s.nursing_beds) as nursing_beds
           from marts.dim_scheme s
           left join marts.fct_occupancy_monthly o on o.scheme_id = s.scheme_id and o.month_start = ?
           where (s.opened_date is null or s.opened_date <= last_day(?::date))
             and (s.closed_date is null or s.closed_date > last_day(?::date))
           order by s.scheme_id""", [ref_d, ref_d, ref_d]).df()
    sub = rows.iloc[at_ref]
    occupied = sub.groupby(["scheme_id", "state"]).agg(people=("person_key", "size"), units=("unit_id", "nunique"))
    pools: list[Pool] = []
    index: dict = {}
    for r in schemes.itertuples(index=False):
        if r.scheme_type == "care_home":
            parts = [(RESIDENTIAL, r.residential_beds), (NURSING, r.nursing_beds)]
        elif r.scheme_type in STATE_CODE:
            parts = [(STATE_CODE[r.scheme_type], r.capacity)]
        else:
            continue
        for s, cap in parts:
            cap = 0.0 if pd.isna(cap) else float(cap)
            ppu = 1.0
            if r.scheme_type != "care_home" and (r.scheme_id, STATES[s]) in occupied.index:
                people, units = occupied.loc[(r.scheme_id, STATES[s])]
                if units > 0:
                    ppu = float(people) / float(units)
            index[(r.scheme_id, s)] = len(pools)
            suffix = f" ({STATES[s].split('_')[0]})" if r.scheme_type == "care_home" else ""
            pools.append(Pool(unit_id=str(r.scheme_id), name=f"{r.scheme_name}{suffix}", kind=str(r.scheme_type),
                              state=s, area=str(r.area_code) if isinstance(r.area_code, str) else "",
                              capacity=cap, persons_per_unit=ppu))
    return pools, index


def _teams(area_codes, person_keys, hours) -> np.ndarray:
    """Home-care team by area; people known only to care have no area, so they are spread over
    the teams in proportion to the teams' hours, by a stable hash of the person key."""
    team_idx = {t: i for i, t in enumerate(TEAMS)}
    out = np.array([team_idx.get(AREA_TEAM.get(a, ""), -1) if isinstance(a, str) else -1 for a in area_codes])
    known = out >= 0
    share = np.bincount(out[known], weights=np.asarray(hours)[known], minlength=len(TEAMS)) + 1.0
    cum = np.cumsum(share / share.sum())
    for i in np.flatnonzero(~known):
        u = (zlib.crc32(str(person_keys[i]).encode()) % 10_000) / 10_000
        out[i] = int(np.searchsorted(cum, u, side="right"))
    return np.minimum(out, len(TEAMS) - 1).astype(np.int64)


def _hours_by_need(state, need, hours) -> np.ndarray:
    """Mean weekly hours of people receiving home care, by state and need level (falls back to
    the need level's mean over all states, then to the midpoints of the bands)."""
    out = np.zeros((N_STATES, 4))
    default = np.array([0.0, 3.0, 10.0, 21.0])
    for n in (1, 2, 3):
        sel = (need == n) & (hours > 0)
        overall = hours[sel].mean() if sel.sum() >= 5 else default[n]
        for s in HOME_STATES:
            m = sel & (state == s)
            out[s, n] = (hours[m].sum() + 5 * overall) / (m.sum() + 5)
    return out


def _poisson_trend(counts: np.ndarray, t_years: np.ndarray, offset: np.ndarray) -> tuple[float, float, float]:
    """Log-linear Poisson fit of monthly counts: log mu = a + b t + offset. Returns exp(a) (the
    rate at t=0), b and the standard error of b."""
    a, b = np.log(max(counts.mean(), 1e-3)), 0.0
    X = np.column_stack([np.ones_like(t_years), t_years])
    for _ in range(25):
        mu = np.exp(a + b * t_years + offset)
        grad = X.T @ (counts - mu)
        hess = X.T @ (X * mu[:, None]) + np.eye(2) * 1e-9
        step = np.linalg.solve(hess, grad)
        a, b = a + step[0], b + step[1]
        if np.abs(step).max() < 1e-10:
            break
    mu = np.exp(a + b * t_years + offset)
    cov = np.linalg.inv(X.T @ (X * mu[:, None]) + np.eye(2) * 1e-9)
    return float(np.exp(a)), float(b), float(np.sqrt(cov[1, 1]))


def within_month_counts(cell: np.ndarray, to: np.ndarray, hosp: np.ndarray, hospice: np.ndarray,
                        n_cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per training person-month its within-month event (0 hospital, 1 hospice, 2 none), whether
    it ends away from home, and the (cells, 3) counts the event table is estimated from.

    Why only person-months that do not end away (in hospital or a hospice): the engine draws a
    within-month admission only for those (a person whose move takes them into hospital has
    that admission as the move), so a rate per all person-months came out short by the share
    that went away - a fifth in care homes once admissions rose (benchmarks/bench_regime.py)."""
    not_away = ~np.isin(to, (HOSPITAL, HOSPICE))
    ev = np.where(not_away, np.where(hosp, 0, np.where(hospice, 1, 2)), 2)
    counts = np.bincount(cell[not_away] * 3 + ev[not_away], minlength=n_cells * 3).reshape(n_cells, 3).astype(float)
    return ev, not_away, counts


def rate_drift(origin, dest, cell, month, table, ref, *, hospital_events=None, hospital_expected=None,
               years: int = 5) -> np.ndarray:
    """Per destination state, the wander of the yearly moves into it beyond chance (all origins
    together: a hard winter raises deaths and admissions everywhere at once) against what the
    table expects of that year's person-months. Within-month hospital admissions count with
    moves into hospital. Read by ``step_robust_wander_sd``: a step in a flow is followed by the
    recalibration (simulation.recency) and is not also year-to-year wander."""
    ref_m = np.datetime64(ref, "M")
    year = (ref_m - 1 - month.astype("datetime64[M]")).astype(np.int64) // 12   # 0: the last 12 months
    ok = (year >= 0) & (year < years)
    sd = np.zeros(N_STATES)
    for d in range(N_STATES):
        risk = ok & (origin != d)
        obs = np.bincount(year[risk & (dest == d)], minlength=years)[:years].astype(float)
        exp = np.bincount(year[risk], weights=table[cell[risk], d], minlength=years)[:years]
        if d == HOSPITAL and hospital_events is not None:
            within = ok & (dest != HOSPITAL)
            obs = obs + np.bincount(year[within & hospital_events], minlength=years)[:years]
            exp = exp + np.bincount(year[within], weights=hospital_expected[within], minlength=years)[:years]
        sd[d] = step_robust_wander_sd(obs, exp)
    return sd


def home_before_away(rows: pd.DataFrame, state: np.ndarray) -> np.ndarray:
    """Per row, the person's state in their last month not in hospital or hospice (their own
    state when not away; NaN when the window holds no such month)."""
    codes = pd.factorize(rows["person_key"])[0]
    order = np.lexsort((rows["month_start"].to_numpy(), codes))
    away = np.isin(state, (HOSPITAL, HOSPICE))
    own = pd.Series(np.where(away, np.nan, state.astype(float))[order])
    filled = own.groupby(codes[order]).ffill().to_numpy()
    out = np.empty(len(state))
    out[order] = filled
    return out


def discharge_to_care(rows, state, tr, cell, to, table) -> np.ndarray:
    """Per care state, the share of the hospital-or-hospice-to-care-home moves the table
    gives someone who does not live in a care home that are real new admissions.

    Why: the lattice cell of a hospital stay does not know where the patient lives, so its
    move into a care home mixes residents going back to their own bed (most of them) with new
    admissions. The engine sends residents back to their place and thins the others' care-home
    draws by this share, which makes their new admissions match the timeline's (without it
    the backtest's care-home admissions ran 28% high)."""
    home = home_before_away(rows, state)[tr]
    away = np.isin(state[tr], (HOSPITAL, HOSPICE)) & np.isfinite(home)
    outsider = away & ~np.isin(home, (RESIDENTIAL, NURSING))
    share = np.ones(N_STATES)
    for d in (RESIDENTIAL, NURSING):
        expected = table[cell[outsider], d].sum()
        observed = float((to[outsider] == d).sum())
        if expected > 0:
            share[d] = float(np.clip((observed + 0.5) / (expected + 0.5), 0.0, 1.0))
    return share


def _arrivals(rows, state, need, age, sex, seg, month, ref, window, template_months, pool_index, area_idx,
              hours, recency: bool = True) -> ArrivalModel:
    first = (rows["is_first_month"].to_numpy() == 1) & (state < N_LIVE)
    ref_m = np.datetime64(ref, "M")
    m_idx = (month.astype("datetime64[M]") - ref_m).astype(np.int64)  # 0 at the census month
    in_window = first & (m_idx > -window) & (m_idx <= 0)
    moy = (month.astype("datetime64[M]").astype(np.int64) % 12)
    entry = np.array([s for s in range(N_LIVE) if (in_window & (state == s)).sum() > 0], dtype=np.int64)
    # pooled month-of-year factors, shrunk to 1 (one year of a small place is mostly noise)
    by_moy = np.bincount(moy[in_window], minlength=12).astype(float)
    months_per_moy = np.bincount(((ref_m.astype(np.int64) - np.arange(window)) % 12), minlength=12)
    rate_moy = by_moy / np.maximum(months_per_moy, 1)
    k = 30.0
    mean_rate = by_moy.sum() / window
    season = (rate_moy * months_per_moy + k) / (mean_rate * months_per_moy + k) if mean_rate > 0 else np.ones(12)
    season = season / season.mean()
    base, growth, growth_se, counts_w, exposure, drift, over = [], [], [], [], [], [], []
    recent: dict = {}
    t_months = np.arange(-window + 1, 1)
    t_years = t_months / 12.0
    offset = np.log(season[(ref_m.astype(np.int64) + t_months) % 12])
    for s in entry:
        c = np.bincount(m_idx[in_window & (state == s)] + window - 1, minlength=window)[:window].astype(float)
        rate0, b, se = _poisson_trend(c, t_years, offset)
        # shrink the slope towards no trend (prior sd 5% a year) and cap it: a few years of a
        # small flow cannot support a steep extrapolation over five
        prior_var = 0.05 ** 2
        b_s = b * prior_var / (prior_var + se ** 2)
        b_s = float(np.clip(b_s, np.log(0.85), np.log(1.15)))
        # refit the level with the shrunk slope so the last years' mean is respected
        mu_shape = np.exp(b_s * t_years + offset)
        rate0 = c.sum() / mu_shape.sum()
        yearly = lambda x: x[len(x) % 12:].reshape(-1, 12).sum(axis=1)  # noqa: E731 - whole years, latest last
        drift.append(step_robust_wander_sd(yearly(c), yearly(rate0 * mu_shape)))
        level = 1.0
        if recency:   # the level follows the last 12 months where arrivals shifted (simulation.recency)
            cred = credibility(yearly(c)[::-1], yearly(rate0 * mu_shape)[::-1])
            level = cred.factor
            if abs(level - 1.0) >= 0.02:
                recent[STATES[s]] = cred.__dict__
        mu = rate0 * mu_shape   # month-to-month spread about the window's own fit, before the new level
        over.append(float(np.clip(np.sum((c - mu) ** 2 - mu) / max(np.sum(mu ** 2), 1e-9), 0.0, 2.0)))
        rate0 *= level
        base.append(rate0)
        growth.append(np.exp(b_s) - 1.0)
        growth_se.append(se)
        counts_w.append(c.sum())
        exposure.append(mu_shape.sum() / level)   # the rate's posterior (draw_params) centres on the new level
    tmpl = first & (m_idx > -template_months) & (m_idx <= 0)
    # newcomers are copies of recent arrivals: a state with none recently cannot take any
    has_template = np.array([(tmpl & (state == s)).any() for s in entry], dtype=bool)
    keep = np.flatnonzero(has_template)
    entry = entry[keep]
    base, growth, growth_se = [base[i] for i in keep], [growth[i] for i in keep], [growth_se[i] for i in keep]
    counts_w, exposure = [counts_w[i] for i in keep], [exposure[i] for i in keep]
    drift, over = [drift[i] for i in keep], [over[i] for i in keep]
    ti = np.flatnonzero(tmpl)
    scheme = rows["scheme_id"].to_numpy(dtype=object)[ti]
    t_pool = np.array([pool_index.get((sc, s), -1) if sc is not None else -1 for sc, s in zip(scheme, state[ti])],
                      dtype=np.int64)
    area_codes = rows["area_code"].to_numpy(dtype=object)[ti]
    t_area = np.array([area_idx.get(a, -1) if isinstance(a, str) else -1 for a in area_codes], dtype=np.int64)
    keys = rows["person_key"].to_numpy(dtype=object)[ti]
    templates = {
        "state": state[ti], "need": need[ti], "age": np.where(np.isfinite(age[ti]), age[ti] + 0.5, np.nan),
        "sex": sex[ti], "segment": seg[ti], "area": t_area, "pool": t_pool,
        "team": _teams(area_codes, keys, hours[ti]), "hours": hours[ti],
    }
    return ArrivalModel(entry_states=entry, base_rate=np.array(base), growth=np.array(growth),
                        growth_se=np.array(growth_se), window_count=np.array(counts_w),
                        window_exposure=np.array(exposure), season=season, templates=templates,
                        drift_sd=np.array(drift), overdispersion=np.array(over), recency=recent)


def _bed_days(con, ref, window_months) -> dict[str, float]:
    """Expected hospital bed days and long-stay days (beyond the 21st: the warehouse's measure
    of delay) of each kind of month - a stay inside the month, the month it starts, a whole
    month, the month it ends - from the stays completed in the window (stays are mostly
    shorter than a month: simulation.stays)."""
    ref_d = pd.Timestamp(ref).date()
    start = pd.Timestamp(month_add(ref, -window_months)).date()
    spells = con.execute(
        """select admission_date, discharge_date from marts.fct_hospital_spells
           where admission_month >= ? and discharge_month <= ? and discharge_date is not null
           order by hospital_spell_id""", [start, ref_d]).df()
    defaults = {"within": (7.0, 0.0), "enter": (8.0, 0.0), "stay": (30.44, 21.0), "exit": (10.0, 6.0)}
    got = expected_days(stay_months(spells["admission_date"], spells["discharge_date"])) if len(spells) else {}
    out = {}
    for kind, (days, long_days) in defaults.items():
        d, lg = got.get(f"days_{kind}", np.nan), got.get(f"long_{kind}", np.nan)
        out[f"hospital_{kind}"] = float(d) if np.isfinite(d) else days
        out[f"hospital_long_{kind}"] = float(lg) if np.isfinite(lg) else long_days
    out.pop("hospital_stay")   # a whole month is its days
    return {**out, "hospice_within": 15.0, "hospice_enter": 8.0, "hospice_exit": 8.0, "spells": float(len(spells))}


def _relet_by_littles_law(relet: dict, pools: list[Pool], census_pool: np.ndarray, state: np.ndarray,
                          next_state: pd.Series, month: np.ndarray, ref) -> dict:
    """Each kind of housing's relet time in the engine's own terms: the places void at the
    census divided by the people leaving that kind of housing a month (Little's law).

    Why: the engine frees a place (in people) whenever a person leaves, while a unit becomes
    void only when its whole household has gone, and some voids last months (major works, hard
    to let). The mean void of completed lets therefore undercounts the places standing empty
    per departure: with it the engine let the census's voids out within two months and ran its
    estates above the people they hold (+0.6% in the 2024 backtest). Taken this way, the
    engine's voids start and stay where the estates' are."""
    out = dict(relet)
    ref_m = np.datetime64(ref, "M")
    last_year = (month.astype("datetime64[M]") > ref_m - 13) & (month.astype("datetime64[M]") <= ref_m - 1)
    nxt = next_state.map(STATE_CODE).to_numpy(dtype=float, na_value=np.nan)
    occupied = np.bincount(census_pool[census_pool >= 0], minlength=len(pools)).astype(float)
    for s in HOUSING_STATES:
        js = [j for j, p in enumerate(pools) if p.state == s]
        if not js:
            continue
        void = sum(max(np.floor(pools[j].capacity * pools[j].persons_per_unit + 1e-9) - occupied[j], 0.0) for j in js)
        leaving = float(np.sum(last_year & (state == s) & np.isfinite(nxt) & (nxt != s))) / 12.0
        if leaving >= 1.0 and void > 0:
            out[s] = float(np.clip(void / leaving, 0.25, 4.9))
    return out


def _relet_months(con, ref) -> tuple[dict, np.ndarray]:
    """Mean void before a let, by tenancy type, over the year to the census (months; three
    years where the last has fewer than 30 lets - relet times move, and the latest year is the
    best guess of the next);
    and per state how much a year's mean void wanders beyond chance (sd of its log, from the
    five years to the census): repairs backlogs and allocation rules change, and a few days
    more or less per let moves a full scheme's people by a percent or two."""
    out = dict(DEFAULT_RELET_MONTHS)
    sd = np.zeros(N_STATES)
    start = pd.Timestamp(month_add(ref, -60)).date()
    end = pd.Timestamp(month_add(ref, 1)).date()
    last_year = pd.Timestamp(month_add(ref, -12)).date()
    recent = pd.Timestamp(month_add(ref, -36)).date()
    df = con.execute(
        """select tenancy_type, start_date, previous_void_days from marts.fct_tenancy_spells
           where start_date >= ? and start_date < ? and previous_void_days is not null
           order by tenancy_id  -- a float sum's order: the same warehouse, the same relet spread""",
        [start, end]).df()
    if df.empty:
        return out, sd
    ref_m = np.datetime64(ref, "M")
    df["year"] = (ref_m - pd.to_datetime(df["start_date"]).values.astype("datetime64[M]")).astype(np.int64) // 12
    for kind, g in df.groupby("tenancy_type"):
        if kind not in STATE_CODE:
            continue
        days = g["previous_void_days"].to_numpy(float)
        started = pd.to_datetime(g["start_date"]).dt.date.to_numpy()
        last1, last3 = days[started >= last_year], days[started >= recent]
        if len(last1) >= 30:
            out[STATE_CODE[kind]] = float(last1.mean()) / 30.44
        elif len(last3) >= 5:
            out[STATE_CODE[kind]] = float(last3.mean()) / 30.44
        y = g.groupby("year")["previous_void_days"].agg(["mean", "var", "count"])
        y = y[(y["count"] >= 20) & (y["mean"] > 0)]
        if len(y) >= 3:
            logm = np.log(y["mean"].to_numpy())
            chance = np.mean(y["var"].to_numpy() / (y["count"].to_numpy() * y["mean"].to_numpy() ** 2))
            sd[STATE_CODE[kind]] = float(np.sqrt(max(np.var(logm, ddof=1) - chance, 0.0)).clip(0, 0.5))
    return out, sd


def _household_size_spread(pools: list[Pool], rows: pd.DataFrame, month: np.ndarray, ref) -> np.ndarray:
    """Relative spread of people per occupied unit of each housing pool over the last two
    years. Why: a full scheme's people vary with its households' sizes, which the engine does
    not model; each replication draws the ratio around the census value by this spread, so the
    bands of capacity-bound stocks are not falsely narrow."""
    recent = (month > month_add(ref, -24)) & rows["scheme_id"].notna().to_numpy() & rows["unit_id"].notna().to_numpy()
    sub = rows.loc[recent, ["scheme_id", "state", "unit_id", "month_start"]]
    common = np.zeros(N_STATES)
    if sub.empty:
        return common
    g = sub.groupby(["scheme_id", "state", "month_start"]).agg(people=("unit_id", "size"), units=("unit_id", "nunique"))
    g = g[g.units > 0]
    ratio = (g.people / g.units).groupby(level=[0, 1])
    rel = (ratio.std() / ratio.mean()).fillna(0.0)
    for p in pools:
        key = (p.unit_id, STATES[p.state])
        if p.kind != "care_home" and key in rel.index:
            p.persons_per_unit_sd = float(min(rel.loc[key], 0.25))
    # the same for each kind of housing as a whole: households everywhere change together
    # (more couples, fewer children), which independent per-scheme draws average away
    whole = g.groupby(level=[1, 2]).sum()
    whole_ratio = (whole.people / whole.units).groupby(level=0)
    for name, sd in (whole_ratio.std() / whole_ratio.mean()).fillna(0.0).items():
        if name in STATE_CODE and STATE_CODE[name] in HOUSING_STATES:
            common[STATE_CODE[name]] = float(min(sd, 0.1))
    return common


# ---------------------------------------------------------------------------------------------
# tonight's inputs, kept for the explorer

INPUTS_FILE = "inputs.pkl"


def save_inputs(inputs: SimulationInputs, folder) -> Path:
    """Keep the inputs the nightly forecast ran on, so an ad-hoc what-if starts from exactly
    them in a second instead of re-estimating (tens of seconds at scale 1.0). Written to a
    temporary name then renamed, so a reader never sees half a file."""
    import os
    import pickle

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / INPUTS_FILE
    tmp = folder / f".{INPUTS_FILE}.{os.getpid()}"
    with open(tmp, "wb") as fh:
        pickle.dump(inputs, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, target)
    return target


def load_inputs(folder) -> SimulationInputs | None:
    """The nightly forecast's inputs, or None if there are none (or they are unreadable: an
    older version of the engine wrote them)."""
    import pickle

    path = Path(folder) / INPUTS_FILE
    if not path.exists():
        return None
    try:
        with open(path, "rb") as fh:
            inputs = pickle.load(fh)
    except Exception:
        return None
    return inputs if isinstance(inputs, SimulationInputs) else None
