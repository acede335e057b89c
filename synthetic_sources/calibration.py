"""The calibration report: every target of the domain design measured on the world's truth.

The world is only useful if it behaves like the provider it stands in for, so each of the 22
targets (``docs/domain.md``; the table of targets is ``META`` below) is measured here from the truth tables and set
beside its target and tolerance. ``docs/calibration.md`` says, target by target, which
population, period, numerator and denominator are used and why; keep the two in step.

Steady-state targets are measured over the **window**: the 36 complete calendar months ending
with the last complete month on or before ``until`` (three winters, no partial months). Targets
that name a period use it (#2: 2017-2019; #4: financial year 2023-24). Shares and rates are
kept as fractions (0.074, not 7.4) and only formatted as percentages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from contracts.vocabulary.states import CARE_HOME_STATES, HEALTH_STATES, HOUSING_STATES, LIVE_STATES, STATES
from synthetic_sources import life_tables

WINDOW_MONTHS = 36

# The vocabulary's states; order matters: the live ones come first (codes up to the last live).
_CODE = {s: i for i, s in enumerate(STATES)}
_LIVE_MAX = _CODE[LIVE_STATES[-1]]
_CARE_CODES = tuple(_CODE[s] for s in CARE_HOME_STATES)
_TRANSIENT_CODES = tuple(_CODE[s] for s in HEALTH_STATES)
CARE_STATES = CARE_HOME_STATES
SETTLED_TENANCY_TYPES = ("general_needs", "sheltered", "extra_care")
LET_ROUTES = ("register", "homeless", "transfer")
DEATH_PLACES = ("hospital", "home", "care_home", "hospice")

MORTALITY_BANDS = ((60, 64), (65, 69), (70, 74), (75, 79), (80, 84), (85, 89), (90, 95))
GOMPERTZ_AGES = (65, 99)
DAYS_PER_MONTH = 365.25 / 12


# --------------------------------------------------------------------------------------------
# results


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


def _pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f}%"


def _num(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _unit(suffix: str, digits: int = 1):
    def fmt(x: float | None) -> str:
        text = _num(x, digits)
        return text if text == "n/a" else f"{text}{suffix}"

    return fmt


_fmt_days, _fmt_weeks, _fmt_months = _unit(" d"), _unit(" wk"), _unit(" mo")
_fmt_years, _fmt_hours = _unit(" y"), _unit(" h")
_fmt_2, _fmt_3 = _unit("", 2), _unit("", 3)


def _pct2(x: float | None) -> str:
    return _pct(x, 2)


def _range_text(lo: float, hi: float, fmt) -> str:
    return f"{fmt(lo)}-{fmt(hi)}"


class _Missing(Exception):
    """A table or column the target needs is absent: the target is not measurable."""


@dataclass
class _Part:
    label: str
    value: float | None
    band: Band | None  # None: a part with its own check (``ok``), e.g. "median < mean"
    fmt: object = _pct
    ok: bool | None = None


def _result(
    number: int,
    name: str,
    target: str,
    tolerance: str,
    parts: list[_Part],
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


def _single(ctx, number: int, value, band: Band, detail: str, fmt=_pct) -> TargetResult:
    return _result(number, *META[number], [_Part("", value, band, fmt)], detail, ctx.wide)


def _unmeasurable(number: int, name: str, target: str, tolerance: str, why: str) -> TargetResult:
    return TargetResult(number, name, target, tolerance, None, "n/a", False, why, [])


# --------------------------------------------------------------------------------------------
# dates


def _midx_of(ts: pd.Timestamp) -> int:
    """Months since 1970-01, the index numpy's datetime64[M] uses."""
    return (ts.year - 1970) * 12 + ts.month - 1


def _month_start(midx: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(midx), "M"))


def _midx(values: pd.Series, nat: int) -> np.ndarray:
    arr = values.to_numpy(dtype="datetime64[ns]")
    out = arr.astype("datetime64[M]").astype(np.int64)
    out[np.isnat(arr)] = nat
    return out


def _days(values: pd.Series, nat: int) -> np.ndarray:
    """Days since 1970-01-01; ``nat`` stands in for a missing date (an open end, say)."""
    arr = values.to_numpy(dtype="datetime64[ns]")
    out = arr.astype("datetime64[D]").astype(np.int64)
    out[np.isnat(arr)] = nat
    return out


def _age_at(dob: pd.Series, when: pd.Series) -> np.ndarray:
    dob = pd.to_datetime(pd.Series(np.asarray(dob)))
    when = pd.to_datetime(pd.Series(np.asarray(when)))
    years = when.dt.year - dob.dt.year
    before_birthday = (when.dt.month < dob.dt.month) | (
        (when.dt.month == dob.dt.month) & (when.dt.day < dob.dt.day)
    )
    age = (years - before_birthday.astype(int)).to_numpy(dtype=float, na_value=np.nan)
    return age


def _duration_days(start: pd.Series, end: pd.Series) -> np.ndarray:
    return ((end - start) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)


def _in(dates: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return (dates >= start) & (dates < end)


# --------------------------------------------------------------------------------------------
# the evaluation context


class _PersonMonths:
    """person_months as sorted numpy arrays, built once and only for the columns asked for.

    Sorting by person and month lets "the next month" and "the last settled state" be array
    shifts and cumulative maxima instead of group-bys, which keeps ~8M rows to a few seconds.
    """

    def __init__(self, frame: pd.DataFrame, people: pd.DataFrame | None):
        for col in ("person_id", "month", "state"):
            if col not in frame.columns:
                raise _Missing(f"person_months has no column {col!r}")
        self.frame = frame
        self.people = people
        pid = frame["person_id"].to_numpy(dtype=np.int64)
        midx = _midx(frame["month"], nat=-1)
        key = pid * 8192 + (midx - (midx.min() if len(midx) else 0))
        self.order = None if bool(np.all(key[1:] >= key[:-1])) else np.argsort(key, kind="stable")
        self.pid = self._sorted(pid)
        self.midx = self._sorted(midx)
        self._cache: dict[str, np.ndarray] = {}

    def _sorted(self, arr: np.ndarray) -> np.ndarray:
        return arr if self.order is None else arr[self.order]

    def col(self, name: str, dtype=None) -> np.ndarray:
        if name not in self._cache:
            if name not in self.frame.columns:
                raise _Missing(f"person_months has no column {name!r}")
            series = self.frame[name]
            arr = series.to_numpy(dtype=dtype) if dtype is not None else series.to_numpy()
            self._cache[name] = self._sorted(arr)
        return self._cache[name]

    @cached_property
    def code(self) -> np.ndarray:
        """State as an int8 index into STATES (-1 for a state this module does not know)."""
        # factorize uses Arrow's dictionary encoding on Arrow strings: ~10x faster than a
        # Categorical with fixed categories on millions of rows.
        codes, uniques = pd.factorize(self.frame["state"], use_na_sentinel=True)
        lookup = np.array([_CODE.get(str(u), -1) for u in uniques] + [-1], dtype=np.int8)
        return self._sorted(lookup[codes])  # na (-1) picks the trailing -1

    @cached_property
    def live(self) -> np.ndarray:
        return (self.code >= 0) & (self.code <= _LIVE_MAX)

    @cached_property
    def first(self) -> np.ndarray:
        """True on each person's first row."""
        first = np.ones(len(self.pid), dtype=bool)
        first[1:] = self.pid[1:] != self.pid[:-1]
        return first

    @cached_property
    def in_care_home(self) -> np.ndarray:
        """Living in a care home, counting a resident's hospital or hospice months as such.

        A month in hospital or a hospice is attributed to the last state the person was in
        before it, so a care-home resident admitted to hospital stays a resident (and their
        death there is a care-home resident's death), while someone admitted from their own
        home stays in the population living at home.
        """
        code = self.code
        n = len(code)
        first = self.first
        transient = np.isin(code, _TRANSIENT_CODES)
        src = np.where(~transient | first, np.arange(n), 0)
        np.maximum.accumulate(src, out=src)
        return np.isin(code[src], _CARE_CODES)

    @cached_property
    def next_code(self) -> np.ndarray:
        """State at the end of the following month, -1 where that month is not recorded."""
        nxt = np.full(len(self.code), -1, dtype=np.int8)
        same = (self.pid[1:] == self.pid[:-1]) & (self.midx[1:] == self.midx[:-1] + 1)
        nxt[:-1] = np.where(same, self.code[1:], -1)
        return nxt

    @cached_property
    def sex(self) -> np.ndarray:
        """0 male, 1 female, -1 not known (person absent from people)."""
        if self.people is None or not {"person_id", "sex"} <= set(self.people.columns):
            raise _Missing("people (person_id, sex) is needed for sex")
        ppl = self.people[["person_id", "sex"]].drop_duplicates("person_id")
        ids = ppl["person_id"].to_numpy(dtype=np.int64)
        order = np.argsort(ids)
        ids = ids[order]
        if len(ids) == 0:
            return np.full(len(self.pid), -1, dtype=np.int8)
        sex_code = np.select(
            [ppl["sex"].to_numpy(dtype=object)[order] == "M",
             ppl["sex"].to_numpy(dtype=object)[order] == "F"],
            [0, 1],
            -1,
        ).astype(np.int8)
        # Look up each person once, then spread over their rows (pid is sorted).
        starts = np.flatnonzero(self.first)
        run = np.diff(np.append(starts, len(self.pid)))
        upid = self.pid[starts]
        pos = np.clip(np.searchsorted(ids, upid), 0, len(ids) - 1)
        per_person = np.where(ids[pos] == upid, sex_code[pos], -1).astype(np.int8)
        return np.repeat(per_person, run)


class _Context:
    def __init__(self, truth: dict[str, pd.DataFrame], until: pd.Timestamp, wide: float):
        self.truth = truth
        self.until = pd.Timestamp(until).normalize()
        self.wide = float(wide)
        next_day = self.until + pd.Timedelta(days=1)
        # The last complete month is the month of ``until`` only if ``until`` is its last day.
        self.window_end = next_day if next_day.day == 1 else self.until.replace(day=1)
        self.window_start = self.window_end - pd.DateOffset(months=WINDOW_MONTHS)
        self.we_m = _midx_of(self.window_end)  # exclusive
        self.ws_m = _midx_of(self.window_start)
        self.years = WINDOW_MONTHS / 12

    # tables ---------------------------------------------------------------------------------
    def table(self, name: str, columns: list[str]) -> pd.DataFrame:
        frame = self.truth.get(name)
        if frame is None:
            raise _Missing(f"no {name} table")
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise _Missing(f"{name} lacks {', '.join(missing)}")
        return frame[columns]

    @cached_property
    def pm(self) -> _PersonMonths:
        frame = self.truth.get("person_months")
        if frame is None:
            raise _Missing("no person_months table")
        return _PersonMonths(frame, self.truth.get("people"))

    def person_attr(self, person_ids: pd.Series, column: str) -> pd.Series:
        people = self.table("people", ["person_id", column]).drop_duplicates("person_id")
        return people.set_index("person_id")[column].reindex(np.asarray(person_ids))

    def age_at(self, person_ids: pd.Series, when: pd.Series) -> np.ndarray:
        return _age_at(self.person_attr(person_ids, "dob"), when)

    # window helpers -------------------------------------------------------------------------
    @property
    def window_text(self) -> str:
        last = self.window_end - pd.DateOffset(months=1)
        return f"{self.window_start:%Y-%m}..{last:%Y-%m}"

    def in_window(self, dates: pd.Series) -> pd.Series:
        return _in(dates, self.window_start, self.window_end)

    @cached_property
    def pm_window(self) -> np.ndarray:
        return (self.pm.midx >= self.ws_m) & (self.pm.midx < self.we_m)

    @cached_property
    def month_ends(self) -> np.ndarray:
        """The window's month ends as days since 1970-01-01."""
        starts = np.arange(self.ws_m + 1, self.we_m + 1).astype("datetime64[M]")
        return starts.astype("datetime64[D]").astype(np.int64) - 1


# --------------------------------------------------------------------------------------------
# mortality: the risk set, the ONS comparison and the Gompertz fit


def _risk_set(ctx: _Context, age_lo: int, age_hi: int, first_m: int, last_m: int):
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
    weight = np.where(nxt == _CODE["moved_out"], 0.5, 1.0)
    died = (nxt == _CODE["died"]).astype(float)
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


# --------------------------------------------------------------------------------------------
# the targets

META = {  # number: (short name, target, tolerance): the calibration targets
    1: ("mortality 60-95 (not in care homes)", "ONS qx (O/E 1.00)", "graduated O/E 0.85-1.15 at each age"),
    2: ("life expectancy at 65, 2017-19", "M 18.3 / F 20.7 years", "±0.5 years"),
    3: ("general-needs turnover", "7-8%", "6-9%"),
    4: ("lets by route (2023-24)", "register 39% / homeless 36% / transfer 25%", "±5 pp"),
    5: ("void units", "2%", "1.5-3%"),
    6: ("tenancies in arrears", "any 46% / 13+ weeks 4%", "±5 pp / ±1.5 pp"),
    7: ("evictions", "0.3% of tenancies", "0.2-0.5%"),
    8: ("mean completed GN tenancy", "11-12 years", "9-15 years"),
    9: ("needing help with daily living", "65-69 17% / 85+ 53%", "±5 pp"),
    10: ("care-home admissions per 1,000 65+", "12-14", "8-16"),
    11: ("care-home stay until death", "median 15 / mean 26 months", "±20%"),
    12: ("alive 1 year after admission", "55%", "50-65%"),
    13: ("respite/reablement stays", "35-40% of stays, ~4 weeks", "±10 pp; 2-6 weeks (ours)"),
    14: ("permanent admissions from hospital", "50%", "40-60%"),
    15: ("care-home occupancy", "92%", "88-95%"),
    16: ("emergency admissions per person 65+ at home", "0.20-0.25 a year", "±20% (0.16-0.30)"),
    17: ("emergency admissions per care-home resident-year", "0.7-1.0", "±20% (0.56-1.2)"),
    18: ("mean hospital stay", "18+ 8-9 / 85+ 11-12.5 days", "±1.5 days"),
    19: ("median delayed discharge", "27 days", "±25% (20-34)"),
    20: (
        "home-care hours per person-week",
        "mean 12, right-skewed (median ~8)",
        "mean 10-14; median < mean",
    ),
    21: ("place of death 65+", "hospital 50% / home 23% / care home 21% / hospice 6%", "±6 pp"),
    22: ("hospice stays", "mean 15 days; 40% discharged alive", "±5 days; ±10 pp"),
}


def _t01_mortality(ctx: _Context) -> TargetResult:
    band = Band(1.0, 1.0, 0.85, 1.15)
    first_m = _midx_of(pd.Timestamp("1998-02-01"))
    last_m = ctx.we_m - 1
    youngest, oldest = MORTALITY_BANDS[0][0], MORTALITY_BANDS[-1][1]
    year, sex, age, weight, died = _risk_set(ctx, youngest, oldest, first_m, last_m)
    if len(year) == 0:
        return _unmeasurable(1, *META[1], "no person-months at risk at 60-95")
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
        return _unmeasurable(1, *META[1], "no expected deaths at 60-95")
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
        parts.append(_Part(f"{s_name} at {at_ages[at]}", float(ratio[at]), band, _fmt_2))
        fitted_text.append(
            f"{s_name} fitted O/E {ratio[0]:.2f} at {at_ages[0]} .. {ratio[-1]:.2f} at {at_ages[-1]}"
        )
    if not parts:
        return _unmeasurable(1, *META[1], "no deaths at 60-95")
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
        f"{_month_start(first_m):%Y-%m}..{_month_start(last_m):%Y-%m}, ONS qx of each year"
    )
    res = _result(1, *META[1], parts, detail, ctx.wide)
    res.value_text = f"worst {parts[0].label} O/E {parts[0].value:.2f}"
    return res


def _t02_e65(ctx: _Context) -> TargetResult:
    first_m, last_m = _midx_of(pd.Timestamp("2017-01-01")), _midx_of(pd.Timestamp("2019-12-01"))
    if ctx.we_m - 1 < last_m:
        return _unmeasurable(2, *META[2], "2017-2019 not yet simulated")
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
        parts.append(_Part(label, value, Band(goal, goal, goal - 0.5, goal + 0.5), _fmt_2))
    detail = "; ".join(notes) + (
        "; Gompertz (Poisson, log m = a + b*age) fitted to deaths/person-years at 65-99 of "
        "people outside care homes, 2017-2019; e65 of the fitted rates"
    )
    return _result(2, *META[2], parts, detail, ctx.wide)


def _units_available(ctx: _Context, unit_types: tuple[str, ...]) -> tuple[pd.DataFrame, np.ndarray]:
    """Units of the given types and, per window month end, whether each was available.

    Available means the unit exists by that day (``available_from``) and its scheme has not
    closed; returns the units and a (units x months) boolean matrix.
    """
    units = ctx.table("units", ["unit_id", "scheme_id", "unit_type", "available_from"])
    units = units[units["unit_type"].isin(unit_types)]
    schemes = ctx.table("schemes", ["scheme_id", "closed"]).drop_duplicates("scheme_id")
    closed = schemes.set_index("scheme_id")["closed"].reindex(units["scheme_id"].to_numpy())
    start = _days(units["available_from"], nat=np.iinfo(np.int64).min)
    end = _days(pd.Series(closed.to_numpy()), nat=np.iinfo(np.int64).max)
    me = ctx.month_ends[None, :]
    avail = (start[:, None] <= me) & (end[:, None] > me)
    return units, avail


def _t03_turnover(ctx: _Context) -> TargetResult:
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
    return _single(ctx, 3, value, Band(0.07, 0.08, 0.06, 0.09), detail)


def _financial_year(ctx: _Context) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """FY 2023-24 if complete by the window end, else the latest complete financial year."""
    start_year = 2023
    while pd.Timestamp(f"{start_year + 1}-04-01") > ctx.window_end:
        start_year -= 1
    return (
        pd.Timestamp(f"{start_year}-04-01"),
        pd.Timestamp(f"{start_year + 1}-04-01"),
        f"{start_year}-{(start_year + 1) % 100:02d}",
    )


def _t04_routes(ctx: _Context) -> TargetResult:
    start, end, fy = _financial_year(ctx)
    ten = ctx.table("tenancies", ["tenancy_type", "route", "start_date"])
    lets = ten[
        ten["tenancy_type"].isin(SETTLED_TENANCY_TYPES)
        & ten["route"].isin(LET_ROUTES)
        & _in(ten["start_date"], start, end)
    ]
    n = len(lets)
    counts = lets["route"].value_counts()
    goals = {"register": 0.39, "homeless": 0.36, "transfer": 0.25}
    parts = [
        _Part(route, (counts.get(route, 0) / n) if n else None, Band(g, g, g - 0.05, g + 0.05))
        for route, g in goals.items()
    ]
    note = "" if fy == "2023-24" else " (2023-24 not complete at until)"
    detail = (
        f"settled lets (general needs, sheltered, extra care; not temporary) started in FY {fy}"
        f"{note}: {n}; " + ", ".join(f"{r} {counts.get(r, 0)}" for r in goals)
    )
    return _result(4, *META[4], parts, detail, ctx.wide)


def _t05_voids(ctx: _Context) -> TargetResult:
    units, avail = _units_available(ctx, HOUSING_STATES)
    voids = ctx.table("voids", ["unit_id", "start_date", "end_date"])
    voids = voids[voids["unit_id"].isin(units["unit_id"])]
    vs = _days(voids["start_date"], nat=np.iinfo(np.int64).max)
    ve = _days(voids["end_date"], nat=np.iinfo(np.int64).max)
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
    return _single(ctx, 5, value, Band(0.02, 0.02, 0.015, 0.03), detail)


def _lead_tenancy_months(ctx: _Context) -> tuple[np.ndarray, np.ndarray]:
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


def _t06_arrears(ctx: _Context) -> TargetResult:
    band, types = _lead_tenancy_months(ctx)
    settled = np.isin(types, SETTLED_TENANCY_TYPES)
    n = int(settled.sum())
    any_, long_ = ((band[settled] >= 1).mean(), (band[settled] == 2).mean()) if n else (None, None)
    parts = [
        _Part("any", any_, Band(0.46, 0.46, 0.41, 0.51)),
        _Part("13+ wks", long_, Band(0.04, 0.04, 0.025, 0.055)),
    ]
    all_any = (band >= 1).mean() if len(band) else np.nan
    all_long = (band == 2).mean() if len(band) else np.nan
    detail = (
        f"tenancy-months of holders of settled tenancies at month ends {ctx.window_text}: {n}; "
        f"with temporary included: any {_pct(all_any)}, 13+ {_pct(all_long)}"
    )
    return _result(6, *META[6], parts, detail, ctx.wide)


def _tenancy_month_ends(ctx: _Context, ten: pd.DataFrame) -> np.ndarray:
    """Window month ends at which each tenancy was open (start <= month end < end)."""
    start = _midx(ten["start_date"], nat=np.iinfo(np.int32).max)
    end = _midx(ten["end_date"], nat=np.iinfo(np.int32).max)
    # Month end of month m is on/after start iff start's month <= m; before end iff end's month > m.
    lo = np.maximum(start, ctx.ws_m)
    hi = np.minimum(end - 1, ctx.we_m - 1)
    return np.maximum(hi - lo + 1, 0)


def _t07_evictions(ctx: _Context) -> TargetResult:
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
        f"{_pct2(all_ev / all_ty if all_ty else None)}"
    )
    return _single(ctx, 7, value, Band(0.003, 0.003, 0.002, 0.005), detail, _pct2)


def _t08_tenancy_length(ctx: _Context) -> TargetResult:
    ten = ctx.table("tenancies", ["tenancy_type", "start_date", "end_date"])
    done = ten[(ten["tenancy_type"] == "general_needs") & ctx.in_window(ten["end_date"])]
    years = _duration_days(done["start_date"], done["end_date"]) / 365.25
    value = float(np.nanmean(years)) if len(years) else None
    detail = (
        f"general-needs tenancies ended {ctx.window_text} (any reason): {len(done)}; "
        f"median {_num(float(np.nanmedian(years)) if len(years) else None)} years"
    )
    return _single(ctx, 8, value, Band(11, 12, 9, 15), detail, _fmt_years)


def _t09_need(ctx: _Context) -> TargetResult:
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
        parts.append(_Part(label, share, Band(goal, goal, goal - 0.05, goal + 0.05)))
        notes.append(f"{label}: {n} person-months")
    detail = (
        f"person-months with need level >= 1 among tenancy holders outside care homes {ctx.window_text}; "
        + ", ".join(notes)
    )
    return _result(9, *META[9], parts, detail, ctx.wide)


def _person_years_65(ctx: _Context, care_home: bool) -> float:
    pm = ctx.pm
    age = pm.col("age", dtype=np.int64)
    where = pm.in_care_home if care_home else ~pm.in_care_home
    return float((ctx.pm_window & pm.live & where & (age >= 65)).sum()) / 12.0


def _t10_admissions(ctx: _Context) -> TargetResult:
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
    py = _person_years_65(ctx, care_home=False)
    value = 1000 * admissions / py if py > 0 else None
    detail = (
        f"care-home admissions (any kind) at 65+ of the world's own people {ctx.window_text}: "
        f"{admissions} / {py:.0f} person-years at 65+ outside care homes; permanent only: "
        f"{_num(1000 * permanent / py if py > 0 else None)}; placements from outside the world "
        f"(not counted): {n_placed}"
    )
    return _single(ctx, 10, value, Band(12, 14, 8, 16), detail, _num)


def _died(dest: pd.Series) -> pd.Series:
    return dest.astype("str").str.startswith("died")


def _t11_stay_to_death(ctx: _Context) -> TargetResult:
    stays = ctx.table(
        "care_stays", ["stay_kind", "admission_date", "discharge_date", "discharge_destination"]
    )
    done = stays[
        (stays["stay_kind"] == "permanent")
        & _died(stays["discharge_destination"])
        & ctx.in_window(stays["discharge_date"])
    ]
    months = _duration_days(done["admission_date"], done["discharge_date"]) / DAYS_PER_MONTH
    n = len(months)
    parts = [
        _Part("median", np.nanmedian(months) if n else None, Band(15, 15, 12, 18), _fmt_months),
        _Part("mean", np.nanmean(months) if n else None, Band(26, 26, 20.8, 31.2), _fmt_months),
    ]
    detail = (
        f"permanent stays ending in death (in the home, hospital or hospice) "
        f"{ctx.window_text}: {n}"
    )
    return _result(11, *META[11], parts, detail, ctx.wide)


def _t12_one_year(ctx: _Context) -> TargetResult:
    start = ctx.window_start - pd.DateOffset(years=1)
    end = ctx.window_end - pd.DateOffset(years=1)
    stays = ctx.table("care_stays", ["person_id", "stay_kind", "admission_date"])
    adm = stays[(stays["stay_kind"] == "permanent") & _in(stays["admission_date"], start, end)]
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
    return _single(ctx, 12, value, Band(0.55, 0.55, 0.50, 0.65), detail)


def _t13_temporary_stays(ctx: _Context) -> TargetResult:
    stays = ctx.table("care_stays", ["stay_kind", "admission_date", "discharge_date"])
    temporary = stays["stay_kind"].isin(("respite", "reablement"))
    admitted = ctx.in_window(stays["admission_date"])
    n = int(admitted.sum())
    share = float((temporary & admitted).sum() / n) if n else None
    ended = stays[temporary & ctx.in_window(stays["discharge_date"])]
    weeks = _duration_days(ended["admission_date"], ended["discharge_date"]) / 7.0
    parts = [
        _Part("share", share, Band(0.35, 0.40, 0.25, 0.50)),
        _Part("length", np.nanmean(weeks) if len(weeks) else None, Band(4, 4, 2, 6), _fmt_weeks),
    ]
    detail = (
        f"share of care-home admissions {ctx.window_text} that are respite or reablement "
        f"({int((temporary & admitted).sum())}/{n}); mean length of such stays ended in the "
        f"window ({len(weeks)})"
    )
    return _result(13, *META[13], parts, detail, ctx.wide)


def _t14_from_hospital(ctx: _Context) -> TargetResult:
    stays = ctx.table("care_stays", ["stay_kind", "admission_date", "admission_source"])
    perm = stays[(stays["stay_kind"] == "permanent") & ctx.in_window(stays["admission_date"])]
    n = len(perm)
    k = int((perm["admission_source"] == "hospital").sum())
    value = k / n if n else None
    detail = (
        f"permanent care-home admissions {ctx.window_text} with admission source hospital: "
        f"{k}/{n}"
    )
    return _single(ctx, 14, value, Band(0.5, 0.5, 0.4, 0.6), detail)


def _occupancy_from_stays(ctx: _Context) -> tuple[float | None, int, int]:
    stays = ctx.table("care_stays", ["admission_date", "discharge_date"])
    schemes = ctx.table("schemes", ["scheme_type", "capacity", "opened", "closed"])
    homes = schemes[schemes["scheme_type"] == "care_home"]
    me = ctx.month_ends[None, :]
    hs = _days(homes["opened"], nat=np.iinfo(np.int64).min)
    he = _days(homes["closed"], nat=np.iinfo(np.int64).max)
    cap = homes["capacity"].to_numpy(dtype=float)
    open_at = (hs[:, None] <= me) & (he[:, None] > me)
    beds = int(round(float((open_at * cap[:, None]).sum())))
    ss = _days(stays["admission_date"], nat=np.iinfo(np.int64).max)
    se = _days(stays["discharge_date"], nat=np.iinfo(np.int64).max)
    keep = (ss <= me[0, -1]) & (se > me[0, 0])
    occupied = int(((ss[keep, None] <= me) & (se[keep, None] > me)).sum())
    return (occupied / beds if beds else None), occupied, beds


def _t15_occupancy(ctx: _Context) -> TargetResult:
    band = Band(0.92, 0.92, 0.88, 0.95)
    try:
        stay_value, occ, beds = _occupancy_from_stays(ctx)
        stay_note = f"from stays vs beds: {occ}/{beds} = {_pct(stay_value)}"
    except _Missing as why:
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
            raise _Missing(f"no queues table, and {stay_note}")
        value = stay_value
        detail = (
            f"no queues table: open stays at month ends {ctx.window_text} / beds of open "
            f"homes; {stay_note}"
        )
    return _result(15, *META[15], [_Part("", value, band)], detail, ctx.wide)


def _spells(ctx: _Context, columns: list[str]) -> pd.DataFrame:
    return ctx.table("hospital_spells", columns)


def _from_care_home(spells: pd.DataFrame) -> pd.Series:
    return spells["from_state"].isin(CARE_STATES) | (spells["care_stay_id"] != -1)


def _t16_admissions_home(ctx: _Context) -> TargetResult:
    sp = _spells(ctx, ["person_id", "admission_date", "from_state", "care_stay_id"])
    sp = sp[ctx.in_window(sp["admission_date"]) & ~_from_care_home(sp)]
    age = ctx.age_at(sp["person_id"], sp["admission_date"])
    n = int((age >= 65).sum())
    py = _person_years_65(ctx, care_home=False)
    value = n / py if py > 0 else None
    detail = (
        f"spells admitted {ctx.window_text} at 65+ from outside care homes: {n} / {py:.0f} "
        f"person-years at 65+ outside care homes"
    )
    return _single(ctx, 16, value, Band(0.20, 0.25, 0.16, 0.30), detail, _fmt_3)


def _t17_admissions_care(ctx: _Context) -> TargetResult:
    sp = _spells(ctx, ["admission_date", "from_state", "care_stay_id"])
    n = int((ctx.in_window(sp["admission_date"]) & _from_care_home(sp)).sum())
    pm = ctx.pm
    ry = float((ctx.pm_window & pm.live & pm.in_care_home).sum()) / 12.0
    value = n / ry if ry > 0 else None
    detail = (
        f"spells admitted {ctx.window_text} from a care home (any age, any stay kind): {n} / "
        f"{ry:.0f} resident-years (months at month end in a home, or in hospital/hospice from one)"
    )
    return _single(ctx, 17, value, Band(0.7, 1.0, 0.56, 1.2), detail, _fmt_2)


def _t18_length_of_stay(ctx: _Context) -> TargetResult:
    sp = _spells(ctx, ["person_id", "admission_date", "discharge_date"])
    sp = sp[ctx.in_window(sp["discharge_date"])]
    age = ctx.age_at(sp["person_id"], sp["admission_date"])
    los = _duration_days(sp["admission_date"], sp["discharge_date"])
    parts, notes = [], []
    for label, m, band in (
        ("18+", age >= 18, Band(8, 9, 6.5, 10.5)),
        ("85+", age >= 85, Band(11, 12.5, 9.5, 14)),
    ):
        parts.append(_Part(label, los[m].mean() if m.any() else None, band, _fmt_days))
        notes.append(f"{label}: {int(m.sum())}")
    median = np.median(los[age >= 18]) if (age >= 18).any() else None
    longest = np.nanmax(los) if len(los) else None
    detail = (
        f"spells discharged {ctx.window_text}, age at admission; " + ", ".join(notes)
        + f"; median 18+ {_num(median)} d, longest {_num(longest, 0)} d"
    )
    return _result(18, *META[18], parts, detail, ctx.wide)


def _t19_delay(ctx: _Context) -> TargetResult:
    sp = _spells(ctx, ["discharge_date", "delayed_days"])
    delayed = sp[ctx.in_window(sp["discharge_date"]) & (sp["delayed_days"] > 0)]["delayed_days"]
    n_all = int(ctx.in_window(sp["discharge_date"]).sum())
    value = float(delayed.median()) if len(delayed) else None
    detail = (
        f"spells discharged {ctx.window_text} with delayed_days > 0: {len(delayed)} of {n_all}; "
        f"mean {_num(float(delayed.mean()) if len(delayed) else None)} days"
    )
    return _single(ctx, 19, value, Band(27, 27, 20.25, 33.75), detail, _fmt_days)


def _t20_home_care(ctx: _Context) -> TargetResult:
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


def _t21_place_of_death(ctx: _Context) -> TargetResult:
    people = ctx.table("people", ["dob", "death_date", "death_place"])
    dead = people[ctx.in_window(people["death_date"])]
    dead = dead[_age_at(dead["dob"], dead["death_date"]) >= 65]
    known = dead[dead["death_place"].isin(DEATH_PLACES)]
    n = len(known)
    counts = known["death_place"].value_counts()
    goals = {"hospital": 0.50, "home": 0.23, "care_home": 0.21, "hospice": 0.06}
    parts = [
        _Part(
            place.replace("_", " "),
            counts.get(place, 0) / n if n else None,
            Band(g, g, g - 0.06, g + 0.06),
        )
        for place, g in goals.items()
    ]
    detail = (
        f"deaths at 65+ {ctx.window_text}: {n} with a place"
        + (f", {len(dead) - n} without (left out)" if len(dead) > n else "")
    )
    return _result(21, *META[21], parts, detail, ctx.wide)


def _t22_hospice(ctx: _Context) -> TargetResult:
    hs = ctx.table("hospice_stays", ["admission_date", "discharge_date", "outcome"])
    done = hs[ctx.in_window(hs["discharge_date"])]
    n = len(done)
    days = _duration_days(done["admission_date"], done["discharge_date"])
    parts = [
        _Part("mean", days.mean() if n else None, Band(15, 15, 10, 20), _fmt_days),
        _Part(
            "alive",
            (done["outcome"] == "discharged").mean() if n else None,
            Band(0.4, 0.4, 0.3, 0.5),
        ),
    ]
    detail = f"hospice stays ended {ctx.window_text}: {n}"
    return _result(22, *META[22], parts, detail, ctx.wide)


_TARGETS = (
    (1, _t01_mortality),
    (2, _t02_e65),
    (3, _t03_turnover),
    (4, _t04_routes),
    (5, _t05_voids),
    (6, _t06_arrears),
    (7, _t07_evictions),
    (8, _t08_tenancy_length),
    (9, _t09_need),
    (10, _t10_admissions),
    (11, _t11_stay_to_death),
    (12, _t12_one_year),
    (13, _t13_temporary_stays),
    (14, _t14_from_hospital),
    (15, _t15_occupancy),
    (16, _t16_admissions_home),
    (17, _t17_admissions_care),
    (18, _t18_length_of_stay),
    (19, _t19_delay),
    (20, _t20_home_care),
    (21, _t21_place_of_death),
    (22, _t22_hospice),
)


# --------------------------------------------------------------------------------------------
# API


def evaluate(
    truth: dict[str, pd.DataFrame], until: pd.Timestamp, wide: float = 1.0
) -> list[TargetResult]:
    """Measure all 22 targets; a target whose tables are absent is reported, not raised.

    ``wide`` multiplies each tolerance's distance from its target: small worlds (scale 0.05)
    are noisy, and their tests use e.g. ``wide=3`` rather than looser targets.
    """
    ctx = _Context(truth, until, wide)
    results = []
    for number, fn in _TARGETS:
        try:
            results.append(fn(ctx))
        except _Missing as why:
            results.append(_unmeasurable(number, *META[number], f"not measurable: {why}"))
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
