"""Need target (#9): the share of people needing help with daily living, by age band."""

from __future__ import annotations

import numpy as np

from synthetic_sources.calibration.context import Context
from synthetic_sources.calibration.results import Band, Part, TargetResult, banded_result
from synthetic_sources.calibration.targets import META


def t09_need(ctx: Context) -> TargetResult:
    pm = ctx.pm
    age = pm.col("age", dtype=np.int64)
    need = pm.col("need_level", dtype=np.int64)
    # Tenancy holders only: the survey samples the general population, and ours is the
    # tenants. Household members' need is not simulated, and people known only to home care
    # are in the world because they need care, so either would bias the prevalence.
    role = ctx.person_attr(pm.col("person_id"), "role").to_numpy()
    base = ctx.pm_window & pm.live & ~pm.in_care_home & (role == "lead")
    parts, notes = [], []
    for label, m, goal in (
        ("65-69", base & (age >= 65) & (age <= 69), 0.17),
        ("85+", base & (age >= 85), 0.53),
    ):
        n = int(m.sum())
        share = float((need[m] >= 1).mean()) if n else None
        parts.append(Part(label, share, Band(goal, goal, goal - 0.05, goal + 0.05)))
        notes.append(f"{label}: {n} person-months")
    detail = (
        f"person-months with need level >= 1 among tenancy holders outside care homes {ctx.window_text}; "
        + ", ".join(notes)
    )
    return banded_result(9, *META[9], parts, detail, ctx.wide)
