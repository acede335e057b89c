"""Mortality targets (#1 ONS qx by age, #2 life expectancy at 65): the risk set and a Gompertz fit.

Deaths are compared with the ONS life table on the person-months at risk outside care homes
(care-home residents die faster by design), graduated by a Gompertz fit so single ages' noise
does not decide a small world's result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_sources import life_tables
from synthetic_sources.calibration.context import STATE_CODE, Context, month_index, month_start
from synthetic_sources.calibration.results import Band, Part, TargetResult, banded_result, fmt_2, unmeasurable
from synthetic_sources.calibration.targets import META

MORTALITY_BANDS = ((60, 64), (65, 69), (70, 74), (75, 79), (80, 84), (85, 89), (90, 95))
GOMPERTZ_AGES = (65, 99)


def _risk_set(ctx: Context, age_lo: int, age_hi: int, first_m: int, last_m: int):
    """Months at risk of death for people living outside care homes, and the deaths.

    A row alive at the end of month m is at risk during month m+1; a death is the ``died`` row
    that follows it, attributed to the age and state of that row. A person who moves out
    during m+1 was watched for half of it on average, so that month counts half.
    ``first_m``/``last_m`` bound the month at risk (months since 1970, inclusive).
    """
    pm = ctx.pm
    age = pm.col("age", dtype=np.int64)
    risk_m = pm.midx + 1
    sex = pm.sex
    sel = (
        pm.live
        & ~pm.in_care_home
        & (risk_m >= first_m)
        & (risk_m <= last_m)
        & (age >= age_lo)
        & (age <= age_hi)
        & (sex >= 0)
    )
    nxt = pm.next_code[sel]
    weight = np.where(nxt == STATE_CODE["moved_out"], 0.5, 1.0)
    died = (nxt == STATE_CODE["died"]).astype(float)
    year = 1970 + risk_m[sel] // 12
    return year, sex[sel].astype(np.int64), age[sel], weight, died


def monthly_death_probability(qx: np.ndarray) -> np.ndarray:
    """The one-month probability that compounds to the annual ``qx`` (constant hazard).

    Deaths per person-month estimate this, not qx/12; at 90 the two differ by ~9%, most of the
    15% tolerance, so the conversion matters.
    """
    return 1.0 - (1.0 - qx) ** (1.0 / 12.0)


def gompertz_fit(age, deaths, exposure, max_iter: int = 100) -> tuple[float, float]:
    """Poisson maximum likelihood for log m(age) = a + b*age, by Newton's method.

    Deaths and exposure (person-years) by single year of age; returns (a, b). Age is centred
    while fitting so the two parameters are nearly uncorrelated and Newton converges in a few
    steps from a flat start.
    """
    x = np.asarray(age, dtype=float)
    d = np.asarray(deaths, dtype=float)
    e = np.asarray(exposure, dtype=float)
    keep = e > 0
    x, d, e = x[keep], d[keep], e[keep]
    if d.sum() <= 0 or len(x) < 2:
        raise ValueError("a Gompertz fit needs deaths at two or more ages")
    centre = float(np.average(x, weights=e))
    xc = x - centre
    theta = np.array([np.log(d.sum() / e.sum()), 0.1])

    def loglik(t):
        eta = t[0] + t[1] * xc
        return float(np.sum(d * eta - e * np.exp(eta)))

    current = loglik(theta)
    for _ in range(max_iter):
        mu = e * np.exp(theta[0] + theta[1] * xc)
        grad = np.array([np.sum(d - mu), np.sum((d - mu) * xc)])
        hess = np.array([[mu.sum(), (mu * xc).sum()], [(mu * xc).sum(), (mu * xc * xc).sum()]])
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-6:
            trial = theta + scale * step
            value = loglik(trial)
            if value >= current - 1e-12:
                break
            scale /= 2
        theta, current = trial, value
        if np.max(np.abs(scale * step)) < 1e-10:
            break
    a, b = theta
    return float(a - b * centre), float(b)


def gompertz_life_expectancy(a: float, b: float, age: int = 65, max_age: int = 130) -> float:
    """Life expectancy at ``age`` for m(x) = exp(a + b*x), constant within each year of age."""
    ages = np.arange(age, max_age + 1, dtype=float)
    m = np.exp(a + b * ages)
    survive = np.exp(-m)
    lx = np.concatenate([[1.0], np.cumprod(survive)[:-1]])
    lived = lx * (1.0 - survive) / m
    return float(lived.sum())


def t01_mortality(ctx: Context) -> TargetResult:
    band = Band(1.0, 1.0, 0.85, 1.15)
    first_m = month_index(pd.Timestamp("1998-02-01"))
    last_m = ctx.we_m - 1
    youngest, oldest = MORTALITY_BANDS[0][0], MORTALITY_BANDS[-1][1]
    year, sex, age, weight, died = _risk_set(ctx, youngest, oldest, first_m, last_m)
    if len(year) == 0:
        return unmeasurable(1, *META[1], "no person-months at risk at 60-95")
    y0 = int(year.min())
    years = np.arange(y0, int(year.max()) + 1)
    p = np.stack([monthly_death_probability(life_tables.qx_by_year(int(y))) for y in years])
    expected_each = p[year - y0, sex, np.minimum(age, life_tables.MAX_AGE)] * weight
    n_bands = len(MORTALITY_BANDS)
    band_of = np.searchsorted([lo for lo, _ in MORTALITY_BANDS], age, side="right") - 1
    cell = sex * n_bands + band_of
    expected = np.bincount(cell, weights=expected_each, minlength=2 * n_bands)
    observed = np.bincount(cell, weights=died, minlength=2 * n_bands)
    rows = []
    for s, s_name in ((0, "M"), (1, "F")):
        for b, (lo, hi) in enumerate(MORTALITY_BANDS):
            exp_deaths = float(expected[s * n_bands + b])
            if exp_deaths <= 0:
                continue
            obs = float(observed[s * n_bands + b])
            rows.append((f"{s_name} {lo}-{hi}", obs, exp_deaths, obs / exp_deaths))
    if not rows:
        return unmeasurable(1, *META[1], "no expected deaths at 60-95")
    worst = max(rows, key=lambda r: abs(r[3] - 1.0))
    # The test is on the graduated ratio: per sex, a Poisson fit of log(O/E) linear in age
    # over single years 60-95, read at every age. Raw 5-year bands hold only 100-300 deaths
    # at this population size, so one band in fourteen strays past 15% by chance alone
    # (seen at z = 3.4 with the engine drawing from the table exactly); the bands stay in the
    # detail so a real shape problem is still visible.
    ages = np.arange(youngest, oldest + 1)
    parts = []
    fitted_text = []
    for s_code, s_name in ((0, "M"), (1, "F")):
        mine = sex == s_code
        obs_age = np.bincount(age[mine] - youngest, weights=died[mine], minlength=len(ages))
        exp_age = np.bincount(age[mine] - youngest, weights=expected_each[mine], minlength=len(ages))
        seen = exp_age > 0
        if not seen.any():
            continue
        if seen.sum() >= 2 and obs_age.sum() > 0:
            c, d = gompertz_fit(ages, obs_age, exp_age)
        else:  # one age only: the graduated ratio is that age's O/E
            c, d = np.log(max(obs_age.sum(), 1e-9) / exp_age.sum()), 0.0
        at_ages = ages[seen]  # read the curve where there are people, not beyond
        ratio = np.exp(c + d * at_ages)
        at = int(np.argmax(np.abs(ratio - 1.0)))
        parts.append(Part(f"{s_name} at {at_ages[at]}", float(ratio[at]), band, fmt_2))
        fitted_text.append(
            f"{s_name} fitted O/E {ratio[0]:.2f} at {at_ages[0]} .. {ratio[-1]:.2f} at {at_ages[-1]}"
        )
    if not parts:
        return unmeasurable(1, *META[1], "no deaths at 60-95")
    # Lead with the worst age, so value/value_text name the figure that decides the row.
    parts.sort(key=lambda p: -abs(p.value - 1.0))
    total_o = sum(r[1] for r in rows)
    total_e = sum(r[2] for r in rows)
    detail = (
        "; ".join(fitted_text) + "; "
        f"worst raw band {worst[0]}: {worst[1]:.0f} obs / {worst[2]:.1f} exp "
        f"(Poisson z {(worst[1] - worst[2]) / np.sqrt(worst[2]):+.1f}); "
        f"all bands {total_o:.0f}/{total_e:.1f} = {total_o / total_e:.2f}; "
        + "; ".join(f"{r[0]} {r[3]:.2f}" for r in rows)
        + f"; deaths/expected of people outside care homes, months at risk "
        f"{month_start(first_m):%Y-%m}..{month_start(last_m):%Y-%m}, ONS qx of each year"
    )
    res = banded_result(1, *META[1], parts, detail, ctx.wide)
    res.value_text = f"worst {parts[0].label} O/E {parts[0].value:.2f}"
    return res


def t02_e65(ctx: Context) -> TargetResult:
    first_m, last_m = month_index(pd.Timestamp("2017-01-01")), month_index(pd.Timestamp("2019-12-01"))
    if ctx.we_m - 1 < last_m:
        return unmeasurable(2, *META[2], "2017-2019 not yet simulated")
    year, sex, age, weight, died = _risk_set(ctx, *GOMPERTZ_AGES, first_m, last_m)
    parts, notes = [], []
    ages = np.arange(GOMPERTZ_AGES[0], GOMPERTZ_AGES[1] + 1)
    for s, label, goal in ((0, "M", 18.3), (1, "F", 20.7)):
        m = sex == s
        idx = age[m] - GOMPERTZ_AGES[0]
        deaths = np.bincount(idx, weights=died[m], minlength=len(ages))
        exposure = np.bincount(idx, weights=weight[m], minlength=len(ages)) / 12.0
        value = None
        if deaths.sum() >= 20 and (exposure > 0).sum() >= 2:
            a, b = gompertz_fit(ages, deaths, exposure)
            value = gompertz_life_expectancy(a, b, 65)
            notes.append(f"{label}: {deaths.sum():.0f} deaths / {exposure.sum():.0f} py, b={b:.3f}")
        else:
            notes.append(f"{label}: only {deaths.sum():.0f} deaths")
        parts.append(Part(label, value, Band(goal, goal, goal - 0.5, goal + 0.5), fmt_2))
    detail = "; ".join(notes) + (
        "; Gompertz (Poisson, log m = a + b*age) fitted to deaths/person-years at 65-99 of "
        "people outside care homes, 2017-2019; e65 of the fitted rates"
    )
    return banded_result(2, *META[2], parts, detail, ctx.wide)
