"""Domiciliary care: packages, suspensions and time-stamped visits as held on a date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_sources.systems import domcare
from synthetic_sources.systems.base import GO_LIVE, DefectRates

from helpers.truth_care import assert_delta_is_difference, make_truth, row_hashes, world_tables

GO = GO_LIVE["domcare"]
AS_OF = pd.Timestamp("2025-06-30")


@pytest.fixture(scope="module")
def truth():
    return make_truth(n_people=1200, seed=11)


@pytest.fixture(scope="module")
def extract(truth):
    return domcare.build(truth, AS_OF, seed=5)


def _t(extract, name) -> pd.DataFrame:
    return extract.databases["domcare"][name].frame


def _packages_with_truth(extract, truth) -> pd.DataFrame:
    """System packages joined to the true packages (a user's packages in start order)."""
    users = extract.source_records.assign(service_user_id=lambda r: r.record_key.astype(np.int64))
    pk = _t(extract, "package").merge(users[["service_user_id", "person_id"]], on="service_user_id")
    pk = pk.sort_values(["service_user_id", "start_date", "package_id"])
    pk["nth"] = pk.groupby("service_user_id").cumcount()
    true = truth["care_packages"]
    true = true.loc[true.end_date.isna() | (true.end_date >= GO)].sort_values(["person_id", "start_date", "package_id"])
    true = true.assign(nth=true.groupby("person_id").cumcount())
    return pk.merge(true, on=["person_id", "nth"], suffixes=("", "_true"))


def _day_key(person, day) -> np.ndarray:
    """(person, day) as one integer, for set membership over millions of rows."""
    days = pd.to_datetime(pd.Series(np.asarray(day))).to_numpy().astype("datetime64[D]").astype(np.int64)
    return np.asarray(person, dtype=np.int64) * (1 << 20) + days


def _away_keys(truth) -> np.ndarray:
    """Every (person, day) spent in hospital, a hospice or a care home, ends included."""
    keys = []
    for name in ("hospital_spells", "hospice_stays", "care_stays"):
        t = truth[name]
        a = t.admission_date.to_numpy().astype("datetime64[D]").astype(np.int64)
        b = t.discharge_date.fillna(pd.Timestamp("2030-01-01")).to_numpy().astype("datetime64[D]").astype(np.int64)
        n = np.maximum(b - a + 1, 0)
        day = np.repeat(a, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        keys.append(np.repeat(t.person_id.to_numpy(np.int64), n) * (1 << 20) + day)
    return np.unique(np.concatenate(keys))


def test_tables_keys_and_markers(extract):
    db = extract.databases["domcare"]
    assert set(db) == {"service_user", "package", "suspension", "visit"}
    for spec in db.values():
        assert spec.change_marker == "last_updated"
        assert not spec.frame.duplicated(spec.primary_key).any()
        assert spec.frame.last_updated.max() <= AS_OF
    v = _t(extract, "visit")
    assert v.visit_id.is_unique and len(v) > 100_000
    assert v.planned_start.dtype == "datetime64[ns]" and v.status.dtype == object
    assert set(v.status) == {"COMPLETED", "MISSED"}


def test_nothing_before_go_live_and_left_truncation(truth, extract):
    assert domcare.build(truth, GO - pd.Timedelta(days=1), seed=5).databases == {}
    joined = _packages_with_truth(extract, truth)
    migrated = joined.loc[joined.start_date_true < GO]
    assert len(migrated) > 20
    assert (migrated.start_date == migrated.start_date_true).all()  # true start dates
    assert (migrated.last_updated >= GO).all()
    gone = truth["care_packages"].end_date < GO
    assert gone.sum() > 0 and len(joined) == (~gone).sum() - (truth["care_packages"].start_date > AS_OF).sum()
    assert _t(extract, "visit").planned_start.min() >= GO
    assert _t(extract, "suspension").suspended_from.min() >= GO


def test_open_and_future_ends_are_null(truth):
    mid = pd.Timestamp("2019-03-01")
    joined = _packages_with_truth(domcare.build(truth, mid, seed=5), truth)
    future = joined.end_date_true.isna() | (joined.end_date_true > mid)
    assert future.sum() > 20
    assert joined.loc[future, "end_date"].isna().all() and joined.loc[future, "end_reason"].isna().all()
    assert (joined.start_date <= mid).all()
    settled = joined.end_date_true <= mid - pd.Timedelta(days=61)
    assert joined.loc[settled, "end_date"].notna().all()


def test_no_visits_while_away_in_hospital_hospice_or_care_home(truth, extract):
    v = _t(extract, "visit")
    users = extract.source_records.set_index(extract.source_records.record_key.astype(np.int64)).person_id
    person = v.service_user_id.map(users).to_numpy()
    away = _away_keys(truth)
    assert len(away) > 10_000
    assert not np.isin(_day_key(person, v.planned_start.dt.normalize()), away).any()
    # and packages were suspended, not ended: visits resume after a spell
    sus = _t(extract, "suspension").dropna(subset=["resumed_on"])
    assert len(sus) > 50
    resumed = v.merge(sus, on="package_id")
    resumed = resumed.loc[(resumed.planned_start >= resumed.resumed_on)
                          & (resumed.planned_start < resumed.resumed_on + pd.Timedelta(days=7))]
    assert resumed.suspension_id.nunique() > 0.8 * len(sus.loc[sus.resumed_on < AS_OF - pd.Timedelta(days=7)])


def test_suspensions_follow_the_true_hospital_spells(truth, extract):
    joined = _packages_with_truth(extract, truth)
    pk = joined[["package_id", "person_id", "start_date", "end_date_true"]]
    spells = truth["hospital_spells"].merge(pk, on="person_id")
    spells = spells.loc[(spells.admission_date >= spells.start_date) & (spells.admission_date >= GO)
                        & (spells.end_date_true.isna() | (spells.admission_date < spells.end_date_true))
                        & (spells.admission_date <= AS_OF - pd.Timedelta(days=61))]
    sus = _t(extract, "suspension").query("reason == 'HOSPITAL'")
    got = spells.merge(sus, left_on=["package_id", "admission_date"], right_on=["package_id", "suspended_from"])
    assert len(spells) > 50 and len(got) == len(spells)
    back = got.loc[got.resumed_on.notna()]
    assert (back.resumed_on == back.discharge_date + pd.Timedelta(days=1)).all()


def test_weekly_hours_match_the_package(truth, extract):
    """Planned visit hours per week at home are the package's hours (within draw noise)."""
    v = _t(extract, "visit")
    joined = _packages_with_truth(extract, truth)
    mins = (v.planned_end - v.planned_start).dt.total_seconds() / 60
    planned = (mins.groupby(v.package_id).sum() / 60).rename("visit_hours")
    days_seen = v.planned_start.dt.normalize().groupby(v.package_id).nunique()
    j = joined.set_index("package_id").join(planned, how="inner")
    first = j.start_date.clip(lower=GO).to_numpy().astype("datetime64[D]").astype(np.int64)
    last = j.end_date_true.fillna(AS_OF + pd.Timedelta(days=1)).clip(upper=AS_OF + pd.Timedelta(days=1))
    n = np.maximum(last.to_numpy().astype("datetime64[D]").astype(np.int64) - first, 0)
    day = np.repeat(first, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    home = ~np.isin(np.repeat(j.person_id.to_numpy(np.int64), n) * (1 << 20) + day, _away_keys(truth))
    j["weeks"] = np.bincount(np.repeat(np.arange(len(j)), n), weights=home, minlength=len(j)) / 7
    long = j.loc[(j.weeks >= 12) & (j.hours_per_week * 60 / 7 / 30 >= 1)]  # a call a day or more
    ratio = long.visit_hours / long.weeks / long.hours_per_week
    assert len(long) > 100
    assert ratio.median() == pytest.approx(1.0, abs=0.03)
    assert ratio.between(0.85, 1.15).mean() > 0.9
    # every package's calls: 1-4 a day of 30-60 minutes (longer only beyond 28 hours a week)
    per_day = v.groupby([v.package_id, v.planned_start.dt.normalize()]).size()
    assert per_day.between(1, 4).all()
    heavy = set(j.index[j.hours_per_week > 28])
    assert mins[~v.package_id.isin(heavy)].between(30, 60).all()
    assert days_seen.max() > 0


def test_actual_times_jittered_and_visits_missed(extract):
    v = _t(extract, "visit")
    assert (v.status == "MISSED").mean() == pytest.approx(domcare.MISSED, abs=0.003)
    done = v.loc[v.status == "COMPLETED"]
    assert v.loc[v.status == "MISSED", ["actual_start", "actual_end"]].isna().all().all()
    late_by = (done.actual_start - done.planned_start).dt.total_seconds() / 60
    assert late_by.between(-26, 36).all() and 2 < late_by.mean() < 8
    ratio = (done.actual_end - done.actual_start) / (done.planned_end - done.planned_start)
    assert ratio.between(0.79, 1.16).mean() > 0.985  # the rest: contradictory or not closed yet
    assert v.carer_id.between(1001, 3150).all()


def test_defects_on_visits(truth):
    rates = DefectRates(late=0.2, corrected=0.2, contradictory=0.2)
    v = _t(domcare.build(truth, AS_OF, seed=5, rates=rates), "visit")
    done = v.loc[v.status == "COMPLETED"]
    length = done.actual_end - done.actual_start
    assert (length < pd.Timedelta(0)).mean() == pytest.approx(0.2, abs=0.02)
    lag = (v.last_updated - v.planned_start.dt.normalize()).dt.days
    assert lag.between(0, 120).all()
    # open shifts: corrected visits show 12 hours until fixed 1-60 days after they are keyed
    recent = done.loc[done.planned_start >= AS_OF - pd.Timedelta(days=5)]
    twelve = (recent.actual_end - recent.actual_start) == pd.Timedelta(hours=12)
    assert len(recent) > 500
    assert twelve.mean() == pytest.approx(0.2 * (1 - 3 / 60), abs=0.04)
    old = done.loc[done.planned_start < AS_OF - pd.Timedelta(days=200)]
    assert not ((old.actual_end - old.actual_start) == pd.Timedelta(hours=12)).any()


@pytest.mark.parametrize(
    "d1, d2", [("2014-12-31", "2015-01-01"), ("2018-02-11", "2018-02-12"), ("2021-01-01", "2021-04-01")]
)
def test_delta_is_what_changed(truth, d1, d2):
    assert assert_delta_is_difference(domcare, truth, d1, d2) > 0


def test_delta_with_every_defect_frequent(truth):
    rates = DefectRates(late=0.3, corrected=0.3, contradictory=0.3)
    assert assert_delta_is_difference(domcare, truth, "2020-05-05", "2020-05-06", rates=rates) > 0


def test_windows_give_the_same_visits(truth, extract):
    whole = _t(extract, "visit")
    parts = list(domcare.iter_visits(truth, AS_OF, seed=5, chunk_days=200))
    assert len(parts) > 5
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    assert whole.planned_start.dt.normalize().is_monotonic_increasing


def test_deterministic_and_ids_stable(truth, extract):
    again = domcare.build(truth, AS_OF, seed=5)
    for name, spec in extract.databases["domcare"].items():
        pd.testing.assert_frame_equal(spec.frame, again.databases["domcare"][name].frame)
    early = domcare.build(truth, pd.Timestamp("2018-01-01"), seed=5)
    old = _t(early, "visit")
    new = _t(extract, "visit")
    settled = old.loc[old.last_updated < pd.Timestamp("2017-09-01")]
    assert len(settled) > 1000
    assert np.isin(row_hashes(settled), row_hashes(new)).all()  # same ids, same content
    other_seed = _t(domcare.build(truth, AS_OF, seed=6), "visit")
    assert not other_seed.carer_id.equals(new.carer_id)


def test_people_records(truth, extract):
    su = _t(extract, "service_user")
    rec = extract.source_records
    assert set(rec.record_key) == set(su.service_user_id.astype(str)) and len(rec) == len(su)
    assert set(rec.system) == {"domcare"} and set(rec.table) == {"service_user"}
    real = su.merge(rec.assign(service_user_id=rec.record_key.astype(np.int64)), on="service_user_id")
    assert 1 <= (real.person_id == -1).sum() <= 4
    real = real.loc[real.person_id >= 0]
    assert real.ni_number.isna().mean() == pytest.approx(0.15, abs=0.05)
    dob = pd.to_datetime(real.date_of_birth, format=domcare.DOB_FORMAT)
    assert (dob == real.person_id.map(truth["people"].set_index("person_id").dob)).mean() > 0.95
    assert set(real.sex) <= {1, 2}


def test_builds_on_the_simulated_world():
    truth = world_tables()
    extract = domcare.build(truth, pd.Timestamp("2026-10-31"), seed=1)
    v = _t(extract, "visit")
    assert len(v) > 10_000
    assert assert_delta_is_difference(domcare, truth, "2022-03-01", "2022-03-02") > 0
    rec = extract.source_records
    assert rec.loc[rec.person_id >= 0, "person_id"].isin(truth["people"].person_id).all()
