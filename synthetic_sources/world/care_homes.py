"""Care homes: demand for a bed from home and from hospital, the internal queue, admissions,
temporary (respite and reablement) stays ending, and the local authority filling the rest.

A mixin of ``World`` (history.py). Beds admit by priority then longest wait; whoever is not
admitted waits where they are. Draw order is part of the contract (see population.py).
"""

from __future__ import annotations

import numpy as np

from . import params as P
from .codes import (
    ABSENT,
    COMM,
    HOSP,
    MOVED,
    NEVER,
    NUR,
    ORIGINS,
    RES,
    ROLE_OUTSIDE,
    STAY_DEST,
    STAY_KINDS,
    _seg_map,
)


class CareHomesMixin:
    """Care-home queue, admissions, stays and outside placements."""

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
        rate = rate * (age >= P.PERMANENT_FROM_HOME_MIN_AGE) * regime
        respite = P.RESPITE_FROM_HOME * (age >= P.RESPITE_FROM_HOME_MIN_AGE)
        mult = P.PANDEMIC_CARE_ADMISSIONS if pandemic else 1.0
        u = rng.random(len(cand))
        perm = u < rate * mult
        resp = ~perm & (u < (rate + respite) * mult)
        day = rng.integers(s, e + 1, len(cand)).astype(np.int32)
        ctype = self._care_type(rng, need)
        if perm.any():
            planned = p.segment[cand[perm]] == P.PLAN
            self._queue_care(
                cand[perm], want=day[perm] + rng.integers(*P.PERMANENT_WANT_AFTER_DAYS, perm.sum()), priority=np.where(planned, 3, 2),
                ctype=ctype[perm], kind=0, source=1, length=0, referral=day[perm],
            )
        if resp.any():
            self._queue_care(
                cand[resp], want=day[resp] + rng.integers(*P.RESPITE_WANT_AFTER_DAYS, resp.sum()), priority=3, ctype=RES,
                kind=1, source=1, length=rng.gamma(P.RESPITE_STAY_SHAPE, P.TEMPORARY_STAY_MEAN_DAYS / P.RESPITE_STAY_SHAPE, resp.sum()),
                referral=day[resp],
            )

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
        a0, shape, scale, lo, hi = P.OUTSIDE_RESIDENT_AGE
        age = np.clip(a0 + rng.gamma(shape, scale, k), lo, hi)
        sex = (rng.random(k) < P.OUTSIDE_RESIDENT_FEMALE).astype(np.int8)
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
        self.people.need[who] = np.where(nursing, 3, np.where(rng.random(k) < P.OUTSIDE_RESIDENT_NEED2, 2, 3))
        self.people.home[who] = ABSENT
        length = rng.gamma(P.OUTSIDE_STAY_SHAPE, P.TEMPORARY_STAY_MEAN_DAYS / P.OUTSIDE_STAY_SHAPE, k)
        referral = (day - rng.integers(*P.OUTSIDE_REFERRAL_BEFORE_DAYS, k)).astype(np.int32)
        self._admit(who, beds, day, referral, kind=kind, source=source, length=length)
