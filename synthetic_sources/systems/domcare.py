"""The domiciliary (home) care system (since 2015): service users, packages, suspensions, visits.

A rostering application with a carers' phone app: packages carry planned hours a week, and every
visit is time-stamped when the carer logs in and out. Visits are the volume (millions at full
scale), so they are a pure function of (package, day): any window of days can be generated on
its own, vectorised, which is what lets the nightly delta generate a few weeks, not a decade.

Tables (database ``domcare``; real dates and timestamps, except the date of birth, typed as text
``dd.mm.yyyy``; every table carries ``last_updated``, the day a row last changed):

- ``service_user``: service_user_id, forename, surname, date_of_birth, sex (1 male, 2 female),
  ni_number (missing for 15%), created_on.
- ``package``: package_id, service_user_id, team (``EAST``/``CENTRAL``/``WEST``), referral_date,
  start_date, end_date (NULL while open), planned_hours_per_week, end_reason (``REVIEWED``,
  ``RES_CARE``, ``DECEASED``, ``MOVED_AWAY``, ``NO_LONGER_REQUIRED``).
- ``suspension``: suspension_id, package_id, reason (``HOSPITAL``/``HOSPICE``/``CARE_HOME``),
  suspended_from, resumed_on (NULL while suspended, or when the package ended instead).
- ``visit``: visit_id, package_id, service_user_id, carer_id, planned_start, planned_end,
  actual_start, actual_end (NULL when missed), status (``COMPLETED``/``MISSED``), tasks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_sources import keyed_random as kr
from synthetic_sources.defects import compound_key
from synthetic_sources.systems import _care_common as cc
from synthetic_sources.systems.base import CONTRACTS, GO_LIVE, DefectRates, SystemExtract, TableSpec

SYSTEM = "domcare"
DATABASE = CONTRACTS[SYSTEM].database
GO = GO_LIVE[SYSTEM]
DOB_FORMAT = CONTRACTS[SYSTEM].person_table().person.dob_format
MARKER = CONTRACTS[SYSTEM].tables["package"].marker

TEAM = {"east": "EAST", "central": "CENTRAL", "west": "WEST"}
CARER_BASE = {"EAST": 1000, "CENTRAL": 2000, "WEST": 3000}
CARERS_PER_TEAM = 150
END_REASON = {
    "reassessed": "REVIEWED",
    "care_home": "RES_CARE",
    "died": "DECEASED",
    "moved_out": "MOVED_AWAY",
    "no_longer_needed": "NO_LONGER_REQUIRED",
}
SERVICE_USER_START = 10001
TEST_SERVICE_USER = 990001

# Visits: a package's usual call length, 1-4 calls a day at fixed times of day.
CALL_MINUTES = (30, 45, 60)
CALL_MINUTES_P = (0.45, 0.35, 0.20)
MAX_CALLS = 4
SLOT_MINUTES = np.array([450, 750, 1020, 1230])  # 07:30, 12:30, 17:00, 20:30
# which slots n calls a day use (row n, first n entries)
SLOTS = np.array([[0, 0, 0, 0], [0, 0, 0, 0], [0, 2, 0, 0], [0, 1, 2, 0], [0, 1, 2, 3]])
TASKS = np.array([
    "personal care;breakfast", "personal care;breakfast;medication",
    "lunch", "lunch;medication",
    "tea", "tea;medication",
    "personal care;bed", "personal care;bed;medication",
], dtype=object)
MISSED = 0.012
# Visits are keyed (package, day, slot) -> package_no * 1e6 + days since go-live * 4 + slot.
VISIT_ID_PACKAGE = 1_000_000
CORRECTION_MAX_DAYS = 60  # defects.late_and_corrected corrects within 60 days

TABLE_KEYS = {name: list(t.primary_key) for name, t in CONTRACTS[SYSTEM].tables.items()}


# ---------------------------------------------------------------------------------------------
# packages and people


def _package_history(truth: dict, seed: int, rates: DefectRates) -> pd.DataFrame:
    """Every package the system will ever hold, with the days its parts were keyed."""
    allp = truth["care_packages"]
    first = allp.groupby("person_id", as_index=False)["start_date"].min()
    su_no = pd.Series(
        cc.sequence_numbers(cc.dt64(first["start_date"]), first["person_id"].to_numpy(), start=SERVICE_USER_START),
        index=first["person_id"].to_numpy(),
    )
    pkg_no = pd.Series(
        cc.sequence_numbers(cc.dt64(allp["start_date"]), allp["package_id"].to_numpy(), start=1),
        index=allp["package_id"].to_numpy(),
    )
    p = allp.loc[allp["end_date"].isna() | (allp["end_date"] >= GO)].sort_values("package_id").reset_index(drop=True)
    keys = p["package_id"].to_numpy()
    start, end = cc.dt64(p["start_date"]), cc.dt64(p["end_date"])
    created, corrected = cc.keyed_entry(start, keys, seed, f"{SYSTEM}:package", rates, GO)
    end_vis, _ = cc.keyed_entry(end, keys, seed, f"{SYSTEM}:package_end", rates, GO)
    nxt = cc.next_start_same_group(p["person_id"].to_numpy(), start)
    shown_end = cc.contradictory_end(start, end, nxt, keys, seed, f"{SYSTEM}:package", rates.contradictory)
    hours = p["hours_per_week"].to_numpy(np.float64)
    # a wrong first entry: a slipped decimal point, half the hours, or two too many
    slip = kr.choice(seed, f"{SYSTEM}:package:wrong_hours", keys, np.array([0, 1, 2]))
    wrong = np.select([slip == 0, slip == 1], [hours * 10, np.round(hours) / 2], hours + 2)
    return pd.DataFrame({
        "truth_id": keys,
        "person_id": p["person_id"].to_numpy(),
        "package_no": pkg_no.loc[keys].to_numpy(),
        "service_user_id": su_no.loc[p["person_id"].to_numpy()].to_numpy(),
        "team": p["team"].map(TEAM).to_numpy(),
        "referral": cc.dt64(p["referral_date"]),
        "start": start,
        "true_end": end,
        "end": shown_end,
        "hours": hours,
        "hours_wrong": wrong,
        "end_reason": p["end_reason"].map(END_REASON).to_numpy(),
        "created": created,
        "corrected": corrected,
        "end_visible": np.where(np.isnat(end), cc.NAT, end_vis),
    })


def _service_user_history(records: pd.DataFrame, people: pd.DataFrame, seed: int, rates: DefectRates) -> pd.DataFrame:
    return cc.person_history(records, "service_user_id", TEST_SERVICE_USER, people, SYSTEM, seed, rates, DOB_FORMAT)


def _away_intervals(truth: dict, person_ids: np.ndarray) -> pd.DataFrame:
    """Spells away from home (hospital, hospice, care home), days inclusive; open ends far away."""
    far = np.datetime64("2200-01-01", "ns")
    parts = []
    for reason, name in (("HOSPITAL", "hospital_spells"), ("HOSPICE", "hospice_stays"), ("CARE_HOME", "care_stays")):
        t = truth.get(name)
        if t is None or t.empty:
            continue
        t = t.loc[t["person_id"].isin(person_ids)]
        # a spell ending before it starts (a truth defect) counts as its first day only
        end = np.maximum(cc.dt64(t["discharge_date"]), cc.dt64(t["admission_date"]))
        parts.append(pd.DataFrame({
            "person_id": t["person_id"].to_numpy(np.int64),
            "reason": reason,
            "kind": {"HOSPITAL": 1, "HOSPICE": 2, "CARE_HOME": 3}[reason],
            "source_id": t["spell_id" if name == "hospital_spells" else "stay_id"].to_numpy(np.int64),
            "start": cc.dt64(t["admission_date"]),
            "end": np.where(np.isnat(end), far, end),
            "open": np.isnat(end),
        }))
    if not parts:
        return pd.DataFrame({"person_id": np.zeros(0, np.int64), "reason": np.zeros(0, object),
                             "kind": np.zeros(0, np.int64), "source_id": np.zeros(0, np.int64),
                             "start": np.zeros(0, "datetime64[ns]"), "end": np.zeros(0, "datetime64[ns]"),
                             "open": np.zeros(0, bool)})
    return pd.concat(parts, ignore_index=True)


def _suspension_history(packages: pd.DataFrame, away: pd.DataFrame, seed: int, rates: DefectRates) -> pd.DataFrame:
    """A suspension for each spell away that begins while a package is running.

    It resumes the day after the person is back, unless the package ended first (then the
    package's end closes it and ``resumed_on`` stays empty).
    """
    m = packages[["truth_id", "person_id", "package_no", "start", "true_end", "created"]].merge(away, on="person_id")
    s, e = m["start_y"].to_numpy(), m["true_end"].to_numpy()
    m = m.loc[(s >= m["start_x"].to_numpy()) & (np.isnat(e) | (s < e)) & (s >= cc.ts64(GO))].reset_index(drop=True)
    resume = m["end"].to_numpy() + cc.days(1)
    pkg_end = m["true_end"].to_numpy()
    resumes = ~m["open"].to_numpy() & (np.isnat(pkg_end) | (resume < pkg_end))
    keys = compound_key(m["truth_id"], m["kind"], m["source_id"])
    from_vis, _ = cc.keyed_entry(m["start_y"], keys, seed, f"{SYSTEM}:suspension", rates, GO)
    back_vis, _ = cc.keyed_entry(resume, keys, seed, f"{SYSTEM}:resumed", rates, GO)
    return pd.DataFrame({
        "suspension_id": cc.sequence_numbers(m["start_y"].to_numpy(), m["package_no"].to_numpy(), m["kind"].to_numpy(),
                                             m["source_id"].to_numpy()),
        "package_no": m["package_no"].to_numpy(),
        "reason": m["reason"].to_numpy(),
        "from": m["start_y"].to_numpy(),
        "resumed": np.where(resumes, resume, cc.NAT),
        "visible": np.maximum(from_vis, m["created"].to_numpy()),
        "resumed_visible": np.where(resumes, back_vis, cc.NAT),
    })


# ---------------------------------------------------------------------------------------------
# visits

NS_PER_MINUTE = 60 * 1_000_000_000
NS_PER_DAY = 1440 * NS_PER_MINUTE
VISIT_COLUMNS = ("visit_id", "package_id", "service_user_id", "carer_id", "planned_start", "planned_end",
                 "actual_start", "actual_end", "status", "tasks", MARKER)
STATUS = np.array(["COMPLETED", "MISSED"], dtype=object)


def _day_numbers(d) -> np.ndarray:
    return np.asarray(d).astype("datetime64[D]").astype(np.int64)


def _day(ts) -> int:
    return int(_day_numbers(np.datetime64(pd.Timestamp(ts), "D")))


class _Rota:
    """Per-package arrays the visit generator needs, ordered by the system's package number.

    A package's usual call is 30, 45 or 60 minutes and its calls a day average out to the
    planned hours; one needing more than four such calls a day gets four longer calls instead.
    """

    def __init__(self, packages: pd.DataFrame, away: "_Away", seed: int):
        p = packages.sort_values("package_no")
        keys = p["truth_id"].to_numpy()
        self.package_no = p["package_no"].to_numpy(np.int64)
        self.service_user_id = p["service_user_id"].to_numpy(np.int64)
        self.away_position = away.position(p["person_id"].to_numpy(np.int64))
        self.first_day = _day_numbers(p["start"])
        end = p["true_end"].to_numpy()
        self.last_day = np.where(np.isnat(end), np.iinfo(np.int64).max // 4, _day_numbers(end) - 1)
        self.created_day = _day_numbers(p["created"])
        hours = p["hours"].to_numpy(np.float64)
        minutes = kr.choice(seed, f"{SYSTEM}:visit:call_minutes", keys, np.array(CALL_MINUTES), CALL_MINUTES_P)
        minutes = minutes.astype(np.float64)
        too_many = hours * 60 / (7 * minutes) > MAX_CALLS
        minutes = np.where(too_many, np.ceil(hours * 60 / (7 * MAX_CALLS) / 5) * 5, minutes)
        self.minutes = minutes.astype(np.int64)
        self.calls_a_day = hours * 60 / (7 * minutes)
        self.shift = kr.integers(seed, f"{SYSTEM}:visit:shift", keys, -2, 3) * 15
        self.meds = kr.bernoulli(seed, f"{SYSTEM}:visit:medication", keys, 0.6).astype(np.int64)
        self.carer_base = p["team"].map(CARER_BASE).fillna(4000).to_numpy(np.int64)


class _Away:
    """Spells away from home, indexed so one binary search per package-day says if one covers it.

    Spells are sorted per person with a running maximum of their ends: the day is covered when
    the last spell starting on or before it (for that person) has a running end on or after it.
    """

    SHIFT = np.int64(1 << 24)

    def __init__(self, away: pd.DataFrame):
        self.pids = np.unique(away["person_id"].to_numpy(np.int64))
        person = np.searchsorted(self.pids, away["person_id"].to_numpy(np.int64))
        start, end = _day_numbers(away["start"]), _day_numbers(away["end"])
        order = np.lexsort((start, person))
        self.person, start = person[order], start[order]
        self.run_end = pd.Series(end[order]).groupby(self.person).cummax().to_numpy()
        self.key = self.person.astype(np.int64) * self.SHIFT + start

    def position(self, person_id: np.ndarray) -> np.ndarray:
        """Each person's index among those ever away (-1 if never away)."""
        if len(self.pids) == 0:
            return np.full(len(person_id), -1, dtype=np.int64)
        pos = np.searchsorted(self.pids, person_id)
        return np.where(self.pids[np.minimum(pos, len(self.pids) - 1)] == person_id, pos, -1)

    def at_home(self, position: np.ndarray, day: np.ndarray) -> np.ndarray:
        if len(self.pids) == 0:
            return np.ones(len(day), dtype=bool)
        i = np.searchsorted(self.key, position * self.SHIFT + day, side="right") - 1
        j = np.maximum(i, 0)
        return ~((position >= 0) & (i >= 0) & (self.person[j] == position) & (self.run_end[j] >= day))


def _bits(h: np.ndarray, shift: int, width: int) -> np.ndarray:
    """A uniform in [0, 1) from ``width`` bits of a keyed hash starting at bit ``shift``."""
    field = (h >> np.uint64(shift)) & np.uint64((1 << width) - 1)
    return field.astype(np.float32) * np.float32(1.0 / (1 << width))


class _Days:
    """Package-days of a window of days, in day order: which package, which day, how many calls.

    Computed once per window (cheap, a fraction of the visits) so the number of visits is known
    before any visit is generated and the output can be allocated once.
    """

    def __init__(self, rota: _Rota, away: _Away, d0: int, d1: int, seed: int):
        live = np.flatnonzero((rota.first_day <= d1) & (rota.last_day >= d0))
        day = np.repeat(np.arange(d0, d1 + 1, dtype=np.int64), len(live))
        row = np.tile(live, d1 - d0 + 1)
        on = (rota.first_day[row] <= day) & (rota.last_day[row] >= day)
        row, day = row[on], day[on]
        home = away.at_home(rota.away_position[row], day)
        self.row, self.day = row[home], day[home]
        self.key = rota.package_no[self.row] * VISIT_ID_PACKAGE + (self.day - _day(GO)) * 4
        per_day = rota.calls_a_day[self.row]
        extra = kr.uniform(seed, f"{SYSTEM}:visit:calls", self.key) < per_day - np.floor(per_day)
        self.n_calls = np.minimum(np.floor(per_day).astype(np.int64) + extra, MAX_CALLS)
        self.n_visits = int(self.n_calls.sum())


def _visit_window(rota: _Rota, days: _Days, as_of: int, since: int | None,
                  seed: int, rates: DefectRates) -> dict[str, np.ndarray]:
    """The visits of a window's package-days as the system holds them on day ``as_of``.

    A visit is a pure function of (package, day, call): its id, times, carer and defects never
    depend on the window, so any window gives exactly the rows a longer run holds for its days.
    One keyed hash per visit carries all its draws in bit fields (12 bits for rates, so a 0.5%
    rate is kept to 0.025 points; fewer for times and lags), one per package-day the number of
    calls, one per package and four weeks the carers.
    """
    go = _day(GO)
    n_calls = days.n_calls
    rep = np.repeat(np.arange(len(days.row)), n_calls)
    slot = SLOTS[n_calls[rep], np.arange(len(rep)) - np.repeat(np.cumsum(n_calls) - n_calls, n_calls)]
    # the same carer usually does a package's call for four weeks at a time: 4 x 16 bits per block
    block = kr.hashes(seed, f"{SYSTEM}:visit:carer", days.key - ((days.day - go) % 28) * 4)
    p, vday, visit_id, block = days.row[rep], days.day[rep], days.key[rep] + slot, block[rep]
    del rep
    carer = rota.carer_base[p] + 1 + (
        ((block >> (slot * 16).astype(np.uint64)) & np.uint64(0xFFFF)).astype(np.int64) * CARERS_PER_TEAM >> 16
    )
    del block

    h = kr.hashes(seed, f"{SYSTEM}:visit", visit_id)
    missed = _bits(h, 0, 12) < MISSED
    late = _bits(h, 12, 12) < rates.late
    fixed = ~missed & (_bits(h, 24, 12) < rates.corrected)
    contra = ~missed & ~fixed & (_bits(h, 24, 12) >= 1 - rates.contradictory)
    lag = np.where(late, 1 + (_bits(h, 36, 6) * rates.late_max_days).astype(np.int64), 0)
    visible = np.maximum(vday + lag, rota.created_day[p])
    corrected = np.where(fixed, visible + 1 + (_bits(h, 42, 6) * CORRECTION_MAX_DAYS).astype(np.int64), -1)
    del lag, late

    keep = visible <= as_of
    marker = np.where(fixed & (corrected <= as_of), corrected, visible)
    if since is not None:
        keep &= marker > since
    k = np.flatnonzero(keep)
    p, vday, slot, missed, fixed, contra, h = p[k], vday[k], slot[k], missed[k], fixed[k], contra[k], h[k]

    minutes = rota.minutes[p]
    planned_start = (vday * 1440 + SLOT_MINUTES[slot] + rota.shift[p]) * NS_PER_MINUTE
    # arrive a little late on average (-25..+35 min, triangular), stay 80-115% of the call
    u = _bits(h, 48, 8) + np.float32(1 / 512)
    tri = np.where(u < 0.5, np.sqrt(2 * u) - 1, 1 - np.sqrt(2 * (1 - u)))
    actual_start = planned_start + np.round(tri * 1800 + 300).astype(np.int64) * 1_000_000_000
    stay = np.round(minutes * 60 * (0.8 + 0.35 * _bits(h, 56, 8))).astype(np.int64) * 1_000_000_000
    # logged out before logging in (never corrected); a carer who forgot to log out is closed
    # by the app at the end of a 12-hour shift until someone corrects it
    actual_end = np.where(contra, actual_start - stay, actual_start + stay)
    actual_end = np.where(fixed & (corrected[k] > as_of), actual_start + 720 * NS_PER_MINUTE, actual_end)
    nat = np.iinfo(np.int64).min
    return {
        "visit_id": visit_id[k],
        "package_id": rota.package_no[p],
        "service_user_id": rota.service_user_id[p],
        "carer_id": carer[k].astype(np.int32),
        "planned_start": planned_start.view("datetime64[ns]"),
        "planned_end": (planned_start + minutes * NS_PER_MINUTE).view("datetime64[ns]"),
        "actual_start": np.where(missed, nat, actual_start).view("datetime64[ns]"),
        "actual_end": np.where(missed, nat, actual_end).view("datetime64[ns]"),
        "status": STATUS[missed.astype(np.int64)],
        "tasks": TASKS[slot * 2 + rota.meds[p]],
        MARKER: (marker[k] * NS_PER_DAY).view("datetime64[ns]"),
    }


def _windows(d0: int, d1: int, chunk_days: int):
    for lo in range(d0, d1 + 1, chunk_days):
        yield lo, min(lo + chunk_days - 1, d1)


def _visit_bounds(as_of: pd.Timestamp, since, rates: DefectRates) -> tuple[int, int]:
    """The days whose visits can show a change in (since, as_of]: late and corrected rows reach back."""
    first = _day(GO)
    if since is not None:
        first = max(first, _day(since) - rates.late_max_days - CORRECTION_MAX_DAYS - 1)
    return first, _day(as_of)


def _empty_visits(n: int) -> dict[str, np.ndarray]:
    dtypes = {"carer_id": np.int32, "status": object, "tasks": object}
    dates = ("planned_start", "planned_end", "actual_start", "actual_end", MARKER)
    return {c: np.empty(n, dtype="datetime64[ns]" if c in dates else dtypes.get(c, np.int64)) for c in VISIT_COLUMNS}


def _visit_table(rota: _Rota, away: _Away, first: int, last: int, as_of: int, since: int | None,
                 seed: int, rates: DefectRates, chunk_days: int = 92) -> pd.DataFrame:
    """Visits dated in [first, last] held on ``as_of``, in date order, allocated once.

    The package-days of every window come first: their calls bound the rows, so the columns
    are allocated at full size and windows written into them; growing or concatenating parts
    would leave the process holding twice the table.
    """
    windows = [_Days(rota, away, d0, d1, seed) for d0, d1 in _windows(first, last, chunk_days)]
    out = _empty_visits(sum(w.n_visits for w in windows))
    n = 0
    for i, days in enumerate(windows):
        part = _visit_window(rota, days, as_of, since, seed, rates)
        windows[i] = None
        m = len(part["visit_id"])
        for name, values in part.items():
            out[name][n:n + m] = values
        n += m
    columns = {name: values[:n] for name, values in out.items()}
    for name in ("status", "tasks"):
        columns[name] = pd.Series(columns[name], dtype=object, copy=False)
    return pd.DataFrame(columns, copy=False)


def iter_visits(truth: dict[str, pd.DataFrame], as_of: pd.Timestamp, seed: int,
                rates: DefectRates = DefectRates(), since: pd.Timestamp | None = None,
                chunk_days: int = 92):
    """The ``visit`` table of ``build`` in date order, a window of days at a time.

    For storage writers at large scales: the whole table need never be in memory at once.
    """
    as_of = pd.Timestamp(as_of).normalize()
    since = None if since is None else pd.Timestamp(since).normalize()
    if as_of < GO:
        return
    packages = _package_history(truth, seed, rates)
    away = _Away(_away_intervals(truth, packages["person_id"].unique()))
    rota = _Rota(packages, away, seed)
    first, last = _visit_bounds(as_of, since, rates)
    s = None if since is None else _day(since)
    for d0, d1 in _windows(first, last, chunk_days):
        yield _visit_table(rota, away, d0, d1, _day(as_of), s, seed, rates, chunk_days)


# ---------------------------------------------------------------------------------------------
# as-of views of the small tables


def _service_users_as_of(su: pd.DataFrame, as_of) -> pd.DataFrame:
    s = su.loc[su["created"].to_numpy() <= cc.ts64(as_of)]
    return cc.table({
        "service_user_id": s["service_user_id"].to_numpy(np.int64),
        "forename": s["first_name"].to_numpy(),
        "surname": s["surname"].to_numpy(),
        "date_of_birth": s["dob"].to_numpy(),
        "sex": s["sex"].map({"M": 1, "F": 2}).to_numpy(np.int64),
        "ni_number": s["ni_number"].to_numpy(),
        "created_on": cc.dt64(s["created"]),
        MARKER: cc.dt64(s["created"]),
    })


def _packages_as_of(p: pd.DataFrame, as_of) -> pd.DataFrame:
    p = p.loc[p["created"].to_numpy() <= cc.ts64(as_of)]
    corr = p["corrected"].to_numpy()
    wrong = ~np.isnat(corr) & (corr > cc.ts64(as_of))
    return cc.table({
        "package_id": p["package_no"].to_numpy(np.int64),
        "service_user_id": p["service_user_id"].to_numpy(np.int64),
        "team": p["team"].to_numpy(),
        "referral_date": p["referral"].to_numpy(),
        "start_date": p["start"].to_numpy(),
        "end_date": cc.known(p["end"].to_numpy(), p["end_visible"].to_numpy(), as_of),
        "planned_hours_per_week": np.where(wrong, p["hours_wrong"].to_numpy(), p["hours"].to_numpy()),
        "end_reason": cc.known(p["end_reason"].to_numpy(), p["end_visible"].to_numpy(), as_of),
        MARKER: cc.change_marker(as_of, p["created"], p["corrected"], p["end_visible"]),
    })


def _suspensions_as_of(s: pd.DataFrame, as_of) -> pd.DataFrame:
    s = s.loc[s["visible"].to_numpy() <= cc.ts64(as_of)]
    return cc.table({
        "suspension_id": s["suspension_id"].to_numpy(np.int64),
        "package_id": s["package_no"].to_numpy(np.int64),
        "reason": s["reason"].to_numpy(),
        "suspended_from": s["from"].to_numpy(),
        "resumed_on": cc.known(s["resumed"].to_numpy(), s["resumed_visible"].to_numpy(), as_of),
        MARKER: cc.change_marker(as_of, s["visible"], s["resumed_visible"]),
    })


def build(
    truth: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    seed: int,
    rates: DefectRates = DefectRates(),
    since: pd.Timestamp | None = None,
) -> SystemExtract:
    """The home-care database as it stood on ``as_of`` (only rows changed after ``since`` if given).

    With ``since``, visits are generated only for the days whose rows can have changed: those
    since ``since`` less the longest late arrival and correction.
    """
    as_of = pd.Timestamp(as_of).normalize()
    since = None if since is None else pd.Timestamp(since).normalize()
    if as_of < GO:
        return SystemExtract(SYSTEM, {}, cc.empty_source_records())
    packages = _package_history(truth, seed, rates)
    users = _service_user_history(packages, truth["people"], seed, rates)
    away = _away_intervals(truth, packages["person_id"].unique())
    away_index = _Away(away)
    rota = _Rota(packages, away_index, seed)
    first, last = _visit_bounds(as_of, since, rates)
    s = None if since is None else _day(since)
    tables = {
        "service_user": _service_users_as_of(users, as_of),
        "package": _packages_as_of(packages, as_of),
        "suspension": _suspensions_as_of(_suspension_history(packages, away, seed, rates), as_of),
    }
    db = {
        name: TableSpec(cc.since_filter(frame.sort_values(TABLE_KEYS[name]), MARKER, since), TABLE_KEYS[name], MARKER)
        for name, frame in tables.items()
    }
    # visits: already filtered to (since, as_of] and in date order; a sort would cost seconds
    visits = _visit_table(rota, away_index, first, last, _day(as_of), s, seed, rates)
    db["visit"] = TableSpec(visits, TABLE_KEYS["visit"], MARKER)
    records = cc.source_records(
        SYSTEM, "service_user", users["service_user_id"], users["person_id"], users["created"], as_of, since
    )
    return SystemExtract(SYSTEM, {DATABASE: db}, records)
