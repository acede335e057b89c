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

from contracts.vocabulary.states import STATES, UNIT_TYPE_STATE, UNIT_TYPES

from ..life_tables import qx_by_year
from . import params as P
from .columns import Columns
from .config import START, WorldConfig
from .geography import AREA_TEAM, AREA_WEIGHTS, postcodes
from .identity import first_names, surnames
from .stock import build_stock

# the vocabulary's states, in their order (the codes below are their indices)
STATE_NAMES = STATES
GN, SH, XC, TMP, COMM, RES, NUR, HOSP, HOSPICE, MOVED, DIED = (STATES.index(s) for s in (
    "general_needs", "sheltered", "extra_care", "temporary", "community", "residential_care",
    "nursing_care", "hospital", "hospice", "moved_out", "died"))
NOT_SIMULATED = -2  # household members: their state follows the household
ABSENT = -1

UNIT_STATE = np.array([STATES.index(UNIT_TYPE_STATE[u]) for u in UNIT_TYPES])

ROLE_LEAD, ROLE_MEMBER, ROLE_OUTSIDE = 0, 1, 2
ORIGINS = ("initial", "register", "homeless", "transfer_in", "referral", "outside_care", "member")
DEATH_PLACES = ("", "hospital", "home", "care_home", "hospice")
END_REASONS = ("", "moved_out", "transfer", "died", "evicted", "care_home", "moved_on")
ROUTES = ("initial", "register", "homeless", "transfer")
STAY_KINDS = ("permanent", "respite", "reablement")
STAY_DEST = ("", "died", "died_in_hospital", "died_in_hospice", "home")
SPELL_DEST = ("", "home", "residential_care", "nursing_care", "hospice", "died")
PACKAGE_END = ("", "reassessed", "care_home", "died", "moved_out", "no_longer_needed")
NEED_TYPES = ("general", "homeless", "transfer", "sheltered", "extra_care")
OUTCOMES = ("open", "let", "withdrawn")
EMPLOYMENT = ("employed", "unemployed", "retired", "unable_to_work", "student")
BENEFITS = ("universal_credit", "housing_benefit", "pension_credit", "none")
INCOME = ("low", "middle", "high")
VOID_REASONS = ("tenancy_end", "new_build", "repairs")

NEVER = np.int32(2**31 - 1)
EPOCH = np.datetime64("1970-01-01", "D")


def _day(ts) -> int:
    return int((np.datetime64(pd.Timestamp(ts).date(), "D") - EPOCH).astype(int))


def month_bounds(t: int) -> tuple[int, int, int, int]:
    """First and last day (days since 1970) of month ``t`` (0 = 1998-01), its year and month."""
    m = np.datetime64(START.strftime("%Y-%m"), "M") + t
    first = int((m.astype("datetime64[D]") - EPOCH).astype(int))
    last = int(((m + 1).astype("datetime64[D]") - EPOCH).astype(int)) - 1
    year = int(m.astype(int) // 12 + 1970)
    return first, last, year, int(m.astype(int) % 12 + 1)


def month_index(ts) -> int:
    ts = pd.Timestamp(ts)
    return (ts.year - START.year) * 12 + ts.month - START.month


def _lookup(table, age):
    """Piecewise-constant lookup of ((from_age, value), ...) by age."""
    edges = np.array([a for a, _ in table])
    values = np.array([v for _, v in table])
    return values[np.searchsorted(edges, age, side="right") - 1]


def _annual_to_monthly(p):
    return 1.0 - (1.0 - np.clip(p, 0, 0.999999)) ** (1.0 / 12.0)


def _seg_map(mapping: dict, seg: np.ndarray, default=0.0) -> np.ndarray:
    lut = np.full(7, default, dtype=np.float64)
    for k, v in mapping.items():
        lut[k] = v
    return lut[seg]


class World:
    """The whole world's state; ``run_until`` advances it, ``tables`` reads it out."""

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

    # ------------------------------------------------------------------ tables
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

    # ------------------------------------------------------------------ people
    def _new_people(self, rng, k, *, role, sex, dob, segment, area, origin, entered, household=-1, postcode=None):
        p = self.people
        sex = np.broadcast_to(np.asarray(sex, dtype=np.int8), (k,)).copy()
        idx = p.add(
            k, role=role, sex=sex, dob=dob, segment=segment, area=area, origin=origin,
            entered=entered, household=household,
            first_name=first_names(rng, sex), surname=surnames(rng, k),
        )
        p.postcode[idx] = postcode if postcode is not None else postcodes(rng, np.broadcast_to(area, (k,)))
        p.uptake[idx] = rng.random(k) < P.HOME_CARE_UPTAKE
        return idx

    def _attributes(self, rng, idx, age):
        """Circumstances that matter for arrears, support and the CRM's records."""
        p = self.people
        seg = p.segment[idx]
        k = len(idx)
        working = age < 66
        emp = np.where(
            working,
            np.where(rng.random(k) < np.where(seg == P.WA, 0.62, 0.25), 0, np.where(rng.random(k) < 0.5, 1, 3)),
            2,
        )
        emp = np.where((age < 22) & (rng.random(k) < 0.3), 4, emp)
        emp = np.where(seg == P.SUP, np.where(rng.random(k) < 0.8, 3, 1), emp)
        p.employment[idx] = emp
        p.benefits[idx] = np.where(
            emp == 2, np.where(rng.random(k) < 0.45, 2, 3), np.where(emp == 0, np.where(rng.random(k) < 0.35, 0, 3), 0)
        )
        p.income[idx] = np.where(emp == 0, rng.choice(3, k, p=[0.45, 0.45, 0.10]), rng.choice(3, k, p=[0.8, 0.18, 0.02]))
        p.income[idx] = np.where(seg == P.PLAN, rng.choice(3, k, p=[0.3, 0.45, 0.25]), p.income[idx])
        p.support[idx] = (np.isin(seg, [P.SUP, P.EMG]) & (rng.random(k) < 0.7)) | (rng.random(k) < 0.04)
        p.wellbeing[idx] = np.clip(np.round(rng.normal(np.where(np.isin(seg, [P.EMG, P.SUP]), 5.0, 6.5), 1.6)), 1, 10)
        p.arrears[idx] = rng.choice(3, k, p=[0.55, 0.41, 0.04])
        p.need[idx] = self._initial_need(rng, age, seg)

    @staticmethod
    def _need_prevalence(age):
        return 1.0 / (1.0 + np.exp(-(np.asarray(age, dtype=float) - P.NEED_LOGISTIC_MID) / P.NEED_LOGISTIC_WIDTH))

    def _initial_need(self, rng, age, seg):
        prev = np.clip(self._need_prevalence(age) * _seg_map(P.SEGMENT_NEED_MULT, seg, 1.0), 0, 0.95)
        has = rng.random(len(age)) < prev
        level = rng.choice([1, 2, 3], len(age), p=[0.5, 0.33, 0.17])
        return np.where(has, level, 0).astype(np.int8)

    def _new_households(self, rng, k, *, segment, age, area, day, origin):
        """Households arriving: a lead of the given segment and age, and members."""
        sex = (rng.random(k) < np.where(np.isin(segment, [P.OLD, P.FRAIL, P.PLAN]), 0.62, 0.55)).astype(np.int8)
        dob = (day - np.round(age * 365.25) - rng.integers(0, 365, k)).astype(np.int32)
        hh = self.households.add(k, area=area, formed=day)
        leads = self._new_people(
            rng, k, role=ROLE_LEAD, sex=sex, dob=dob, segment=segment, area=area, origin=origin,
            entered=day, household=hh,
        )
        self.households.lead[hh] = leads
        self._attributes(rng, leads, age)
        # members: partners of similar age, children younger
        n_mem = np.zeros(k, dtype=np.int64)
        for s, probs in P.MEMBERS_P.items():
            sel = segment == s
            n_mem[sel] = rng.choice(len(probs), sel.sum(), p=probs)
        self.households.n_members[hh] = n_mem + 1
        total = int(n_mem.sum())
        if total:
            owner = np.repeat(np.arange(k), n_mem)
            rank = np.arange(total) - np.repeat(np.cumsum(n_mem) - n_mem, n_mem)
            partner = rank == 0
            lead_age = age[owner]
            m_age = np.where(
                partner & (lead_age > 20) & (rng.random(total) < 0.7),
                np.clip(lead_age + rng.normal(0, 4, total), 18, 100),
                np.clip(lead_age - 22 - rng.uniform(0, 15, total), 0, 60),
            )
            m_sex = np.where(partner, 1 - sex[owner], rng.integers(0, 2, total)).astype(np.int8)
            m_dob = (day[owner] if np.ndim(day) else day) - np.round(m_age * 365.25) - rng.integers(0, 365, total)
            mem = self._new_people(
                rng, total, role=ROLE_MEMBER, sex=m_sex, dob=m_dob.astype(np.int32), segment=0,
                area=area[owner] if np.ndim(area) else area, origin=ORIGINS.index("member"),
                entered=day[owner] if np.ndim(day) else day, household=hh[owner],
            )
            self.people.home[mem] = NOT_SIMULATED
            same_name = partner & (rng.random(total) < 0.75) | ~partner & (rng.random(total) < 0.85)
            self.people.surname[mem[same_name]] = self.people.surname[leads[owner[same_name]]]
        return hh, leads

    # ------------------------------------------------------------------ initial world, 1998-01
    def _populate(self, rng):
        s0, _, _, _ = month_bounds(0)
        sc = self.scale
        # housing: every unit open at the start is let with probability INITIAL_OCCUPANCY
        for utype in range(4):
            units = np.flatnonzero((self.u_type == utype) & (self.u_ready <= s0))
            occupied = units[rng.random(len(units)) < P.INITIAL_OCCUPANCY]
            k = len(occupied)
            if utype == GN:
                segs = np.array(list(P.INITIAL_GN_SEGMENTS))
                seg = rng.choice(segs, k, p=np.array(list(P.INITIAL_GN_SEGMENTS.values())))
            elif utype in (SH, XC):
                seg = rng.choice([P.OLD, P.FRAIL, P.PLAN], k, p=[0.65, 0.2, 0.15])
            else:
                seg = np.where(rng.random(k) < P.SUP_SHARE_OF_TEMPORARY, P.SUP, P.EMG)
            age = self._entry_age(rng, seg, utype)
            # time already in the tenancy before 1998: long for settled homes, short for temporary
            mean_years = {GN: 9.0, SH: 5.0, XC: 2.0, TMP: 0.6}[utype]
            held = np.minimum(rng.exponential(mean_years * 365.25, k), (age - 18) * 365.25).astype(np.int32)
            held = np.maximum(held, 0)
            area = self.u_area[occupied]
            hh, leads = self._new_households(
                rng, k, segment=seg, age=age, area=area, day=np.full(k, s0, np.int32),
                origin=ORIGINS.index("initial"),
            )
            start = (s0 - held).astype(np.int32)
            self.people.entered[leads] = start
            self.households.formed[hh] = start
            members = np.flatnonzero(np.isin(self.people.household[: self.people.n], hh) & (self.people.role[: self.people.n] == ROLE_MEMBER))
            self.people.entered[members] = start[np.searchsorted(hh, self.people.household[members])]
            self._start_tenancy(leads, hh, occupied, start, route=0, application=-1)
            if utype == TMP:
                self.people.ready_to_move_on[leads] = self._ready_day(rng, start, seg)
        # care homes: beds occupied by residents admitted before 1998
        for ctype in (RES, NUR):
            beds = self.u_beds[ctype]
            occ = beds[rng.random(len(beds)) < P.INITIAL_CARE_OCCUPANCY]
            k = len(occ)
            age = np.clip(82 + rng.gamma(2.0, 3.5, k), 65, 104)
            area = self.u_area[occ]
            sex = (rng.random(k) < 0.68).astype(np.int8)
            dob = (s0 - np.round(age * 365.25)).astype(np.int32)
            seg = np.where(rng.random(k) < 0.6, P.FRAIL, P.PLAN).astype(np.int8)
            who = self._new_people(
                rng, k, role=ROLE_OUTSIDE, sex=sex, dob=dob, segment=seg, area=area,
                origin=ORIGINS.index("outside_care"), entered=s0,
            )
            self._attributes(rng, who, age)
            self.people.need[who] = 3 if ctype == NUR else np.where(rng.random(k) < 0.6, 2, 3)
            since = (s0 - rng.exponential(20 * 30.4, k)).astype(np.int32)
            self.people.entered[who] = since
            self._admit(who, occ, since, since, kind=0, source=np.where(rng.random(k) < 0.5, 0, 1), length=np.zeros(k))
        # community: outside people with home care in their own homes
        k = int(round(P.INITIAL_COMMUNITY * sc))
        self._community_arrivals(rng, k, s0, s0 - rng.exponential(400, k).astype(np.int32))

    def _entry_age(self, rng, seg, utype=None):
        k = len(seg)
        age = np.empty(k)
        age[:] = rng.uniform(20, 58, k)  # WA
        old = np.isin(seg, [P.OLD, P.FRAIL, P.PLAN])
        age[old] = np.clip(rng.normal(71, 9, old.sum()), 55, 98)
        emg = seg == P.EMG
        age[emg] = np.clip(rng.gamma(3.0, 4.5, emg.sum()) + 18, 18, 70)
        sup = seg == P.SUP
        age[sup] = np.clip(rng.gamma(3.0, 5.0, sup.sum()) + 18, 18, 70)
        return age

    def _ready_day(self, rng, start, seg):
        months = rng.lognormal(np.log(P.EMG_READY_MEDIAN_MONTHS), 0.6, len(start))
        return np.where(seg == P.EMG, start + months * 30.4, NEVER).astype(np.int32)

    # ------------------------------------------------------------------ tenancies, units, voids
    def _start_tenancy(self, leads, hh, units, day, route, application):
        k = len(leads)
        utype = self.u_type[units]
        t = self.tenancies.add(
            k, household=hh, person=leads, unit=units, type=utype, route=route,
            application=application, start=day,
        )
        p = self.people
        p.tenancy[leads] = t
        p.unit[leads] = units
        was_away = p.away[leads] > 0
        # someone moving while in hospital (rare) keeps the hospital as the month's state
        p.home[leads] = UNIT_STATE[utype]
        p.prev_home[leads[was_away]] = ABSENT
        self.u_occupant[units] = leads
        open_void = self.u_void[units]
        has_void = open_void >= 0
        self.voids.end[open_void[has_void]] = np.asarray(np.broadcast_to(day, (k,)))[has_void]
        self.u_void[units] = -1
        return t

    def _end_tenancy(self, rng, leads, day, reason):
        """End the lead's tenancy; the unit becomes void and is ready after a void period."""
        p = self.people
        day = np.broadcast_to(np.asarray(day, dtype=np.int32), (len(leads),))
        has = p.tenancy[leads] >= 0
        leads, day = leads[has], day[has]
        if len(leads) == 0:
            return
        t = p.tenancy[leads]
        day = np.maximum(day, self.tenancies.start[t])
        self.tenancies.end[t] = day
        self.tenancies.end_reason[t] = END_REASONS.index(reason)
        units = p.unit[leads]
        self._vacate(rng, units, day)
        p.tenancy[leads] = -1
        p.unit[leads] = -1
        p.arrears[leads] = 0

    def _vacate(self, rng, units, day, reason=0):
        k = len(units)
        utype = self.u_type[units]
        median = np.array([P.VOID_DAYS_MEDIAN[UNIT_TYPES[u]] for u in range(4)])[utype]
        length = rng.lognormal(np.log(median), P.VOID_DAYS_SIGMA, k)
        long_void = rng.random(k) < np.where(utype == TMP, 0.0, P.LONG_VOID_SHARE)
        length = np.where(long_void, rng.uniform(*P.LONG_VOID_DAYS, k), length)
        self.u_occupant[units] = -1
        self.u_ready[units] = (day + length).astype(np.int32)
        v = self.voids.add(k, unit=units, start=day, reason=np.where(long_void, 2, reason))
        self.u_void[units] = v

    # ------------------------------------------------------------------ care homes
    def _admit(self, who, beds, day, referral, kind, source, length):
        p = self.people
        k = len(who)
        ctype = np.where(self.u_type[beds] == 4, RES, NUR).astype(np.int8)
        stays = self.stays.add(
            k, person=who, scheme=self.u_scheme[beds], unit=beds, care_type=(ctype == NUR).astype(np.int8),
            kind=kind, referral=referral, admission=day, source=source,
        )
        temporary = np.broadcast_to(np.asarray(kind), (k,)) > 0
        day = np.broadcast_to(np.asarray(day, dtype=np.int32), (k,))
        length = np.broadcast_to(np.asarray(length), (k,))
        self.stays.planned_end[stays[temporary]] = day[temporary] + length[temporary].astype(np.int32)
        self.u_occupant[beds] = who
        self.u_ready[beds] = NEVER
        p.stay[who] = stays
        # temporary stays keep the home to go back to
        keep = temporary & (p.home[who] >= 0) & (p.home[who] <= COMM)
        p.prev_home[who[keep]] = p.home[who[keep]]
        p.home[who] = ctype
        p.in_care_queue[who] = 0
        return stays

    def _leave_bed(self, rng, stays, day):
        beds = self.stays.unit[stays]
        self.u_occupant[beds] = -1
        turnaround = rng.exponential(P.BED_TURNAROUND_MEAN_DAYS, len(beds))
        self.u_ready[beds] = (day + turnaround).astype(np.int32)

    # ------------------------------------------------------------------ running
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
        self._community_arrivals(rng, rng.poisson(P.COMMUNITY_ARRIVALS * self.scale), s, None, e)
        self._tenancy_dynamics(rng, s, e)
        self._temporary_arrivals(rng, s, e, year, cal)
        self._housing_applications(rng, s, e, year, cal)
        self._withdrawals(rng, s, e)
        self._lets(rng, s, e, year, cal)
        self._surnames(rng, s, e)
        # everyone whose stay away ends by month end is back (or has died) before the census
        self._returns(rng, s, e)
        self._census(t, s, e)

    # --- 1. people coming back from hospital or hospice
    def _returns(self, rng, s, e):
        p = self.people
        n = p.n
        back = np.flatnonzero((p.away[:n] > 0) & (p.away_until[:n] <= e))
        if len(back) == 0:
            return
        day = p.away_until[back]
        dies = p.away_dest[back] == SPELL_DEST.index("died")
        if dies.any():
            place = np.where(p.away[back[dies]] == HOSP, 1, 4)
            self._die(rng, back[dies], day[dies], place)
        alive = back[~dies]
        if len(alive):
            hosp = alive[p.away[alive] == HOSP]
            self.spells.discharge[p.away_spell[hosp]] = p.away_until[hosp]
            hos = alive[p.away[alive] == HOSPICE]
            self.hospice.discharge[p.away_spell[hos]] = p.away_until[hos]
            p.away[alive] = 0
            p.away_spell[alive] = -1
            p.away_until[alive] = NEVER

    def _end_temporary_stays(self, rng, e):
        p = self.people
        st = self.stays
        ending = np.flatnonzero((st.discharge[: st.n] == NEVER) & (st.planned_end[: st.n] <= e))
        if len(ending) == 0:
            return
        who = st.person[ending]
        # a resident in hospital at the end of a short stay goes home from hospital
        day = st.planned_end[ending]
        st.discharge[ending] = day
        st.dest[ending] = STAY_DEST.index("home")
        self._leave_bed(rng, ending, day)
        p.stay[who] = -1
        back_home = p.prev_home[who]
        outside = back_home < 0
        p.home[who] = np.where(outside, MOVED, back_home)
        p.prev_home[who] = ABSENT
        gone = who[outside]
        if len(gone):
            self._exit(rng, gone, day[outside], MOVED)

    # --- 2. deaths
    def _deaths(self, rng, s, e, year, pandemic):
        p = self.people
        n = p.n
        alive = np.flatnonzero((p.home[:n] >= 0) & (p.home[:n] <= COMM + 2) & (p.dying[:n] == 0))
        age = np.clip((e - p.dob[alive]) // 365.25, 0, 100).astype(int)
        qx = qx_by_year(year)[p.sex[alive].astype(int), age]
        q = _annual_to_monthly(qx)
        in_care = (p.home[alive] == RES) | (p.home[alive] == NUR)
        stay = p.stay[alive]
        permanent = in_care & (self.stays.kind[np.maximum(stay, 0)] == 0)
        months = (e - self.stays.admission[np.maximum(stay, 0)]) / 30.44
        k, lam = P.CARE_HOME_WEIBULL_K, P.CARE_HOME_WEIBULL_LAMBDA
        m0 = np.maximum(months - 1.0, 0.0)
        q_care = 1.0 - np.exp(-((months / lam) ** k - (m0 / lam) ** k))
        q = np.where(permanent, q_care, np.where(in_care, q * 1.5, q))
        if pandemic:
            q = q * np.where(in_care, P.PANDEMIC_MORTALITY_CARE_HOME, P.PANDEMIC_MORTALITY_COMMUNITY)
        dies = alive[rng.random(len(alive)) < q]
        if len(dies) == 0:
            return
        in_care = (p.home[dies] == RES) | (p.home[dies] == NUR)
        day = rng.integers(s, e + 1, len(dies)).astype(np.int32)
        u = rng.random(len(dies))
        dpc, dpr = P.DEATH_PLACE_COMMUNITY, P.DEATH_PLACE_CARE_HOME
        # 1 hospital, 2 home, 3 care home, 4 hospice
        place_comm = np.where(u < dpc["hospital"], 1, np.where(u < dpc["hospital"] + dpc["home"], 2, 4))
        place_care = np.where(u < dpr["care_home"], 3, np.where(u < dpr["care_home"] + dpr["hospital"], 1, 4))
        place = np.where(in_care, place_care, place_comm)
        away = p.away[dies]
        # already in hospital or hospice: they die there, on their planned discharge day
        already = away > 0
        d_al = dies[already]
        p.away_dest[d_al] = SPELL_DEST.index("died")
        # dying where they are, but not before they got there
        in_hosp = p.away[d_al] == HOSP
        arrived = np.empty(len(d_al), dtype=np.int32)
        arrived[in_hosp] = self.spells.admission[p.away_spell[d_al[in_hosp]]]
        arrived[~in_hosp] = self.hospice.admission[p.away_spell[d_al[~in_hosp]]]
        p.away_until[d_al] = np.maximum(np.minimum(p.away_until[d_al], day[already]), arrived)
        p.dying[d_al] = 1
        place[already] = 0
        instant = (place == 2) | (place == 3)
        self._die(rng, dies[instant], day[instant], place[instant])
        hosp = dies[place == 1]
        if len(hosp):
            los = rng.gamma(1.5, P.TERMINAL_HOSPITAL_LOS_MEAN / 1.5, len(hosp)).astype(np.int32) + 1
            self._admit_hospital(hosp, day[place == 1], day[place == 1] + los, dest=SPELL_DEST.index("died"))
        hos = dies[place == 4]
        if len(hos):
            los = rng.gamma(1.4, P.TERMINAL_HOSPICE_LOS_MEAN / 1.4, len(hos)).astype(np.int32) + 1
            self._admit_hospice(hos, day[place == 4], day[place == 4] + los, died=1)
            # some people go to the hospice and come home again (#22)
            self._hospice_alive(rng, rng.binomial(len(hos), P.HOSPICE_ALIVE_PER_TERMINAL), s, e)
        p.dying[hosp] = 1
        p.dying[hos] = 1

    def _member_deaths(self, rng, s, e, year):
        """Members are not followed through services, but they do die, at the life table's rates."""
        p = self.people
        n = p.n
        mem = np.flatnonzero(p.home[:n] == NOT_SIMULATED)
        lead = self.households.lead[p.household[mem]]
        mem = mem[(p.tenancy[lead] >= 0) & (p.entered[mem] <= e)]
        age = np.clip((e - p.dob[mem]) // 365.25, 0, 100).astype(int)
        q = _annual_to_monthly(qx_by_year(year)[p.sex[mem].astype(int), age])
        dies = mem[rng.random(len(mem)) < q]
        if len(dies):
            u = rng.random(len(dies))
            dpc = P.DEATH_PLACE_COMMUNITY
            p.death_place[dies] = np.where(u < dpc["hospital"], 1, np.where(u < dpc["hospital"] + dpc["home"], 2, 4))
            p.death_day[dies] = rng.integers(s, e + 1, len(dies))
            p.home[dies] = DIED

    def _hospice_alive(self, rng, k, s, e):
        p = self.people
        n = p.n
        if k == 0:
            return
        pool = np.flatnonzero(
            (p.home[:n] >= 0) & (p.home[:n] <= NUR) & (p.away[:n] == 0) & (p.dying[:n] == 0) & (p.need[:n] >= 2)
        )
        if len(pool) == 0:
            return
        who = rng.choice(pool, min(k, len(pool)), replace=False)
        day = rng.integers(s, e + 1, len(who)).astype(np.int32)
        los = rng.gamma(1.6, P.HOSPICE_DISCHARGED_LOS_MEAN / 1.6, len(who)).astype(np.int32) + 1
        self._admit_hospice(who, day, day + los, died=0)

    def _admit_hospital(self, who, day, until, dest, ready=None):
        p = self.people
        spell = self.spells.add(
            len(who), person=who, admission=day, ready=until if ready is None else ready,
            from_state=p.home[who], dest=dest, stay=np.where((p.home[who] == RES) | (p.home[who] == NUR), p.stay[who], -1),
        )
        p.away[who] = HOSP
        p.away_spell[who] = spell
        p.away_until[who] = until
        p.away_dest[who] = dest
        return spell

    def _admit_hospice(self, who, day, until, died):
        p = self.people
        stay = self.hospice.add(
            len(who), person=who, admission=day, from_state=p.home[who], died=died,
            stay=np.where((p.home[who] == RES) | (p.home[who] == NUR), p.stay[who], -1),
        )
        p.away[who] = HOSPICE
        p.away_spell[who] = stay
        p.away_until[who] = until
        p.away_dest[who] = SPELL_DEST.index("died") if died else SPELL_DEST.index("home")

    def _die(self, rng, who, day, place):
        """Death: every open spell closes, the tenancy ends, the bed and the unit free up."""
        if len(who) == 0:
            return
        p = self.people
        day = np.asarray(day, dtype=np.int32)
        place = np.asarray(place)
        p.death_day[who] = day
        p.death_place[who] = place
        hosp = p.away[who] == HOSP
        self.spells.discharge[p.away_spell[who[hosp]]] = day[hosp]
        self.spells.dest[p.away_spell[who[hosp]]] = SPELL_DEST.index("died")
        hos = p.away[who] == HOSPICE
        self.hospice.discharge[p.away_spell[who[hos]]] = day[hos]
        self.hospice.died[p.away_spell[who[hos]]] = 1
        stay = p.stay[who]
        has = stay >= 0
        if has.any():
            st = stay[has]
            self.stays.discharge[st] = day[has]
            dest = {1: "died_in_hospital", 3: "died", 4: "died_in_hospice", 2: "died", 0: "died"}
            codes = np.array([STAY_DEST.index(dest.get(int(x), "died")) for x in range(5)])
            pl = np.where(hosp[has], 1, np.where(hos[has], 4, place[has]))
            self.stays.dest[st] = codes[pl]
            self._leave_bed(rng, st, day[has])
            p.stay[who[has]] = -1
        self._end_tenancy(rng, who, day, "died")
        self._end_packages(who, day, "died")
        self._exit(rng, who, day, DIED)

    def _exit(self, rng, who, day, state):
        p = self.people
        p.home[who] = state
        p.away[who] = 0
        p.away_until[who] = NEVER
        p.exit_day[who] = day
        p.in_care_queue[who] = 0
        self._withdraw_open(who, day)
        self._events["exits"].append(who)

    def _withdraw_open(self, who, day):
        """Leaving or dying withdraws every open application the person had."""
        p = self.people
        day = np.broadcast_to(np.asarray(day, dtype=np.int32), (len(who),))
        for col in (p.in_sh_queue, p.in_xc_queue, p.in_tr_queue, p.app):
            has = col[who] >= 0
            if has.any():
                self.applications.outcome[col[who[has]]] = OUTCOMES.index("withdrawn")
                self.applications.outcome_day[col[who[has]]] = day[has]
            col[who] = -1

    # --- 3. emergency hospital admissions
    def _hospital(self, rng, s, e, year, cal, pandemic):
        p = self.people
        n = p.n
        cand = np.flatnonzero((p.home[:n] >= 0) & (p.home[:n] <= NUR) & (p.away[:n] == 0) & (p.dying[:n] == 0))
        age = (e - p.dob[cand]) / 365.25
        in_care = (p.home[cand] == RES) | (p.home[cand] == NUR)
        annual = _lookup(P.HOSPITAL_ANNUAL_BY_AGE, age) * P.HOSPITAL_NEED_MULT[p.need[cand]]
        annual = annual * _seg_map(P.HOSPITAL_SEGMENT_MULT, p.segment[cand], 1.0)
        annual = np.where(in_care, P.HOSPITAL_CARE_HOME_ANNUAL, annual)
        season = P.WINTER_MULT if cal in (12, 1, 2) else P.SUMMER_MULT if cal in (6, 7, 8) else 1.0
        if pandemic:
            season *= P.PANDEMIC_HOSPITAL_ADMISSIONS
        season *= self._regime("hospital_admissions", year, cal)
        admitted = rng.random(len(cand)) < _annual_to_monthly(annual * season)
        who = cand[admitted]
        if len(who) == 0:
            return
        k = len(who)
        age = age[admitted]
        in_care = in_care[admitted]
        day = rng.integers(s, e + 1, k).astype(np.int32)
        mean = _lookup(P.LOS_MEAN_BY_AGE, age)
        los = np.maximum(1, np.round(rng.gamma(P.LOS_SHAPE, mean / P.LOS_SHAPE))).astype(np.int32)
        ready = day + los
        need = p.need[who]
        seg = p.segment[who]
        u = rng.random(k)
        to_care = ~in_care & (u < P.HOSP_TO_CARE_HOME_BY_NEED[need] * _seg_map(P.HOSP_TO_CARE_SEGMENT_MULT, seg, 1.0))
        to_reable = ~in_care & ~to_care & (need >= 1) & (age >= 65) & (rng.random(k) < P.HOSP_TO_REABLEMENT)
        wait_pkg = ~in_care & ~to_care & ~to_reable & (need >= 2) & (rng.random(k) < P.HOSP_WAIT_FOR_PACKAGE)
        until = ready.copy()
        until[wait_pkg] += np.round(rng.lognormal(np.log(P.PACKAGE_DELAY_MEDIAN_DAYS), P.PACKAGE_DELAY_SIGMA, wait_pkg.sum())).astype(np.int32)
        pending = to_care | to_reable
        until[pending] = NEVER
        dest = np.full(k, SPELL_DEST.index("home"), dtype=np.int8)
        ctype = self._care_type(rng, need)
        dest[to_care] = np.where(ctype[to_care] == NUR, SPELL_DEST.index("nursing_care"), SPELL_DEST.index("residential_care"))
        dest[to_reable] = SPELL_DEST.index("residential_care")
        self._admit_hospital(who, day, until, dest, ready=ready)
        # ask for a bed: after an arrangement delay the person is ready to move in
        q = np.flatnonzero(pending)
        if len(q):
            arrange = rng.lognormal(np.log(P.ARRANGE_CARE_HOME_MEDIAN_DAYS), P.ARRANGE_CARE_HOME_SIGMA, len(q))
            arrange = np.where(to_reable[q], arrange * P.REABLEMENT_ARRANGE_FACTOR, arrange)
            self._queue_care(
                who[q], want=(ready[q] + arrange).astype(np.int32), priority=1,
                ctype=np.where(to_reable[q], RES, ctype[q]), kind=np.where(to_reable[q], 2, 0), source=0,
                length=np.where(to_reable[q], rng.gamma(4.0, P.TEMPORARY_STAY_MEAN_DAYS / 4.0, len(q)), 0),
                referral=ready[q],
            )

    @staticmethod
    def _care_type(rng, need):
        """Nursing care is for people with nursing needs: about half of those at the highest level."""
        return np.where((need >= 3) & (rng.random(len(need)) < P.NURSING_SHARE_OF_HIGH_NEED), NUR, RES).astype(np.int8)

    def _queue_care(self, who, want, priority, ctype, kind, source, length, referral):
        k = len(who)
        self.care_queue.add(
            k, person=who, want=want, priority=priority, type=ctype, kind=kind, source=source,
            length=np.asarray(length).astype(np.int32), referral=referral,
        )
        self.people.in_care_queue[who] = 1

    # --- 4. need for care changes
    def _need(self, rng, s, e):
        p = self.people
        n = p.n
        cand = np.flatnonzero((p.home[:n] >= 0) & (p.home[:n] <= COMM))
        age = (e - p.dob[cand]) / 365.25
        need = p.need[cand]
        prev = self._need_prevalence(age)
        # logistic prevalence p(a): the hazard among those without need is p'(a)/(1-p) = p/width a year
        onset = P.NEED_ONSET_BOOST * prev / (12 * P.NEED_LOGISTIC_WIDTH)
        mult = _seg_map(P.SEGMENT_NEED_MULT, p.segment[cand], 1.0)
        age_mult = np.clip(np.exp((age - 75) / 15), 0.3, 3.0)
        up = np.select(
            [need == 0, need == 1, need == 2],
            [onset * mult, P.NEED_RISE_1_TO_2 * mult * age_mult, P.NEED_RISE_2_TO_3 * mult * age_mult],
            0.0,
        )
        u = rng.random(len(cand))
        rise = u < up
        recover = ~rise & (need == 1) & (u > 1 - P.NEED_RECOVER_1_TO_0)
        p.need[cand[rise]] += 1
        p.need[cand[recover]] -= 1

    # --- 5. care-home demand from home
    def _care_demand(self, rng, s, e, pandemic, regime=1.0):
        p = self.people
        n = p.n
        cand = np.flatnonzero(
            (p.home[:n] >= 0) & (p.home[:n] <= COMM) & (p.away[:n] == 0) & (p.need[:n] >= 2)
            & (p.in_care_queue[:n] == 0) & (p.dying[:n] == 0)
        )
        if len(cand) == 0:
            return
        age = (e - p.dob[cand]) / 365.25
        need = p.need[cand]
        rate = _seg_map(P.PERMANENT_FROM_HOME, p.segment[cand]) * np.where(need >= 3, P.PERMANENT_FROM_HOME_NEED3_MULT, 1.0)
        rate = rate * (age >= 60) * regime
        respite = P.RESPITE_FROM_HOME * (age >= 65)
        mult = P.PANDEMIC_CARE_ADMISSIONS if pandemic else 1.0
        u = rng.random(len(cand))
        perm = u < rate * mult
        resp = ~perm & (u < (rate + respite) * mult)
        day = rng.integers(s, e + 1, len(cand)).astype(np.int32)
        ctype = self._care_type(rng, need)
        if perm.any():
            planned = p.segment[cand[perm]] == P.PLAN
            self._queue_care(
                cand[perm], want=day[perm] + rng.integers(14, 60, perm.sum()), priority=np.where(planned, 3, 2),
                ctype=ctype[perm], kind=0, source=1, length=0, referral=day[perm],
            )
        if resp.any():
            self._queue_care(
                cand[resp], want=day[resp] + rng.integers(7, 30, resp.sum()), priority=3, ctype=RES,
                kind=1, source=1, length=rng.gamma(3.0, P.TEMPORARY_STAY_MEAN_DAYS / 3.0, resp.sum()),
                referral=day[resp],
            )

    # --- 6. beds: internal queue by priority then longest wait, then the local authority fills
    def _allocate_care(self, rng, s, e):
        p = self.people
        q = self.care_queue
        live = np.flatnonzero(q.active[: q.n] == 1)
        who = q.person[live]
        gone = (p.home[who] > COMM) | (p.home[who] < 0) | (p.dying[who] == 1)
        q.active[live[gone]] = 0
        live = live[~gone]
        # someone in hospital for another reason waits until they are home again; only those
        # whose discharge is waiting for this bed can be admitted from hospital
        who = q.person[live]
        live = live[(p.away[who] == 0) | ((p.away[who] == HOSP) & (p.away_until[who] == NEVER))]
        order = live[np.lexsort((rng.random(len(live)), q.want[live], q.priority[live]))]
        admitted = []
        for ctype in (RES, NUR):
            beds = self.u_beds[ctype]
            free = beds[(self.u_occupant[beds] < 0) & (self.u_ready[beds] <= e)]
            free = free[np.argsort(self.u_ready[free], kind="stable")]
            ready = list(self.u_ready[free])
            free = list(free)
            mine = order[q.type[order] == ctype]
            mine = mine[q.want[mine] <= e]
            for entry in mine:
                if not free:
                    break
                # the first free bed; its day is when both the bed and the person are ready
                bed = free.pop(0)
                day = max(int(q.want[entry]), int(ready.pop(0)), s)
                admitted.append((entry, bed, day))
            # beds nobody internal is waiting for: local-authority placements from outside
            self._outside_fill(rng, np.array(free, dtype=np.int64), np.array(ready, dtype=np.int32), s, e)
        if not admitted:
            return
        entries = np.array([a[0] for a in admitted])
        beds = np.array([a[1] for a in admitted], dtype=np.int64)
        days = np.array([a[2] for a in admitted], dtype=np.int32)
        q.active[entries] = 0
        who = q.person[entries]
        kind = q.kind[entries]
        # leaving hospital into the home: the spell ends on admission day
        in_hosp = p.away[who] == HOSP
        hw = who[in_hosp]
        sp = p.away_spell[hw]
        self.spells.discharge[sp] = days[in_hosp]
        p.away[hw] = 0
        p.away_spell[hw] = -1
        p.away_until[hw] = NEVER
        permanent = kind == 0
        pw = who[permanent]
        self._end_tenancy(rng, pw, days[permanent], "care_home")
        self._end_packages(pw, days[permanent], "care_home")
        self._withdraw_open(pw, days[permanent])
        p.home[pw] = ABSENT
        self._admit(who, beds, days, q.referral[entries], kind=kind, source=q.source[entries], length=q.length[entries])

    def _outside_fill(self, rng, beds, ready, s, e):
        if len(beds) == 0:
            return
        day = np.maximum(ready, s) + rng.integers(0, P.OUTSIDE_FILL_DELAY_MAX_DAYS + 1, len(beds))
        ok = day <= e
        beds, day = beds[ok], day[ok].astype(np.int32)
        k = len(beds)
        if k == 0:
            return
        nursing = self.u_type[beds] == 5
        age = np.clip(80 + rng.gamma(2.0, 4.0, k), 65, 104)
        sex = (rng.random(k) < 0.66).astype(np.int8)
        kinds = np.array([STAY_KINDS.index(x) for x in P.OUTSIDE_KIND_P])
        kind = rng.choice(kinds, k, p=list(P.OUTSIDE_KIND_P.values()))
        source = np.where(rng.random(k) < P.OUTSIDE_FROM_HOSPITAL, 0, 1).astype(np.int8)
        seg = np.where(source == 0, P.FRAIL, P.PLAN).astype(np.int8)
        area = self.u_area[beds]
        who = self._new_people(
            rng, k, role=ROLE_OUTSIDE, sex=sex, dob=(day - np.round(age * 365.25)).astype(np.int32),
            segment=seg, area=area, origin=ORIGINS.index("outside_care"), entered=day,
        )
        self._attributes(rng, who, age)
        self.people.need[who] = np.where(nursing, 3, np.where(rng.random(k) < 0.55, 2, 3))
        self.people.home[who] = ABSENT
        length = rng.gamma(4.0, P.TEMPORARY_STAY_MEAN_DAYS / 4.0, k)
        referral = (day - rng.integers(3, 40, k)).astype(np.int32)
        self._admit(who, beds, day, referral, kind=kind, source=source, length=length)

    # --- 7. home care
    def _hours(self, rng, need):
        out = np.zeros(len(need), dtype=np.float32)
        for level, (median, sigma, lo, hi) in P.PACKAGE_HOURS.items():
            sel = need == level
            out[sel] = np.clip(rng.lognormal(np.log(median), sigma, sel.sum()), lo, hi)
        return np.round(out * 4) / 4

    def _start_packages(self, rng, who, day, referral=None):
        p = self.people
        if len(who) == 0:
            return
        if referral is None:
            referral = day - np.round(rng.lognormal(np.log(P.REFERRAL_TO_START_MEDIAN_DAYS), 0.6, len(who))).astype(np.int32)
        hours = self._hours(rng, p.need[who])
        pk = self.packages.add(
            len(who), person=who, team=AREA_TEAM[p.area[who]], referral=referral, start=day, hours=hours,
            need=p.need[who],
        )
        p.package[who] = pk
        p.hours[who] = hours

    def _end_packages(self, who, day, reason):
        p = self.people
        has = p.package[who] >= 0
        if not has.any():
            return
        pk = p.package[who[has]]
        # an event drawn earlier in the month than a package started this month ends it on its first day
        self.packages.end[pk] = np.maximum(np.asarray(np.broadcast_to(day, (len(who),)))[has], self.packages.start[pk])
        self.packages.end_reason[pk] = PACKAGE_END.index(reason)
        p.package[who[has]] = -1
        p.hours[who[has]] = 0.0

    def _home_care(self, rng, s, e):
        p = self.people
        n = p.n
        at_home = np.flatnonzero((p.home[:n] >= 0) & (p.home[:n] <= COMM))
        has = p.package[at_home] >= 0
        need = p.need[at_home]
        # reassessment when the need level changed; ending when it fell to none
        with_pkg = at_home[has]
        changed = self.packages.need[p.package[with_pkg]] != p.need[with_pkg]
        ch = with_pkg[changed]
        day = rng.integers(s, e + 1, len(ch)).astype(np.int32)
        none = p.need[ch] == 0
        self._end_packages(ch[none], day[none], "no_longer_needed")
        self._end_packages(ch[~none], day[~none], "reassessed")
        self._start_packages(rng, ch[~none], day[~none], referral=day[~none])
        # community people with no need left are no longer known to services
        gone = ch[none][p.home[ch[none]] == COMM]
        if len(gone):
            self._exit(rng, gone, day[none][p.home[ch[none]] == COMM], MOVED)
        # new packages
        cand = at_home[~has & (need >= 1)]
        # extra-care residents and people referred to us get our care; other tenants mostly
        # get help from family or other providers
        cand = cand[(p.away[cand] == 0) & ((p.uptake[cand] == 1) | (p.home[cand] == XC) | (p.home[cand] == COMM))]
        start_p = np.array([0.0, P.PACKAGE_START[1], P.PACKAGE_START[2], P.PACKAGE_START[3]])[p.need[cand]]
        start_p = np.where(p.home[cand] == XC, P.PACKAGE_START_EXTRA_CARE, start_p)
        go = cand[rng.random(len(cand)) < start_p]
        self._start_packages(rng, go, rng.integers(s, e + 1, len(go)).astype(np.int32))

    def _community_arrivals(self, rng, k, s, entered=None, e=None):
        """People referred for home care who are not tenants: known only to care services."""
        if k == 0:
            return
        day = rng.integers(s, (e if e is not None else s) + 1, k).astype(np.int32)
        segs = np.array(list(P.COMMUNITY_SEGMENT_P))
        seg = rng.choice(segs, k, p=list(P.COMMUNITY_SEGMENT_P.values())).astype(np.int8)
        age = np.clip(72 + rng.gamma(2.5, 4.5, k), 60, 102)
        area = rng.choice(len(AREA_WEIGHTS), k, p=AREA_WEIGHTS).astype(np.int8)
        sex = (rng.random(k) < 0.62).astype(np.int8)
        start = day if entered is None else np.asarray(entered, dtype=np.int32)
        who = self._new_people(
            rng, k, role=ROLE_OUTSIDE, sex=sex, dob=(day - np.round(age * 365.25)).astype(np.int32),
            segment=seg, area=area, origin=ORIGINS.index("referral"), entered=start,
        )
        self._attributes(rng, who, age)
        self.people.need[who] = rng.choice(4, k, p=P.COMMUNITY_NEED_P)
        self.people.home[who] = COMM
        self._start_packages(rng, who, start)

    # --- 8. tenancies: arrears, evictions, moving out, moving on
    def _tenancy_dynamics(self, rng, s, e):
        p = self.people
        n = p.n
        leads = np.flatnonzero((p.tenancy[:n] >= 0) & (p.home[:n] >= 0) & (p.home[:n] <= TMP) & (p.dying[:n] == 0))
        seg = p.segment[leads]
        k = len(leads)
        u = rng.random(k)
        a = p.arrears[leads]
        m = _seg_map(P.ARREARS_SEGMENT_MULT, seg, 1.0)
        ap = P.ARREARS_P
        new = a.copy()
        new[(a == 0) & (u < ap["0to1"] * m)] = 1
        new[(a == 1) & (u < ap["1to0"] / m)] = 0
        new[(a == 1) & (u > 1 - ap["1to2"] * m)] = 2
        new[(a == 2) & (u < ap["2to1"])] = 1
        p.arrears[leads] = new
        p.wellbeing[leads] = np.clip(p.wellbeing[leads] + (rng.random(k) < 0.05) * rng.choice([-1, 1], k), 1, 10)
        day = rng.integers(s, e + 1, k).astype(np.int32)
        u2 = rng.random(k)
        away = p.away[leads] > 0
        evict = ~away & (new == 2) & (u2 < _annual_to_monthly(P.EVICTION_FROM_BAND2_ANNUAL))
        home = p.home[leads]
        move_rate = _seg_map(P.MOVE_OUT_ANNUAL, seg)
        move_rate = np.where(home == TMP, _seg_map(P.TEMPORARY_EXIT_ANNUAL, seg), move_rate)
        move_rate = np.where((home == TMP) & (seg == P.SUP), P.SUP_MOVE_ON_ANNUAL + P.TEMPORARY_EXIT_ANNUAL[P.SUP], move_rate)
        move = ~evict & ~away & (rng.random(k) < _annual_to_monthly(move_rate))
        for mask, reason in ((evict, "evicted"), (move, "moved_out")):
            who = leads[mask]
            if reason == "moved_out":
                moved_on = p.home[who] == TMP
                self._end_tenancy(rng, who[moved_on], day[mask][moved_on], "moved_on")
                self._end_tenancy(rng, who[~moved_on], day[mask][~moved_on], "moved_out")
            else:
                self._end_tenancy(rng, who, day[mask], reason)
            self._end_packages(who, day[mask], "moved_out")
            self._exit(rng, who, day[mask], MOVED)

    def _housing_applications(self, rng, s, e, year, cal):
        """Who applies this month: tenants for a transfer, sheltered or extra care; community
        people for extra care; and new households from outside onto the register.

        Applications exist from the day they are made, so the register on any date is what the
        CRM would hold that day, and the wait from application to let is real.
        """
        p = self.people
        n = p.n
        age = (e - p.dob[:n]) / 365.25
        base = (p.home[:n] >= 0) & (p.away[:n] == 0) & (p.dying[:n] == 0)
        tenant = base & (p.tenancy[:n] >= 0)
        old = age >= 60
        sh = np.flatnonzero(tenant & old & (p.home[:n] == GN) & (p.need[:n] >= 1) & (p.in_sh_queue[:n] < 0))
        sh = sh[rng.random(len(sh)) < P.SHELTERED_APPLY]
        xc = np.flatnonzero(base & old & np.isin(p.home[:n], [GN, SH, COMM]) & (p.need[:n] >= 2) & (p.in_xc_queue[:n] < 0))
        xc = xc[rng.random(len(xc)) < P.EXTRA_CARE_APPLY]
        tr = np.flatnonzero(tenant & (p.home[:n] == GN) & (p.in_tr_queue[:n] < 0) & (p.segment[:n] != P.SUP))
        tr = tr[rng.random(len(tr)) < P.TRANSFER_APPLY]
        for who, need_type, col in (
            (sh, "sheltered", p.in_sh_queue), (xc, "extra_care", p.in_xc_queue), (tr, "transfer", p.in_tr_queue)
        ):
            if len(who) == 0:
                continue
            day = rng.integers(s, e + 1, len(who)).astype(np.int32)
            band = rng.choice(np.array(["A", "B", "C"], dtype=object), len(who), p=[0.2, 0.5, 0.3])
            col[who] = self.applications.add(
                len(who), household=p.household[who], person=who, applied=day, band=band,
                need_type=NEED_TYPES.index(need_type), offers=rng.integers(0, 3, len(who)),
            )
        # new households onto the register, at about the rate lets to them are made
        fy = year if cal >= 4 else year - 1
        gn_units = int((self.u_type == GN).sum())
        register_share = max(0.05, 1.0 - P.TRANSFER_ROUTE_SHARE - _lookup(P.HOMELESS_SHARE, fy))
        rates = {
            "general": gn_units * P.GN_LETS_ANNUAL / 12 * register_share,
            "sheltered": P.SHELTERED_REGISTER_MONTHLY * self.scale,
            "extra_care": P.EXTRA_CARE_REGISTER_MONTHLY * self.scale,
        }
        for need_type, rate in rates.items():
            k = rng.poisson(rate * P.REGISTER_OVERSUPPLY)
            if need_type == "general":
                seg = rng.choice([P.WA, P.OLD, P.FRAIL, P.PLAN], k, p=[0.84, 0.10, 0.04, 0.02]).astype(np.int8)
            else:
                seg = rng.choice([P.OLD, P.FRAIL, P.PLAN], k, p=[0.6, 0.25, 0.15]).astype(np.int8)
            self._new_applicants(rng, seg, rng.integers(s, e + 1, k).astype(np.int32), need_type)

    def _new_applicants(self, rng, seg, day, need_type, band=None):
        """Households from outside applying: people now, with an open application; no home of ours yet."""
        k = len(seg)
        if k == 0:
            return np.empty(0, np.int64)
        age = self._entry_age(rng, seg)
        area = rng.choice(len(AREA_WEIGHTS), k, p=AREA_WEIGHTS).astype(np.int8)
        origin = ORIGINS.index("homeless" if need_type == "homeless" else "register")
        hh, leads = self._new_households(rng, k, segment=seg, age=age, area=area, day=day, origin=origin)
        if need_type == "extra_care":  # extra care is for people who need care
            self.people.need[leads] = np.maximum(self.people.need[leads], 2)
        if band is None:
            band = rng.choice(np.array(["B", "C", "D"], dtype=object), k, p=[0.35, 0.45, 0.2])
        self.people.app[leads] = self.applications.add(
            k, household=hh, person=leads, applied=day, band=band, need_type=NEED_TYPES.index(need_type),
            offers=rng.integers(0, 3, k),
        )
        return leads

    def _withdrawals(self, rng, s, e):
        """Applicants who are not housed give up: a few a month, and the homeless after a while."""
        p = self.people
        n = p.n
        # tenants on the transfer list change their minds too
        listed = np.flatnonzero((p.in_tr_queue[:n] >= 0) & (p.home[:n] >= 0))
        quit_list = listed[rng.random(len(listed)) < P.TRANSFER_WITHDRAW]
        if len(quit_list):
            app = p.in_tr_queue[quit_list]
            self.applications.outcome[app] = OUTCOMES.index("withdrawn")
            self.applications.outcome_day[app] = np.maximum(rng.integers(s, e + 1, len(app)), self.applications.applied[app])
            p.in_tr_queue[quit_list] = -1
        waiting = np.flatnonzero((p.app[:n] >= 0) & (p.home[:n] == ABSENT))
        if len(waiting) == 0:
            return
        app = p.app[waiting]
        homeless = self.applications.need_type[app] == NEED_TYPES.index("homeless")
        too_long = homeless & (self.applications.applied[app] < s - P.TEMPORARY_WAIT_GIVE_UP_MONTHS * 30)
        go = too_long | (~homeless & (rng.random(len(waiting)) < P.REGISTER_WITHDRAW))
        who = waiting[go]
        day = rng.integers(s, e + 1, len(who)).astype(np.int32)
        day = np.maximum(day, self.applications.applied[p.app[who]])
        self.applications.outcome[p.app[who]] = OUTCOMES.index("withdrawn")
        self.applications.outcome_day[p.app[who]] = day
        p.app[who] = -1
        p.exit_day[who] = day
        p.home[who] = NOT_SIMULATED  # never housed by us: no timeline

    def _waiting(self, need_type, by_day):
        """Open applicants of a kind not yet housed, in the order they are offered homes."""
        p = self.people
        n = p.n
        who = np.flatnonzero((p.app[:n] >= 0) & (p.home[:n] == ABSENT))
        app = p.app[who]
        who = who[(self.applications.need_type[app] == NEED_TYPES.index(need_type)) & (self.applications.applied[app] <= by_day)]
        app = p.app[who]
        order = np.lexsort((self.applications.applied[app], self.applications.band[app].astype(str)))
        return who[order]

    def _house(self, rng, leads, units, day, route):
        """Applicants from outside move into their first home of ours."""
        p = self.people
        app = p.app[leads]
        day = np.maximum(day, self.applications.applied[app]).astype(np.int32)
        self.applications.outcome[app] = OUTCOMES.index("let")
        self.applications.outcome_day[app] = day
        t = self._start_tenancy(leads, p.household[leads], units, day, route=ROUTES.index(route), application=app)
        self.applications.tenancy[app] = t
        p.app[leads] = -1
        p.postcode[leads] = self.u_postcode[units]
        p.entered[leads] = np.minimum(p.entered[leads], day)
        return day

    # --- 9. lets: every void unit that is ready is let by route
    def _lets(self, rng, s, e, year, cal):
        fy = year if cal >= 4 else year - 1
        homeless_share = _lookup(P.HOMELESS_SHARE, fy)
        for utype in (TMP, GN, SH, XC):
            units = np.flatnonzero((self.u_type == utype) & (self.u_occupant < 0) & (self.u_ready <= e))
            units = units[np.argsort(self.u_ready[units], kind="stable")]
            if len(units) == 0:
                continue
            day = np.maximum(self.u_ready[units], s).astype(np.int32)
            if utype == TMP:
                self._let_temporary(rng, units, day, e)
            elif utype == GN:
                self._let_general_needs(rng, units, day, homeless_share, s, e)
            else:
                self._let_from_queue(rng, units, day, utype, s, e)

    def _temporary_arrivals(self, rng, s, e, year, cal=1):
        """Homeless households needing temporary accommodation: they apply as they arrive."""
        rate = P.HOMELESS_REFERRALS * self.scale * (1 + P.HOMELESS_REFERRALS_GROWTH) ** (year - 2023)
        k = rng.poisson(rate * self._regime("homeless_referrals", year, cal))
        days = np.sort(rng.integers(s, e + 1, k)).astype(np.int32)
        segs = np.where(rng.random(k) < P.SUP_SHARE_OF_TEMPORARY, P.SUP, P.EMG).astype(np.int8)
        self._new_applicants(rng, segs, days, "homeless", band=np.full(k, "A", dtype=object))

    def _let_temporary(self, rng, units, day, e):
        waiting = self._waiting("homeless", e)
        k = min(len(units), len(waiting))
        if k == 0:
            return
        leads, units, day = waiting[:k], units[:k], day[:k]
        day = self._house(rng, leads, units, day, "homeless")
        self.people.ready_to_move_on[leads] = self._ready_day(rng, day, self.people.segment[leads])

    def _let_general_needs(self, rng, units, day, homeless_share, s, e):
        p = self.people
        k = len(units)
        u = rng.random(k)
        route = np.where(u < P.TRANSFER_ROUTE_SHARE, 3, np.where(u < P.TRANSFER_ROUTE_SHARE + homeless_share, 2, 1))
        # transfers: general-needs tenants on the transfer list, longest waiting first
        tr = np.flatnonzero(route == 3)
        if len(tr):
            n = p.n
            listed = np.flatnonzero((p.in_tr_queue[:n] >= 0) & (p.home[:n] == GN) & (p.away[:n] == 0) & (p.dying[:n] == 0))
            listed = listed[np.argsort(self.applications.applied[p.in_tr_queue[listed]], kind="stable")][: len(tr)]
            self._transfer(rng, listed, units[tr[: len(listed)]], day[tr[: len(listed)]], "transfer")
            route[tr[len(listed):]] = 1  # nobody waiting for a transfer: the register gets it
        # homeless: households in temporary accommodation ready to move on, then those still waiting
        hl = np.flatnonzero(route == 2)
        if len(hl):
            n = p.n
            ready = np.flatnonzero((p.home[:n] == TMP) & (p.ready_to_move_on[:n] <= day.max()) & (p.away[:n] == 0) & (p.dying[:n] == 0))
            ready = ready[np.argsort(p.ready_to_move_on[ready], kind="stable")][: len(hl)]
            if len(ready):
                self._transfer(rng, ready, units[hl[: len(ready)]], day[hl[: len(ready)]], "homeless", end_reason="moved_on")
            rest = hl[len(ready):]
            direct = self._waiting("homeless", e)[: len(rest)]
            if len(direct):
                self._house(rng, direct, units[rest[: len(direct)]], day[rest[: len(direct)]], "homeless")
            # nobody waiting: the council refers a homeless household straight to the home
            short = rest[len(direct):]
            if len(short):
                seg = np.full(len(short), P.EMG, np.int8)
                leads = self._new_applicants(rng, seg, day[short], "homeless", band=np.full(len(short), "A", dtype=object))
                self._house(rng, leads, units[short], day[short], "homeless")
        rg = np.flatnonzero(route == 1)
        self._let_from_register(rng, units[rg], day[rg], "general", s, e)

    def _let_from_register(self, rng, units, day, need_type, s, e):
        """New households from the register; if the list is empty, a household applying that day."""
        if len(units) == 0:
            return
        waiting = self._waiting(need_type, e)[: len(units)]
        if len(waiting):
            self._house(rng, waiting, units[: len(waiting)], day[: len(waiting)], "register")
        short = len(units) - len(waiting)
        if short:
            if need_type == "general":
                seg = rng.choice([P.WA, P.OLD, P.FRAIL, P.PLAN], short, p=[0.84, 0.10, 0.04, 0.02]).astype(np.int8)
            else:
                seg = rng.choice([P.OLD, P.FRAIL, P.PLAN], short, p=[0.6, 0.25, 0.15]).astype(np.int8)
            d = day[len(waiting):]
            leads = self._new_applicants(rng, seg, d, need_type)
            self._house(rng, leads, units[len(waiting):], d, "register")

    def _transfer(self, rng, leads, units, day, need_type, end_reason="transfer"):
        """The same household moves to another of the provider's homes, on its application."""
        if len(leads) == 0:
            return
        p = self.people
        hh = p.household[leads]
        col = {"sheltered": p.in_sh_queue, "extra_care": p.in_xc_queue, "transfer": p.in_tr_queue}.get(need_type)
        app = col[leads].copy() if col is not None else p.app[leads].copy()
        fresh = app < 0
        if fresh.any():  # e.g. moving on from temporary accommodation: applied when ready
            k = int(fresh.sum())
            app[fresh] = self.applications.add(
                k, household=hh[fresh], person=leads[fresh],
                applied=np.minimum(p.ready_to_move_on[leads[fresh]], day[fresh]).astype(np.int32),
                band=np.full(k, "A", dtype=object), need_type=NEED_TYPES.index(need_type),
            )
        self._end_tenancy(rng, leads, day, end_reason)
        day = np.maximum(day, self.applications.applied[app]).astype(np.int32)
        self.applications.outcome[app] = OUTCOMES.index("let")
        self.applications.outcome_day[app] = day
        route = ROUTES.index("homeless" if need_type == "homeless" else "transfer")
        t = self._start_tenancy(leads, hh, units, day, route=route, application=app)
        self.applications.tenancy[app] = t
        if col is not None:
            col[leads] = -1
        else:
            p.app[leads] = -1
        # a household housed on one list leaves the others
        for other in (p.in_sh_queue, p.in_xc_queue, p.in_tr_queue):
            still = other[leads] >= 0
            if still.any():
                self.applications.outcome[other[leads[still]]] = OUTCOMES.index("withdrawn")
                self.applications.outcome_day[other[leads[still]]] = day[still]
            other[leads] = -1
        p.ready_to_move_on[leads] = NEVER

    def _let_from_queue(self, rng, units, day, utype, s, e):
        """Sheltered and extra care: our tenants and people we care for first, then the register."""
        p = self.people
        col = p.in_sh_queue if utype == SH else p.in_xc_queue
        n = p.n
        waiting = np.flatnonzero((col[:n] >= 0) & (p.home[:n] >= 0) & (p.home[:n] <= COMM) & (p.away[:n] == 0) & (p.dying[:n] == 0))
        waiting = waiting[np.argsort(self.applications.applied[col[waiting]], kind="stable")]
        share_queue = 0.55 if utype == SH else 0.8
        use = rng.random(len(units)) < share_queue
        from_q = np.flatnonzero(use)[: len(waiting)]
        need_type = "sheltered" if utype == SH else "extra_care"
        if len(from_q):
            who = waiting[: len(from_q)]
            is_tenant = p.tenancy[who] >= 0
            tenants, comm = who[is_tenant], who[~is_tenant]
            t_idx, c_idx = from_q[is_tenant], from_q[~is_tenant]
            if len(tenants):
                self._transfer(rng, tenants, units[t_idx], day[t_idx], need_type)
            if len(comm):
                self._community_to_tenant(rng, comm, units[c_idx], day[c_idx], col)
        rest = np.setdiff1d(np.arange(len(units)), from_q)
        self._let_from_register(rng, units[rest], day[rest], need_type, s, e)

    def _community_to_tenant(self, rng, who, units, day, col):
        p = self.people
        k = len(who)
        hh = self.households.add(k, lead=who, area=self.u_area[units], formed=day, n_members=1)
        p.household[who] = hh
        p.role[who] = ROLE_LEAD
        app = col[who]
        day = np.maximum(day, self.applications.applied[app]).astype(np.int32)
        self.applications.household[app] = hh
        self.applications.outcome[app] = OUTCOMES.index("let")
        self.applications.outcome_day[app] = day
        t = self._start_tenancy(who, hh, units, day, route=ROUTES.index("register"), application=app)
        self.applications.tenancy[app] = t
        col[who] = -1

    def _surnames(self, rng, s, e):
        p = self.people
        n = p.n
        age = (e - p.dob[:n]) / 365.25
        cand = np.flatnonzero(
            ((p.home[:n] >= 0) & (p.home[:n] <= COMM) | (p.home[:n] == NOT_SIMULATED))
            & (p.sex[:n] == 1) & (age >= 18) & (age <= 45) & (p.surname_changed[:n] == NEVER)
        )
        wed = cand[rng.random(len(cand)) < P.SURNAME_CHANGE]
        if len(wed):
            p.previous_surname[wed] = p.surname[wed]
            p.surname[wed] = surnames(rng, len(wed))
            p.surname_changed[wed] = rng.integers(s, e + 1, len(wed))

    # --- 10. the month's census
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

