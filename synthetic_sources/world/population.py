"""The world's people: who they are when they arrive, the 1998 population, need for care as they
age, and leaving the world (moving away or dying).

A mixin of ``World`` (history.py): its methods read and write the world's tables on ``self``.
Every random draw is taken from the month's generator in the order the month's step calls them;
moving a draw changes the world, so the order inside each method is part of its contract.
"""

from __future__ import annotations

import numpy as np

from . import params as P
from .codes import (
    COMM,
    GN,
    NEVER,
    NOT_SIMULATED,
    NUR,
    ORIGINS,
    RES,
    ROLE_LEAD,
    ROLE_MEMBER,
    ROLE_OUTSIDE,
    SH,
    TMP,
    UNIT_TYPES,
    XC,
    _seg_map,
    month_bounds,
)
from .geography import postcodes
from .identity import first_names, surnames


class PopulationMixin:
    """People arriving, their circumstances, their need for care, and their leaving."""

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
        working = age < P.RETIREMENT_AGE
        emp = np.where(
            working,
            np.where(
                rng.random(k) < np.where(seg == P.WA, P.EMPLOYED_WA, P.EMPLOYED_OTHER), 0,
                np.where(rng.random(k) < P.UNEMPLOYED_NOT_EMPLOYED, 1, 3),
            ),
            2,
        )
        emp = np.where((age < P.STUDENT_BELOW_AGE) & (rng.random(k) < P.STUDENT_YOUNG), 4, emp)
        emp = np.where(seg == P.SUP, np.where(rng.random(k) < P.UNABLE_TO_WORK_SUP, 3, 1), emp)
        p.employment[idx] = emp
        p.benefits[idx] = np.where(
            emp == 2, np.where(rng.random(k) < P.PENSION_CREDIT_RETIRED, 2, 3),
            np.where(emp == 0, np.where(rng.random(k) < P.UNIVERSAL_CREDIT_EMPLOYED, 0, 3), 0),
        )
        p.income[idx] = np.where(emp == 0, rng.choice(3, k, p=P.INCOME_P_EMPLOYED), rng.choice(3, k, p=P.INCOME_P_OTHER))
        p.income[idx] = np.where(seg == P.PLAN, rng.choice(3, k, p=P.INCOME_P_PLAN), p.income[idx])
        p.support[idx] = (np.isin(seg, [P.SUP, P.EMG]) & (rng.random(k) < P.SUPPORT_SUP_EMG)) | (rng.random(k) < P.SUPPORT_OTHER)
        p.wellbeing[idx] = np.clip(np.round(rng.normal(np.where(np.isin(seg, [P.EMG, P.SUP]), P.WELLBEING_MEAN_EMG_SUP, P.WELLBEING_MEAN_OTHER), P.WELLBEING_SD)), 1, 10)
        p.arrears[idx] = rng.choice(3, k, p=P.INITIAL_ARREARS_P)
        p.need[idx] = self._initial_need(rng, age, seg)

    @staticmethod
    def _need_prevalence(age):
        return 1.0 / (1.0 + np.exp(-(np.asarray(age, dtype=float) - P.NEED_LOGISTIC_MID) / P.NEED_LOGISTIC_WIDTH))

    def _initial_need(self, rng, age, seg):
        prev = np.clip(self._need_prevalence(age) * _seg_map(P.SEGMENT_NEED_MULT, seg, 1.0), 0, P.INITIAL_NEED_MAX_PREVALENCE)
        has = rng.random(len(age)) < prev
        level = rng.choice([1, 2, 3], len(age), p=P.INITIAL_NEED_LEVEL_P)
        return np.where(has, level, 0).astype(np.int8)

    def _new_households(self, rng, k, *, segment, age, area, day, origin):
        """Households arriving: a lead of the given segment and age, and members."""
        sex = (rng.random(k) < np.where(np.isin(segment, [P.OLD, P.FRAIL, P.PLAN]), P.FEMALE_LEAD_OLDER, P.FEMALE_LEAD_OTHER)).astype(np.int8)
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
                partner & (lead_age > 20) & (rng.random(total) < P.PARTNER_ADULT),
                np.clip(lead_age + rng.normal(0, P.PARTNER_AGE_GAP_SD, total), 18, 100),
                np.clip(lead_age - P.CHILD_AGE_GAP_MIN - rng.uniform(0, P.CHILD_AGE_GAP_SPREAD, total), 0, 60),
            )
            m_sex = np.where(partner, 1 - sex[owner], rng.integers(0, 2, total)).astype(np.int8)
            m_dob = (day[owner] if np.ndim(day) else day) - np.round(m_age * 365.25) - rng.integers(0, 365, total)
            mem = self._new_people(
                rng, total, role=ROLE_MEMBER, sex=m_sex, dob=m_dob.astype(np.int32), segment=0,
                area=area[owner] if np.ndim(area) else area, origin=ORIGINS.index("member"),
                entered=day[owner] if np.ndim(day) else day, household=hh[owner],
            )
            self.people.home[mem] = NOT_SIMULATED
            same_name = partner & (rng.random(total) < P.SAME_SURNAME_PARTNER) | ~partner & (rng.random(total) < P.SAME_SURNAME_CHILD)
            self.people.surname[mem[same_name]] = self.people.surname[leads[owner[same_name]]]
        return hh, leads

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
                seg = rng.choice(list(P.INITIAL_OLDER_SEGMENTS), k, p=list(P.INITIAL_OLDER_SEGMENTS.values()))
            else:
                seg = np.where(rng.random(k) < P.SUP_SHARE_OF_TEMPORARY, P.SUP, P.EMG)
            age = self._entry_age(rng, seg, utype)
            # time already in the tenancy before 1998: long for settled homes, short for temporary
            mean_years = P.INITIAL_TENANCY_MEAN_YEARS[UNIT_TYPES[utype]]
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
            a0, shape, scale, lo, hi = P.INITIAL_RESIDENT_AGE
            age = np.clip(a0 + rng.gamma(shape, scale, k), lo, hi)
            area = self.u_area[occ]
            sex = (rng.random(k) < P.INITIAL_RESIDENT_FEMALE).astype(np.int8)
            dob = (s0 - np.round(age * 365.25)).astype(np.int32)
            seg = np.where(rng.random(k) < P.INITIAL_RESIDENT_FRAIL, P.FRAIL, P.PLAN).astype(np.int8)
            who = self._new_people(
                rng, k, role=ROLE_OUTSIDE, sex=sex, dob=dob, segment=seg, area=area,
                origin=ORIGINS.index("outside_care"), entered=s0,
            )
            self._attributes(rng, who, age)
            self.people.need[who] = 3 if ctype == NUR else np.where(rng.random(k) < P.INITIAL_RESIDENT_NEED2, 2, 3)
            since = (s0 - rng.exponential(P.INITIAL_RESIDENT_STAY_MEAN_MONTHS * 30.4, k)).astype(np.int32)
            self.people.entered[who] = since
            self._admit(who, occ, since, since, kind=0, source=np.where(rng.random(k) < P.INITIAL_RESIDENT_FROM_HOSPITAL, 0, 1), length=np.zeros(k))
        # community: outside people with home care in their own homes
        k = int(round(P.INITIAL_COMMUNITY * sc))
        self._community_arrivals(rng, k, s0, s0 - rng.exponential(P.INITIAL_COMMUNITY_KNOWN_MEAN_DAYS, k).astype(np.int32))

    def _entry_age(self, rng, seg, utype=None):
        k = len(seg)
        age = np.empty(k)
        age[:] = rng.uniform(*P.ENTRY_AGE_WA, k)
        old = np.isin(seg, [P.OLD, P.FRAIL, P.PLAN])
        mean, sd, lo, hi = P.ENTRY_AGE_OLDER
        age[old] = np.clip(rng.normal(mean, sd, old.sum()), lo, hi)
        emg = seg == P.EMG
        shape, scale = P.ENTRY_AGE_EMG_GAMMA
        age[emg] = np.clip(rng.gamma(shape, scale, emg.sum()) + 18, 18, 70)
        sup = seg == P.SUP
        shape, scale = P.ENTRY_AGE_SUP_GAMMA
        age[sup] = np.clip(rng.gamma(shape, scale, sup.sum()) + 18, 18, 70)
        return age

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
        age_mult = np.clip(np.exp((age - P.NEED_RISE_AGE_CENTRE) / P.NEED_RISE_AGE_SCALE), *P.NEED_RISE_AGE_MULT_RANGE)
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

    def _surnames(self, rng, s, e):
        p = self.people
        n = p.n
        age = (e - p.dob[:n]) / 365.25
        cand = np.flatnonzero(
            ((p.home[:n] >= 0) & (p.home[:n] <= COMM) | (p.home[:n] == NOT_SIMULATED))
            & (p.sex[:n] == 1) & (age >= P.SURNAME_CHANGE_AGES[0]) & (age <= P.SURNAME_CHANGE_AGES[1]) & (p.surname_changed[:n] == NEVER)
        )
        wed = cand[rng.random(len(cand)) < P.SURNAME_CHANGE]
        if len(wed):
            p.previous_surname[wed] = p.surname[wed]
            p.surname[wed] = surnames(rng, len(wed))
            p.surname_changed[wed] = rng.integers(s, e + 1, len(wed))

    def _exit(self, rng, who, day, state):
        p = self.people
        p.home[who] = state
        p.away[who] = 0
        p.away_until[who] = NEVER
        p.exit_day[who] = day
        p.in_care_queue[who] = 0
        self._withdraw_open(who, day)
        self._events["exits"].append(who)
