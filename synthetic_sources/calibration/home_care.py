"""Home-care target (#20): hours per person-week, mean and skew (median below the mean)."""

from __future__ import annotations

import numpy as np

from synthetic_sources.calibration.context import Context
from synthetic_sources.calibration.results import Band, Part, TargetResult, banded_result, fmt_hours
from synthetic_sources.calibration.targets import META


def t20_home_care(ctx: Context) -> TargetResult:
    hours = ctx.pm.col("care_hours", dtype=np.float64)
    h = hours[ctx.pm_window & (hours > 0)]
    mean = float(h.mean()) if len(h) else None
    median = float(np.median(h)) if len(h) else None
    parts = [
        Part("mean", mean, Band(12, 12, 10, 14), fmt_hours),
        Part("median", median, None, fmt_hours, ok=bool(len(h)) and median < mean),
    ]
    detail = (
        f"person-months {ctx.window_text} with care_hours > 0: {len(h)}; "
        f"right skew required (median < mean)"
    )
    return banded_result(20, *META[20], parts, detail, ctx.wide)
