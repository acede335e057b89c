"""Health: emergency hospital admissions and discharges, hospice stays, and deaths with their place.

A mixin of ``World`` (history.py). Hospital and hospice stays carry day-level dates inside the
monthly step; a discharge waiting for a care-home bed or a package is a delayed discharge. Draw
order is part of the contract (see population.py).
"""

from __future__ import annotations

import numpy as np

from ..life_tables import qx_by_year
from . import params as P
from .codes import (
    COMM,
    DIED,
    HOSP,
    HOSPICE,
    NEVER,
    NOT_SIMULATED,
    NUR,
    RES,
    SPELL_DEST,
    STAY_DEST,
    _annual_to_monthly,
    _lookup,
    _seg_map,
)


class HealthMixin:
    """Hospital, hospice and deaths."""

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
        q = np.where(permanent, q_care, np.where(in_care, q * P.TEMPORARY_CARE_MORTALITY_MULT, q))
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
            los = rng.gamma(P.TERMINAL_HOSPITAL_LOS_SHAPE, P.TERMINAL_HOSPITAL_LOS_MEAN / P.TERMINAL_HOSPITAL_LOS_SHAPE, len(hosp)).astype(np.int32) + 1
            self._admit_hospital(hosp, day[place == 1], day[place == 1] + los, dest=SPELL_DEST.index("died"))
        hos = dies[place == 4]
        if len(hos):
            los = rng.gamma(P.TERMINAL_HOSPICE_LOS_SHAPE, P.TERMINAL_HOSPICE_LOS_MEAN / P.TERMINAL_HOSPICE_LOS_SHAPE, len(hos)).astype(np.int32) + 1
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
        los = rng.gamma(P.HOSPICE_DISCHARGED_LOS_SHAPE, P.HOSPICE_DISCHARGED_LOS_MEAN / P.HOSPICE_DISCHARGED_LOS_SHAPE, len(who)).astype(np.int32) + 1
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

    def _hospital(self, rng, s, e, year, cal, pandemic):
        p = self.people
        n = p.n
        cand = np.flatnonzero((p.home[:n] >= 0) & (p.home[:n] <= NUR) & (p.away[:n] == 0) & (p.dying[:n] == 0))
        age = (e - p.dob[cand]) / 365.25
        in_care = (p.home[cand] == RES) | (p.home[cand] == NUR)
        annual = _lookup(P.HOSPITAL_ANNUAL_BY_AGE, age) * P.HOSPITAL_NEED_MULT[p.need[cand]]
        annual = annual * _seg_map(P.HOSPITAL_SEGMENT_MULT, p.segment[cand], 1.0)
        annual = np.where(in_care, P.HOSPITAL_CARE_HOME_ANNUAL, annual)
        season = P.WINTER_MULT if cal in P.WINTER_MONTHS else P.SUMMER_MULT if cal in P.SUMMER_MONTHS else 1.0
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
        to_reable = ~in_care & ~to_care & (need >= 1) & (age >= P.REABLEMENT_MIN_AGE) & (rng.random(k) < P.HOSP_TO_REABLEMENT)
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
                length=np.where(to_reable[q], rng.gamma(P.REABLEMENT_STAY_SHAPE, P.TEMPORARY_STAY_MEAN_DAYS / P.REABLEMENT_STAY_SHAPE, len(q)), 0),
                referral=ready[q],
            )
