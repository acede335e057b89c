"""Service units as Mesa agents: care homes, schemes, home-care teams, the hospital, the hospice.

Why agents here and arrays for people: there are tens of units and each has its own capacity
timeline, rationing rule and random stream, which reads naturally as an object; there are tens
of thousands of people, who must be arrays to be fast (docs/forecast_engine.md). A unit never loops over
people: it is handed index arrays of candidates and answers with index arrays, in numpy.

Rationing rule (every constrained unit): priority first (a delayed discharge from hospital
before anyone at home, then higher care need), then the longest wait, then a random tie-break
drawn from the unit's own stream. The tie-break keys are one uniform per population slot,
drawn once per replication, so the same person holds the same key in every scenario (common
random numbers reach the queue too).
"""

from __future__ import annotations

import mesa
import numpy as np

from contracts.vocabulary.states import PLACES
from simulation.inputs import N_STATES
from simulation.lattice import STATE_CODE

PLACE_KIND_LABEL = {STATE_CODE[p.state]: p.resource for p in PLACES}  # KPI stem of each pool state


_M1, _M2, _G = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def hashed_uniform(salt: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """A uniform in [0, 1) per (salt, slot): splitmix64 of the pair. Why: each unit's tie-break
    must come from its own stream and be the same for a person in every scenario (CRN), and
    hashing gives every unit an independent key per slot without drawing a vector per unit."""
    with np.errstate(over="ignore"):
        z = np.asarray(salt, dtype=np.uint64) + (np.asarray(slots, dtype=np.uint64) + np.uint64(1)) * _G
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class ServiceUnit(mesa.Agent):
    """A scheme or care home: one or more pools of places (a care home has a residential and a
    nursing pool), each with a capacity per forecast month in units."""

    def __init__(self, model, unit_id: str, name: str, kind: str, area: str, pools: list[int], salt: np.uint64):
        super().__init__(model)
        self.unit_id, self.name, self.kind, self.area = unit_id, name, kind, area
        self.pools = pools
        self.salt = np.uint64(salt)   # the unit's own stream (a key for hashed_uniform)
        c = model.plan.costs
        # what a week of each of its places costs and who pays (accrued in ForecastModel.finish
        # from occupancy, which is the same sum taken over units)
        self.weekly_cost = {
            "care_home": {"residential": (c["residential_week"], "local_authority"),
                          "nursing": (c["nursing_week"] - c["nursing_nhs_week"], "local_authority"),
                          "nursing_nhs": (c["nursing_nhs_week"], "nhs")},
            "extra_care": {"care_and_support": (c["extra_care_week"], "local_authority"),
                           "void": (c["void_week"], "provider")},
        }.get(kind, {"void": (c["void_week"], "provider")})

    def tiebreak(self, slots: np.ndarray) -> np.ndarray:
        """The unit's random tie-break key for each slot."""
        return hashed_uniform(self.salt, slots)

    def capacity(self, t: int) -> np.ndarray:
        return self.model.pool_cap_units[self.pools, t]


class CareHome(ServiceUnit):
    pass


class Scheme(ServiceUnit):
    pass


class HomeCareTeam(mesa.Agent):
    """An area team with weekly hours it can staff (infinite unless a scenario caps it).

    Rationing: people already receiving care keep the hours they had; new or increased
    packages are met by priority (need level), then longest wait, then tie-break, while hours
    remain. What is not met is unmet need, and those people wait."""

    def __init__(self, model, name: str, index: int, hours_cap: float, salt: np.uint64):
        super().__init__(model)
        self.name, self.index, self.hours_cap = name, index, float(hours_cap)
        self.salt = np.uint64(salt)
        self.hourly_cost = (model.plan.costs["home_care_hour"], "local_authority")

    def tiebreak(self, slots):
        return hashed_uniform(self.salt, slots)

    def ration(self, members: np.ndarray, demand: np.ndarray, previous: np.ndarray, need: np.ndarray,
               wait: np.ndarray) -> np.ndarray:
        """Delivered weekly hours for the team's members (index arrays aligned)."""
        keep = np.minimum(demand, previous)
        room = self.hours_cap - keep.sum()
        extra = demand - keep
        want = np.flatnonzero(extra > 0)
        delivered = keep.copy()
        if room <= 0 or len(want) == 0:
            return delivered
        order = np.lexsort((self.tiebreak(self.model.key[members[want]]), -wait[want], -need[want]))
        w = want[order]
        fits = np.cumsum(extra[w]) <= room
        delivered[w[fits]] = demand[w[fits]]
        return delivered


class Hospital(mesa.Agent):
    """The local hospital: not ours and not rationed here, but where delayed discharges happen
    (people whose next place is full stay on, in whole months, and their days beyond the 21st
    of the stay are the delayed bed days, as the warehouse measures them: simulation.stays)."""

    def __init__(self, model, days: dict):
        super().__init__(model)
        self.within, self.enter, self.exit = days["hospital_within"], days["hospital_enter"], days["hospital_exit"]
        # long-stay days of each kind of month (defaults for inputs saved before they existed)
        self.long = tuple(days.get(f"hospital_long_{k}", d) for k, d in
                          (("within", 0.0), ("enter", 0.0), ("stay", 21.0), ("exit", 6.0)))
        c = model.plan.costs
        self.costs = {"admission": (c["hospital_admission"], "nhs"), "delayed_bed_day": (c["delayed_bed_day"], "nhs")}

    def bed_days(self, n_within, n_enter, n_stay, n_exit, days_in_month) -> float:
        return n_within * self.within + n_enter * self.enter + n_stay * days_in_month + n_exit * self.exit

    def long_stay_days(self, n_within, n_enter, n_stay, n_exit, days_in_month):
        """Expected days beyond the 21st of a stay: the delayed bed days the warehouse can see."""
        w, e, s, x = self.long
        return n_within * w + n_enter * e + n_stay * s * (days_in_month / 30.44) + n_exit * x


class Hospice(mesa.Agent):
    def __init__(self, model, days: dict):
        super().__init__(model)
        self.within, self.enter, self.exit = days["hospice_within"], days["hospice_enter"], days["hospice_exit"]

    def bed_days(self, n_within, n_enter, n_stay, n_exit, days_in_month) -> float:
        return n_within * self.within + n_enter * self.enter + n_stay * days_in_month + n_exit * self.exit


def allocate(model, cand: np.ndarray, want: np.ndarray, prio: np.ndarray, wait: np.ndarray,
             pref: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Places for candidates: the pool each gets, or -1 (not admitted: they queue).

    ``cand`` are slots, ``want`` the state each wants, ``pref`` each one's preferred pool (in
    their area), ``free`` the free places per pool in people (changed in place). First every
    pool admits its own preferers in rationing order; then those left over take any free place
    of the state they want, again in rationing order."""
    n = len(cand)
    out = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return out
    demand = np.bincount(pref, minlength=len(free))
    if (demand <= np.maximum(free, 0)).all():   # no contention: everyone gets their own pool
        free -= demand
        return pref.copy()
    # who cannot get a place whatever the order: their own pool has none free and no pool of
    # the kind they want has a whole place free (pass 2's test); leaving them out of the
    # sort changes nobody's outcome (the queues in full housing are mostly such people)
    whole = np.zeros(N_STATES, dtype=bool)
    whole[model.pool_state[free >= 1]] = True
    hopeful = (free[pref] > 0) | whole[want]
    if not hopeful.all():
        keep = np.flatnonzero(hopeful)
        if len(keep):
            out[keep] = allocate(model, cand[keep], want[keep], prio[keep], wait[keep], pref[keep], free)
        return out
    tb = hashed_uniform(model.unit_salt[model.pool_unit[pref]], model.key[cand])   # each unit's own key
    # one float key instead of a three-key lexsort: priority, then wait, then the tie-break
    # in the fraction (both integers are small, so the order is the lexsort's)
    order = np.argsort(tb - (prio * 1024.0 + np.minimum(wait, 1023)), kind="stable")
    # pass 1: own pool, rank within it
    p_sorted = pref[order]
    by_pool = np.argsort(p_sorted, kind="stable")
    ps = p_sorted[by_pool]
    rank = np.arange(n) - np.searchsorted(ps, ps, side="left")
    ok_sorted = np.empty(n, dtype=bool)
    ok_sorted[by_pool] = rank < np.maximum(free[ps], 0)
    admitted = order[ok_sorted]
    out[admitted] = pref[admitted]
    np.subtract.at(free, pref[admitted], 1)
    # pass 2: anywhere of the wanted state, the pools with most places free first; all states
    # at once (the places of each state laid end to end, each candidate takes the next one)
    left = order[~ok_sorted]
    open_pools = np.flatnonzero(free >= 1)
    if len(left) and len(open_pools):
        kinds = model.pool_state[open_pools]
        pools = open_pools[np.lexsort((-free[open_pools], kinds))]
        places = np.repeat(pools, np.floor(free[pools]).astype(np.int64))
        count = np.bincount(model.pool_state[places], minlength=N_STATES)
        offset = np.cumsum(count) - count
        w = want[left]
        g = np.argsort(w, kind="stable")          # by state, in rationing order within it
        ws = w[g]
        r = np.arange(len(ws)) - np.searchsorted(ws, ws, side="left")
        gets = r < count[ws]
        got = places[offset[ws[gets]] + r[gets]]
        out[left[g[gets]]] = got
        np.subtract.at(free, got, 1)
    return out


__all__ = ["ServiceUnit", "CareHome", "Scheme", "HomeCareTeam", "Hospital", "Hospice", "allocate",
           "PLACE_KIND_LABEL", "hashed_uniform"]
