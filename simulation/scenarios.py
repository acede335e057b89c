"""Scenarios: validated YAML deltas from the baseline, compiled into a run plan.

Why deltas: a planner's question changes one or two things (a new scheme, a slower flow into
care homes); everything else must stay the baseline, so a scenario file says only what it
changes and the difference from the baseline is that change alone (with common random
numbers, see replications.py).

Why a hand-written validator: the errors must name the file and the field
("scenarios/x.yaml: capacity[0].delta: must be a number") for analysts who write these files,
and the schema is small.

File format (all sections optional except name)::

    name: extra_care_cardiff
    description: A new 60-flat extra-care scheme in Cardiff from April 2027.
    capacity:            # changes to the places available
      - unit_type: extra_care      # or unit: S0007 (a scheme id); or pick: {capacity_near: 40}
        area: CDF                  # optional filter on unit_type
        beds: nursing              # care homes: residential, nursing or all (default all)
        start: 2027-04             # YYYY-MM, or a forecast month number (1 = first month)
        delta: 60                  # a total, shared by the units selected in proportion to
                                   # their capacity; or absolute: 0 (each unit; a closure)
        new_unit: Cardiff extra care (new)   # add a new unit of unit_type in area instead
    transitions:         # multipliers on monthly move probabilities (rows renormalised)
      - from: [community, general_needs]
        to: [residential_care, nursing_care]
        multiply: 0.85
        age_min: 65                # optional, whole years, applied on the lattice's age bands
        age_max: 120
        segments: [4]              # optional
        start: 2027-01             # optional window
        end: 2031-12
        months_of_year: [12, 1, 2] # optional
    arrivals:
      - state: temporary
        multiply: 1.0
        annual_growth: 0.10        # compounding from the start of the window
        start: 2026-11
    costs: {residential_week: 900}
    demography: 1.0      # long-range runs with a population projection: the share of the
                         # projected change applied to arrivals (0: none; default 1)
    rationing:
      home_care:
        weekly_hours_cap_fraction: 0.9   # or weekly_hours_cap (all teams, shared by hours)
        max_hours_per_package: 20
        waiting_hospital_multiplier: 1.0
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from contracts.vocabulary.states import SCHEME_TYPES
from simulation.inputs import (
    DEFAULT_CONSTRAINED,
    DEFAULT_COSTS,
    N_STATES,
    NURSING,
    RESIDENTIAL,
    TEAMS,
    Pool,
    SimulationInputs,
    days_in_months,
    month_add,
)
from simulation.lattice import AGE_BANDS, AGE_EDGES, LIVE_STATES, STATE_CODE, STATES

# a capacity change names the kind of scheme it changes (the vocabulary's scheme types)
UNIT_TYPES = SCHEME_TYPES
TOP_KEYS = {"name", "description", "capacity", "transitions", "arrivals", "costs", "rationing", "demography"}


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    spec: dict = field(repr=False)
    source: str = "<inline>"

    @property
    def content_hash(self) -> str:
        canon = json.dumps(self.spec, sort_keys=True, default=str)
        return hashlib.sha256(canon.encode()).hexdigest()[:16]

    @property
    def demand_key(self) -> str:
        """What the unconstrained run depends on: rates and arrivals, not capacity, costs or
        rationing - scenarios that share it share one unconstrained ("needed") run."""
        part = {k: self.spec.get(k) for k in ("transitions", "arrivals")}
        if "demography" in self.spec:   # only when set, so the other scenarios' keys stay as they were
            part["demography"] = float(self.spec["demography"])
        return hashlib.sha256(json.dumps(part, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def is_baseline(self) -> bool:
        # demography is an assumption about the world, like the projection, not a policy: a
        # long-range baseline with or without it is still the baseline
        return not any(self.spec.get(k) for k in ("capacity", "transitions", "arrivals", "costs", "rationing"))


# ------------------------------------------------------------------------------------ parsing

def _err(where: str, path: str, msg: str):
    raise ScenarioError(f"{where}: {path}: {msg}")


def _num(where, path, v, *, min_value=None, integer=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        _err(where, path, "must be a number" if not integer else "must be a whole number")
    if integer and int(v) != v:
        _err(where, path, "must be a whole number")
    if min_value is not None and v < min_value:
        _err(where, path, f"must be at least {min_value}")
    return v


def _month_value(where, path, v):
    if isinstance(v, bool):
        _err(where, path, "must be a month YYYY-MM or a forecast month number")
    if isinstance(v, int):
        if v < 1:
            _err(where, path, "a forecast month number starts at 1")
        return v
    text = str(v)
    try:
        return str(np.datetime64(text[:7], "M"))
    except ValueError:
        _err(where, path, "must be a month YYYY-MM or a forecast month number")


def _states(where, path, v, allowed):
    items = v if isinstance(v, list) else [v]
    if not items:
        _err(where, path, "must name at least one state")
    for i, s in enumerate(items):
        if s not in allowed:
            _err(where, f"{path}[{i}]" if isinstance(v, list) else path,
                 f"unknown state {s!r} (one of {', '.join(allowed)})")
    return items


def _keys(where, path, d, allowed):
    if not isinstance(d, dict):
        _err(where, path, "must be a mapping")
    for k in d:
        if k not in allowed:
            _err(where, f"{path}.{k}" if path else str(k), f"unknown field (allowed: {', '.join(sorted(allowed))})")


def validate(spec, where: str = "<inline>") -> Scenario:
    """Check a parsed scenario and return it; raises ScenarioError naming the field."""
    if not isinstance(spec, dict):
        raise ScenarioError(f"{where}: must be a mapping with at least a name")
    _keys(where, "", spec, TOP_KEYS)
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        _err(where, "name", "must be a non-empty text")
    desc = spec.get("description", "")
    if not isinstance(desc, str):
        _err(where, "description", "must be text")
    for i, c in enumerate(spec.get("capacity") or []):
        p = f"capacity[{i}]"
        _keys(where, p, c, {"unit", "unit_type", "area", "beds", "start", "delta", "absolute", "new_unit", "pick"})
        targets = [k for k in ("unit", "unit_type") if k in c]
        if len(targets) != 1:
            _err(where, p, "needs exactly one of unit or unit_type")
        if "unit_type" in c and c["unit_type"] not in UNIT_TYPES:
            _err(where, f"{p}.unit_type", f"unknown unit type {c['unit_type']!r} (one of {', '.join(UNIT_TYPES)})")
        if ("delta" in c) == ("absolute" in c):
            _err(where, p, "needs exactly one of delta or absolute")
        if "delta" in c:
            _num(where, f"{p}.delta", c["delta"])
        else:
            _num(where, f"{p}.absolute", c["absolute"], min_value=0)
        if "beds" in c and c["beds"] not in ("residential", "nursing", "all"):
            _err(where, f"{p}.beds", "must be residential, nursing or all")
        if "start" in c:
            _month_value(where, f"{p}.start", c["start"])
        if "new_unit" in c:
            if "unit_type" not in c or "delta" not in c:
                _err(where, f"{p}.new_unit", "needs unit_type and delta")
            if not isinstance(c["new_unit"], str):
                _err(where, f"{p}.new_unit", "must be a name")
        if "pick" in c:
            _keys(where, f"{p}.pick", c["pick"], {"capacity_near", "largest"})
            if "capacity_near" in c["pick"]:
                _num(where, f"{p}.pick.capacity_near", c["pick"]["capacity_near"], min_value=0)
    for i, r in enumerate(spec.get("transitions") or []):
        p = f"transitions[{i}]"
        _keys(where, p, r, {"from", "to", "multiply", "age_min", "age_max", "segments", "start", "end", "months_of_year"})
        for k in ("from", "to", "multiply"):
            if k not in r:
                _err(where, f"{p}.{k}", "is required")
        _states(where, f"{p}.from", r["from"], LIVE_STATES)
        _states(where, f"{p}.to", r["to"], STATES)
        _num(where, f"{p}.multiply", r["multiply"], min_value=0)
        for k in ("age_min", "age_max"):
            if k in r:
                _num(where, f"{p}.{k}", r[k], min_value=0)
        if "segments" in r:
            if not isinstance(r["segments"], list):
                _err(where, f"{p}.segments", "must be a list of segment numbers")
            for j, s in enumerate(r["segments"]):
                _num(where, f"{p}.segments[{j}]", s, min_value=-1, integer=True)
        for k in ("start", "end"):
            if k in r:
                _month_value(where, f"{p}.{k}", r[k])
        if "months_of_year" in r:
            if not isinstance(r["months_of_year"], list):
                _err(where, f"{p}.months_of_year", "must be a list of 1..12")
            for j, m in enumerate(r["months_of_year"]):
                _num(where, f"{p}.months_of_year[{j}]", m, integer=True)
                if not 1 <= m <= 12:
                    _err(where, f"{p}.months_of_year[{j}]", "must be 1..12")
    for i, a in enumerate(spec.get("arrivals") or []):
        p = f"arrivals[{i}]"
        _keys(where, p, a, {"state", "multiply", "annual_growth", "start", "end"})
        if "state" not in a:
            _err(where, f"{p}.state", "is required")
        _states(where, f"{p}.state", a["state"], LIVE_STATES)
        if "multiply" in a:
            _num(where, f"{p}.multiply", a["multiply"], min_value=0)
        if "annual_growth" in a:
            _num(where, f"{p}.annual_growth", a["annual_growth"], min_value=-1)
        for k in ("start", "end"):
            if k in a:
                _month_value(where, f"{p}.{k}", a[k])
    costs = spec.get("costs") or {}
    _keys(where, "costs", costs, set(DEFAULT_COSTS))
    for k, v in costs.items():
        _num(where, f"costs.{k}", v, min_value=0)
    rat = spec.get("rationing") or {}
    _keys(where, "rationing", rat, {"home_care"})
    hc = rat.get("home_care") or {}
    _keys(where, "rationing.home_care", hc,
          {"weekly_hours_cap", "weekly_hours_cap_fraction", "max_hours_per_package", "waiting_hospital_multiplier"})
    for k, v in hc.items():
        _num(where, f"rationing.home_care.{k}", v, min_value=0)
    if "demography" in spec:
        _num(where, "demography", spec["demography"], min_value=0)
    return Scenario(name=name.strip(), description=desc.strip(), spec=spec, source=where)


def load_scenario(path) -> Scenario:
    path = Path(path)
    where = str(path)
    try:
        spec = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"{where}: no such file") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{where}: not valid YAML ({exc})") from None
    return validate(spec, where)


def _shipped_folder() -> Path:
    """The checkout's scenarios/, or the copy an installed wheel carries (llif/package.py)."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "scenarios"
    return checkout if checkout.is_dir() else here / "shipped_scenarios"


SCENARIOS_DIR = _shipped_folder()


def shipped_scenarios(folder=None) -> list[Scenario]:
    """The baseline first, then every other shipped scenario, by file name."""
    folder = Path(folder) if folder else SCENARIOS_DIR
    files = sorted(folder.glob("*.yaml"))
    scen = [load_scenario(f) for f in files]
    scen.sort(key=lambda s: (not s.is_baseline, s.source))
    return scen


def baseline() -> Scenario:
    return validate({"name": "baseline", "description": "Tonight's rates and capacity carried forward."})


# ---------------------------------------------------------------------------- compiling a plan

@dataclass
class TransitionRule:
    key: str                 # content hash: runs sharing it share cached tables
    cells: np.ndarray        # lattice cells the rule applies to
    to: np.ndarray           # destination state codes
    factor: float
    active: np.ndarray       # (months,) bool


@dataclass
class RunPlan:
    scenario: Scenario
    months: int
    month_dates: np.ndarray
    moy: np.ndarray          # 0..11
    days: np.ndarray
    pools: list[Pool]
    cap_units: np.ndarray    # (n_pools, months) units; inf when unconstrained
    constrained_states: np.ndarray
    constrained: bool
    rules: list[TransitionRule]
    arrival_mult: np.ndarray  # (months, n_entry)
    costs: dict
    team_caps: np.ndarray     # weekly hours per team (inf = no cap)
    max_package: float
    waiting_hospital_multiplier: float
    # (months, areas + 1, projection bands + 1): arrivals' population factors by area and age
    # band (simulation.population), None when the run has no projection or demography is 0
    demography: np.ndarray | None = None


def _month_index(value, month_dates) -> int:
    """0-based forecast month of a YYYY-MM or 1-based month number (clamped to the horizon)."""
    if isinstance(value, int):
        return value - 1
    m = np.datetime64(value, "M")
    return int((m - month_dates[0].astype("datetime64[M]")).astype(int))


def _age_band_ok(age_min, age_max) -> np.ndarray:
    """Bands wholly inside [age_min, age_max) (the open top band counts when its lower edge is
    inside); the 'unknown' band only when no age filter is given."""
    lows = np.array(AGE_EDGES, dtype=float)
    highs = np.r_[lows[1:], np.inf]
    ok = np.ones(len(AGE_BANDS), dtype=bool)
    if age_min is not None or age_max is not None:
        lo = -np.inf if age_min is None else float(age_min)
        hi = np.inf if age_max is None else float(age_max)
        ok[:-1] = (lows >= lo) & (lows < hi) & ((highs <= hi) | (highs == np.inf))
        ok[-1] = False
    return ok


def build_plan(inputs: SimulationInputs, scenario: Scenario | None, months: int, constrained: bool = True,
               population=None) -> RunPlan:
    """The scenario compiled for ``months``; ``population`` (a ``simulation.population.
    PopulationProjection``) scales arrivals by the projected population of their area and age
    band, by the scenario's ``demography`` (default 1; 0 leaves the plan exactly as without one)."""
    scenario = scenario or baseline()
    spec = scenario.spec
    where = scenario.source
    dates = np.array([month_add(inputs.reference_month, k + 1) for k in range(months)])
    moy = (dates.astype("datetime64[M]").astype(np.int64) % 12)
    days = days_in_months(dates)
    pools = [Pool(**vars(p)) for p in inputs.pools]
    cap = np.array([[p.capacity] * months for p in pools], dtype=float).reshape(len(pools), months)

    for i, c in enumerate(spec.get("capacity") or []):
        p = f"capacity[{i}]"
        start = max(_month_index(c["start"], dates), 0) if "start" in c else 0
        if start >= months:
            continue
        if "new_unit" in c:
            kind = c["unit_type"]
            states = ([RESIDENTIAL, NURSING] if c.get("beds", "all") == "all" else
                      [RESIDENTIAL if c.get("beds") == "residential" else NURSING]) if kind == "care_home" \
                else [STATE_CODE[kind]]
            same = [q for q in pools if q.kind == kind]
            for s in states:
                ppu = float(np.mean([q.persons_per_unit for q in same if q.state == s])) if any(q.state == s for q in same) else 1.0
                pools.append(Pool(unit_id=f"new:{c['new_unit']}", name=c["new_unit"], kind=kind, state=s,
                                  area=c.get("area", ""), capacity=0.0, persons_per_unit=ppu))
                row = np.zeros(months)
                row[start:] = float(c["delta"]) / len(states)
                cap = np.vstack([cap, row])
            continue
        idx = _select_pools(pools, c, where, p)
        if "delta" in c:
            # a total change, shared by the selected pools in proportion to their capacity
            base = np.array([max(pools[j].capacity, 0.0) for j in idx])
            share = base / base.sum() if base.sum() > 0 else np.full(len(idx), 1.0 / len(idx))
            for j, f in zip(idx, share):
                cap[j, start:] = np.maximum(cap[j, start:] + float(c["delta"]) * f, 0)
        else:
            for j in idx:
                cap[j, start:] = float(c["absolute"])

    constrained_states = np.zeros(N_STATES, dtype=bool)
    constrained_states[list(DEFAULT_CONSTRAINED)] = True
    if not constrained:
        cap = np.full_like(cap, np.inf)

    lat = inputs.lattice
    codes = lat.decode(np.arange(lat.size))
    rules = []
    for i, r in enumerate(spec.get("transitions") or []):
        frm = [STATE_CODE[s] for s in (r["from"] if isinstance(r["from"], list) else [r["from"]])]
        to = [STATE_CODE[s] for s in (r["to"] if isinstance(r["to"], list) else [r["to"]])]
        mask = np.isin(codes[0], frm) & _age_band_ok(r.get("age_min"), r.get("age_max"))[codes[2]]
        if "segments" in r:
            mask &= np.isin(codes[4], r["segments"])
        active = np.ones(months, dtype=bool)
        if "start" in r:
            active &= np.arange(months) >= _month_index(r["start"], dates)
        if "end" in r:
            active &= np.arange(months) <= _month_index(r["end"], dates)
        if "months_of_year" in r:
            active &= np.isin(moy + 1, r["months_of_year"])
        key = hashlib.sha256(json.dumps({k: r[k] for k in r if k not in ("start", "end", "months_of_year")},
                                        sort_keys=True, default=str).encode()).hexdigest()[:12]
        rules.append(TransitionRule(key=key, cells=np.flatnonzero(mask), to=np.array(to), factor=float(r["multiply"]),
                                    active=active))

    entry = list(inputs.arrivals.entry_states)
    amult = np.ones((months, len(entry)))
    for i, a in enumerate(spec.get("arrivals") or []):
        states = a["state"] if isinstance(a["state"], list) else [a["state"]]
        start = _month_index(a["start"], dates) if "start" in a else 0
        end = _month_index(a["end"], dates) if "end" in a else months - 1
        t = np.arange(months)
        on = (t >= start) & (t <= end)
        f = float(a.get("multiply", 1.0)) * (1.0 + float(a.get("annual_growth", 0.0))) ** (np.maximum(t - start + 1, 0) / 12.0)
        for s in states:
            code = STATE_CODE[s]
            if code in entry:
                amult[on, entry.index(code)] *= f[on]

    costs = {**inputs.costs, **(spec.get("costs") or {})}
    hc = (spec.get("rationing") or {}).get("home_care") or {}
    team_caps = np.full(len(TEAMS), np.inf)
    census_hours = np.bincount(inputs.team, weights=inputs.weekly_hours, minlength=len(TEAMS))
    if constrained and ("weekly_hours_cap" in hc or "weekly_hours_cap_fraction" in hc):
        total = float(hc["weekly_hours_cap"]) if "weekly_hours_cap" in hc else \
            float(hc["weekly_hours_cap_fraction"]) * census_hours.sum()
        share = census_hours / max(census_hours.sum(), 1e-9)
        team_caps = total * share
    return RunPlan(
        scenario=scenario, months=months, month_dates=dates, moy=moy, days=days, pools=pools, cap_units=cap,
        constrained_states=constrained_states, constrained=constrained, rules=rules, arrival_mult=amult,
        costs=costs, team_caps=team_caps,
        max_package=float(hc.get("max_hours_per_package", np.inf)) if constrained else np.inf,
        waiting_hospital_multiplier=float(hc.get("waiting_hospital_multiplier", 1.0)) if constrained else 1.0,
        demography=_demography(inputs, population, float(spec.get("demography", 1.0)), dates),
    )


def _demography(inputs: SimulationInputs, population, strength: float, dates) -> np.ndarray | None:
    if population is None or strength == 0.0:
        return None
    return population.factors(inputs.areas, inputs.reference_month, dates, strength)


def _select_pools(pools: list[Pool], c: dict, where: str, path: str) -> list[int]:
    if "unit" in c:
        idx = [i for i, p in enumerate(pools) if p.unit_id == str(c["unit"])]
        if not idx:
            _err(where, f"{path}.unit", f"no unit {c['unit']!r} open at the census")
    else:
        idx = [i for i, p in enumerate(pools) if p.kind == c["unit_type"]
               and ("area" not in c or p.area == c["area"])]
        if not idx:
            _err(where, f"{path}.unit_type", f"no {c['unit_type']} unit{' in ' + c['area'] if 'area' in c else ''} at the census")
    if "beds" in c and c["beds"] != "all":
        want = RESIDENTIAL if c["beds"] == "residential" else NURSING
        idx = [i for i in idx if pools[i].state == want]
    if "pick" in c and idx:
        units = {}
        for i in idx:
            units.setdefault(pools[i].unit_id, []).append(i)
        total = {u: sum(pools[i].capacity for i in ii) for u, ii in units.items()}
        if "capacity_near" in c["pick"]:
            target = float(c["pick"]["capacity_near"])
            best = min(sorted(total), key=lambda u: (abs(total[u] - target), u))
        else:
            best = max(sorted(total), key=lambda u: (total[u], u))
        idx = units[best]
    return idx


def active_rule_key(plan: RunPlan, t: int) -> tuple:
    return tuple(r.key + f"x{r.factor}" for r in plan.rules if r.active[t])


__all__ = ["Scenario", "ScenarioError", "RunPlan", "TransitionRule", "validate", "load_scenario",
           "shipped_scenarios", "baseline", "build_plan", "active_rule_key"]
