"""The calibration report: every target of the domain design measured on the world's truth.

The world is only useful if it behaves like the provider it stands in for, so each of the 22
targets (``docs/domain.md``; the table of targets is ``META`` in ``targets.py``, its one place)
is measured from the truth tables and set beside its target and tolerance. ``docs/calibration.md``
says, target by target, which population, period, numerator and denominator are used and why;
keep the two in step.

Steady-state targets are measured over the **window**: the 36 complete calendar months ending
with the last complete month on or before ``until`` (three winters, no partial months). Targets
that name a period use it (#2: 2017-2019; #4: financial year 2023-24). Shares and rates are
kept as fractions (0.074, not 7.4) and only formatted as percentages.

The package (issue 13 item 5): ``targets`` (the table), ``results`` (a row, its band, the
formats), ``context`` (the window and the person-month arrays), and the measurements by topic -
``mortality`` (#1-2), ``housing`` (#3-8), ``need`` (#9), ``care_homes`` (#10-15), ``hospital``
(#16-19), ``home_care`` (#20), ``end_of_life`` (#21-22). This file is the report's API:
``evaluate``, ``to_json`` and ``format_table``, and ``_TARGETS``, which function measures which number.
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from synthetic_sources.calibration.care_homes import (
    t10_admissions,
    t11_stay_to_death,
    t12_one_year,
    t13_temporary_stays,
    t14_from_hospital,
    t15_occupancy,
)
from synthetic_sources.calibration.context import Context
from synthetic_sources.calibration.end_of_life import t21_place_of_death, t22_hospice
from synthetic_sources.calibration.home_care import t20_home_care
from synthetic_sources.calibration.hospital import (
    t16_admissions_home,
    t17_admissions_care,
    t18_length_of_stay,
    t19_delay,
)
from synthetic_sources.calibration.housing import (
    t03_turnover,
    t04_routes,
    t05_voids,
    t06_arrears,
    t07_evictions,
    t08_tenancy_length,
)
from synthetic_sources.calibration.mortality import t01_mortality, t02_e65
from synthetic_sources.calibration.need import t09_need
from synthetic_sources.calibration.results import MissingData, TargetResult, unmeasurable
from synthetic_sources.calibration.targets import META

_TARGETS = (
    (1, t01_mortality),
    (2, t02_e65),
    (3, t03_turnover),
    (4, t04_routes),
    (5, t05_voids),
    (6, t06_arrears),
    (7, t07_evictions),
    (8, t08_tenancy_length),
    (9, t09_need),
    (10, t10_admissions),
    (11, t11_stay_to_death),
    (12, t12_one_year),
    (13, t13_temporary_stays),
    (14, t14_from_hospital),
    (15, t15_occupancy),
    (16, t16_admissions_home),
    (17, t17_admissions_care),
    (18, t18_length_of_stay),
    (19, t19_delay),
    (20, t20_home_care),
    (21, t21_place_of_death),
    (22, t22_hospice),
)


def evaluate(
    truth: dict[str, pd.DataFrame], until: pd.Timestamp, wide: float = 1.0
) -> list[TargetResult]:
    """Measure all 22 targets; a target whose tables are absent is reported, not raised.

    ``wide`` multiplies each tolerance's distance from its target: small worlds (scale 0.05)
    are noisy, and their tests use e.g. ``wide=3`` rather than looser targets.
    """
    ctx = Context(truth, until, wide)
    results = []
    for number, fn in _TARGETS:
        try:
            results.append(fn(ctx))
        except MissingData as why:
            results.append(unmeasurable(number, *META[number], f"not measurable: {why}"))
    return results


def to_json(results: list[TargetResult]) -> list[dict]:
    return [asdict(r) for r in results]


def format_table(results: list[TargetResult], detail_width: int | None = 90) -> str:
    """The report for a terminal; ``detail_width=None`` prints every detail in full."""
    headers = ("#", "target", "goal", "tolerance", "world", "ok", "how / worst")
    rows = []
    for r in results:
        detail = r.detail
        if detail_width is not None and len(detail) > detail_width:
            detail = detail[: max(detail_width - 3, 0)] + "..."
        rows.append(
            (str(r.number), r.name, r.target, r.tolerance, r.value_text,
             "yes" if r.within_tolerance else "NO", detail)
        )
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    widths[-1] = len(headers[-1])  # the last column is free text: no padding

    def line(cells):
        last = len(cells) - 1
        padded = (c if i == last else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return "  ".join(padded)

    out = [line(headers), line(["-" * w for w in widths[:-1]] + ["-" * len(headers[-1])])]
    out += [line(row) for row in rows]
    ok = sum(r.within_tolerance for r in results)
    out.append(f"{ok} of {len(results)} targets within tolerance")
    return "\n".join(out)
