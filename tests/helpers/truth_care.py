"""A small hand-made truth store (docs/truth_store.md) for the care-system writers' tests.

It is not the world: it plants just enough consistent history to exercise the writers —
care-home stays in vendor A and B homes with hospital and hospice transfers, home-care packages
chained by reassessment with hospital spells that suspend them, people present before and after
each system's go-live, surname changes, deaths. Every date is a midnight ``datetime64[ns]``.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

UNTIL = pd.Timestamp("2026-10-31")
FIRST = pd.Timestamp("2004-01-01")
FIRSTS = ["David", "Margaret", "John", "Elizabeth", "William", "Gwyneth", "Thomas", "Mary", "Huw", "Nia"]
SURNAMES = ["Jones", "Williams", "Davies", "Evans", "Thomas", "Roberts", "Hughes", "Lewis", "Morgan", "Price"]
_EPOCH = pd.Timestamp("1970-01-01")
_U = (UNTIL - _EPOCH).days  # dates are whole days since 1970 while building (fast), NaT is None
_F = (FIRST - _EPOCH).days


class _Builder:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.stays, self.spells, self.hospice, self.packages, self.months = [], [], [], [], []

    def days(self, lo, hi) -> int:
        return int(self.rng.integers(lo, hi))

    def hospital(self, pid, start, length, destination, care_stay_id=-1, from_state="community"):
        end = start + length
        self.spells.append(dict(spell_id=len(self.spells) + 1, person_id=pid, admission_date=start,
                                ready_date=end, discharge_date=end, from_state=from_state,
                                destination=destination, delayed_days=0, care_stay_id=care_stay_id))
        return end

    def care_person(self, pid, home, start):
        """Maybe a respite stay, then a permanent stay with spells away; returns the death day."""
        rng = self.rng
        t = start
        if rng.random() < 0.3:
            end = t + self.days(7, 42)
            done = end <= _U
            self._stay(pid, home, "respite", t, end if done else None, "home", "home" if done else "")
            t = end + self.days(30, 400)
            if t > _U:
                return None
        sid = len(self.stays) + 1
        end = t + int(30.4 * 23.7 * rng.weibull(0.8)) + 1
        how = str(rng.choice(["died", "died_in_hospital", "died_in_hospice", "home"], p=[0.6, 0.25, 0.05, 0.1]))
        u = t + int(rng.exponential(450))  # spells away while resident, about 0.8 a year
        while u + 40 < min(end, _U):
            back = self.hospital(pid, u, self.days(2, 20), "home", sid, "residential_care")
            u = back + int(rng.exponential(450))
        if rng.random() < 0.05 and end - 60 > t and end < _U:
            self.hospice.append(dict(stay_id=len(self.hospice) + 1, person_id=pid, admission_date=end - 50,
                                     discharge_date=end - 40, from_state="residential_care",
                                     outcome="discharged", care_stay_id=sid))
        death = None
        if end <= _U:
            if how == "died_in_hospital":
                self.hospital(pid, end - 6, 6, "died", sid, "residential_care")
            elif how == "died_in_hospice":
                self.hospice.append(dict(stay_id=len(self.hospice) + 1, person_id=pid, admission_date=end - 9,
                                         discharge_date=end, from_state="residential_care", outcome="died",
                                         care_stay_id=sid))
            death = end if how != "home" else None
        done = end <= _U
        self._stay(pid, home, "permanent", t, end if done else None,
                   "hospital" if rng.random() < 0.5 else "home", how if done else "")
        return death

    def _stay(self, pid, home, kind, adm, dis, source, dest):
        self.stays.append(dict(stay_id=len(self.stays) + 1, person_id=pid, scheme_id=home,
                               care_type="nursing" if self.rng.random() < 0.4 else "residential",
                               stay_kind=kind, referral_date=adm - 10, admission_date=adm, discharge_date=dis,
                               admission_source=source, discharge_destination=dest))

    def home_person(self, pid, start):
        """Packages chained by reassessment, with hospital spells that suspend them.

        Returns (death day, day they left for a care home)."""
        rng = self.rng
        t = start
        while True:
            end = t + self.days(60, 1200)
            hours = float(np.clip(np.round(rng.lognormal(np.log(8), 0.7) * 2) / 2, 1.0, 45.0))
            reason = str(rng.choice(["reassessed", "died", "care_home", "no_longer_needed"], p=[0.55, 0.2, 0.15, 0.1]))
            u = t + int(rng.exponential(500))
            while u + 30 < min(end, _U):
                back = self.hospital(pid, u, self.days(2, 25), "home")
                u = back + int(rng.exponential(500))
            ended = end <= _U
            self.packages.append(dict(package_id=len(self.packages) + 1, person_id=pid,
                                      team=str(rng.choice(["east", "central", "west"])),
                                      referral_date=t - 12, start_date=t, end_date=end if ended else None,
                                      hours_per_week=hours, end_reason=reason if ended else ""))
            if not ended:
                return None, None
            if reason == "reassessed":
                t = end
                continue
            return (end if reason == "died" else None), (end if reason == "care_home" else None)

    def month_rows(self, pid, start, end, level):
        self.months.append((pid, start, end if end is not None else _U, level))

    def person_months(self) -> pd.DataFrame:
        """One row per person per month from the month they start to the month they end."""
        pid, start, end, level = (np.asarray(c) for c in zip(*self.months))
        m0 = (_EPOCH + pd.to_timedelta(start, unit="D")).to_period("M").astype("int64")
        m1 = (_EPOCH + pd.to_timedelta(end, unit="D")).to_period("M").astype("int64")
        n = np.asarray(m1) - np.asarray(m0) + 1
        row = np.repeat(np.arange(len(pid)), n)
        month = np.asarray(m0)[row] + np.arange(len(row)) - np.repeat(np.cumsum(n) - n, n)
        return pd.DataFrame({
            "person_id": pid[row],
            "month": pd.PeriodIndex.from_ordinals(month, freq="M").to_timestamp(),
            "need_level": level[row],
        })


@functools.lru_cache(maxsize=8)
def _make_truth(n_people: int, seed: int, n_homes_a: int, n_homes_b: int) -> dict[str, pd.DataFrame]:
    b = _Builder(seed)
    rng = b.rng
    homes = list(range(10, 10 + n_homes_a + n_homes_b))
    schemes = pd.DataFrame({
        "scheme_id": np.asarray([1, 2] + homes, dtype=np.int64),
        "scheme_type": ["general_needs", "sheltered"] + ["care_home"] * len(homes),
        "name": ["Heol y Nant Estate", "Bryn Celyn Court"]
                + [f"{n} Care Home" for n in ["Ty Gwyn", "Plas Newydd", "Tan y Graig", "Cwm Nedd", "Bro Dawel",
                                               "Llys Faen", "Coed Glas"][: len(homes)]],
        "area": "Cardiff", "postcode": "CF10 1AA",
        "opened": pd.Timestamp("1990-01-01"), "closed": pd.NaT,
        "vendor": ["", ""] + ["A"] * n_homes_a + ["B"] * n_homes_b,
        "capacity": np.asarray([100, 30] + [40] * len(homes), dtype=np.int64),
        "residential_beds": np.asarray([0, 0] + [25] * len(homes), dtype=np.int64),
        "nursing_beds": np.asarray([0, 0] + [15] * len(homes), dtype=np.int64),
    })
    people = []
    for pid in range(1, n_people + 1):
        sex = "F" if rng.random() < 0.6 else "M"
        start = b.days(_F, _U - 30)
        kind = rng.choice(["care", "home", "both"], p=[0.4, 0.45, 0.15])
        death = None
        if kind == "care":
            death = b.care_person(pid, int(rng.choice(homes)), start)
        else:
            death, to_care = b.home_person(pid, start)
            if to_care is not None and kind == "both":
                death = b.care_person(pid, int(rng.choice(homes)), to_care)
        level = int(rng.choice([1, 2, 3], p=[0.25, 0.45, 0.3]))
        b.month_rows(pid, start, death, level)
        changed, prev = None, ""
        if sex == "F" and rng.random() < 0.15:
            changed = b.days(_F, _U)
            prev = str(rng.choice(SURNAMES))
        people.append(dict(
            person_id=pid, role="outside", household_id=-1, sex=sex, dob=b.days(-16500, -5500),
            first_name=FIRSTS[pid % len(FIRSTS)], surname=str(rng.choice(SURNAMES)),
            previous_surname=prev, surname_changed=changed,
            ni_number=f"AB{pid:06d}{'ABCD'[pid % 4]}", segment=5, segment_name="frail_unplanned",
            area="Cardiff", postcode="CF10 1AA", entered=start, origin="referral",
            death_date=death, death_place="care_home" if death is not None else "",
        ))
    return _typed({
        "people": pd.DataFrame(people),
        "schemes": schemes,
        "care_stays": pd.DataFrame(b.stays),
        "hospital_spells": pd.DataFrame(b.spells),
        "hospice_stays": pd.DataFrame(b.hospice, columns=["stay_id", "person_id", "admission_date", "discharge_date",
                                                          "from_state", "outcome", "care_stay_id"]),
        "care_packages": pd.DataFrame(b.packages),
        "person_months": b.person_months(),
    })


def make_truth(n_people: int = 600, seed: int = 7, n_homes_a: int = 3, n_homes_b: int = 2) -> dict[str, pd.DataFrame]:
    """A truth dict with ``n_people`` people who use care homes, home care or both.

    Built once per arguments in a test session; callers get their own copies of the frames.
    """
    return {k: v.copy() for k, v in _make_truth(n_people, seed, n_homes_a, n_homes_b).items()}


def _typed(t: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The truth store's types: int64 ids, datetime64[ns] dates, str codes."""
    for frame in t.values():
        for col in frame.columns:
            if col.endswith("_id") or col in ("capacity", "residential_beds", "nursing_beds", "delayed_days"):
                frame[col] = frame[col].astype(np.int64)
            elif col.endswith("date") or col in ("dob", "surname_changed", "entered"):
                day = pd.to_numeric(frame[col], errors="coerce").to_numpy(np.float64)
                frame[col] = (_EPOCH + pd.to_timedelta(day, unit="D")).astype("datetime64[ns]")
            elif col in ("opened", "closed", "month"):
                frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    t["person_months"]["need_level"] = t["person_months"]["need_level"].astype(np.int8)
    t["care_packages"]["hours_per_week"] = t["care_packages"]["hours_per_week"].astype(np.float64)
    return t


# ---------------------------------------------------------------------------------------------
# helpers the three test modules share


def world_tables(scale: float = 0.02, seed: int = 1) -> dict[str, pd.DataFrame]:
    """The lead's simulated world at a small scale (skips the caller's test if it cannot run)."""
    import pytest

    pytest.importorskip("synthetic_sources.world")
    return {k: v.copy() for k, v in _world(scale, seed).items()}


@functools.lru_cache(maxsize=2)
def _world(scale: float, seed: int) -> dict[str, pd.DataFrame]:
    from synthetic_sources import world

    return world.simulate_world(world.WorldConfig(scale=scale, seed=seed, until=UNTIL)).tables


def row_set(frame: pd.DataFrame) -> set[tuple]:
    """Rows as comparable tuples (NaT, NaN and None all compare equal to themselves)."""
    return set(map(tuple, frame.astype(object).where(frame.notna(), None).to_numpy().tolist()))


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash of each row's content: set algebra on millions of visit rows in seconds."""
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def same_rows(a: np.ndarray, b: np.ndarray) -> bool:
    return len(a) == len(b) and bool((np.sort(a) == np.sort(b)).all())


def assert_delta_is_difference(module, truth, d1, d2, seed: int = 3, rates=None) -> int:
    """``build(d2, since=d1)`` holds exactly the rows of ``build(d2)`` not identical in ``build(d1)``.

    Also no row of ``build(d1)`` disappears by ``d2`` (systems never delete). Returns the number
    of delta rows checked, so callers can insist the dates were not trivially quiet.
    """
    kw = {} if rates is None else {"rates": rates}
    old = module.build(truth, pd.Timestamp(d1), seed, **kw)
    new = module.build(truth, pd.Timestamp(d2), seed, **kw)
    delta = module.build(truth, pd.Timestamp(d2), seed, since=pd.Timestamp(d1), **kw)
    assert set(delta.databases) == set(new.databases)
    n = 0
    for db, tables in new.databases.items():
        for name, spec in tables.items():
            new_rows = row_hashes(spec.frame)
            old_spec = old.databases.get(db, {}).get(name)
            old_rows = row_hashes(old_spec.frame) if old_spec is not None else np.zeros(0, np.uint64)
            got = delta.databases[db][name].frame
            assert list(got.columns) == list(spec.frame.columns)
            assert (got.dtypes == spec.frame.dtypes).all(), f"{db}.{name}: delta dtypes differ"
            expected = new_rows[~np.isin(new_rows, old_rows)]
            assert same_rows(row_hashes(got), expected), f"{db}.{name}: delta differs from the difference"
            if old_spec is not None:
                old_keys = pd.MultiIndex.from_frame(old_spec.frame[spec.primary_key])
                new_keys = pd.MultiIndex.from_frame(spec.frame[spec.primary_key])
                assert old_keys.isin(new_keys).all(), f"{db}.{name}: rows disappeared"
            n += len(got)
    new_records = row_set(new.source_records)
    old_records = row_set(old.source_records)
    assert row_set(delta.source_records) == new_records - old_records
    return n
