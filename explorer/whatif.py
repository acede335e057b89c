"""The what-if form's rules: from a planner's answers to a scenario the engine accepts.

Why a separate, Streamlit-free module: the checks are what keep a planner's typo from becoming a
nightly run of nonsense, so they are tested directly, and the same scenario text is what the
what-if page saves into the scenarios folder for the nightly run (``simulation/scenarios.py``
holds the file format; its validator is the final word, ours just speaks plainer English and
runs first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from contracts.vocabulary import states as V
from contracts.vocabulary.areas import AREA_TABLE
from contracts.vocabulary.costs import UNIT_COSTS

# the unit costs a planner may change on the form: key -> (label, default), from the one table
# the engine reads too (contracts/vocabulary/costs.py); the two assumptions are not on the form
COSTS = {c.key: (c.label, c.default) for c in UNIT_COSTS if c.on_form}

CAPACITY_SERVICES = {
    "": "No change to places",
    "extra_care": "Extra-care flats",
    "residential": "Residential care-home beds",
    "nursing": "Nursing care-home beds",
    "temporary": "Temporary accommodation units",
    "sheltered": "Sheltered flats",
}

AREAS = {"": "All areas", **{a.code: a.name for a in AREA_TABLE}}

HOME_STATES = list(V.HOME_STATES)
CARE_HOME_STATES = list(V.CARE_HOME_STATES)
RESERVED_NAMES = {"baseline", "unconstrained"}


def capacity_lever(service: str, area: str = "", start: str = "") -> dict:
    """A choice of ``CAPACITY_SERVICES`` (and an area and first month) as the scenario format's
    capacity change, without its size: what the what-if adds and what a goal seek varies."""
    item: dict = {"unit_type": "care_home", "beds": service} if service in ("residential", "nursing") \
        else {"unit_type": service}
    if area:
        item["area"] = area
    if start:
        item["start"] = start
    return item


@dataclass
class WhatIf:
    """The form's answers. Percentages are changes (+15 means 15% more); 0 means no change."""

    name: str = ""
    description: str = ""
    capacity_service: str = ""
    capacity_area: str = ""
    capacity_change: float = 0
    capacity_start: str = ""
    capacity_new_scheme: bool = False
    care_home_moves_pct: float = 0
    hospital_admissions_pct: float = 0
    hospital_winter_only: bool = False
    homeless_growth_pct: float = 0
    home_care_referrals_pct: float = 0
    home_care_hours_cap_pct: float | None = None
    costs: dict[str, float] = field(default_factory=dict)
    runs: int = 20
    months: int = 24


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def default_costs() -> dict[str, float]:
    """The form's starting values: the defaults of the costs on the form."""
    return {k: v for k, (_, v) in COSTS.items()}


def _pct(errors: list[str], label: str, value, low: float, high: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        errors.append(f"{label}: enter a number.")
        return 0.0
    if v != v or not low <= v <= high:
        errors.append(f"{label}: must be between {low:g}% and {high:g}% (you entered {v:g}%).")
    return v


def build(w: WhatIf, months: list[str] | None = None) -> tuple[dict | None, list[str]]:
    """The scenario for these answers, or None and every problem in plain words.

    ``months`` are the forecast's months as YYYY-MM, for checking the start month.
    """
    errors: list[str] = []
    name = (w.name or "").strip()
    if not name:
        errors.append("Name: give the what-if a short name, e.g. 'New extra care in Cardiff'.")
    elif not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _\-]{2,59}", name):
        errors.append("Name: use 3 to 60 letters, numbers, spaces or dashes, starting with a letter or number.")
    elif slug(name) in RESERVED_NAMES:
        errors.append(f"Name: '{name}' is taken by the nightly run; choose another.")
    spec: dict = {"name": slug(name) if name else "", "description": (w.description or "").strip() or name}

    if w.capacity_service:
        if w.capacity_service not in CAPACITY_SERVICES:
            errors.append("Places: choose a kind of place from the list.")
        try:
            change = float(w.capacity_change)
        except (TypeError, ValueError):
            change = float("nan")
        if change != change or change != int(change):
            errors.append("Change in places: enter a whole number (negative to close places).")
        elif change == 0:
            errors.append("Change in places: enter how many places to add (or, negative, to close), or choose 'No change to places'.")
        elif not -1000 <= change <= 1000:
            errors.append("Change in places: must be between -1,000 and 1,000.")
        elif w.capacity_new_scheme and change < 0:
            errors.append("A new scheme must add places: enter a positive change, or untick 'as a new scheme'.")
        if months and w.capacity_start and w.capacity_start not in months:
            errors.append(f"From: choose a month between {months[0]} and {months[-1]}.")
        if w.capacity_area and w.capacity_area not in AREAS:
            errors.append("Area: choose an area from the list.")
        if not errors or not any(e.startswith(("Change", "Places", "From", "Area", "A new")) for e in errors):
            item = capacity_lever(w.capacity_service, w.capacity_area, w.capacity_start)
            item["delta"] = int(change)
            if w.capacity_new_scheme:
                where = AREAS.get(w.capacity_area, "") if w.capacity_area else ""
                item["new_unit"] = f"New {CAPACITY_SERVICES[w.capacity_service].lower()}{' in ' + where if where else ''}"
            spec["capacity"] = [item]

    transitions = []
    ch = _pct(errors, "Moves into care homes from home", w.care_home_moves_pct, -90, 200)
    if ch:
        transitions.append({"from": ["community", "general_needs", "sheltered", "extra_care"],
                            "to": CARE_HOME_STATES, "multiply": round(1 + ch / 100, 4), "age_min": 65})
    ha = _pct(errors, "Emergency hospital admissions", w.hospital_admissions_pct, -90, 200)
    if ha:
        rule = {"from": HOME_STATES + CARE_HOME_STATES, "to": ["hospital"],
                "multiply": round(1 + ha / 100, 4)}
        if w.hospital_winter_only:
            rule["months_of_year"] = [12, 1, 2]
        transitions.append(rule)
    if transitions:
        spec["transitions"] = transitions

    arrivals = []
    hg = _pct(errors, "Growth in homeless referrals", w.homeless_growth_pct, -50, 100)
    if hg:
        arrivals.append({"state": "temporary", "annual_growth": round(hg / 100, 4)})
    hc = _pct(errors, "New home-care referrals", w.home_care_referrals_pct, -90, 200)
    if hc:
        arrivals.append({"state": "community", "multiply": round(1 + hc / 100, 4)})
    if arrivals:
        spec["arrivals"] = arrivals

    if w.home_care_hours_cap_pct is not None:
        cap = _pct(errors, "Home-care hours we can staff", w.home_care_hours_cap_pct, 10, 200)
        spec["rationing"] = {"home_care": {"weekly_hours_cap_fraction": round(cap / 100, 4)}}

    defaults = default_costs()
    costs = {}
    for key, value in (w.costs or {}).items():
        label = COSTS.get(key, (key,))[0]
        try:
            v = float(value)
        except (TypeError, ValueError):
            errors.append(f"Cost of {label.lower()}: enter an amount in pounds.")
            continue
        if v != v or v <= 0:
            errors.append(f"Cost of {label.lower()}: must be more than £0.")
        elif v > 100 * defaults.get(key, 1000):
            errors.append(f"Cost of {label.lower()}: £{v:,.0f} is far above today's £{defaults.get(key, 0):,.0f}; check it.")
        elif abs(v - defaults.get(key, v)) > 1e-9:
            costs[key] = v
    if costs:
        spec["costs"] = costs

    if not isinstance(w.runs, int) or not 5 <= w.runs <= 200:
        errors.append("Runs: choose between 5 and 200.")
    if not isinstance(w.months, int) or not 6 <= w.months <= 60:
        errors.append("Months ahead: choose between 6 and 60.")
    if not errors and not any(k in spec for k in ("capacity", "transitions", "arrivals", "costs", "rationing")):
        errors.append("This what-if changes nothing yet: change at least one of places, rates, arrivals or costs.")
    if not errors:
        errors += engine_check(spec)
    return (None, errors) if errors else (spec, [])


def engine_check(spec: dict) -> list[str]:
    """The engine's own validator, when it is installed (its messages name the field)."""
    try:
        from simulation.scenarios import ScenarioError, validate
    except Exception:
        return []
    try:
        validate(spec, where="what-if")
    except ScenarioError as exc:
        return [f"The forecast engine refused this what-if: {exc}"]
    return []


def to_yaml(spec: dict) -> str:
    header = "# Saved from the explorer's 'Build a what-if' page; the nightly run includes every file here.\n"
    return header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
