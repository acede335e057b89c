"""Forecast KPIs by area, segment and age band, counted person by person (issue 12, item 1).

Why counted and not shared out: a planner asking for Cardiff's extra-care waiting list must get
the people of Cardiff who are waiting in each replication, not the provider's list times
Cardiff's share (the issue rules that out). So every month, after the engine's own counts, the
slots behind each person-attributable KPI are counted by their group: the area they live in
(a placement in another area's pool moves them there: ``ForecastModel._set_place``), their
segment, and their age band at the month's end (``lattice.AGE_BANDS``, the lattice's bands: one
place for the edges). The counting is numpy over the engine's state arrays after the month's
step, so the numba and numpy paths (which leave the same arrays) give the same breakdowns.

How: each slot gets one *cross code* (area x segment x age band); each raw counter (people by
state and need, deaths, admissions by place, hospital entries, the waiting lists, home-care
hours, ...) is a bincount of the cross codes of the slots concerned, all in one bincount a
month. At the end of the run the cross is summed to each dimension on its own and to area x
segment (``MAIN_KPIS`` only: the full cross product is not needed), then the linear KPIs (bed
days, costs) are derived per group with the provider's own formulas (``Hospital.bed_days``,
``costs.cost_by_payer``). Integer counts of the groups add up to the provider's totals exactly;
the float ones (hours, bed days, costs) to rounding.

Not broken down: occupancy, capacity, lets, voids and churn (properties of places, not people),
the provider's void cost (so neither ``cost_provider`` nor ``cost_total``), mean waits (ratios),
arrivals and care-home admissions from hospital (the month does not keep who they were).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from simulation.costs import cost_by_payer
from simulation.inputs import (
    DIED,
    HOSPICE,
    HOSPITAL,
    MOVED_OUT,
    N_LIVE,
    N_STATES,
    NURSING,
    PLACE_STATES,
    RESIDENTIAL,
)
from simulation.lattice import AGE_BANDS, AGE_EDGES, STATES

DIMENSIONS: tuple[str, ...] = ("area", "segment", "age_band")
UNKNOWN = "unknown"

_LIVE = STATES[:N_LIVE]
_PLACES = [STATES[s] for s in PLACE_STATES]

# What is counted per group, in the breakdown's order (names are the KPI catalogue's)
BKPIS: tuple[str, ...] = (
    *(f"people_{s}" for s in _LIVE), "people_total", *(f"people_need_{n}" for n in range(4)),
    "deaths", "moved_out", *(f"admissions_{s}" for s in _PLACES), "care_home_admissions",
    "hospital_admissions", "hospice_admissions", "hospital_bed_days", "delayed_bed_days", "hospice_bed_days",
    "delayed_discharges", *(f"waiting_{s}" for s in _PLACES),
    "home_care_people", "home_care_hours", "home_care_hours_unmet", "home_care_waiting",
    "cost_nhs", "cost_local_authority", "cost_charity",
)
# ... and by area x segment as well (the "main KPIs")
MAIN_KPIS: tuple[str, ...] = (
    "people_total", "deaths", "care_home_admissions", "hospital_admissions", "delayed_discharges",
    "waiting_sheltered", "waiting_extra_care", "waiting_residential_care", "waiting_nursing_care",
    "home_care_people", "home_care_hours", "cost_local_authority",
)

# the raw counters of a month, per cross cell: live state x need codes first (the engine's
# ``code``), then the rest
_CODES = N_LIVE * 4
RAW: tuple[str, ...] = (
    *(f"code_{c}" for c in range(_CODES)), "deaths", "moved_out", *(f"adm_{s}" for s in _PLACES),
    "enter_h", "exit_h", "within_h", "enter_hs", "exit_hs", "within_hs", "delayed_discharges",
    *(f"wait_{s}" for s in _PLACES), "hc_people", "hc_hours", "hc_unmet", "hc_waiting",
)
R = {k: i for i, k in enumerate(RAW)}
_ADM0, _WAIT0 = R[f"adm_{_PLACES[0]}"], R[f"wait_{_PLACES[0]}"]
_PLACE_OF_STATE = np.full(N_STATES + 2, -1, dtype=np.int64)
_PLACE_OF_STATE[list(PLACE_STATES)] = np.arange(len(PLACE_STATES))

# the counters a looked-at slot adds from its state at the start and the end of the month (one
# table each for hospital and hospice: leaving one for the other is two moves), and from its
# within-month admission (0 none, 1 hospital, 2 hospice)
_MOVE_H = np.full((N_STATES + 2, N_STATES + 2), -1, dtype=np.int64)
_MOVE_HS = _MOVE_H.copy()
for _a in range(N_STATES + 2):
    for _b in range(N_STATES + 2):
        if _b == HOSPITAL and _a != HOSPITAL:
            _MOVE_H[_a, _b] = R["enter_h"]
        elif _a == HOSPITAL and _b != HOSPITAL:
            _MOVE_H[_a, _b] = R["exit_h"]
        if _b == HOSPICE and _a != HOSPICE:
            _MOVE_HS[_a, _b] = R["enter_hs"]
        elif _a == HOSPICE and _b != HOSPICE:
            _MOVE_HS[_a, _b] = R["exit_hs"]
_EVENT = np.array([-1, R["within_h"], R["within_hs"]], dtype=np.int64)
_EMPTY, _EMPTY_I8, _EMPTY_F = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8), np.zeros(0)

assert len(AGE_BANDS) == len(AGE_EDGES) + 1   # the bands and one for unknown age


@dataclass(frozen=True)
class Layout:
    """Which group and KPI each row of a replication's breakdown holds, for a run's areas and
    segments. Rows: every BKPI for each area (then unknown), each segment (unknown first) and
    each age band; then every MAIN_KPI for each area x segment. ``series`` lists them as
    (area, segment, age_band, kpi) with None for a dimension not broken down."""

    areas: tuple[str, ...]
    n_segments: int

    @property
    def n_area(self) -> int:
        return len(self.areas) + 1

    @property
    def n_seg(self) -> int:
        return self.n_segments + 1

    @property
    def n_age(self) -> int:
        return len(AGE_BANDS)

    @property
    def n_cross(self) -> int:
        return self.n_area * self.n_seg * self.n_age

    @cached_property
    def area_labels(self) -> tuple[str, ...]:
        return (*self.areas, UNKNOWN)

    @cached_property
    def segment_labels(self) -> tuple[str, ...]:
        return (UNKNOWN, *(str(s) for s in range(self.n_segments)))

    @cached_property
    def series(self) -> list[tuple[str | None, str | None, str | None, str]]:
        rows = [(a, None, None, k) for a in self.area_labels for k in BKPIS]
        rows += [(None, s, None, k) for s in self.segment_labels for k in BKPIS]
        rows += [(None, None, b, k) for b in AGE_BANDS for k in BKPIS]
        rows += [(a, s, None, k) for a in self.area_labels for s in self.segment_labels for k in MAIN_KPIS]
        return rows

    @property
    def n_series(self) -> int:
        return len(self.series)


def layout_of(inputs) -> Layout:
    return Layout(tuple(inputs.areas), int(inputs.n_segments))


class GroupCounter:
    """The month-by-month raw counts of one model by cross cell; ``result`` sums and derives.

    Why incremental: a slot's cross code and state x need code change only when it is looked
    at, wants a place, arrives, is displaced, or its cell is refreshed for an age band's
    boundary (the engine's ``next_change``), so the month recodes those few (about 5% of
    the slots) and keeps the people counts up to date, as the engine keeps ``code_counts``;
    recoding everyone every month cost more than the month itself."""

    def __init__(self, model, age_lut: np.ndarray):
        self.model = model
        self.layout = lay = layout_of(model.inputs)
        self.raw = np.zeros((model.plan.months, lay.n_cross * len(RAW)))
        # age band at the month's end from the months since birth, the lattice cell's own
        # look-up (forecast_model._AGE_LUT, built from lattice.AGE_EDGES)
        self._age_lut = age_lut
        n = model.n_slots
        self.xc = np.zeros(n, dtype=np.int64)            # each slot's cross code, kept current
        self.stock = np.full(n, -1, dtype=np.int64)      # cross x state x need of the living, else -1
        self.stock_counts = np.zeros(lay.n_cross * _CODES)
        # home-care hours delivered, kept the same way: each slot's as last counted, by cross code
        self.hours = np.zeros(n)
        self.hours_cross = np.zeros(lay.n_cross)
        self.carers_cross = np.zeros(lay.n_cross)   # people with hours
        self._capped = bool(np.isfinite(model.plan.team_caps).any())
        # the cross code's parts as look-ups: area (index + 1, 0 unknown -> last) and sex x segment
        area_part = np.r_[lay.n_area - 1, np.arange(lay.n_area - 1)] * lay.n_seg * lay.n_age
        self._area_part = area_part.astype(np.int64)
        self._seg_part = (np.arange(model.r_sex * model.r_seg + 1) % model.r_seg * lay.n_age).astype(np.int64)
        self._mark = np.zeros(n, dtype=bool)            # who may have changed this month
        self.recode(np.arange(model.n_fixed))

    def cross(self, idx: np.ndarray) -> np.ndarray:
        """The cross code of slots ``idx`` now: (area x segment) x age band."""
        md = self.model
        lut = self._age_lut
        months = np.minimum(np.maximum(md.T + 1 - md.birth[idx], 0), len(lut) - 1)
        return self._area_part[md.area[idx] + 1] + self._seg_part[md.sexseg[idx]] + lut[months]

    def recode(self, idx: np.ndarray) -> None:
        """Cross codes of the (unique) slots ``idx`` afresh, and the people counts with them."""
        if not len(idx):
            return
        md = self.model
        if md.kernel is not None:   # the same in one compiled loop (month_kernel.recode_groups)
            md.kernel.recode_groups(idx, md.T, md.state, md.code, md.area, md.sexseg, md.birth, md.hours_del,
                                    self._area_part, self._seg_part, self._age_lut, self.xc, self.stock,
                                    self.stock_counts, self.hours, self.hours_cross, self.carers_cross, N_LIVE,
                                    _CODES)
            return
        old_xc = self.xc[idx]
        xc = self.xc[idx] = self.cross(idx)
        key = np.where(md.state[idx] < N_LIVE, xc * _CODES + md.code[idx], -1)
        old = self.stock[idx]
        # np.add.at, not a bincount as long as the counts: a fresh array of 20,000 bins a call
        # cost more in page faults than the counting
        np.add.at(self.stock_counts, key[key >= 0], 1.0)
        np.subtract.at(self.stock_counts, old[old >= 0], 1.0)
        self.stock[idx] = key
        self._recount_hours(idx, old_xc)

    def _recount_hours(self, idx: np.ndarray, old_xc: np.ndarray) -> None:
        """Move slots ``idx``'s delivered hours from their old cross code to their new one."""
        md = self.model
        old_h, new_h = self.hours[idx], md.hours_del[idx]
        some = np.flatnonzero((old_h != 0) | (new_h != 0))
        if not len(some):
            return
        idx, old_h, new_h, old_xc = idx[some], old_h[some], new_h[some], old_xc[some]
        was, now = old_h != 0, new_h != 0
        xc = self.xc[idx]
        np.add.at(self.hours_cross, xc[now], new_h[now])
        np.subtract.at(self.hours_cross, old_xc[was], old_h[was])
        np.add.at(self.carers_cross, xc[now], 1.0)
        np.subtract.at(self.carers_cross, old_xc[was], 1.0)
        self.hours[idx] = new_h

    def count(self, m) -> None:
        """Month ``m``'s raw counters by cross cell. Called after the engine's own ``_count``,
        from the arrays both kernel paths leave the same."""
        md = self.model
        mark = self._mark
        for a in (m.due, m.A, m.cand, m.new, m.displaced, md.qslots):
            if a is not None and len(a):
                mark[a] = True
        if self._capped:
            # a capped team's rationing changes anyone's delivered hours, not only who was
            # looked at this month: everyone with hours then or now is recounted
            mark |= md.hours_del != 0
            mark |= self.hours != 0
        changed = np.flatnonzero(mark)
        mark[changed] = False
        self.recode(changed)
        row = self.raw[m.t]
        if md.kernel is not None:
            self._flows_compiled(m, row)
        else:
            self._flows(m, row)
        by_cross = row.reshape(-1, len(RAW))
        by_cross[:, :_CODES] = self.stock_counts.reshape(-1, _CODES)
        by_cross[:, R["hc_people"]] = self.carers_cross
        by_cross[:, R["hc_hours"]] = self.hours_cross

    def _flows_compiled(self, m, row: np.ndarray) -> None:
        """``_flows`` in one compiled loop (month_kernel.count_group_flows)."""
        md = self.model
        adm = [s for s in (m.placed_new, m.free_adm, m.a_slots) if s is not None and len(s)]
        A = m.A if m.A is not None else _EMPTY
        md.kernel.count_group_flows(
            row, len(RAW), self.xc, md.state, m.exits if m.exits is not None else _EMPTY, DIED, MOVED_OUT,
            R["deaths"], R["moved_out"], np.concatenate(adm) if adm else _EMPTY, _ADM0, _PLACE_OF_STATE, A,
            m.s0 if len(A) else _EMPTY, m.fin if len(A) else _EMPTY, m.ev if len(A) else _EMPTY_I8, _MOVE_H,
            _MOVE_HS, _EVENT, md.qslots, md.queue, HOSPITAL, R["delayed_discharges"], _WAIT0,
            m.unmet if m.unmet is not None else _EMPTY_F, R["hc_waiting"], R["hc_unmet"])

    def _flows(self, m, row: np.ndarray) -> None:
        """The month's flows by cross code into ``row``: who died or left, was admitted where,
        entered or left hospital or a hospice or had a within-month admission, waits (and where),
        and home-care hours unmet."""
        md = self.model
        state, nraw = md.state, len(RAW)
        xc = self.xc
        codes = []

        def add(slots, raw_index):
            if len(slots):
                codes.append(xc[slots] * nraw + raw_index)

        ex = m.exits
        if ex is not None and len(ex):
            es = state[ex]
            add(ex[es == DIED], R["deaths"])
            add(ex[es == MOVED_OUT], R["moved_out"])
        adm = [s for s in (m.placed_new, m.free_adm, m.a_slots) if s is not None and len(s)]
        if adm:
            adm = np.concatenate(adm)
            add(adm, _ADM0 + _PLACE_OF_STATE[state[adm]])
        if m.A is not None and len(m.A):
            base = xc[m.A] * nraw
            for raw_index in (_MOVE_H[m.s0, m.fin], _MOVE_HS[m.s0, m.fin], _EVENT[m.ev]):
                hit = raw_index >= 0
                codes.append(base[hit] + raw_index[hit])
        qs = md.qslots
        if len(qs):
            add(qs[state[qs] == HOSPITAL], R["delayed_discharges"])
            add(qs, _WAIT0 + _PLACE_OF_STATE[md.queue[qs]])
        unmet = np.flatnonzero(m.unmet > 1e-9) if m.unmet is not None else None
        if unmet is not None:
            add(unmet, R["hc_waiting"])
        if codes:
            np.add.at(row, np.concatenate(codes), 1.0)
        if unmet is not None and len(unmet):
            np.add.at(row, xc[unmet] * nraw + R["hc_unmet"], m.unmet[unmet])

    def result(self) -> np.ndarray:
        """(series, months) of the run, in ``Layout.series`` order, float32 (counts are exact:
        far below 2^24; hours and pounds keep seven significant figures)."""
        md, lay = self.model, self.layout
        months = self.raw.shape[0]
        cube = self.raw.reshape(months, lay.n_area, lay.n_seg, lay.n_age, len(RAW))
        blocks = [cube.sum(axis=(2, 3)), cube.sum(axis=(1, 3)), cube.sum(axis=(1, 2))]  # (months, g, raw)
        single = np.concatenate([_derive(md, b) for b in blocks], axis=1)                # (months, g, BKPIS)
        main = [BKPIS.index(k) for k in MAIN_KPIS]
        pair = _derive(md, cube.sum(axis=3).reshape(months, lay.n_area * lay.n_seg, len(RAW)))[:, :, main]
        out = np.concatenate([single.reshape(months, -1), pair.reshape(months, -1)], axis=1)
        return np.ascontiguousarray(out.T, dtype=np.float32)


def _derive(md, raw: np.ndarray) -> np.ndarray:
    """(months, groups, RAW) -> (months, groups, BKPIS) with the engine's own formulas."""
    r = {k: raw[:, :, i] for i, k in enumerate(RAW)}
    code = raw[:, :, :_CODES].reshape(raw.shape[0], raw.shape[1], N_LIVE, 4)
    people = code.sum(axis=3)
    dim = np.asarray(md.plan.days, dtype=float)[:, None]
    weeks = dim / 7.0
    k: dict[str, np.ndarray] = {}
    for i, s in enumerate(_LIVE):
        k[f"people_{s}"] = people[:, :, i]
    k["people_total"] = people.sum(axis=2)
    for n in range(4):
        k[f"people_need_{n}"] = code[:, :, :, n].sum(axis=2)
    k["deaths"], k["moved_out"] = r["deaths"], r["moved_out"]
    for s in _PLACES:
        k[f"admissions_{s}"] = r[f"adm_{s}"]
    k["care_home_admissions"] = r[f"adm_{STATES[RESIDENTIAL]}"] + r[f"adm_{STATES[NURSING]}"]
    k["hospital_admissions"] = r["enter_h"] + r["within_h"]
    k["hospice_admissions"] = r["enter_hs"] + r["within_hs"]
    stay_h = k["people_hospital"] - r["enter_h"]
    k["hospital_bed_days"] = md.hospital.bed_days(r["within_h"], r["enter_h"], stay_h, r["exit_h"], dim)
    k["delayed_bed_days"] = md.hospital.long_stay_days(r["within_h"], r["enter_h"], stay_h, r["exit_h"], dim)
    k["hospice_bed_days"] = md.hospice.bed_days(r["within_hs"], r["enter_hs"], k["people_hospice"] - r["enter_hs"],
                                                r["exit_hs"], dim)
    k["delayed_discharges"] = r["delayed_discharges"]
    for s in _PLACES:
        k[f"waiting_{s}"] = r[f"wait_{s}"]
    k["home_care_people"] = r["hc_people"]
    k["home_care_hours"] = r["hc_hours"] * weeks
    k["home_care_hours_unmet"] = r["hc_unmet"] * weeks
    k["home_care_waiting"] = r["hc_waiting"]
    activity = {**k, "voids": np.zeros_like(k["people_total"])}   # voids are places: no person's cost
    costs = cost_by_payer(activity, md.plan.costs, dim)
    for name in ("cost_nhs", "cost_local_authority", "cost_charity"):
        k[name] = costs[name]
    return np.stack([k[name] for name in BKPIS], axis=2)
