"""The evaluation context: the measurement window, month indices and the person-month arrays.

Built once per report and shared by every target: the window is the 36 complete calendar months
ending with the last complete month on or before ``until``; ``_PersonMonths`` keeps
person_months as sorted numpy arrays (built only for the columns asked for) so shifts and
cumulative maxima replace group-bys on ~8M rows.

Underscored names here are the package's internals, shared by its topic modules; callers
outside the package use ``evaluate``, ``to_json`` and ``format_table``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from contracts.vocabulary.states import CARE_HOME_STATES, HEALTH_STATES, LIVE_STATES, STATES
from synthetic_sources.calibration.results import MissingData

WINDOW_MONTHS = 36

# The vocabulary's states; order matters: the live ones come first (codes up to the last live).
STATE_CODE = {s: i for i, s in enumerate(STATES)}
_LIVE_MAX = STATE_CODE[LIVE_STATES[-1]]
_CARE_CODES = tuple(STATE_CODE[s] for s in CARE_HOME_STATES)
_TRANSIENT_CODES = tuple(STATE_CODE[s] for s in HEALTH_STATES)


def month_index(ts: pd.Timestamp) -> int:
    """Months since 1970-01, the index numpy's datetime64[M] uses."""
    return (ts.year - 1970) * 12 + ts.month - 1


def month_start(midx: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(midx), "M"))


def month_indices(values: pd.Series, nat: int) -> np.ndarray:
    arr = values.to_numpy(dtype="datetime64[ns]")
    out = arr.astype("datetime64[M]").astype(np.int64)
    out[np.isnat(arr)] = nat
    return out


def day_numbers(values: pd.Series, nat: int) -> np.ndarray:
    """Days since 1970-01-01; ``nat`` stands in for a missing date (an open end, say)."""
    arr = values.to_numpy(dtype="datetime64[ns]")
    out = arr.astype("datetime64[D]").astype(np.int64)
    out[np.isnat(arr)] = nat
    return out


def age_in_years(dob: pd.Series, when: pd.Series) -> np.ndarray:
    dob = pd.to_datetime(pd.Series(np.asarray(dob)))
    when = pd.to_datetime(pd.Series(np.asarray(when)))
    years = when.dt.year - dob.dt.year
    before_birthday = (when.dt.month < dob.dt.month) | (
        (when.dt.month == dob.dt.month) & (when.dt.day < dob.dt.day)
    )
    age = (years - before_birthday.astype(int)).to_numpy(dtype=float, na_value=np.nan)
    return age


def duration_days(start: pd.Series, end: pd.Series) -> np.ndarray:
    return ((end - start) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)


def between_dates(dates: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return (dates >= start) & (dates < end)


class _PersonMonths:
    """person_months as sorted numpy arrays, built once and only for the columns asked for.

    Sorting by person and month lets "the next month" and "the last settled state" be array
    shifts and cumulative maxima instead of group-bys, which keeps ~8M rows to a few seconds.
    """

    def __init__(self, frame: pd.DataFrame, people: pd.DataFrame | None):
        for col in ("person_id", "month", "state"):
            if col not in frame.columns:
                raise MissingData(f"person_months has no column {col!r}")
        self.frame = frame
        self.people = people
        pid = frame["person_id"].to_numpy(dtype=np.int64)
        midx = month_indices(frame["month"], nat=-1)
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
                raise MissingData(f"person_months has no column {name!r}")
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
        lookup = np.array([STATE_CODE.get(str(u), -1) for u in uniques] + [-1], dtype=np.int8)
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
            raise MissingData("people (person_id, sex) is needed for sex")
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


class Context:
    def __init__(self, truth: dict[str, pd.DataFrame], until: pd.Timestamp, wide: float):
        self.truth = truth
        self.until = pd.Timestamp(until).normalize()
        self.wide = float(wide)
        next_day = self.until + pd.Timedelta(days=1)
        # The last complete month is the month of ``until`` only if ``until`` is its last day.
        self.window_end = next_day if next_day.day == 1 else self.until.replace(day=1)
        self.window_start = self.window_end - pd.DateOffset(months=WINDOW_MONTHS)
        self.we_m = month_index(self.window_end)  # exclusive
        self.ws_m = month_index(self.window_start)
        self.years = WINDOW_MONTHS / 12

    # tables ---------------------------------------------------------------------------------
    def table(self, name: str, columns: list[str]) -> pd.DataFrame:
        frame = self.truth.get(name)
        if frame is None:
            raise MissingData(f"no {name} table")
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise MissingData(f"{name} lacks {', '.join(missing)}")
        return frame[columns]

    @cached_property
    def pm(self) -> _PersonMonths:
        frame = self.truth.get("person_months")
        if frame is None:
            raise MissingData("no person_months table")
        return _PersonMonths(frame, self.truth.get("people"))

    def person_attr(self, person_ids: pd.Series, column: str) -> pd.Series:
        people = self.table("people", ["person_id", column]).drop_duplicates("person_id")
        return people.set_index("person_id")[column].reindex(np.asarray(person_ids))

    def age_at(self, person_ids: pd.Series, when: pd.Series) -> np.ndarray:
        return age_in_years(self.person_attr(person_ids, "dob"), when)

    # window helpers -------------------------------------------------------------------------
    @property
    def window_text(self) -> str:
        last = self.window_end - pd.DateOffset(months=1)
        return f"{self.window_start:%Y-%m}..{last:%Y-%m}"

    def in_window(self, dates: pd.Series) -> pd.Series:
        return between_dates(dates, self.window_start, self.window_end)

    @cached_property
    def pm_window(self) -> np.ndarray:
        return (self.pm.midx >= self.ws_m) & (self.pm.midx < self.we_m)

    @cached_property
    def month_ends(self) -> np.ndarray:
        """The window's month ends as days since 1970-01-01."""
        starts = np.arange(self.ws_m + 1, self.we_m + 1).astype("datetime64[M]")
        return starts.astype("datetime64[D]").astype(np.int64) - 1


def person_years_65(ctx: Context, care_home: bool) -> float:
    pm = ctx.pm
    age = pm.col("age", dtype=np.int64)
    where = pm.in_care_home if care_home else ~pm.in_care_home
    return float((ctx.pm_window & pm.live & where & (age >= 65)).sum()) / 12.0
