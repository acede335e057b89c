"""Home-care target (#20): hours per person-week, mean and skew (median below the mean)."""

from __future__ import annotations

import numpy as np

from synthetic_sources.calibration.context import _Context
from synthetic_sources.calibration.results import Band, TargetResult, _fmt_hours, _Part, _result
from synthetic_sources.calibration.targets import META


def t20_home_care(ctx: _Context) -> TargetResult:
    hours = ctx.pm.col("care_hours", dtype=np.float64)
    h = hours[ctx.pm_window & (hours > 0)]
    mean = float(h.mean()) if len(h) else None
    median = float(np.median(h)) if len(h) else None
    parts = [
        _Part("mean", mean, Band(12, 12, 10, 14), _fmt_hours),
        _Part("median", median, None, _fmt_hours, ok=bool(len(h)) and median < mean),
    ]
    detail = (
        f"person-months {ctx.window_text} with care_hours > 0: {len(h)}; "
        f"right skew required (median < mean)"
    )
    return _result(20, *META[20], parts, detail, ctx.wide)
