"""Hand-made truth tables for the calibration tests, in the truth store's schema.

The tests need worlds whose every calibration figure is known in advance (a turnover of exactly
8%, a void rate of exactly 2.5%), so tables are built row by row from a few numbers rather than
simulated. Frames carry every column of ``docs/truth_store.md`` with its documented dtype, so
the calibration code meets the same shapes as on the real world.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_sources import life_tables

UNTIL = pd.Timestamp("2026-10-31")
# The window evaluate() uses for UNTIL: the 36 complete months 2023-11 .. 2026-10.
WINDOW_START = pd.Timestamp("2023-11-01")
WINDOW_END = pd.Timestamp("2026-11-01")
IN_WINDOW = pd.Timestamp("2025-03-15")  # any day safely inside it
BEFORE_WINDOW = pd.Timestamp("2022-06-15")

I64, DATE, STR = "int64", "datetime64[ns]", "str"

SCHEMA: dict[str, dict[str, tuple[str, object]]] = {
    "people": {
        "person_id": (I64, None), "role": (STR, "lead"), "household_id": (I64, -1),
        "sex": (STR, "F"), "dob": (DATE, pd.Timestamp("1950-06-15")), "first_name": (STR, "Ann"),
        "surname": (STR, "Jones"), "previous_surname": (STR, ""), "surname_changed": (DATE, pd.NaT),
        "ni_number": (STR, ""), "segment": ("int8", 2), "segment_name": (STR, "older_ageing_in_place"),
        "area": (STR, "Cardiff"), "postcode": (STR, "CF10 1AA"), "entered": (DATE, pd.Timestamp("1998-01-01")),
        "origin": (STR, "initial"), "death_date": (DATE, pd.NaT), "death_place": (STR, ""),
    },
    "schemes": {
        "scheme_id": (I64, None), "scheme_type": (STR, "general_needs"), "name": (STR, "Estate"),
        "area": (STR, "Cardiff"), "postcode": (STR, "CF10 1AA"), "opened": (DATE, pd.Timestamp("1990-01-01")),
        "closed": (DATE, pd.NaT), "vendor": (STR, ""), "capacity": (I64, 0),
        "residential_beds": (I64, 0), "nursing_beds": (I64, 0),
    },
    "units": {
        "unit_id": (I64, None), "scheme_id": (I64, 1), "unit_type": (STR, "general_needs"),
        "bedrooms": (I64, 2), "is_accessible": (I64, 0), "postcode": (STR, "CF10 1AA"),
        "available_from": (DATE, pd.Timestamp("1990-01-01")),
    },
    "tenancies": {
        "tenancy_id": (I64, None), "household_id": (I64, -1), "person_id": (I64, -1),
        "unit_id": (I64, -1), "scheme_id": (I64, -1), "tenancy_type": (STR, "general_needs"),
        "route": (STR, "register"), "application_id": (I64, -1), "start_date": (DATE, None),
        "end_date": (DATE, pd.NaT), "end_reason": (STR, ""),
    },
    "voids": {
        "void_id": (I64, None), "unit_id": (I64, None), "start_date": (DATE, None),
        "end_date": (DATE, pd.NaT), "reason": (STR, "tenancy_end"),
    },
    "person_months": {
        "person_id": (I64, None), "month": (DATE, None), "state": (STR, "general_needs"),
        "need_level": ("int8", 0), "care_hours": ("float32", 0.0), "age": ("int16", 70),
        "area": (STR, "Cardiff"), "household_id": (I64, -1), "tenancy_id": (I64, -1),
        "scheme_id": (I64, -1), "unit_id": (I64, -1), "arrears_band": ("int8", -1),
        "wellbeing": ("int8", -1), "employment": (STR, "retired"), "benefits": (STR, "none"),
        "income_band": (STR, "low"), "has_support_need": ("int8", 0),
    },
    "care_stays": {
        "stay_id": (I64, None), "person_id": (I64, None), "scheme_id": (I64, 900),
        "care_type": (STR, "residential"), "stay_kind": (STR, "permanent"),
        "referral_date": (DATE, pd.NaT), "admission_date": (DATE, None), "discharge_date": (DATE, pd.NaT),
        "admission_source": (STR, "home"), "discharge_destination": (STR, ""),
    },
    "hospital_spells": {
        "spell_id": (I64, None), "person_id": (I64, None), "admission_date": (DATE, None),
        "ready_date": (DATE, pd.NaT), "discharge_date": (DATE, pd.NaT), "from_state": (STR, "general_needs"),
        "destination": (STR, "home"), "delayed_days": (I64, 0), "care_stay_id": (I64, -1),
    },
    "hospice_stays": {
        "stay_id": (I64, None), "person_id": (I64, None), "admission_date": (DATE, None),
        "discharge_date": (DATE, pd.NaT), "from_state": (STR, "community"), "outcome": (STR, "died"),
        "care_stay_id": (I64, -1),
    },
    "queues": {
        "month": (DATE, None), "queue": (STR, None), "waiting_start": (I64, 0), "joined": (I64, 0),
        "admitted": (I64, 0), "waiting_end": (I64, 0), "capacity": (I64, 0), "occupied_end": (I64, 0),
    },
}


def frame(table: str, rows: list[dict] | dict[str, object]) -> pd.DataFrame:
    """A table from row dicts (or a dict of columns), defaults and dtypes from the schema.

    An id column left out is numbered 1..n, so tests state only what they are about.
    """
    spec = SCHEMA[table]
    if isinstance(rows, dict):
        sequence = (list, tuple, range, np.ndarray, pd.Series, pd.Index)
        cols = {k: (list(v) if isinstance(v, sequence) else v) for k, v in rows.items()}
        n = max((len(v) for v in cols.values() if isinstance(v, list)), default=1)
        data = {k: (v if isinstance(v, list) else [v] * n) for k, v in cols.items()}
    else:
        n = len(rows)
        unknown = {k for r in rows for k in r} - set(spec)
        if unknown:
            raise KeyError(f"{table} has no columns {sorted(unknown)}")
        data = {col: [r.get(col, spec[col][1]) for r in rows] for col in {k for r in rows for k in r}}
    out = {}
    for col, (dtype, default) in spec.items():
        if col in data:
            values = data[col]
        elif default is None and col.endswith("_id") and col == next(iter(spec)):
            values = list(range(1, n + 1))
        elif default is None:
            raise KeyError(f"{table}.{col} has no default: give it")
        else:
            values = [default] * n
        out[col] = pd.Series(values, dtype=dtype) if n else pd.Series([], dtype=dtype)
    return pd.DataFrame(out)


def months(start: str | pd.Timestamp, n: int) -> list[pd.Timestamp]:
    return list(pd.date_range(pd.Timestamp(start), periods=n, freq="MS"))


def timeline(person_id: int, start: str | pd.Timestamp, states: list[str], **columns) -> list[dict]:
    """One person's consecutive person-months from ``start``, one state a month.

    Extra keyword columns are a scalar (every month) or a list (one value a month).
    """
    rows = []
    for i, (month, state) in enumerate(zip(months(start, len(states)), states)):
        row = {"person_id": person_id, "month": month, "state": state}
        for key, value in columns.items():
            row[key] = value[i] if isinstance(value, list) else value
        rows.append(row)
    return rows


def block(first_id: int, n_people: int, start: str | pd.Timestamp, n_months: int, **columns) -> pd.DataFrame:
    """``n_people`` people with identical person-months: bulk exposure for rate targets."""
    ids = np.repeat(np.arange(first_id, first_id + n_people, dtype=np.int64), n_months)
    mon = np.tile(np.array(months(start, n_months), dtype="datetime64[ns]"), n_people)
    data = {"person_id": ids, "month": mon}
    data.update({k: v for k, v in columns.items()})
    return _fast_pm(data, len(ids))


def _fast_pm(data: dict, n: int) -> pd.DataFrame:
    """person_months for many rows; text columns as categoricals, as the world writes them."""
    out = {}
    for col, (dtype, default) in SCHEMA["person_months"].items():
        arr = np.asarray(data.get(col, default))
        if dtype == STR:
            if arr.ndim == 0:
                out[col] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [str(arr)])
            else:
                out[col] = pd.Categorical(arr)
        else:
            out[col] = pd.Series(np.broadcast_to(arr, (n,)) if arr.ndim == 0 else arr, dtype=dtype)
    return pd.DataFrame(out)


def people_for(person_ids, **columns) -> pd.DataFrame:
    ids = np.asarray(person_ids, dtype=np.int64)
    data = {"person_id": list(ids)}
    for k, v in columns.items():
        data[k] = list(v) if isinstance(v, (list, np.ndarray, pd.Series, pd.Index)) else [v] * len(ids)
    return frame("people", data)


def simulate_mortality(
    n_per_sex: int,
    first_year: int,
    last_year: int,
    age_lo: int,
    age_hi: int,
    seed: int = 7,
    hazard_ratio: float = 1.0,
    state: str = "general_needs",
    first_id: int = 1,
    stationary: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """People who die with the ONS annual probability qx of each year, the month at random.

    A deliberately different generator from the one the calibration code assumes (constant
    hazard within the year): each January a person aged x dies that year with probability
    qx(year, x) and, if so, in a uniformly drawn month. Everyone is born on 1 January, so age
    at every month end of a year is the age on its 1 January. Starting ages are uniform, or
    with ``stationary`` distributed as the ONS life table's survivors (lx of ``first_year``),
    the age mix of a real population. Returns (people, person_months).
    """
    rng = np.random.default_rng(seed)
    n = 2 * n_per_sex
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    sex = np.repeat(np.array([0, 1]), n_per_sex)
    if stationary:
        ages = np.arange(age_lo, age_hi + 1)
        age0 = np.empty(n, dtype=np.int64)
        for s_ in (0, 1):
            q = life_tables.qx_by_year(first_year)[s_, : age_hi + 1]
            lx = np.cumprod(np.r_[1.0, 1.0 - q[:-1]])[age_lo:]
            age0[sex == s_] = rng.choice(ages, size=n_per_sex, p=lx / lx.sum())
    else:
        age0 = rng.integers(age_lo, age_hi + 1, size=n)
    death_year = np.full(n, -1)
    death_month = np.full(n, -1)
    alive = np.ones(n, dtype=bool)
    for year in range(first_year, last_year + 1):
        qx = np.minimum(life_tables.qx_by_year(year)[sex, np.minimum(age0 + year - first_year, 100)] * hazard_ratio, 1.0)
        dies = alive & (rng.random(n) < qx)
        death_year[dies] = year
        death_month[dies] = rng.integers(1, 13, size=int(dies.sum()))
        alive &= ~dies
    start_m = (first_year - 1970) * 12
    end_m = np.where(death_year >= 0, (death_year - 1970) * 12 + death_month - 1, (last_year - 1970) * 12 + 11)
    lengths = end_m - start_m + 1
    pid = np.repeat(ids, lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    midx = start_m + offset
    year = 1970 + midx // 12
    age = np.repeat(age0, lengths) + (year - first_year)
    states = np.full(len(pid), state, dtype=object)
    last_row = np.cumsum(lengths) - 1
    states[last_row[death_year >= 0]] = "died"
    pm = _fast_pm(
        {"person_id": pid, "month": midx.astype("datetime64[M]").astype("datetime64[ns]"),
         "state": states, "age": age},
        len(pid),
    )
    dob = (first_year - age0 - 1970).astype("datetime64[Y]").astype("datetime64[ns]")
    people = people_for(ids, sex=np.where(sex == 0, "M", "F"), dob=dob)
    return people, pm
