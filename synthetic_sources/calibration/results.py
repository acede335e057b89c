"""A target's result row, the band a figure must fall in, and how figures are written.

Every topic module builds its rows through ``banded_result`` (or ``single_result``), so widening the
tolerances for small worlds (``wide``) and formatting the report happen the same way for all
22 targets.

Underscored names here are the package's internals, shared by its topic modules; callers
outside the package use ``evaluate``, ``to_json`` and ``format_table``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synthetic_sources.calibration.targets import META


@dataclass
class TargetResult:
    number: int
    name: str
    target: str
    tolerance: str
    value: float | None
    value_text: str
    within_tolerance: bool
    detail: str
    # One entry per part of a multi-part target (label, value, value_text, within_tolerance);
    # a single-part target has one entry too, so consumers can treat every row alike.
    parts: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Band:
    """A target (a point or a range) and the tolerance around it, on one figure.

    ``wide`` stretches each side by its own distance from the target, so an asymmetric
    tolerance (target 2%, tolerance 1.5-3%) stays asymmetric when widened for small worlds.
    """

    target_lo: float
    target_hi: float
    tol_lo: float
    tol_hi: float

    def bounds(self, wide: float = 1.0) -> tuple[float, float]:
        # No figure in the report can be negative, so a widened lower bound stops at zero.
        return (
            max(0.0, self.target_lo - wide * (self.target_lo - self.tol_lo)),
            self.target_hi + wide * (self.tol_hi - self.target_hi),
        )

    def contains(self, value: float | None, wide: float = 1.0) -> bool:
        if value is None or not np.isfinite(value):
            return False
        lo, hi = self.bounds(wide)
        return bool(lo <= value <= hi)


def fmt_pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f}%"


def fmt_num(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _unit(suffix: str, digits: int = 1):
    def fmt(x: float | None) -> str:
        text = fmt_num(x, digits)
        return text if text == "n/a" else f"{text}{suffix}"

    return fmt


fmt_days, fmt_weeks, fmt_months = _unit(" d"), _unit(" wk"), _unit(" mo")
fmt_years, fmt_hours = _unit(" y"), _unit(" h")
fmt_2, fmt_3 = _unit("", 2), _unit("", 3)


def fmt_pct2(x: float | None) -> str:
    return fmt_pct(x, 2)


def _range_text(lo: float, hi: float, fmt) -> str:
    return f"{fmt(lo)}-{fmt(hi)}"


class MissingData(Exception):
    """A table or column the target needs is absent: the target is not measurable."""


@dataclass
class Part:
    label: str
    value: float | None
    band: Band | None  # None: a part with its own check (``ok``), e.g. "median < mean"
    fmt: object = fmt_pct
    ok: bool | None = None


def banded_result(
    number: int,
    name: str,
    target: str,
    tolerance: str,
    parts: list[Part],
    detail: str,
    wide: float,
) -> TargetResult:
    """One row; every part must be inside its (widened) tolerance for the row to pass."""
    rows = []
    for p in parts:
        within = p.ok if p.band is None else p.band.contains(p.value, wide)
        rows.append(
            {
                "label": p.label,
                "value": None if p.value is None or not np.isfinite(p.value) else float(p.value),
                "value_text": p.fmt(p.value),
                "within_tolerance": bool(within),
            }
        )
    if wide != 1.0:
        # dict.fromkeys: once per distinct range (#1 has fourteen bands, one tolerance).
        widened = list(
            dict.fromkeys(
                _range_text(*p.band.bounds(wide), p.fmt) for p in parts if p.band is not None
            )
        )
        tolerance = f"{tolerance} [x{wide:g}: {' / '.join(widened)}]"
    if len(rows) == 1:
        value_text = rows[0]["value_text"]
    else:
        value_text = " / ".join(f"{r['label']} {r['value_text']}" for r in rows)
    return TargetResult(
        number=number,
        name=name,
        target=target,
        tolerance=tolerance,
        value=rows[0]["value"] if rows else None,
        value_text=value_text,
        within_tolerance=bool(rows) and all(r["within_tolerance"] for r in rows),
        detail=detail,
        parts=rows,
    )


def single_result(ctx, number: int, value, band: Band, detail: str, fmt=fmt_pct) -> TargetResult:
    return banded_result(number, *META[number], [Part("", value, band, fmt)], detail, ctx.wide)


def unmeasurable(number: int, name: str, target: str, tolerance: str, why: str) -> TargetResult:
    return TargetResult(number, name, target, tolerance, None, "n/a", False, why, [])
