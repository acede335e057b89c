"""Carers needed: the forecast's home-care hours per team, turned into full-time carers.

Why per replication: a team covers several areas (``contracts/vocabulary/areas.py``), and the
band of a sum is not the sum of the bands, so each replication's team hours are its areas' own
hours added up (the breakdown, ``simulation/breakdowns.py``: counted person by person), and the
bands are taken over replications afterwards. People whose area the records do not give are
not given to a team by a share: their hours are a line of their own ("area not recorded"), and
the provider's total is the forecast's own. Carers needed in a month are its hours over the
contact hours one full-time carer gives in that month (``contracts/vocabulary/staffing.py``: an
assumption a provider replaces with its own figure).
"""

from __future__ import annotations

import numpy as np

from contracts.vocabulary.areas import AREA_TEAM, TEAMS
from simulation.breakdowns import UNKNOWN
from simulation.inputs import days_in_months
from simulation.replications import ForecastResults

NOT_RECORDED = "area not recorded"
ALL_TEAMS = "all"


def team_hours(results: ForecastResults, scenario: str) -> tuple[list[str], np.ndarray]:
    """(team labels, (replications, teams, months) home-care hours delivered in the month):
    each team, then the people with no recorded area, then the provider's total. Empty labels
    when the run kept no breakdowns."""
    lay = results.breakdown_layout
    if lay is None or scenario not in results.breakdown:
        return [], np.zeros((0, 0, len(results.month_dates)))
    arr = results.breakdown[scenario]
    rows = {s[0]: i for i, s in enumerate(lay.series)
            if s[1] is None and s[2] is None and s[0] is not None and s[3] == "home_care_hours"}
    labels, parts = [], []
    for team in TEAMS:
        areas = [a for a in lay.areas if AREA_TEAM.get(a) == team and a in rows]
        if areas:
            labels.append(team)
            parts.append(arr[:, [rows[a] for a in areas]].astype(float).sum(axis=1))
    unplaced = [a for a in rows if a == UNKNOWN or a not in AREA_TEAM]
    if unplaced and np.any(arr[:, [rows[a] for a in unplaced]]):
        labels.append(NOT_RECORDED)
        parts.append(arr[:, [rows[a] for a in unplaced]].astype(float).sum(axis=1))
    labels.append(ALL_TEAMS)
    parts.append(results.values[scenario][:, results.kpis.index("home_care_hours")])
    return labels, np.stack(parts, axis=1)


def carers_needed(hours: np.ndarray, month_dates, contact_hours_per_week: float) -> np.ndarray:
    """Full-time carers a month's hours take: hours / (contact hours a week x the month's weeks)."""
    weeks = days_in_months(month_dates) / 7.0
    return hours / (contact_hours_per_week * weeks)
