"""Housing targets (#3-#8): turnover, lets by route, voids, arrears, evictions, tenancy length.

Measured on the tenancies and units of the world's housing system over the window (lets by
route over financial year 2023-24, as the target names it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.vocabulary.states import HOUSING_STATES
from synthetic_sources.calibration.context import (
    WINDOW_MONTHS,
    Context,
    between_dates,
    day_numbers,
    duration_days,
    month_indices,
)
from synthetic_sources.calibration.results import (
    Band,
    Part,
    TargetResult,
    banded_result,
    fmt_num,
    fmt_pct,
    fmt_pct2,
    fmt_years,
    single_result,
)
from synthetic_sources.calibration.targets import META

SETTLED_TENANCY_TYPES = ("general_needs", "sheltered", "extra_care")
LET_ROUTES = ("register", "homeless", "transfer")


def _units_available(ctx: Context, unit_types: tuple[str, ...]) -> tuple[pd.DataFrame, np.ndarray]:
    """Units of the given types and, per window month end, whether each was available.

    Available means the unit exists by that day (``available_from``) and its scheme has not
    closed; returns the units and a (units x months) boolean matrix.
    """
    units = ctx.table("units", ["unit_id", "scheme_id", "unit_type", "available_from"])
    units = units[units["unit_type"].isin(unit_types)]
    schemes = ctx.table("schemes", ["scheme_id", "closed"]).drop_duplicates("scheme_id")
    closed = schemes.set_index("scheme_id")["closed"].reindex(units["scheme_id"].to_numpy())
    start = day_numbers(units["available_from"], nat=np.iinfo(np.int64).min)
    end = day_numbers(pd.Series(closed.to_numpy()), nat=np.iinfo(np.int64).max)
    me = ctx.month_ends[None, :]
    avail = (start[:, None] <= me) & (end[:, None] > me)
    return units, avail


def t03_turnover(ctx: Context) -> TargetResult:
    ten = ctx.table("tenancies", ["tenancy_type", "route", "start_date"])
    lets = int(
        (
            (ten["tenancy_type"] == "general_needs")
            & (ten["route"] != "initial")
            & ctx.in_window(ten["start_date"])
        ).sum()
    )
    _, avail = _units_available(ctx, ("general_needs",))
    mean_units = float(avail.sum(axis=0).mean()) if avail.size else 0.0
    value = (lets / ctx.years) / mean_units if mean_units > 0 else None
    detail = (
        f"general-needs lets (tenancies started, not initial) {ctx.window_text}: {lets} "
        f"= {lets / ctx.years:.1f}/yr over mean {mean_units:.0f} GN units available at month ends"
    )
    return single_result(ctx, 3, value, Band(0.07, 0.08, 0.06, 0.09), detail)


def _financial_year(ctx: Context) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """FY 2023-24 if complete by the window end, else the latest complete financial year."""
    start_year = 2023
    while pd.Timestamp(f"{start_year + 1}-04-01") > ctx.window_end:
        start_year -= 1
    return (
        pd.Timestamp(f"{start_year}-04-01"),
        pd.Timestamp(f"{start_year + 1}-04-01"),
        f"{start_year}-{(start_year + 1) % 100:02d}",
    )


def t04_routes(ctx: Context) -> TargetResult:
    start, end, fy = _financial_year(ctx)
    ten = ctx.table("tenancies", ["tenancy_type", "route", "start_date"])
    lets = ten[
        ten["tenancy_type"].isin(SETTLED_TENANCY_TYPES)
        & ten["route"].isin(LET_ROUTES)
        & between_dates(ten["start_date"], start, end)
    ]
    n = len(lets)
    counts = lets["route"].value_counts()
    goals = {"register": 0.39, "homeless": 0.36, "transfer": 0.25}
    parts = [
        Part(route, (counts.get(route, 0) / n) if n else None, Band(g, g, g - 0.05, g + 0.05))
        for route, g in goals.items()
    ]
    note = "" if fy == "2023-24" else " (2023-24 not complete at until)"
    detail = (
        f"settled lets (general needs, sheltered, extra care; not temporary) started in FY {fy}"
        f"{note}: {n}; " + ", ".join(f"{r} {counts.get(r, 0)}" for r in goals)
    )
    return banded_result(4, *META[4], parts, detail, ctx.wide)


def t05_voids(ctx: Context) -> TargetResult:
    units, avail = _units_available(ctx, HOUSING_STATES)
    voids = ctx.table("voids", ["unit_id", "start_date", "end_date"])
    voids = voids[voids["unit_id"].isin(units["unit_id"])]
    vs = day_numbers(voids["start_date"], nat=np.iinfo(np.int64).max)
    ve = day_numbers(voids["end_date"], nat=np.iinfo(np.int64).max)
    me = ctx.month_ends[None, :]
    void_at = (vs[:, None] <= me) & (ve[:, None] > me)
    # A unit is void at a month end if any of its voids covers it (overlapping voids count once).
    row_of = pd.Index(units["unit_id"].to_numpy()).get_indexer(voids["unit_id"].to_numpy())
    unit_void = np.zeros(avail.shape, dtype=bool)
    if len(row_of):
        np.logical_or.at(unit_void, row_of, void_at)
    unit_void &= avail
    denom = int(avail.sum())
    value = unit_void.sum() / denom if denom else None
    detail = (
        f"units (general needs, sheltered, extra care, temporary; not care-home beds) void at "
        f"the {WINDOW_MONTHS} month ends {ctx.window_text}: {int(unit_void.sum())} void "
        f"unit-months / {denom} available"
    )
    return single_result(ctx, 5, value, Band(0.02, 0.02, 0.015, 0.03), detail)


def _lead_tenancy_months(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Window person-months of tenancy holders in their tenancy: (arrears band, tenancy type).

    The holder is the tenancy's ``person_id``; members' rows are left out even if they carry
    the tenancy id, so each tenancy-month counts once.
    """
    pm = ctx.pm
    tid = pm.col("tenancy_id", dtype=np.int64)
    band = pm.col("arrears_band", dtype=np.int64)
    ten = ctx.table("tenancies", ["tenancy_id", "person_id", "tenancy_type"])
    ten = ten.drop_duplicates("tenancy_id")
    sel = ctx.pm_window & (tid != -1) & (band >= 0) & pm.live
    idx = pd.Index(ten["tenancy_id"].to_numpy(dtype=np.int64)).get_indexer(tid[sel])
    found = idx >= 0
    lead = np.full(len(idx), -1, dtype=np.int64)
    lead[found] = ten["person_id"].to_numpy(dtype=np.int64)[idx[found]]
    types = np.full(len(idx), "", dtype=object)
    types[found] = ten["tenancy_type"].to_numpy(dtype=object)[idx[found]]
    is_lead = lead == pm.pid[sel]
    return band[sel][is_lead], types[is_lead]


def t06_arrears(ctx: Context) -> TargetResult:
    band, types = _lead_tenancy_months(ctx)
    settled = np.isin(types, SETTLED_TENANCY_TYPES)
    n = int(settled.sum())
    any_, long_ = ((band[settled] >= 1).mean(), (band[settled] == 2).mean()) if n else (None, None)
    parts = [
        Part("any", any_, Band(0.46, 0.46, 0.41, 0.51)),
        Part("13+ wks", long_, Band(0.04, 0.04, 0.025, 0.055)),
    ]
    all_any = (band >= 1).mean() if len(band) else np.nan
    all_long = (band == 2).mean() if len(band) else np.nan
    detail = (
        f"tenancy-months of holders of settled tenancies at month ends {ctx.window_text}: {n}; "
        f"with temporary included: any {fmt_pct(all_any)}, 13+ {fmt_pct(all_long)}"
    )
    return banded_result(6, *META[6], parts, detail, ctx.wide)


def _tenancy_month_ends(ctx: Context, ten: pd.DataFrame) -> np.ndarray:
    """Window month ends at which each tenancy was open (start <= month end < end)."""
    start = month_indices(ten["start_date"], nat=np.iinfo(np.int32).max)
    end = month_indices(ten["end_date"], nat=np.iinfo(np.int32).max)
    # Month end of month m is on/after start iff start's month <= m; before end iff end's month > m.
    lo = np.maximum(start, ctx.ws_m)
    hi = np.minimum(end - 1, ctx.we_m - 1)
    return np.maximum(hi - lo + 1, 0)


def t07_evictions(ctx: Context) -> TargetResult:
    ten = ctx.table("tenancies", ["tenancy_type", "start_date", "end_date", "end_reason"])
    settled = ten[ten["tenancy_type"].isin(SETTLED_TENANCY_TYPES)]
    evicted = int(((settled["end_reason"] == "evicted") & ctx.in_window(settled["end_date"])).sum())
    tyears = _tenancy_month_ends(ctx, settled).sum() / 12.0
    value = evicted / tyears if tyears > 0 else None
    all_ev = int(((ten["end_reason"] == "evicted") & ctx.in_window(ten["end_date"])).sum())
    all_ty = _tenancy_month_ends(ctx, ten).sum() / 12.0
    detail = (
        f"settled tenancies ended by eviction {ctx.window_text}: {evicted} / {tyears:.0f} "
        f"tenancy-years (open at month ends); with temporary: "
        f"{fmt_pct2(all_ev / all_ty if all_ty else None)}"
    )
    return single_result(ctx, 7, value, Band(0.003, 0.003, 0.002, 0.005), detail, fmt_pct2)


def t08_tenancy_length(ctx: Context) -> TargetResult:
    ten = ctx.table("tenancies", ["tenancy_type", "start_date", "end_date"])
    done = ten[(ten["tenancy_type"] == "general_needs") & ctx.in_window(ten["end_date"])]
    years = duration_days(done["start_date"], done["end_date"]) / 365.25
    value = float(np.nanmean(years)) if len(years) else None
    detail = (
        f"general-needs tenancies ended {ctx.window_text} (any reason): {len(done)}; "
        f"median {fmt_num(float(np.nanmedian(years)) if len(years) else None)} years"
    )
    return single_result(ctx, 8, value, Band(11, 12, 9, 15), detail, fmt_years)
