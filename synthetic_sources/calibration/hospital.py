"""Hospital targets (#16-#19): emergency admission rates at home and in care homes, length of
stay and delayed discharge, measured on the hospital spells."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.vocabulary.states import CARE_HOME_STATES
from synthetic_sources.calibration.context import Context, duration_days, person_years_65
from synthetic_sources.calibration.results import (
    Band,
    Part,
    TargetResult,
    banded_result,
    fmt_2,
    fmt_3,
    fmt_days,
    fmt_num,
    single_result,
)
from synthetic_sources.calibration.targets import META

CARE_STATES = CARE_HOME_STATES


def _spells(ctx: Context, columns: list[str]) -> pd.DataFrame:
    return ctx.table("hospital_spells", columns)


def _from_care_home(spells: pd.DataFrame) -> pd.Series:
    return spells["from_state"].isin(CARE_STATES) | (spells["care_stay_id"] != -1)


def t16_admissions_home(ctx: Context) -> TargetResult:
    sp = _spells(ctx, ["person_id", "admission_date", "from_state", "care_stay_id"])
    sp = sp[ctx.in_window(sp["admission_date"]) & ~_from_care_home(sp)]
    age = ctx.age_at(sp["person_id"], sp["admission_date"])
    n = int((age >= 65).sum())
    py = person_years_65(ctx, care_home=False)
    value = n / py if py > 0 else None
    detail = (
        f"spells admitted {ctx.window_text} at 65+ from outside care homes: {n} / {py:.0f} "
        f"person-years at 65+ outside care homes"
    )
    return single_result(ctx, 16, value, Band(0.20, 0.25, 0.16, 0.30), detail, fmt_3)


def t17_admissions_care(ctx: Context) -> TargetResult:
    sp = _spells(ctx, ["admission_date", "from_state", "care_stay_id"])
    n = int((ctx.in_window(sp["admission_date"]) & _from_care_home(sp)).sum())
    pm = ctx.pm
    ry = float((ctx.pm_window & pm.live & pm.in_care_home).sum()) / 12.0
    value = n / ry if ry > 0 else None
    detail = (
        f"spells admitted {ctx.window_text} from a care home (any age, any stay kind): {n} / "
        f"{ry:.0f} resident-years (months at month end in a home, or in hospital/hospice from one)"
    )
    return single_result(ctx, 17, value, Band(0.7, 1.0, 0.56, 1.2), detail, fmt_2)


def t18_length_of_stay(ctx: Context) -> TargetResult:
    sp = _spells(ctx, ["person_id", "admission_date", "discharge_date"])
    sp = sp[ctx.in_window(sp["discharge_date"])]
    age = ctx.age_at(sp["person_id"], sp["admission_date"])
    los = duration_days(sp["admission_date"], sp["discharge_date"])
    parts, notes = [], []
    for label, m, band in (
        ("18+", age >= 18, Band(8, 9, 6.5, 10.5)),
        ("85+", age >= 85, Band(11, 12.5, 9.5, 14)),
    ):
        parts.append(Part(label, los[m].mean() if m.any() else None, band, fmt_days))
        notes.append(f"{label}: {int(m.sum())}")
    median = np.median(los[age >= 18]) if (age >= 18).any() else None
    longest = np.nanmax(los) if len(los) else None
    detail = (
        f"spells discharged {ctx.window_text}, age at admission; " + ", ".join(notes)
        + f"; median 18+ {fmt_num(median)} d, longest {fmt_num(longest, 0)} d"
    )
    return banded_result(18, *META[18], parts, detail, ctx.wide)


def t19_delay(ctx: Context) -> TargetResult:
    sp = _spells(ctx, ["discharge_date", "delayed_days"])
    delayed = sp[ctx.in_window(sp["discharge_date"]) & (sp["delayed_days"] > 0)]["delayed_days"]
    n_all = int(ctx.in_window(sp["discharge_date"]).sum())
    value = float(delayed.median()) if len(delayed) else None
    detail = (
        f"spells discharged {ctx.window_text} with delayed_days > 0: {len(delayed)} of {n_all}; "
        f"mean {fmt_num(float(delayed.mean()) if len(delayed) else None)} days"
    )
    return single_result(ctx, 19, value, Band(27, 27, 20.25, 33.75), detail, fmt_days)
