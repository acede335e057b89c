"""Goal seek: the smallest addition of places that keeps a measure below (or above) a level.

The commissioners' question, asked of any capacity and any KPI: "how many more nursing beds in
Cardiff keep delayed discharges below 10 a month in 80% of runs?", "how many extra-care flats keep
the extra-care waiting list under 20?". The answer is a number of places, the share of runs that
meet the goal with it, and every addition tried, so a planner can see how close the next smaller
one came.

How: the lever is a capacity change of the scenario format (``simulation/scenarios.py``: a unit
type, optionally an area, beds and a start month) whose ``delta`` the search chooses. Every
candidate runs with the baseline in one forecast, on the same run date, so replication r of every
candidate shares its random numbers (common random numbers): a candidate differs from another by
the places alone, which is what makes the shares of runs comparable and the search's steps
meaningful. The search doubles the addition until the goal is met (or ``max_change`` is passed),
then bisects between the last miss and the first hit. It assumes more places never make the
measure worse; the shares tried are returned so a reader can check, and a non-monotone run is
flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.forecast_model import KPIS
from simulation.inputs import SimulationInputs
from simulation.scenarios import UNIT_TYPES, validate


@dataclass(frozen=True)
class Goal:
    """``kpi`` below ``below`` (or above ``above``) in every month from ``from_month`` (1 = the
    first forecast month) to the horizon, in at least ``level`` of the runs."""

    kpi: str
    below: float | None = None
    above: float | None = None
    level: float = 0.8
    from_month: int = 1

    def __post_init__(self):
        if self.kpi not in KPIS:
            raise ValueError(f"llif: goal seek: unknown measure {self.kpi!r} (one of the forecast's KPIs)")
        if (self.below is None) == (self.above is None):
            raise ValueError("llif: goal seek: give exactly one of below or above")
        if not 0 < self.level <= 1:
            raise ValueError(f"llif: goal seek: level must be a share of runs in (0, 1], not {self.level}")
        if self.from_month < 1:
            raise ValueError(f"llif: goal seek: from_month counts from 1, not {self.from_month}")

    def share_met(self, series: np.ndarray) -> float:
        """The share of runs (rows of ``series``, (replications, months)) meeting the goal."""
        window = series[:, self.from_month - 1:]
        ok = window < self.below if self.below is not None else window > self.above
        return float(ok.all(axis=1).mean())

    def text(self) -> str:
        side = f"below {self.below:g}" if self.below is not None else f"above {self.above:g}"
        return f"{self.kpi} {side} in at least {self.level:.0%} of runs"


@dataclass
class GoalSeekResult:
    lever: dict
    goal: Goal
    change: int | None           # the smallest addition found; None when max_change was not enough
    share: float | None          # the share of runs meeting the goal with it
    tried: dict[int, float] = field(default_factory=dict)   # addition -> share of runs meeting the goal
    monotone: bool = True        # whether the shares tried never fall as the addition grows

    def sentence(self) -> str:
        what = _lever_text(self.lever)
        if self.change is None:
            return (f"no addition of up to {max(self.tried)} {what} keeps {self.goal.text()} "
                    f"(the best tried met it in {max(self.tried.values()):.0%} of runs)")
        if self.change == 0:
            return f"the goal is met as things are: {self.goal.text()} (in {self.share:.0%} of runs)"
        return f"{self.change} more {what} keep {self.goal.text()} (met in {self.share:.0%} of runs)"


def _lever_text(lever: dict) -> str:
    kind = lever["unit_type"].replace("_", " ")
    beds = f" {lever['beds']}" if lever.get("beds") not in (None, "all") else ""
    where = f" in {lever['area']}" if lever.get("area") else ""
    return f"{kind}{beds} places{where}"


def check_lever(lever: dict) -> dict:
    """A capacity change without its delta, checked as the scenario validator checks one."""
    if not isinstance(lever, dict) or lever.get("unit_type") not in UNIT_TYPES:
        raise ValueError(f"llif: goal seek: the lever needs a unit_type (one of {', '.join(UNIT_TYPES)}), got {lever!r}")
    if "delta" in lever or "absolute" in lever:
        raise ValueError("llif: goal seek: the lever's delta is what the search chooses; leave it out")
    validate({"name": "lever", "capacity": [{**lever, "delta": 1}]}, where="goal seek lever")
    return dict(lever)


def _scenario(lever: dict, change: int):
    return validate({"name": f"add_{change}", "capacity": [{**lever, "delta": change}]}, where="goal seek")


def goal_seek(inputs: SimulationInputs, lever: dict, goal: Goal, *, replications: int = 20, months: int = 24,
              run_date=None, max_change: int = 400, first_step: int = 5, processes: int = 1,
              progress=None) -> GoalSeekResult:
    """The smallest ``delta`` of ``lever`` meeting ``goal`` (see the module's docstring)."""
    from simulation.replications import run_forecast

    lever = check_lever(lever)
    k = KPIS.index(goal.kpi)
    tried: dict[int, float] = {}

    def shares(changes: list[int]) -> None:
        """Run the baseline and these additions together (one forecast: common random numbers)."""
        todo = [c for c in changes if c not in tried]
        if not todo:
            return
        scenarios = [validate({"name": "baseline"})] + [_scenario(lever, c) for c in todo if c > 0]
        res = run_forecast(inputs, scenarios, replications=replications, months=months, run_date=run_date,
                           needed=False, processes=processes, breakdowns=False)
        tried[0] = goal.share_met(res.values["baseline"][:, k])
        for c in todo:
            if c > 0:
                tried[c] = goal.share_met(res.values[f"add_{c}"][:, k])
        if progress:
            progress(len(todo))

    def met(c: int) -> bool:
        return tried[c] >= goal.level

    shares([0, first_step])
    lo, hi = 0, first_step
    if met(0):
        return _result(lever, goal, 0, tried)
    while not met(hi):
        if hi >= max_change:
            return _result(lever, goal, None, tried)
        lo, hi = hi, min(hi * 2, max_change)
        shares([hi])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        shares([mid])
        lo, hi = (lo, mid) if met(mid) else (mid, hi)
    return _result(lever, goal, hi, tried)


def _result(lever, goal, change, tried) -> GoalSeekResult:
    order = sorted(tried)
    monotone = all(tried[a] <= tried[b] for a, b in zip(order, order[1:]))
    return GoalSeekResult(lever=lever, goal=goal, change=change, share=tried.get(change) if change is not None else None,
                          tried={c: tried[c] for c in order}, monotone=monotone)
