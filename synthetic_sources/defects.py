"""The defects real source systems carry, as pure vectorised functions shared by every writer.

Every draw is keyed by a stable record id through :mod:`synthetic_sources.keyed_random`, never by
row position, so a record carries the same typo, the same swapped date and the same late arrival
whether the world was written to last night or to tonight. That is what makes appending a nightly
delta equal to writing the later date directly.

Conventions: string outputs are ``object`` Series holding ``None`` for missing (every storage
writer turns ``None`` into NULL and no pandas string-dtype NaN leaks into SQL); date outputs are
``datetime64[ns]`` Series with ``NaT``. Every function keeps the input's index.

Rates are *conditional where a defect is only possible*: a day/month swap can only be recorded
where the day is 12 or less (a clerk's 31/07 typed as 07/31 is rejected by any system), and a
nickname only exists for names that have one, so those rates apply to the eligible records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.vocabulary.ni_numbers import PLACEHOLDER_DOB, PLACEHOLDER_NI_STEMS
from synthetic_sources import keyed_random as kr
from synthetic_sources.systems.base import DefectRates

# Welsh and English given names and the short forms a clerk may record instead. Linkage uses the
# same map (inverted by :func:`formal_names`) to compare "Dai" with "David".
NICKNAMES: dict[str, list[str]] = {
    "David": ["Dai", "Dave", "Davy"],
    "William": ["Bill", "Wil", "Will", "Billy"],
    "Elizabeth": ["Liz", "Beth", "Betty", "Lisa"],
    "Margaret": ["Maggie", "Peggy", "Megan", "Maggi"],
    "Robert": ["Bob", "Rob", "Bobby"],
    "Richard": ["Dick", "Rich", "Rick"],
    "Gareth": ["Gaz", "Gar"],
    "Catherine": ["Cath", "Cathy", "Kate"],
    "Katherine": ["Kath", "Kathy", "Kate"],
    "Jennifer": ["Jenny", "Jen"],
    "Gwyneth": ["Gwen"],
    "Gwendoline": ["Gwen", "Wendy"],
    "Rhiannon": ["Rhi"],
    "Thomas": ["Tom", "Twm", "Tommy"],
    "Evan": ["Ifan"],
    "John": ["Jack", "Sion", "Johnny"],
    "Edward": ["Ted", "Eddie", "Ed"],
    "Michael": ["Mike", "Mick"],
    "Christopher": ["Chris"],
    "Christine": ["Chris", "Tina"],
    "Anthony": ["Tony"],
    "Stephen": ["Steve"],
    "Steven": ["Steve"],
    "James": ["Jim", "Jimmy", "Jamie"],
    "Joseph": ["Joe"],
    "Daniel": ["Dan", "Danny"],
    "Matthew": ["Matt"],
    "Andrew": ["Andy"],
    "Peter": ["Pete"],
    "Philip": ["Phil"],
    "Kenneth": ["Ken"],
    "Ronald": ["Ron", "Ronnie"],
    "Gwilym": ["Gwil"],
    "Llewellyn": ["Llew"],
    "Llywelyn": ["Llew"],
    "Dafydd": ["Dai", "Dafi"],
    "Ieuan": ["Ifan"],
    "Hywel": ["Hyw"],
    "Emrys": ["Em"],
    "Bethan": ["Beth"],
    "Angharad": ["Ang"],
    "Eleri": ["Ler"],
    "Susan": ["Sue", "Susie"],
    "Patricia": ["Pat", "Trish"],
    "Barbara": ["Barb"],
    "Dorothy": ["Dot", "Dolly"],
    "Mary": ["Molly", "Polly"],
    "Ann": ["Annie"],
    "Anne": ["Annie"],
    "Deborah": ["Debbie", "Deb"],
    "Rebecca": ["Becky", "Becca"],
    "Samantha": ["Sam"],
    "Samuel": ["Sam"],
    "Victoria": ["Vicky", "Tori"],
    "Alexander": ["Alex"],
    "Benjamin": ["Ben"],
    "Nicholas": ["Nick"],
    "Jonathan": ["Jon"],
    "Timothy": ["Tim"],
    "Frederick": ["Fred"],
    "Harold": ["Harry"],
    "Henry": ["Harry"],
    "Leonard": ["Len"],
    "Raymond": ["Ray"],
    "Albert": ["Bert"],
    "Joan": ["Joanie"],
    "Josephine": ["Jo", "Josie"],
    "Joanne": ["Jo"],
    "Kimberley": ["Kim"],
    "Nicola": ["Nicky"],
    "Sian": ["Shan"],
    "Jessica": ["Jess"],
    "Myfanwy": ["Myf", "Fanny"],
    "Rachel": ["Rach"],
    "Hannah": ["Annie"],
    "Glenys": ["Glen"],
    "Betty": ["Bet"],
    "Gwyn": ["Gwynfor"],
    "Emyr": ["Em"],
}

_VOWELS = np.array(list("aeiou"))
NI_MALFORMED_KINDS = ("spaced", "lower", "no_suffix", "letter_o", "hyphen")

_STR = np.dtypes.StringDType()


def formal_names() -> dict[str, list[str]]:
    """Nickname -> the formal names it may stand for (the inverse of ``NICKNAMES``)."""
    out: dict[str, list[str]] = {}
    for formal, nicks in NICKNAMES.items():
        for nick in nicks:
            out.setdefault(nick, []).append(formal)
    return out


# ---------------------------------------------------------------------------------------------
# small helpers


def compound_key(*parts) -> np.ndarray:
    """One int64 key from several int columns (e.g. a record id and a version number).

    keyed_random takes one integer per record; combining through its own hash keeps the parts
    independent without any risk of two (id, version) pairs colliding by arithmetic.
    """
    key = np.zeros(len(np.asarray(parts[0])), dtype=np.uint64)
    for i, part in enumerate(parts):
        h = kr.hashes(0, f"compound:{i}", np.asarray(part, dtype=np.int64))
        with np.errstate(over="ignore"):
            key = key * np.uint64(0x100000001B3) ^ h
    return key.view(np.int64)


def _to_str_array(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The values as a numpy StringDType array ('' for missing) and the missing mask."""
    missing = s.isna().to_numpy()
    values = s.astype(object).where(~s.isna(), "").to_numpy()
    return values.astype(_STR), missing


def _to_series(values: np.ndarray, missing: np.ndarray, index) -> pd.Series:
    out = values.astype(object)
    out[missing] = None
    return pd.Series(out, index=index, dtype=object)


def _keys(keys) -> np.ndarray:
    return np.asarray(keys, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# NI numbers


def ni_as_recorded(
    ni: pd.Series, keys: np.ndarray, seed: int, salt: str, missing_rate, malformed_rate
) -> pd.Series:
    """NI numbers as a clerk keyed them: some never asked for, some typed in a house style.

    ``missing_rate`` may be per row (the CRM asked for NI less often before 2005). Malformed
    values are drawn only among those present, in one of ``NI_MALFORMED_KINDS``; a value with no
    0 or 1 for the letter-O kind is spaced instead, so every malformed value differs from the
    true one.
    """
    keys = _keys(keys)
    values, missing = _to_str_array(ni)
    missing = missing | kr.bernoulli(seed, f"{salt}:ni_missing", keys, missing_rate)
    bad = ~missing & kr.bernoulli(seed, f"{salt}:ni_malformed", keys, malformed_rate)
    kind = kr.integers(seed, f"{salt}:ni_malformed_kind", keys, 0, len(NI_MALFORMED_KINDS))
    s = np.strings
    ni_upper = s.upper(s.replace(values, " ", ""))

    spaced = (
        s.slice(ni_upper, 0, 2) + " " + s.slice(ni_upper, 2, 4) + " " + s.slice(ni_upper, 4, 6)
        + " " + s.slice(ni_upper, 6, 8) + " " + s.slice(ni_upper, 8, 9)
    )
    letter_o = s.replace(s.replace(ni_upper, "0", "O"), "1", "I")
    letter_o = np.where(letter_o == ni_upper, spaced, letter_o)
    variants = [
        spaced,
        s.lower(ni_upper),
        s.slice(ni_upper, 0, 8),
        letter_o,
        s.slice(ni_upper, 0, 2) + "-" + s.slice(ni_upper, 2, 8) + "-" + s.slice(ni_upper, 8, 9),
    ]
    out = values.copy()
    for k, variant in enumerate(variants):
        m = bad & (kind == k)
        out[m] = variant[m]
    return _to_series(out, missing, ni.index)


# ---------------------------------------------------------------------------------------------
# dates


def dob_swapped(dob: pd.Series, keys, seed: int, salt: str, rate: float) -> pd.Series:
    """Dates of birth with day and month swapped for ``rate`` of those where a swap is possible.

    Only a day of 12 or less can be swapped into a valid date, and a day equal to its month
    cannot be seen, so the rate applies to those eligible records.
    """
    keys = _keys(keys)
    d = pd.to_datetime(dob)
    day = d.dt.day.to_numpy()
    month = d.dt.month.to_numpy()
    ok = ~d.isna().to_numpy() & (day <= 12) & (day != month)
    swap = ok & kr.bernoulli(seed, f"{salt}:dob_swapped", keys, rate)
    if not swap.any():
        return d.astype("datetime64[ns]")
    year = d.dt.year.to_numpy()
    swapped = pd.to_datetime(
        pd.DataFrame({"year": year[swap], "month": day[swap], "day": month[swap]})
    ).to_numpy()
    out = d.to_numpy().astype("datetime64[ns]").copy()
    out[swap] = swapped
    return pd.Series(out, index=dob.index, dtype="datetime64[ns]")


def format_date(dates: pd.Series, fmt: str) -> pd.Series:
    """Dates as strings in a vendor's own format, ``None`` where there is no date.

    Formats each distinct date once: a million visit rows hold only a few thousand days.
    """
    d = pd.to_datetime(dates)
    codes, uniques = pd.factorize(d, use_na_sentinel=True)
    texts = np.asarray(pd.DatetimeIndex(uniques).strftime(fmt), dtype=object)
    out = np.empty(len(d), dtype=object)
    has = codes >= 0
    out[has] = texts[codes[has]]
    out[~has] = None
    return pd.Series(out, index=dates.index, dtype=object)


def late_and_corrected(
    event_dates: pd.Series, keys, seed: int, salt: str, rates: DefectRates = DefectRates()
) -> tuple[pd.Series, pd.Series]:
    """When a record becomes visible in its system, and when a wrong first version is fixed.

    ``rates.late`` of records are keyed in 1..``late_max_days`` days after the event;
    ``rates.corrected`` are first recorded wrongly and corrected 1..60 days after they become
    visible (``NaT`` for the rest). What is wrong is the caller's business (a wrong end date, a
    wrong band...).
    """
    keys = _keys(keys)
    d = pd.to_datetime(event_dates).to_numpy().astype("datetime64[ns]")
    late = kr.bernoulli(seed, f"{salt}:late", keys, rates.late)
    lag = kr.integers(seed, f"{salt}:late_days", keys, 1, rates.late_max_days + 1)
    visible = d + np.where(late, lag, 0).astype("timedelta64[D]")
    corr = kr.bernoulli(seed, f"{salt}:corrected", keys, rates.corrected)
    corr_lag = kr.integers(seed, f"{salt}:corrected_days", keys, 1, 61)
    corrected = np.where(
        corr, visible + corr_lag.astype("timedelta64[D]"), np.datetime64("NaT", "ns")
    ).astype("datetime64[ns]")
    idx = event_dates.index
    return (
        pd.Series(visible, index=idx, dtype="datetime64[ns]"),
        pd.Series(corrected, index=idx, dtype="datetime64[ns]"),
    )


def arrival(
    event_dates, keys, seed: int, salt: str, rates: DefectRates, go_live: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """``late_and_corrected`` for a system with a go-live: what happened before was migrated.

    Records of events before go-live were loaded in one batch on go-live day, so they are
    visible exactly then (never late); a correction keeps its lag after that visible date.
    Returns numpy ``datetime64[ns]`` arrays (visible, corrected).
    """
    ev = pd.to_datetime(pd.Series(np.asarray(event_dates))).to_numpy().astype("datetime64[ns]")
    vis, corr = late_and_corrected(pd.Series(ev), keys, seed, salt, rates)
    vis = vis.to_numpy()
    corr = corr.to_numpy()
    go = np.datetime64(pd.Timestamp(go_live), "ns")
    pre = ev < go
    corr = np.where(pre, go + (corr - vis), corr)
    vis = np.where(pre, go, vis)
    return vis.astype("datetime64[ns]"), corr.astype("datetime64[ns]")


def time_of_day(dates, keys, seed: int, salt: str, start_hour: int = 8, end_hour: int = 18):
    """Dates moved to a keyed office-hours time, for timestamps a clerk's save would stamp."""
    keys = _keys(keys)
    secs = kr.integers(seed, f"{salt}:time_of_day", keys, start_hour * 3600, end_hour * 3600)
    d = pd.to_datetime(pd.Series(np.asarray(dates))).to_numpy().astype("datetime64[ns]")
    return d + secs.astype("timedelta64[s]")


def latest_on_or_before(as_of: pd.Timestamp, *dates) -> np.ndarray:
    """Row-wise latest of several date arrays among those on or before ``as_of`` (NaT if none).

    The change marker of a row is the last moment its as-of content changed; dates after
    ``as_of`` have not happened yet and must not count.
    """
    as_of64 = np.datetime64(pd.Timestamp(as_of), "ns")
    out = None
    for d in dates:
        a = pd.to_datetime(pd.Series(np.asarray(d))).to_numpy().astype("datetime64[ns]")
        a = np.where(a <= as_of64, a, np.datetime64("NaT", "ns"))
        out = a if out is None else np.fmax(out, a)
    return out


def shown_once_visible(values: np.ndarray, visible: np.ndarray, as_of) -> np.ndarray:
    """A date the system shows only once its record is visible on ``as_of``; NaT before."""
    as_of64 = np.datetime64(pd.Timestamp(as_of), "ns")
    values = np.asarray(values).astype("datetime64[ns]")
    return np.where(~np.isnat(visible) & (visible <= as_of64), values, np.datetime64("NaT", "ns"))


def as_of_rows(frame: pd.DataFrame, record_keys, marker_date: np.ndarray, present: np.ndarray,
               since, seed: int, salt: str, marker: str) -> pd.DataFrame:
    """The rows present on the as-of date (changed after ``since`` if given), marker stamped.

    The marker is a timestamp: the change date at a keyed office-hours time, keyed by the record
    and the date of the change, so a row changed on a given day carries the same stamp whichever
    night it is extracted. ``since`` compares whole days: an extract as of D holds all of D.
    """
    keep = np.asarray(present, dtype=bool).copy()
    if since is not None:
        keep &= marker_date > np.datetime64(pd.Timestamp(since).normalize(), "ns")
    keys = compound_key(np.asarray(record_keys, dtype=np.int64)[keep],
                        marker_date[keep].astype("datetime64[D]").astype(np.int64))
    out = frame.loc[keep].reset_index(drop=True)
    out[marker] = pd.Series(time_of_day(marker_date[keep], keys, seed, salt), dtype="datetime64[ns]")
    return object_strings(out)


def frame_of(columns: dict) -> pd.DataFrame:
    """A DataFrame whose object arrays stay ``object`` (pandas 3 would infer its string dtype).

    Inferring and converting back costs more than building the rest of a table.
    """
    out = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray) and pd.api.types.is_object_dtype(values.dtype):
            values = pd.Series(values, dtype=object)
        out[name] = values
    n = max((len(v) for v in out.values() if hasattr(v, "__len__") and not isinstance(v, str)), default=0)
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def object_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as ``object`` holding ``None`` for missing, whatever pandas inferred.

    pandas 3 infers its own string dtype (NaN for missing); storage writers and tests then see
    one representation of text and of NULL in every table.
    """
    for col in frame.columns:
        dtype = frame[col].dtype
        if pd.api.types.is_object_dtype(dtype) and not frame[col].isna().any():
            continue
        if isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
            values = frame[col].to_numpy(dtype=object, na_value=None) if isinstance(
                dtype, pd.StringDtype) else frame[col].to_numpy(dtype=object)
            values = np.where(pd.isna(values), None, values)
            frame[col] = pd.Series(values, index=frame.index, dtype=object)
    return frame


# ---------------------------------------------------------------------------------------------
# names


def _typos(values: np.ndarray, keys: np.ndarray, seed: int, salt: str) -> np.ndarray:
    """One typo per value: swap two adjacent letters, drop one, double one, or a wrong vowel.

    The first letter is left alone (people rarely mistype it, and linkage blocks on it). A swap
    of two equal letters or a value with no vowel to change falls back to doubling, so every
    typo changes the value.
    """
    s = np.strings
    n = s.str_len(values)
    kind = kr.integers(seed, f"{salt}:typo_kind", keys, 0, 4)
    # a position after the first letter (or the only letter for one-letter values)
    u = kr.uniform(seed, f"{salt}:typo_pos", keys)
    p = np.where(n > 1, 1 + np.floor(u * np.maximum(n - 1, 1)).astype(np.int64), 0)
    p_swap = np.minimum(p, np.maximum(n - 2, 0))

    doubled = s.slice(values, 0, p + 1) + s.slice(values, p, p + 1) + s.slice(values, p + 1, None)
    dropped = s.slice(values, 0, p) + s.slice(values, p + 1, None)
    swapped = (
        s.slice(values, 0, p_swap) + s.slice(values, p_swap + 1, p_swap + 2)
        + s.slice(values, p_swap, p_swap + 1) + s.slice(values, p_swap + 2, None)
    )
    # wrong vowel: the first vowel at or after p (else the first after the initial letter)
    low = s.lower(values)
    big = np.iinfo(np.int64).max
    at = np.full(len(values), big, dtype=np.int64)
    first = np.full(len(values), big, dtype=np.int64)
    for v in _VOWELS:
        f = s.find(low, v, p).astype(np.int64)
        at = np.minimum(at, np.where(f >= 0, f, big))
        f0 = s.find(low, v, np.minimum(1, n)).astype(np.int64)
        first = np.minimum(first, np.where(f0 >= 0, f0, big))
    vpos = np.where(at < big, at, first)
    has_vowel = vpos < big
    vpos = np.where(has_vowel, vpos, 0)
    old = s.slice(low, vpos, vpos + 1)
    shift = kr.integers(seed, f"{salt}:typo_vowel", keys, 1, 5)
    old_idx = np.zeros(len(values), dtype=np.int64)
    for i, v in enumerate(_VOWELS):
        old_idx[old == v] = i
    new = _VOWELS[(old_idx + shift) % 5].astype(_STR)
    new = np.where(s.isupper(s.slice(values, vpos, vpos + 1)), s.upper(new), new)
    revowelled = s.slice(values, 0, vpos) + new + s.slice(values, vpos + 1, None)

    out = np.where(kind == 0, swapped, np.where(kind == 1, dropped, np.where(kind == 2, doubled, revowelled)))
    out = np.where(((kind == 3) & ~has_vowel) | ((kind == 0) & (n < 3)), doubled, out)
    out = np.where((out == values) | (s.str_len(out) == 0), doubled, out)
    return out


def name_as_recorded(
    first: pd.Series, keys, seed: int, salt: str, typo_rate: float, nickname_rate: float = 0.0
) -> pd.Series:
    """Names as recorded: a nickname for ``nickname_rate`` of names that have one, else a typo.

    Works for surnames too (pass ``nickname_rate=0``). Nickname and typo are exclusive so each
    rate can be checked on its own. Rates may be scalars or per-row arrays (a duplicate record
    keyed in a hurry carries more errors than the original).
    """
    keys = _keys(keys)
    values, missing = _to_str_array(first)
    out = values.copy()
    nick_done = np.zeros(len(values), dtype=bool)
    if np.any(np.asarray(nickname_rate) > 0):
        pick = kr.uniform(seed, f"{salt}:nickname_pick", keys)
        want = kr.bernoulli(seed, f"{salt}:nickname", keys, nickname_rate) & ~missing
        names = first.astype(object).to_numpy()
        eligible = pd.Series(names).isin(NICKNAMES.keys()).to_numpy() & want
        if eligible.any():
            formal = pd.Series(names[eligible])
            options = formal.map(NICKNAMES)
            counts = options.map(len).to_numpy()
            which = np.floor(pick[eligible] * counts).astype(np.int64)
            flat = np.concatenate(options.to_numpy())
            offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
            out[eligible] = flat[offsets + which].astype(_STR)
            nick_done = eligible
    typo = ~missing & ~nick_done & kr.bernoulli(seed, f"{salt}:typo", keys, typo_rate)
    if typo.any():
        out[typo] = _typos(values[typo], keys[typo], seed, salt)
    return _to_series(out, missing, first.index)


# ---------------------------------------------------------------------------------------------
# test and dummy records

# the placeholder NI number and date of birth trainers key (contracts/vocabulary/ni_numbers.py:
# linkage knows them as belonging to nobody)
_DUMMY_NI = PLACEHOLDER_NI_STEMS[0] + "A"
_DUMMY_DOB = PLACEHOLDER_DOB
_DUMMIES = [
    # first, surname, ni, dob, sex
    ("TEST", "TEST", _DUMMY_NI, _DUMMY_DOB, "M"),
    ("Dummy", "Person", None, _DUMMY_DOB, "F"),
    ("Mickey", "Mouse", _DUMMY_NI, "1928-11-18", "M"),
    ("Test", "Tenant", _DUMMY_NI, _DUMMY_DOB, "F"),
    ("Donald", "Duck", None, _DUMMY_DOB, "M"),
    ("Minnie", "Mouse", _DUMMY_NI, _DUMMY_DOB, "F"),
    ("Training", "Record", None, _DUMMY_DOB, "M"),
    ("Do Not", "Use", _DUMMY_NI, _DUMMY_DOB, "F"),
]


def test_records(system: str, n: int, seed: int, start: pd.Timestamp, span_days: int = 7300) -> pd.DataFrame:
    """A handful of dummy people a system's trainers and testers keyed in and never removed.

    Each has a ``test_index`` (0..n-1) for the caller to map into its own id space, and a
    ``created`` date keyed from ``start`` over a fixed span, so the same dummies appear on the
    same days whatever the as-of date. They belong to no real person (person_id -1).
    """
    idx = np.arange(n, dtype=np.int64)
    first = int(kr.integers(seed, f"{system}:test_pick", [0], 0, len(_DUMMIES))[0])
    rows = np.array([_DUMMIES[(first + i) % len(_DUMMIES)] for i in idx], dtype=object).reshape(n, 5)
    frame = frame_of({name: rows[:, j] for j, name in
                      enumerate(["first_name", "surname", "ni_number", "dob", "sex"])})
    frame["dob"] = pd.to_datetime(frame["dob"]).astype("datetime64[ns]")
    offset = kr.integers(seed, f"{system}:test_created", idx, 0, span_days)
    created = pd.Timestamp(start) + pd.to_timedelta(offset, unit="D")
    frame["created"] = np.asarray(created).astype("datetime64[ns]")
    frame.insert(0, "test_index", idx)
    frame["person_id"] = np.int64(-1)
    return frame


test_records.__test__ = False  # a helper, not a pytest test, even when imported into one
