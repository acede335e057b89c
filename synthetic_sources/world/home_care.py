"""Home care: packages starting, reassessed and ending, their planned hours, and people referred
for home care who are not tenants (the community).

A mixin of ``World`` (history.py). Draw order is part of the contract (see population.py).
"""

from __future__ import annotations

import numpy as np

from . import params as P
from .codes import (
    COMM,
    MOVED,
    ORIGINS,
    PACKAGE_END,
    ROLE_OUTSIDE,
    XC,
)
from .geography import AREA_TEAM, AREA_WEIGHTS


class HomeCareMixin:
    """Home-care packages and community referrals."""

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
            referral = day - np.round(rng.lognormal(np.log(P.REFERRAL_TO_START_MEDIAN_DAYS), P.REFERRAL_TO_START_SIGMA, len(who))).astype(np.int32)
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

    def _community_referrals(self, rng, s, e):
        """The month's referrals from outside: a Poisson number of people, arriving this month."""
        self._community_arrivals(rng, rng.poisson(P.COMMUNITY_ARRIVALS * self.scale), s, None, e)

    def _community_arrivals(self, rng, k, s, entered=None, e=None):
        """People referred for home care who are not tenants: known only to care services."""
        if k == 0:
            return
        day = rng.integers(s, (e if e is not None else s) + 1, k).astype(np.int32)
        segs = np.array(list(P.COMMUNITY_SEGMENT_P))
        seg = rng.choice(segs, k, p=list(P.COMMUNITY_SEGMENT_P.values())).astype(np.int8)
        a0, shape, scale, lo, hi = P.COMMUNITY_AGE
        age = np.clip(a0 + rng.gamma(shape, scale, k), lo, hi)
        area = rng.choice(len(AREA_WEIGHTS), k, p=AREA_WEIGHTS).astype(np.int8)
        sex = (rng.random(k) < P.COMMUNITY_FEMALE).astype(np.int8)
        start = day if entered is None else np.asarray(entered, dtype=np.int32)
        who = self._new_people(
            rng, k, role=ROLE_OUTSIDE, sex=sex, dob=(day - np.round(age * 365.25)).astype(np.int32),
            segment=seg, area=area, origin=ORIGINS.index("referral"), entered=start,
        )
        self._attributes(rng, who, age)
        self.people.need[who] = rng.choice(4, k, p=P.COMMUNITY_NEED_P)
        self.people.home[who] = COMM
        self._start_packages(rng, who, start)
