"""Care-home targets (#10-#15): admissions, stays until death, survival, temporary stays,
admissions from hospital and occupancy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_sources.calibration.context import Context, between_dates, day_numbers, duration_days, person_years_65
from synthetic_sources.calibration.results import (
    Band,
    MissingData,
    Part,
    TargetResult,
    banded_result,
    fmt_months,
    fmt_num,
    fmt_pct,
    fmt_weeks,
    single_result,
)
from synthetic_sources.calibration.targets import META

DAYS_PER_MONTH = 365.25 / 12


def t10_admissions(ctx: Context) -> TargetResult:
    stays = ctx.table("care_stays", ["person_id", "stay_kind", "admission_date"])
    stays = stays[ctx.in_window(stays["admission_date"])]
    age = ctx.age_at(stays["person_id"], stays["admission_date"])
    # Local-authority placements from the wider population fill most beds; the target is the
    # rate among the provider's own people, whose months at risk are the denominator.
    placed = (ctx.person_attr(stays["person_id"], "origin") == "outside_care").to_numpy()
    n_placed = int(((age >= 65) & placed).sum())
    old = (age >= 65) & ~placed
    admissions = int(old.sum())
    permanent = int((old & (stays["stay_kind"] == "permanent").to_numpy()).sum())
    py = person_years_65(ctx, care_home=False)
    value = 1000 * admissions / py if py > 0 else None
    detail = (
        f"care-home admissions (any kind) at 65+ of the world's own people {ctx.window_text}: "
        f"{admissions} / {py:.0f} person-years at 65+ outside care homes; permanent only: "
        f"{fmt_num(1000 * permanent / py if py > 0 else None)}; placements from outside the world "
        f"(not counted): {n_placed}"
    )
    return single_result(ctx, 10, value, Band(12, 14, 8, 16), detail, fmt_num)


def _died(dest: pd.Series) -> pd.Series:
    return dest.astype("str").str.startswith("died")


def t11_stay_to_death(ctx: Context) -> TargetResult:
    stays = ctx.table(
        "care_stays", ["stay_kind", "admission_date", "discharge_date", "discharge_destination"]
    )
    done = stays[
        (stays["stay_kind"] == "permanent")
        & _died(stays["discharge_destination"])
        & ctx.in_window(stays["discharge_date"])
    ]
    months = duration_days(done["admission_date"], done["discharge_date"]) / DAYS_PER_MONTH
    n = len(months)
    parts = [
        Part("median", np.nanmedian(months) if n else None, Band(15, 15, 12, 18), fmt_months),
        Part("mean", np.nanmean(months) if n else None, Band(26, 26, 20.8, 31.2), fmt_months),
    ]
    detail = (
        f"permanent stays ending in death (in the home, hospital or hospice) "
        f"{ctx.window_text}: {n}"
    )
    return banded_result(11, *META[11], parts, detail, ctx.wide)


def t12_one_year(ctx: Context) -> TargetResult:
    start = ctx.window_start - pd.DateOffset(years=1)
    end = ctx.window_end - pd.DateOffset(years=1)
    stays = ctx.table("care_stays", ["person_id", "stay_kind", "admission_date"])
    adm = stays[(stays["stay_kind"] == "permanent") & between_dates(stays["admission_date"], start, end)]
    death = pd.Series(ctx.person_attr(adm["person_id"], "death_date").to_numpy(), index=adm.index)
    anniversary = adm["admission_date"] + pd.DateOffset(years=1)
    alive = death.isna() | (death > anniversary)
    n = len(adm)
    value = float(alive.mean()) if n else None
    last = end - pd.DateOffset(months=1)
    detail = (
        f"permanent admissions {start:%Y-%m}..{last:%Y-%m} (each followed a full year): "
        f"{int(alive.sum())} alive on the anniversary / {n}"
    )
    return single_result(ctx, 12, value, Band(0.55, 0.55, 0.50, 0.65), detail)


def t13_temporary_stays(ctx: Context) -> TargetResult:
    stays = ctx.table("care_stays", ["stay_kind", "admission_date", "discharge_date"])
    temporary = stays["stay_kind"].isin(("respite", "reablement"))
    admitted = ctx.in_window(stays["admission_date"])
    n = int(admitted.sum())
    share = float((temporary & admitted).sum() / n) if n else None
    ended = stays[temporary & ctx.in_window(stays["discharge_date"])]
    weeks = duration_days(ended["admission_date"], ended["discharge_date"]) / 7.0
    parts = [
        Part("share", share, Band(0.35, 0.40, 0.25, 0.50)),
        Part("length", np.nanmean(weeks) if len(weeks) else None, Band(4, 4, 2, 6), fmt_weeks),
    ]
    detail = (
        f"share of care-home admissions {ctx.window_text} that are respite or reablement "
        f"({int((temporary & admitted).sum())}/{n}); mean length of such stays ended in the "
        f"window ({len(weeks)})"
    )
    return banded_result(13, *META[13], parts, detail, ctx.wide)


def t14_from_hospital(ctx: Context) -> TargetResult:
    stays = ctx.table("care_stays", ["stay_kind", "admission_date", "admission_source"])
    perm = stays[(stays["stay_kind"] == "permanent") & ctx.in_window(stays["admission_date"])]
    n = len(perm)
    k = int((perm["admission_source"] == "hospital").sum())
    value = k / n if n else None
    detail = (
        f"permanent care-home admissions {ctx.window_text} with admission source hospital: "
        f"{k}/{n}"
    )
    return single_result(ctx, 14, value, Band(0.5, 0.5, 0.4, 0.6), detail)


def _occupancy_from_stays(ctx: Context) -> tuple[float | None, int, int]:
    stays = ctx.table("care_stays", ["admission_date", "discharge_date"])
    schemes = ctx.table("schemes", ["scheme_type", "capacity", "opened", "closed"])
    homes = schemes[schemes["scheme_type"] == "care_home"]
    me = ctx.month_ends[None, :]
    hs = day_numbers(homes["opened"], nat=np.iinfo(np.int64).min)
    he = day_numbers(homes["closed"], nat=np.iinfo(np.int64).max)
    cap = homes["capacity"].to_numpy(dtype=float)
    open_at = (hs[:, None] <= me) & (he[:, None] > me)
    beds = int(round(float((open_at * cap[:, None]).sum())))
    ss = day_numbers(stays["admission_date"], nat=np.iinfo(np.int64).max)
    se = day_numbers(stays["discharge_date"], nat=np.iinfo(np.int64).max)
    keep = (ss <= me[0, -1]) & (se > me[0, 0])
    occupied = int(((ss[keep, None] <= me) & (se[keep, None] > me)).sum())
    return (occupied / beds if beds else None), occupied, beds


def t15_occupancy(ctx: Context) -> TargetResult:
    band = Band(0.92, 0.92, 0.88, 0.95)
    try:
        stay_value, occ, beds = _occupancy_from_stays(ctx)
        stay_note = f"from stays vs beds: {occ}/{beds} = {fmt_pct(stay_value)}"
    except MissingData as why:
        stay_value, stay_note = None, f"stays cross-check not possible ({why})"
    queues = ctx.truth.get("queues")
    if queues is not None and {"queue", "month", "occupied_end", "capacity"} <= set(queues.columns):
        q = queues[
            queues["queue"].isin(("care_home_residential", "care_home_nursing"))
            & ctx.in_window(queues["month"])
        ]
        cap = float(q["capacity"].sum())
        value = float(q["occupied_end"].sum()) / cap if cap > 0 else None
        detail = (
            f"care-home queues (residential + nursing) at month ends {ctx.window_text}: "
            f"{q['occupied_end'].sum():.0f} occupied / {cap:.0f} bed-months; {stay_note}"
        )
    else:
        if stay_value is None and stay_note.startswith("stays cross-check not possible"):
            raise MissingData(f"no queues table, and {stay_note}")
        value = stay_value
        detail = (
            f"no queues table: open stays at month ends {ctx.window_text} / beds of open "
            f"homes; {stay_note}"
        )
    return banded_result(15, *META[15], [Part("", value, band)], detail, ctx.wide)
