"""What the three care systems (vendor A, vendor B, domiciliary care) share.

They differ in every name and code, but obey the same rules of time: a record exists in a system
only once it has been keyed (after any late-arrival lag), history before go-live was never keyed
except for the people present on go-live day, who were migrated with their true start dates,
and a row's change marker is the last day its as-of content changed. The helpers here encode
those rules once so the three vendors cannot drift apart on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_sources import defects
from synthetic_sources import keyed_random as kr
from synthetic_sources.systems.base import GO_LIVE, DefectRates

NAT = np.datetime64("NaT", "ns")


def dt64(values) -> np.ndarray:
    """Any date-like column as a ``datetime64[ns]`` array (NaT kept)."""
    return pd.to_datetime(pd.Series(np.asarray(values))).to_numpy().astype("datetime64[ns]")


def ts64(value) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value), "ns")


def days(n) -> np.ndarray:
    return np.asarray(n, dtype=np.int64).astype("timedelta64[D]")


def table(columns: dict) -> pd.DataFrame:
    """A frame whose text columns are ``object`` holding ``None`` for missing.

    pandas 3 infers its ``str`` dtype (NaN for missing) from object arrays; the storage writers
    expect the defects module's convention instead, so every output frame is built here.
    """
    out = {}
    for name, values in columns.items():
        arr = np.asarray(values)
        if arr.dtype.kind in "OUT":
            arr = arr.astype(object)
            arr[pd.isna(arr)] = None
            out[name] = pd.Series(arr, dtype=object)
        else:
            out[name] = arr
    return pd.DataFrame(out)


def sequence_numbers(*sort_keys, start: int = 1) -> np.ndarray:
    """Numbers a system hands out in order of first contact (first key most significant).

    The order is over the whole truth, not over what is visible on the as-of date, so a record
    keeps its number whatever the as-of date: history before a date never changes, and later
    arrivals only append numbers after it.
    """
    keys = [np.asarray(k) for k in sort_keys]
    n = len(keys[0])
    out = np.empty(n, dtype=np.int64)
    out[np.lexsort(tuple(reversed(keys)))] = np.arange(start, start + n, dtype=np.int64)
    return out


def keyed_entry(
    event_dates, keys, seed: int, salt: str, rates: DefectRates, go_live: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """(visible, corrected) dates for events a system keys from its go-live.

    Events after go-live may be late or corrected (``defects.late_and_corrected``); events before
    it exist only if migrated, which happened on go-live day, on time and checked.
    """
    ev = dt64(event_dates)
    visible, corrected = defects.late_and_corrected(pd.Series(ev), keys, seed, salt, rates)
    visible, corrected = visible.to_numpy(), corrected.to_numpy()
    migrated = ev < ts64(go_live)
    visible = np.where(migrated, ts64(go_live), visible)
    corrected = np.where(migrated, NAT, corrected)
    return visible, corrected


def known(value, visible, as_of) -> np.ndarray:
    """``value`` where its recording date is on or before ``as_of``, else missing."""
    value = np.asarray(value)
    shown = np.asarray(visible) <= ts64(as_of)
    if np.issubdtype(value.dtype, np.datetime64):
        return np.where(shown, value, NAT)
    out = value.astype(object).copy()
    out[~shown] = None
    return out


def person_fields(
    people: pd.DataFrame,
    keys,
    created,
    system: str,
    seed: int,
    rates: DefectRates,
    dob_format: str,
) -> pd.DataFrame:
    """Identity fields of person-level records as the system's clerks keyed them.

    ``people`` has one truth row per record (a person may have several records). The surname is
    the one the person had when the record was made: records made before a marriage keep the
    maiden name, as no care system chases a change of name afterwards.
    """
    keys = np.asarray(keys, dtype=np.int64)
    created = dt64(created)
    changed = dt64(people["surname_changed"])
    prev = people["previous_surname"].astype(object).fillna("").to_numpy()
    use_prev = (created < changed) & (prev != "")
    surname = np.where(use_prev, prev, people["surname"].astype(object).to_numpy())
    idx = pd.RangeIndex(len(people))
    first = defects.name_as_recorded(
        pd.Series(people["first_name"].astype(object).to_numpy(), index=idx, dtype=object),
        keys, seed, f"{system}:first_name", rates.name_typo, rates.nickname,
    )
    last = defects.name_as_recorded(
        pd.Series(surname, index=idx, dtype=object), keys, seed, f"{system}:surname", rates.name_typo, 0.0
    )
    dob = defects.dob_swapped(pd.Series(dt64(people["dob"]), index=idx), keys, seed, f"{system}:dob", rates.dob_swapped)
    ni = defects.ni_as_recorded(
        pd.Series(people["ni_number"].astype(object).to_numpy(), index=idx, dtype=object),
        keys, seed, f"{system}:ni", rates.ni_missing[system], rates.ni_malformed,
    )
    return table(
        {
            "first_name": first.to_numpy(),
            "surname": last.to_numpy(),
            "dob": defects.format_date(dob, dob_format).to_numpy(),
            "ni_number": ni.to_numpy(),
            "sex": people["sex"].astype(object).to_numpy(),
        }
    )


def dummies(system: str, rates: DefectRates, seed: int, go_live: pd.Timestamp, dob_format: str) -> pd.DataFrame:
    """The system's test and training people, with the DOB in its own format."""
    t = defects.test_records(system, rates.test_records, seed, go_live)
    t["dob"] = defects.format_date(t["dob"], dob_format).to_numpy()
    return t


def contradictory_end(start, end, next_start, keys, seed: int, salt: str, rate: float) -> np.ndarray:
    """End dates as keyed, ``rate`` of them contradicting the start or the next spell.

    Where the same person's next spell follows, the end is keyed 1-30 days past its start (an
    overlap); otherwise 1-30 days before the spell's own start. Open spells cannot contradict
    yet, and these are never corrected: the pipeline has to live with them.
    """
    start, end, next_start = dt64(start), dt64(end), dt64(next_start)
    hit = ~np.isnat(end) & kr.bernoulli(seed, f"{salt}:contradictory", keys, rate)
    k = days(kr.integers(seed, f"{salt}:contradictory_days", keys, 1, 31))
    overlap = ~np.isnat(next_start)
    wrong = np.where(overlap, next_start + k, start - k)
    return np.where(hit, wrong, end)


def change_marker(as_of, *dates) -> np.ndarray:
    """The last day on or before ``as_of`` at which a row's as-of content changed."""
    return defects.latest_on_or_before(as_of, *dates)


def since_filter(frame: pd.DataFrame, marker: str, since: pd.Timestamp | None) -> pd.DataFrame:
    """Only rows changed after ``since`` (all rows when it is None): the nightly delta."""
    if since is None:
        return frame.reset_index(drop=True)
    return frame.loc[frame[marker].to_numpy() > ts64(since)].reset_index(drop=True)


def source_records(system: str, table_name: str, record_keys, person_ids, created, as_of, since) -> pd.DataFrame:
    """Which true person is behind each person-level record visible on ``as_of``.

    With ``since``, only the records that appeared after it, so a nightly append adds each
    record exactly once.
    """
    created = dt64(created)
    keep = created <= ts64(as_of)
    if since is not None:
        keep &= created > ts64(since)
    n = int(keep.sum())
    return pd.DataFrame(
        {
            "system": pd.Series([system] * n, dtype=object),
            "table": pd.Series([table_name] * n, dtype=object),
            "record_key": pd.Series(np.asarray(record_keys).astype(str)[keep].astype(object), dtype=object),
            "person_id": np.asarray(person_ids, dtype=np.int64)[keep],
        }
    )


def empty_source_records() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series([], dtype=object) for c in ("system", "table", "record_key")}
        | {"person_id": pd.Series([], dtype=np.int64)}
    )


def next_start_same_group(group, start) -> np.ndarray:
    """For each spell, the start of the same group's next spell (NaT for the last)."""
    group = np.asarray(group)
    start = dt64(start)
    order = np.lexsort((start, group))
    g, s = group[order], start[order]
    nxt = np.full(len(s), NAT)
    nxt[:-1] = np.where(g[1:] == g[:-1], s[1:], NAT)
    out = np.full(len(s), NAT)
    out[order] = nxt
    return out


def need_levels(person_months: pd.DataFrame, person_ids, dates) -> np.ndarray:
    """Each person's true need level in the month of each date (the last known month after it)."""
    pid = np.asarray(person_ids, dtype=np.int64)
    when = dt64(dates)
    if len(pid) == 0:
        return np.zeros(0, dtype=np.int64)
    pm = person_months.loc[person_months["person_id"].isin(np.unique(pid)), ["person_id", "month", "need_level"]]
    left = pd.DataFrame({"person_id": pid, "month": when, "_row": np.arange(len(pid))})
    left["month"] = left["month"].dt.to_period("M").dt.start_time.astype("datetime64[ns]")
    right = pm.assign(month=dt64(pm["month"]), need_level=pm["need_level"].astype(np.int64))
    merged = pd.merge_asof(
        left.sort_values("month"), right.sort_values("month"), on="month", by="person_id", direction="backward"
    )
    merged = merged.sort_values("_row")
    # before the first known month (should not happen), fall back to the person's first level
    first = right.sort_values("month").groupby("person_id")["need_level"].first()
    lvl = merged["need_level"].to_numpy()
    fill = pd.Series(pid).map(first).to_numpy()
    lvl = np.where(pd.isna(lvl), fill, lvl)
    return np.nan_to_num(lvl.astype(np.float64), nan=2.0).astype(np.int64)


def person_history(records: pd.DataFrame, id_col: str, test_base: int, people: pd.DataFrame,
                   system: str, seed: int, rates, date_format: str) -> pd.DataFrame:
    """One row per person a system knows, and its test records.

    A person's record is created with their first stay or package and carries their details as
    recorded that day (with the system's defects); the dummies a system holds follow, numbered
    from ``test_base``.
    """
    first = records.groupby("person_id", as_index=False).agg(**{id_col: (id_col, "first"), "created": ("created", "min")})
    truth = people.set_index("person_id").loc[first["person_id"].to_numpy()].reset_index()
    fields = person_fields(truth, first["person_id"].to_numpy(), first["created"], system, seed, rates, date_format)
    real = pd.concat([first.assign(created=dt64(first["created"])), fields], axis=1)
    t = dummies(system, rates, seed, GO_LIVE[system], date_format)
    test = pd.concat([
        pd.DataFrame({"person_id": t["person_id"].to_numpy(), id_col: test_base + t["test_index"].to_numpy(),
                      "created": dt64(t["created"])}),
        t[["first_name", "surname", "dob", "ni_number", "sex"]].reset_index(drop=True),
    ], axis=1)
    return pd.concat([real, test], ignore_index=True)

