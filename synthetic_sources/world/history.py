"""The ground-truth world, simulated month by month from 1998-01.

One month is one vectorised step over the population (a struct of arrays). Hospital and
hospice stays are shorter than a month, so they carry day-level dates inside the monthly step:
an admission has a day, a clinical length of stay, a medically-fit ("ready") day and a
discharge day that capacity may push back (a delayed discharge).

Determinism and the nightly ``advance``: month ``t`` draws only from its own generator,
``SeedSequence([seed, t])``, and never looks at the horizon. So the world simulated to a later
date agrees with the world simulated to an earlier one on every month they share, and a saved
world can be carried on month by month (``World.run_until``).

Capacity binds as in life: housing units are let only when void and ready; care-home beds admit
by priority then longest wait; whoever is not admitted waits where they are (in hospital this is
a delayed discharge) and the local authority fills the beds nobody internal is waiting for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import params as P
from .care_homes import CareHomesMixin
from .codes import (
    ABSENT,
    COMM,
    GN,
    NEVER,
    NUR,
    RES,
    TMP,
    UNIT_TYPES,
    XC,
    _day,
    month_bounds,
    month_index,
)
from .columns import Columns
from .config import WorldConfig
from .health import HealthMixin
from .home_care import HomeCareMixin
from .housing import HousingMixin
from .population import PopulationMixin
from .stock import build_stock


class World(PopulationMixin, HealthMixin, CareHomesMixin, HomeCareMixin, HousingMixin):
    """The whole world's state; ``run_until`` advances it, ``tables`` reads it out.

    Its behaviour lives in one mixin per domain (population, health, care_homes, home_care,
    housing); ``World`` holds the state, the month's step and the census. Mixins rather than
    component objects so a saved world (``truth/world.pkl``) keeps exactly the attributes it had.
    """

    def __init__(self, config: WorldConfig):
        self.config = config
        self.seed = config.seed
        self.scale = config.scale
        self.month = 0  # the next month to simulate
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, 10**6]))
        stock = build_stock(config.scale, rng)
        self.schemes = stock.schemes
        self.units_frame = stock.units
        self._init_tables()
        self._init_units(stock.units)
        self._populate(rng)

    def _init_tables(self):
        i8, i32, i64, f4, obj = np.int8, np.int32, np.int64, np.float32, object
        self.people = Columns(
            {
                "role": (i8, 0), "household": (i64, -1), "sex": (i8, 0), "dob": (i32, 0),
                "segment": (i8, 0), "area": (i8, 0), "postcode": (obj, None), "entered": (i32, 0),
                "origin": (i8, 0), "death_day": (i32, NEVER), "death_place": (i8, 0),
                "first_name": (obj, None), "surname": (obj, None), "previous_surname": (obj, ""),
                "surname_changed": (i32, NEVER),
                # dynamic state
                "home": (i8, ABSENT), "away": (i8, 0), "away_until": (i32, NEVER),
                "away_dest": (i8, 0), "away_spell": (i64, -1), "prev_home": (i8, ABSENT),
                "tenancy": (i64, -1), "unit": (i64, -1), "need": (i8, 0), "stay": (i64, -1),
                "package": (i64, -1), "hours": (f4, 0.0), "arrears": (i8, 0),
                "wellbeing": (i8, 6), "employment": (i8, 0), "benefits": (i8, 3), "income": (i8, 0),
                "support": (i8, 0), "in_care_queue": (i8, 0), "in_xc_queue": (i64, -1),
                "in_sh_queue": (i64, -1), "in_tr_queue": (i64, -1), "app": (i64, -1),
                "ready_to_move_on": (i32, NEVER), "exit_day": (i32, NEVER),
                "dying": (i8, 0), "uptake": (i8, 0),
            },
            capacity=max(1024, int(60000 * self.scale)),
        )
        self.households = Columns({"lead": (i64, -1), "area": (i8, 0), "formed": (i32, 0), "n_members": (i8, 1)})
        self.tenancies = Columns(
            {
                "household": (i64, -1), "person": (i64, -1), "unit": (i64, -1), "type": (i8, 0),
                "route": (i8, 0), "application": (i64, -1), "start": (i32, 0), "end": (i32, NEVER),
                "end_reason": (i8, 0),
            }
        )
        self.applications = Columns(
            {
                "household": (i64, -1), "person": (i64, -1), "applied": (i32, 0), "band": (obj, "C"),
                "need_type": (i8, 0), "offers": (i8, 0), "outcome": (i8, 0), "outcome_day": (i32, NEVER),
                "tenancy": (i64, -1),
            }
        )
        self.voids = Columns({"unit": (i64, -1), "start": (i32, 0), "end": (i32, NEVER), "reason": (i8, 0)})
        self.stays = Columns(
            {
                "person": (i64, -1), "scheme": (i64, -1), "unit": (i64, -1), "care_type": (i8, 0),
                "kind": (i8, 0), "referral": (i32, 0), "admission": (i32, 0), "discharge": (i32, NEVER),
                "planned_end": (i32, NEVER), "source": (i8, 0), "dest": (i8, 0),
            }
        )
        self.spells = Columns(
            {
                "person": (i64, -1), "admission": (i32, 0), "ready": (i32, 0), "discharge": (i32, NEVER),
                "from_state": (i8, 0), "dest": (i8, 0), "stay": (i64, -1),
            }
        )
        self.hospice = Columns(
            {
                "person": (i64, -1), "admission": (i32, 0), "discharge": (i32, NEVER),
                "from_state": (i8, 0), "died": (i8, 0), "stay": (i64, -1),
            }
        )
        self.packages = Columns(
            {
                "person": (i64, -1), "team": (i8, 0), "referral": (i32, 0), "start": (i32, 0),
                "end": (i32, NEVER), "hours": (f4, 0.0), "need": (i8, 0), "end_reason": (i8, 0),
            }
        )
        # care-home queue entries
        self.care_queue = Columns(
            {
                "person": (i64, -1), "want": (i32, 0), "priority": (i8, 0), "type": (i8, RES),
                "kind": (i8, 0), "source": (i8, 0), "length": (i32, 0), "referral": (i32, 0),
                "active": (i8, 1),
            }
        )
        self.month_rows: list[dict] = []  # person-month census, one dict of arrays per month
        self.queue_rows: list[dict] = []

    def _init_units(self, units: pd.DataFrame):
        n = len(units)
        self.u_type = pd.Categorical(units.unit_type, categories=UNIT_TYPES).codes.astype(np.int8)
        self.u_scheme = units.scheme_id.to_numpy(np.int64)
        self.u_area = units.area_code.to_numpy(np.int8)
        self.u_occupant = np.full(n, -1, dtype=np.int64)
        self.u_available = np.array([_day(d) for d in units.available_from], dtype=np.int32)
        self.u_ready = self.u_available.copy()
        self.u_void = np.full(n, -1, dtype=np.int64)  # open void record
        self.u_postcode = units.postcode.to_numpy(object)
        self.u_beds = {RES: np.flatnonzero(self.u_type == 4), NUR: np.flatnonzero(self.u_type == 5)}

    def run_until(self, until, progress=None) -> None:
        last = month_index(until)
        while self.month <= last:
            self.step(self.month)
            self.month += 1
            if progress is not None:
                progress(1)

    def _regime(self, flow: str, year: int, cal: int) -> float:
        """A test world's change of a flow from a date (``config.RegimeChange``); 1 otherwise.
        (Worlds saved before regime changes existed have none.)"""
        changes = getattr(self.config, "changes", ())
        return self.config.factor(flow, year, cal) if changes else 1.0

    def step(self, t: int) -> None:
        """Month ``t``: the named steps in their fixed order, which is also the order of their draws
        from the month's one generator (reordering them changes the world). Where each lives:
        health (deaths, hospital, returns), care_homes (temporary stays ending, demand, beds),
        population (need, surnames), home_care (packages, community referrals), housing
        (tenancies, temporary arrivals, applications, withdrawals, lets)."""
        s, e, year, cal = month_bounds(t)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, t]))
        pandemic = P.PANDEMIC[0] <= f"{year}-{cal:02d}" <= P.PANDEMIC[1]
        self._events = {"exits": []}
        self._end_temporary_stays(rng, e)
        self._deaths(rng, s, e, year, pandemic)
        self._member_deaths(rng, s, e, year)
        self._hospital(rng, s, e, year, cal, pandemic)
        self._need(rng, s, e)
        self._care_demand(rng, s, e, pandemic, self._regime("care_home_from_home", year, cal))
        self._allocate_care(rng, s, e)
        self._home_care(rng, s, e)
        self._community_referrals(rng, s, e)
        self._tenancy_dynamics(rng, s, e)
        self._temporary_arrivals(rng, s, e, year, cal)
        self._housing_applications(rng, s, e, year, cal)
        self._withdrawals(rng, s, e)
        self._lets(rng, s, e, year, cal)
        self._surnames(rng, s, e)
        # everyone whose stay away ends by month end is back (or has died) before the census
        self._returns(rng, s, e)
        self._census(t, s, e)

    def _census(self, t, s, e):
        p = self.people
        n = p.n
        exits = np.concatenate(self._events["exits"]) if self._events["exits"] else np.empty(0, np.int64)
        present = np.flatnonzero((p.home[:n] >= 0) & (p.home[:n] <= COMM + 2))
        present = present[p.entered[present] <= e]
        rows = np.concatenate([present, exits])
        state = p.home[rows].copy()
        away = p.away[rows]
        state = np.where(away > 0, away, state)
        # dates inside the month: a hospital stay that ended before month end is not the census state
        state[len(present):] = p.home[exits]
        self.month_rows.append(
            {
                "person": rows, "month": t, "state": state.astype(np.int8), "need": p.need[rows].copy(),
                "hours": p.hours[rows].copy(), "tenancy": p.tenancy[rows].copy(), "unit": p.unit[rows].copy(),
                "arrears": np.where(p.tenancy[rows] >= 0, p.arrears[rows], -1).astype(np.int8),
                "wellbeing": np.where(p.tenancy[rows] >= 0, p.wellbeing[rows], -1).astype(np.int8),
                "employment": p.employment[rows].copy(), "benefits": p.benefits[rows].copy(),
                "income": p.income[rows].copy(), "support": p.support[rows].copy(),
                "stay": p.stay[rows].copy(),
            }
        )
        self._queue_census(t, e)

    def _queue_census(self, t, e):
        p = self.people
        q = self.care_queue
        live = np.flatnonzero(q.active[: q.n] == 1)
        rows = []
        for ctype, name in ((RES, "care_home_residential"), (NUR, "care_home_nursing")):
            beds = self.u_beds[ctype]
            rows.append((name, int((q.type[live] == ctype).sum()), int(len(beds)), int((self.u_occupant[beds] >= 0).sum())))
        n = p.n
        for utype, name, col in ((XC, "extra_care", p.in_xc_queue), (TMP, "temporary", None), (GN, "general_needs", None)):
            units = np.flatnonzero(self.u_type == utype)
            open_units = units[self.u_available[units] <= e]
            if col is not None:
                waiting = int((col[:n] >= 0).sum()) + len(self._waiting("extra_care", e))
            else:
                waiting = len(self._waiting("homeless" if utype == TMP else "general", e))
            rows.append((name, waiting, int(len(open_units)), int((self.u_occupant[units] >= 0).sum())))
        for name, waiting, cap, occ in rows:
            self.queue_rows.append({"month": t, "queue": name, "waiting_end": waiting, "capacity": cap, "occupied_end": occ})
