"""The reference model: one Mesa agent per person, plain per-person rules.

Why it exists: the engine (``forecast_model.py``) implements these rules over arrays for speed, which
makes it hard to read and easy to get subtly wrong. This model says the same thing slowly and
plainly; the tests check that both give the same distributions of outputs, and the benchmark
measures the engine against it on the same work.

It shares the engine's inputs, month tables and replication parameters (so both simulate the
same process) but draws its own random numbers one person at a time.
"""

from __future__ import annotations

import mesa
import numpy as np

from simulation.forecast_model import (
    _AGE_LUT,
    _MIS_LUT,
    KPIS,
    WAITING,
    ForecastModel,
    K,
    ReplicationParams,
    month_table,
)
from simulation.inputs import (
    COMMUNITY,
    DIED,
    HOME_STATES,
    HOSPICE,
    HOSPITAL,
    HOUSING_STATES,
    MOVED_OUT,
    N_LIVE,
    N_STATES,
    NURSING,
    PLACE_STATES,
    RESIDENTIAL,
    SimulationInputs,
)
from simulation.lattice import STATES
from simulation.scenarios import RunPlan
from simulation.units import PLACE_KIND_LABEL


class Person(mesa.Agent):
    def __init__(self, model, state, need, age_m, sex, segment, mis, area, place, team, hours):
        super().__init__(model)
        self.state, self.need, self.age_m, self.sex, self.segment = state, need, age_m, sex, segment
        self.mis, self.area, self.place, self.team = mis, area, place, team
        self.hours_dem = hours if state in HOME_STATES else 0.0
        self.hours_del = self.hours_dem
        self.queue, self.wait, self.hc_wait = -1, 0, 0
        self.start_state = state
        self.ext_u = model.random.random()
        self.keys_changed = False
        self.need_changed = False
        self.tiebreak = model.random.random()

    @property
    def live(self) -> bool:
        return self.state < N_LIVE

    def cell(self, state=None, mis=None) -> int:
        m = self.model
        state = self.state if state is None else state
        mis = self.mis if mis is None else mis
        age_band = int(_AGE_LUT[min(max(self.age_m + 1, 0), len(_AGE_LUT) - 1)])
        mis_band = int(_MIS_LUT[min(mis, len(_MIS_LUT) - 1)])
        cell = 0
        for code, radix in zip((state, self.need, age_band, self.sex, self.segment + 1, mis_band), m.radices):
            cell = cell * radix + code
        return cell

    def step(self):
        """Draw where I am at the end of the month; a queued person wants their queue's state."""
        m = self.model
        self.start_state = self.state
        self.start_cell = self.cell()
        row = m.table.cum0[self.start_cell]
        u = m.random.random()
        d = min(int(np.searchsorted(row[1:], u, side="right")), N_STATES - 1)
        self.v = (u - row[d]) / max(row[d + 1] - row[d], 1e-300)
        if self.state in (HOSPITAL, HOSPICE) and d < N_LIVE and d not in (HOSPITAL, HOSPICE):
            # leaving for a home: a care-home resident goes back to their bed; anyone else's
            # care-home draw is a new admission only in the share the timeline shows
            home = int(m.pool_state[self.place]) if self.place >= 0 else COMMUNITY
            if home in (RESIDENTIAL, NURSING) and d not in (RESIDENTIAL, NURSING):
                d = home
            elif home not in (RESIDENTIAL, NURSING) and d in (RESIDENTIAL, NURSING) \
                    and m.random.random() >= m.discharge_share[d]:
                d = home
        goes_away = d in (HOSPITAL, HOSPICE) and d != self.state
        if self.queue >= 0 and not (d >= N_LIVE or goes_away):
            self.want = self.queue
            return
        self.want = None
        if d == self.state:
            return
        if not (self.place >= 0 and m.pool_state[self.place] == d) and d in PLACE_STATES \
                and m.plan.constrained_states[d]:
            self.want = d                      # needs a place: rationed below
            return
        self.mis = 0
        if d >= N_LIVE:
            self.state, self.place, self.queue, self.hours_dem = d, -1, -1, 0.0
        elif d in (HOSPITAL, HOSPICE):
            self.state = d                     # the place at home is kept
        elif d == COMMUNITY:
            self.state, self.place = d, -1
        elif self.place >= 0 and m.pool_state[self.place] == d:
            self.state = d                     # back home from hospital
        else:
            self.state, self.place = d, m.pref[d, self.area + 1]
            m.admissions[d] += 1

    def after_move(self):
        """Need level, then an admission that begins and ends inside the month."""
        m = self.model
        if not self.live:
            w = self.v
        else:
            cell = self.start_cell if self.state == self.start_state else self.cell(mis=0)
            row = m.params.need_cum0[cell]
            n = min(int(np.searchsorted(row[1:], self.v, side="right")), 3)
            w = (self.v - row[n]) / max(row[n + 1] - row[n], 1e-300)
            if n != self.need:
                self.need, self.need_changed = n, True
        if self.state in (HOSPITAL, HOSPICE):
            return
        p_h = m.table.p_hosp[self.start_cell]
        if self.hc_wait > 0:
            p_h = min(p_h * m.plan.waiting_hospital_multiplier, 0.95)
        if w < p_h:
            m.within_hospital += 1
        elif w < p_h + m.table.p_hospice[self.start_cell]:
            m.within_hospice += 1


class ReferenceModel(mesa.Model):
    """The same month as ``ForecastModel.step``, one person at a time."""

    def __init__(self, inputs: SimulationInputs, plan: RunPlan, params: ReplicationParams, seed: int = 0):
        super().__init__(rng=np.random.default_rng(seed))
        self.inputs, self.plan, self.params = inputs, plan, params
        self.lattice = inputs.lattice
        self.radices = self.lattice.radices
        self.random.seed(seed)
        # the engine's unit layout (pools, capacity in people, preferred pools) reused as data
        shape = ForecastModel(inputs, plan, params)
        self.pool_state, self.pool_ppu, self.pref = shape.pool_state, shape.pool_ppu, shape.pref
        self.discharge_share = shape.discharge_share
        self.pool_area, self.cap_people, self.cap_units = shape.pool_area, shape.pool_cap_people, shape.pool_cap_units
        self.hospital, self.hospice = shape.hospital, shape.hospice
        self.relet_w, self.relet_hist = shape.relet_w, shape.relet_hist.copy()
        seg1 = inputs.n_segments + 1
        self.people: list[Person] = []
        for i in range(inputs.n_people):
            age = inputs.age[i]
            self.people.append(Person(
                self, int(inputs.state[i]), int(inputs.need[i]),
                int(np.floor(age * 12)) if np.isfinite(age) else -10 ** 7, int(inputs.sex[i]), int(inputs.segment[i]),
                int(inputs.months_in_state[i]), int(inputs.area[i]), int(inputs.pool[i]), int(inputs.team[i]),
                min(float(inputs.weekly_hours[i]), plan.max_package)))
        del seg1
        self.out = np.zeros((len(KPIS), plan.months))
        self.t = -1

    def arrivals(self, t):
        a, p = self.inputs.arrivals, self.params
        tm = a.templates
        for i, s in enumerate(a.entry_states):
            lam = (p.arrival_rate[i] * (1 + p.arrival_growth[i]) ** ((t + 1) / 12.0) * a.season[self.plan.moy[t]]
                   * self.plan.arrival_mult[t, i])
            rows = np.flatnonzero(tm["state"] == s)
            k = 0.0 if a.overdispersion is None else float(a.overdispersion[i])
            n = self.rng.negative_binomial(1 / k, 1 / (1 + k * lam)) if k > 1e-6 else self.rng.poisson(lam)
            for _ in range(n):
                j = rows[int(self.random.random() * len(rows))]
                age = tm["age"][j]
                person = Person(self, int(s), int(tm["need"][j]), int(np.floor(age * 12)) if np.isfinite(age) else -10 ** 7,
                                int(tm["sex"][j]), int(tm["segment"][j]), 0, int(tm["area"][j]), -1, int(tm["team"][j]),
                                min(float(tm["hours"][j]), self.plan.max_package))
                person.arrived = True
                person.place_start = -1
                if self.plan.constrained_states[s]:
                    person.state, person.queue = WAITING, int(s)
                elif s in PLACE_STATES:
                    person.place = int(tm["pool"][j]) if tm["pool"][j] >= 0 else self.pref[s, person.area + 1]
                    self.admissions[s] += 1
                self.people.append(person)
                self.new_people.append(person)

    def occupancy(self):
        occ = np.zeros(len(self.pool_state))
        for p in self.people:
            if p.live and p.place >= 0:
                occ[p.place] += 1
        return occ

    def ration(self, candidates, t):
        """Priority (hospital first, then need), longest wait, random tie-break; own pool first,
        then any pool of the kind wanted (the engine's two passes)."""
        free = self.cap_people[:, t] - self.occupancy() - self.still_void()
        inside = []
        for p in candidates:
            if p.ext_u < self.inputs.p_external[p.want]:
                self.admit(p, -1)
            elif self.pref[p.want, p.area + 1] >= 0:
                inside.append(p)
        inside.sort(key=lambda p: (-(10 * (p.state == HOSPITAL) + p.need), -p.wait, p.tiebreak))
        left = []
        for p in inside:
            pool = self.pref[p.want, p.area + 1]
            if free[pool] >= 1:
                free[pool] -= 1
                self.admit(p, pool)
            else:
                left.append(p)
        for s in sorted({p.want for p in left}):
            places = [j for j in np.argsort(-free, kind="stable") if self.pool_state[j] == s and free[j] >= 1
                      for _ in range(int(np.floor(free[j])))]
            for p in [p for p in left if p.want == s]:
                if places:
                    self.admit(p, places.pop(0))
                else:
                    p.queue = p.want

    def departures(self) -> np.ndarray:
        """People who left each pool so far this month."""
        left = np.zeros(len(self.pool_state))
        for p in self.people:
            if p.place_start >= 0 and p.place != p.place_start:
                left[p.place_start] += 1
        return left

    def still_void(self) -> np.ndarray:
        """Places left recently and not yet relet (this month's departures and earlier ones)."""
        return self.relet_w[:, 0] * self.departures() + (self.relet_w[:, 1:] * self.relet_hist[:, :-1]).sum(axis=1)

    def admit(self, p, pool):
        if p.state == HOSPITAL and p.want in (RESIDENTIAL, NURSING):
            self.from_hospital += 1
        p.state, p.place, p.mis, p.queue, p.wait = p.want, pool, 0, -1, 0
        p.keys_changed = True
        if pool >= 0:
            p.area = int(self.pool_area[pool])
        self.admissions[p.want] += 1

    def step(self):
        self.t += 1
        t = self.t
        self.table = month_table(self.inputs, self.params, self.plan, t)
        self.admissions = np.zeros(N_STATES)
        self.within_hospital = self.within_hospice = self.from_hospital = 0
        self.new_people = []
        movers = [p for p in self.people if p.live]
        for p in self.people:
            p.need_changed = False
            p.place_start = p.place if p.live else -1
            if p.live or p.state == WAITING:
                p.age_m += 1
                p.mis += 1
                if p.queue >= 0:
                    p.wait += 1
        self.arrivals(t)
        for p in movers:
            p.step()
        candidates = [p for p in self.people if getattr(p, "want", None) is not None and p.live]
        candidates += [p for p in self.people if p.state == WAITING]
        for p in candidates:
            if p.state == WAITING:
                p.want = p.queue
        self.ration(candidates, t)
        for p in movers:
            p.after_move()
            p.want = None
        self.home_care(t)
        self.count(t, movers)
        month_departures = self.departures()
        self.relet_hist[:, 1:] = self.relet_hist[:, :-1]
        self.relet_hist[:, 0] = month_departures

    def home_care(self, t):
        hbn = self.inputs.hours_by_need
        for p in self.people:
            if not p.live:
                p.hours_dem = 0.0
                continue
            # a package is reassessed only when the holder's state or need changed, or they arrived
            changed = p.need_changed or p.keys_changed or getattr(p, "arrived", False) or p.state != p.start_state
            if changed:
                target = hbn[p.state, p.need] if (p.state in HOME_STATES and p.need > 0) else 0.0
                p.hours_dem = min(target, self.plan.max_package)
            p.arrived = False
            p.keys_changed = False
        for team_index, cap in enumerate(self.plan.team_caps):
            members = [p for p in self.people if p.team == team_index and p.hours_dem > 0]
            if not np.isfinite(cap) or sum(p.hours_dem for p in members) <= cap:
                for p in members:
                    p.hours_del = p.hours_dem
                continue
            for p in members:
                p.hours_del = min(p.hours_dem, p.hours_del)
            room = cap - sum(p.hours_del for p in members)
            wanting = sorted([p for p in members if p.hours_dem > p.hours_del],
                             key=lambda p: (-p.need, -p.hc_wait, p.tiebreak))
            for p in wanting:
                extra = p.hours_dem - p.hours_del
                if extra <= room:
                    room -= extra
                    p.hours_del = p.hours_dem
                else:
                    break
        for p in self.people:
            if p.hours_dem <= 0:
                p.hours_del = 0.0
            p.hc_wait = p.hc_wait + 1 if p.hours_dem - p.hours_del > 1e-9 else 0

    def count(self, t, movers):
        out = self.out
        live = [p for p in self.people if p.live]
        for p in live:
            out[p.state, t] += 1
            out[K["people_need_0"] + p.need, t] += 1
        out[K["people_total"], t] = len(live)
        out[K["arrivals"], t] = sum(1 for p in self.new_people if p.live)
        out[K["deaths"], t] = sum(1 for p in movers if p.state == DIED)
        out[K["moved_out"], t] = sum(1 for p in movers if p.state == MOVED_OUT)
        for s in PLACE_STATES:
            name = STATES[s]
            out[K[f"admissions_{name}"], t] = self.admissions[s]
            waiting = [p for p in self.people if p.queue == s and (p.live or p.state == WAITING)]
            out[K[f"waiting_{name}"], t] = len(waiting)
            out[K[f"mean_wait_months_{name}"], t] = np.mean([p.wait for p in waiting]) if waiting else 0.0
        out[K["care_home_admissions"], t] = self.admissions[RESIDENTIAL] + self.admissions[NURSING]
        out[K["care_home_admissions_from_hospital"], t] = self.from_hospital
        enter = sum(1 for p in movers if p.state == HOSPITAL and p.start_state != HOSPITAL)
        leave = sum(1 for p in movers if p.start_state == HOSPITAL and p.state != HOSPITAL)
        stay = out[HOSPITAL, t] - enter
        dim = self.plan.days[t]
        delayed = sum(1 for p in live if p.state == HOSPITAL and p.queue >= 0)
        out[K["hospital_admissions"], t] = enter + self.within_hospital
        out[K["hospital_bed_days"], t] = self.hospital.bed_days(self.within_hospital, enter, stay, leave, dim)
        out[K["delayed_discharges"], t] = delayed
        out[K["delayed_bed_days"], t] = delayed * dim
        h_enter = sum(1 for p in movers if p.state == HOSPICE and p.start_state != HOSPICE)
        h_leave = sum(1 for p in movers if p.start_state == HOSPICE and p.state != HOSPICE)
        out[K["hospice_admissions"], t] = h_enter + self.within_hospice
        out[K["hospice_bed_days"], t] = self.hospice.bed_days(self.within_hospice, h_enter, out[HOSPICE, t] - h_enter,
                                                             h_leave, dim)
        occ = self.occupancy() / self.pool_ppu
        for s in PLACE_STATES:
            label = PLACE_KIND_LABEL[s]
            out[K[f"occupied_{label}"], t] = occ[self.pool_state == s].sum()
            out[K[f"capacity_{label}"], t] = self.cap_units[self.pool_state == s, t].sum()
        weeks = dim / 7.0
        out[K["home_care_people"], t] = sum(1 for p in live if p.hours_del > 0)
        out[K["home_care_hours"], t] = sum(p.hours_del for p in live) * weeks
        out[K["home_care_hours_unmet"], t] = sum(p.hours_dem - p.hours_del for p in live) * weeks
        out[K["home_care_waiting"], t] = sum(1 for p in live if p.hours_dem - p.hours_del > 1e-9)
        housing = np.isin(self.pool_state, HOUSING_STATES)
        out[K["voids"], t] = float(np.maximum(self.cap_units[housing, t] - occ[housing], 0).sum())

    def run(self) -> np.ndarray:
        for _ in range(self.plan.months):
            self.step()
        return self.out


def run_reference(inputs: SimulationInputs, plan: RunPlan, params: ReplicationParams, seed: int = 0) -> np.ndarray:
    return ReferenceModel(inputs, plan, params, seed).run()
