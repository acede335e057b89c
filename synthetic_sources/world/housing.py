"""Housing: tenancies, the housing register and transfer lists, lets by route, and voids.

A mixin of ``World`` (history.py). Units are let only when void and ready; applicants wait on
the register (or in temporary accommodation) until a let reaches them. Draw order is part of the
contract (see population.py).
"""

from __future__ import annotations

import numpy as np

from . import params as P
from .codes import (
    ABSENT,
    COMM,
    END_REASONS,
    GN,
    MOVED,
    NEED_TYPES,
    NEVER,
    NOT_SIMULATED,
    ORIGINS,
    OUTCOMES,
    ROLE_LEAD,
    ROUTES,
    SH,
    TMP,
    UNIT_STATE,
    UNIT_TYPES,
    XC,
    _annual_to_monthly,
    _lookup,
    _seg_map,
)
from .geography import AREA_WEIGHTS


class HousingMixin:
    """Tenancies, applications, lets and voids."""

    def _ready_day(self, rng, start, seg):
        months = rng.lognormal(np.log(P.EMG_READY_MEDIAN_MONTHS), P.EMG_READY_SIGMA, len(start))
        return np.where(seg == P.EMG, start + months * 30.4, NEVER).astype(np.int32)

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
        p.wellbeing[leads] = np.clip(p.wellbeing[leads] + (rng.random(k) < P.WELLBEING_CHANGE) * rng.choice([-1, 1], k), 1, 10)
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
        old = age >= P.OLDER_APPLICANT_MIN_AGE
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
            band = rng.choice(np.array(list(P.TENANT_APPLICATION_BANDS), dtype=object), len(who), p=list(P.TENANT_APPLICATION_BANDS.values()))
            col[who] = self.applications.add(
                len(who), household=p.household[who], person=who, applied=day, band=band,
                need_type=NEED_TYPES.index(need_type), offers=rng.integers(*P.PRIOR_OFFERS, len(who)),
            )
        # new households onto the register, at about the rate lets to them are made
        fy = year if cal >= 4 else year - 1
        gn_units = int((self.u_type == GN).sum())
        register_share = max(P.REGISTER_SHARE_MIN, 1.0 - P.TRANSFER_ROUTE_SHARE - _lookup(P.HOMELESS_SHARE, fy))
        rates = {
            "general": gn_units * P.GN_LETS_ANNUAL / 12 * register_share,
            "sheltered": P.SHELTERED_REGISTER_MONTHLY * self.scale,
            "extra_care": P.EXTRA_CARE_REGISTER_MONTHLY * self.scale,
        }
        for need_type, rate in rates.items():
            k = rng.poisson(rate * P.REGISTER_OVERSUPPLY)
            if need_type == "general":
                seg = rng.choice(list(P.REGISTER_GENERAL_SEGMENTS), k, p=list(P.REGISTER_GENERAL_SEGMENTS.values())).astype(np.int8)
            else:
                seg = rng.choice(list(P.REGISTER_OLDER_SEGMENTS), k, p=list(P.REGISTER_OLDER_SEGMENTS.values())).astype(np.int8)
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
            band = rng.choice(np.array(list(P.REGISTER_APPLICATION_BANDS), dtype=object), k, p=list(P.REGISTER_APPLICATION_BANDS.values()))
        self.people.app[leads] = self.applications.add(
            k, household=hh, person=leads, applied=day, band=band, need_type=NEED_TYPES.index(need_type),
            offers=rng.integers(*P.PRIOR_OFFERS, k),
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
                seg = rng.choice(list(P.REGISTER_GENERAL_SEGMENTS), short, p=list(P.REGISTER_GENERAL_SEGMENTS.values())).astype(np.int8)
            else:
                seg = rng.choice(list(P.REGISTER_OLDER_SEGMENTS), short, p=list(P.REGISTER_OLDER_SEGMENTS.values())).astype(np.int8)
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
        share_queue = P.SHELTERED_FROM_LIST if utype == SH else P.EXTRA_CARE_FROM_LIST
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
