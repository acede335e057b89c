"""The world's codes and small helpers, shared by its domain modules.

State codes are the indices of the vocabulary's states (``contracts.vocabulary.states``); the
other tuples are the codes the truth tables decode (``tables.py``). Day numbers are days since
1970-01-01, the world's one calendar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.vocabulary.states import STATES, UNIT_TYPE_STATE, UNIT_TYPES

from .config import START

# the vocabulary's states, in their order (the codes below are their indices)
STATE_NAMES = STATES
GN, SH, XC, TMP, COMM, RES, NUR, HOSP, HOSPICE, MOVED, DIED = (STATES.index(s) for s in (
    "general_needs", "sheltered", "extra_care", "temporary", "community", "residential_care",
    "nursing_care", "hospital", "hospice", "moved_out", "died"))
NOT_SIMULATED = -2  # household members: their state follows the household
ABSENT = -1

UNIT_STATE = np.array([STATES.index(UNIT_TYPE_STATE[u]) for u in UNIT_TYPES])

ROLE_LEAD, ROLE_MEMBER, ROLE_OUTSIDE = 0, 1, 2
ORIGINS = ("initial", "register", "homeless", "transfer_in", "referral", "outside_care", "member")
DEATH_PLACES = ("", "hospital", "home", "care_home", "hospice")
END_REASONS = ("", "moved_out", "transfer", "died", "evicted", "care_home", "moved_on")
ROUTES = ("initial", "register", "homeless", "transfer")
STAY_KINDS = ("permanent", "respite", "reablement")
STAY_DEST = ("", "died", "died_in_hospital", "died_in_hospice", "home")
SPELL_DEST = ("", "home", "residential_care", "nursing_care", "hospice", "died")
PACKAGE_END = ("", "reassessed", "care_home", "died", "moved_out", "no_longer_needed")
NEED_TYPES = ("general", "homeless", "transfer", "sheltered", "extra_care")
OUTCOMES = ("open", "let", "withdrawn")
EMPLOYMENT = ("employed", "unemployed", "retired", "unable_to_work", "student")
BENEFITS = ("universal_credit", "housing_benefit", "pension_credit", "none")
INCOME = ("low", "middle", "high")
VOID_REASONS = ("tenancy_end", "new_build", "repairs")

NEVER = np.int32(2**31 - 1)
EPOCH = np.datetime64("1970-01-01", "D")


def _day(ts) -> int:
    return int((np.datetime64(pd.Timestamp(ts).date(), "D") - EPOCH).astype(int))


def month_bounds(t: int) -> tuple[int, int, int, int]:
    """First and last day (days since 1970) of month ``t`` (0 = 1998-01), its year and month."""
    m = np.datetime64(START.strftime("%Y-%m"), "M") + t
    first = int((m.astype("datetime64[D]") - EPOCH).astype(int))
    last = int(((m + 1).astype("datetime64[D]") - EPOCH).astype(int)) - 1
    year = int(m.astype(int) // 12 + 1970)
    return first, last, year, int(m.astype(int) % 12 + 1)


def month_index(ts) -> int:
    ts = pd.Timestamp(ts)
    return (ts.year - START.year) * 12 + ts.month - START.month


def _lookup(table, age):
    """Piecewise-constant lookup of ((from_age, value), ...) by age."""
    edges = np.array([a for a, _ in table])
    values = np.array([v for _, v in table])
    return values[np.searchsorted(edges, age, side="right") - 1]


def _annual_to_monthly(p):
    return 1.0 - (1.0 - np.clip(p, 0, 0.999999)) ** (1.0 / 12.0)


def _seg_map(mapping: dict, seg: np.ndarray, default=0.0) -> np.ndarray:
    lut = np.full(7, default, dtype=np.float64)
    for k, v in mapping.items():
        lut[k] = v
    return lut[seg]
