"""Care vendor A: one database per home, as it stood on a date, with its documented defects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_sources.systems import care_a
from synthetic_sources.systems.base import GO_LIVE, DefectRates

from helpers.truth_care import assert_delta_is_difference, make_truth, world_tables

GO = GO_LIVE["care_a"]
AS_OF = pd.Timestamp("2025-06-30")


@pytest.fixture(scope="module")
def truth():
    return make_truth(n_people=1200, seed=11)


@pytest.fixture(scope="module")
def big():
    return make_truth(n_people=4000, seed=3)


@pytest.fixture(scope="module")
def extract(truth):
    return care_a.build(truth, AS_OF, seed=5)


def _all(extract, table: str) -> pd.DataFrame:
    """One table across every home's database, with the database name."""
    return pd.concat(
        [t[table].frame.assign(database=db) for db, t in extract.databases.items()], ignore_index=True
    )


def _a_stays(truth) -> pd.DataFrame:
    homes = care_a.home_databases(truth["schemes"])
    return truth["care_stays"].merge(homes[["scheme_id", "database"]], on="scheme_id")


def _d(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format=care_a.DATE_FORMAT)


def _with_truth(extract, truth) -> pd.DataFrame:
    """Stays joined to the true stay they came from, through source_records and admission order."""
    stays = _all(extract, "Stay")
    rec = extract.source_records.assign(
        database=lambda r: r.record_key.str.split(":").str[0],
        ResidentNo=lambda r: r.record_key.str.split(":").str[1].astype(np.int64),
    )
    stays = stays.merge(rec[["database", "ResidentNo", "person_id"]], on=["database", "ResidentNo"])
    true = _a_stays(truth)
    # a resident's stays in a home, in order, are the person's true stays there in order
    stays = stays.sort_values(["database", "ResidentNo", "StayId"])
    stays["nth"] = stays.groupby(["database", "ResidentNo"]).cumcount()
    true = true.loc[true.discharge_date.isna() | (true.discharge_date >= GO)]
    true = true.sort_values(["database", "person_id", "admission_date"])
    true["nth"] = true.groupby(["database", "person_id"]).cumcount()
    return stays.merge(true, on=["database", "person_id", "nth"])


def test_one_database_per_vendor_a_home_with_its_tables(truth, extract):
    homes = truth["schemes"].query("scheme_type == 'care_home' and vendor == 'A'")
    assert len(extract.databases) == len(homes) == 3
    assert all(db.startswith("care_a_") for db in extract.databases)
    for tables in extract.databases.values():
        assert set(tables) == {"Home", "Resident", "Stay", "Assessment", "Transfer"}
        for spec in tables.values():
            assert spec.change_marker == "LastModified"
            assert not spec.frame.duplicated(spec.primary_key).any()
            assert spec.frame["LastModified"].max() <= AS_OF
    # vendor B's homes are not here
    assert len(_all(extract, "Stay")) < len(truth["care_stays"])


def test_nothing_before_go_live(truth):
    assert care_a.build(truth, GO - pd.Timedelta(days=1), seed=5).databases == {}
    first = care_a.build(truth, GO, seed=5)
    assert len(_all(first, "Stay")) > 0


def test_left_truncation_keeps_residents_present_at_go_live(truth, extract):
    joined = _with_truth(extract, truth)
    true = _a_stays(truth)
    # nothing that ended before go-live; everything present at go-live is there
    assert (true.discharge_date < GO).sum() > 0
    present = true.loc[(true.admission_date < GO) & (true.discharge_date.isna() | (true.discharge_date >= GO))]
    assert len(joined.loc[joined.admission_date < GO]) == len(present) > 0
    migrated = joined.loc[joined.admission_date < GO]
    assert (_d(migrated.AdmissionDate) == migrated.admission_date).all()  # true admission dates
    assert (migrated.LastModified >= GO).all()
    for table, col in (("Assessment", "AssessmentDate"), ("Transfer", "DateOut")):
        assert (_d(_all(extract, table)[col]) >= GO).all()


def test_open_and_future_discharges_are_null(truth):
    mid = pd.Timestamp("2016-03-15")
    joined = _with_truth(care_a.build(truth, mid, seed=5), truth)
    future = joined.discharge_date.isna() | (joined.discharge_date > mid)
    assert future.sum() > 10
    assert joined.loc[future, "DischargeDate"].isna().all()
    assert joined.loc[future, "DischargeReason"].isna().all()
    assert (joined.admission_date <= mid).all()  # nothing admitted after the as-of date
    past = joined.discharge_date <= mid - pd.Timedelta(days=61)  # beyond any late arrival
    assert joined.loc[past, "DischargeDate"].notna().all()


@pytest.mark.parametrize(
    "d1, d2",
    [
        ("2008-12-31", "2009-01-01"),
        ("2012-05-01", "2012-05-02"),
        ("2016-01-10", "2016-03-01"),
        ("2019-06-30", "2025-06-30"),
    ],
)
def test_delta_is_what_changed(truth, d1, d2):
    assert_delta_is_difference(care_a, truth, d1, d2)


def test_one_day_delta_on_a_busy_day(truth):
    """The night after an admission and a discharge: both rows, and nothing else, come across."""
    stays = _a_stays(truth)
    day = stays.loc[stays.discharge_date > GO + pd.Timedelta(days=400), "discharge_date"].min()
    assert assert_delta_is_difference(care_a, truth, day - pd.Timedelta(days=1), day) > 0


def test_delta_with_every_defect_frequent(truth):
    """Late rows, corrections and contradictions all change rows on their own days."""
    rates = DefectRates(late=0.3, corrected=0.3, contradictory=0.3)
    n = 0
    for d1 in pd.date_range("2014-02-01", periods=8, freq="5D"):
        n += assert_delta_is_difference(care_a, truth, d1, d1 + pd.Timedelta(days=1), rates=rates)
    assert n > 0
    assert assert_delta_is_difference(care_a, truth, "2014-02-01", "2014-05-01", rates=rates) > 0


def test_deterministic_and_numbers_stable_whatever_the_as_of_date(truth, extract):
    again = care_a.build(truth, AS_OF, seed=5)
    for db, tables in extract.databases.items():
        for name, spec in tables.items():
            pd.testing.assert_frame_equal(spec.frame, again.databases[db][name].frame)
    early = care_a.build(truth, pd.Timestamp("2013-01-01"), seed=5)
    e = early.source_records.set_index("record_key")["person_id"]
    late = extract.source_records.set_index("record_key")["person_id"]
    assert len(e) > 20
    assert (late.loc[e.index] == e).all()


def test_source_records_map_every_resident(truth, extract):
    residents = _all(extract, "Resident")
    keys = residents.database + ":" + residents.ResidentNo.astype(str)
    rec = extract.source_records
    assert set(rec.record_key) == set(keys) and len(rec) == len(keys)
    assert set(rec.system) == {"care_a"} and set(rec.table) == {"Resident"}
    assert rec.person_id.dtype == np.int64
    assert 1 <= (rec.person_id == -1).sum() <= DefectRates().test_records
    # the true person's date of birth is what the home recorded (bar the 1% day/month swaps)
    real = residents.assign(record_key=keys).merge(rec, on="record_key").query("person_id >= 0")
    true_dob = real.person_id.map(truth["people"].set_index("person_id").dob)
    assert (_d(real.DateOfBirth) == true_dob).mean() > 0.95


def test_ni_numbers_missing_and_malformed_at_the_documented_rates(big):
    res = _all(care_a.build(big, AS_OF, seed=9), "Resident")
    res = res.loc[res.ResidentNo < care_a.TEST_RESIDENT_NO]
    assert len(res) > 700
    assert res.NINumber.isna().mean() == pytest.approx(0.25, abs=0.05)
    present = res.NINumber.dropna()
    well_formed = present.str.fullmatch(r"[A-Z]{2}\d{6}[A-D]")
    assert (~well_formed).mean() == pytest.approx(0.05, abs=0.03)
    # the rate is the configured one, not a constant
    rates = DefectRates(ni_missing={**DefectRates().ni_missing, "care_a": 0.6})
    res = _all(care_a.build(big, AS_OF, seed=9, rates=rates), "Resident")
    assert res.NINumber.isna().mean() == pytest.approx(0.6, abs=0.05)


def test_names_dates_of_birth_and_surname_changes(truth, extract):
    residents = _all(extract, "Resident")
    rec = extract.source_records
    real = residents.assign(record_key=residents.database + ":" + residents.ResidentNo.astype(str))
    real = real.merge(rec, on="record_key").query("person_id >= 0")
    people = truth["people"].set_index("person_id").loc[real.person_id]
    assert _d(real.DateOfBirth).notna().all()  # every one parses in dd/mm/yyyy
    created = _d(real.DateCreated).to_numpy()
    changed = people.surname_changed.to_numpy()
    before = (created < changed) & (people.previous_surname.to_numpy() != "")
    after = ~np.isnat(changed) & (created >= changed)
    assert before.sum() > 3 and after.sum() > 3
    # surnames as at the record's creation (bar typos)
    assert (real.Surname.to_numpy()[before] == people.previous_surname.to_numpy()[before]).mean() > 0.85
    assert (real.Surname.to_numpy()[after] == people.surname.to_numpy()[after]).mean() > 0.85
    assert (real.Forename.to_numpy() != people.first_name.to_numpy()).mean() < 0.12


def test_late_records_arrive_within_sixty_days(big, extract):
    rates = DefectRates(late=0.5, corrected=0.0, contradictory=0.0)
    final = _with_truth(care_a.build(big, AS_OF, seed=5, rates=rates), big)
    open_ = final.loc[final.DischargeDate.isna() & (final.admission_date >= GO)]
    lag = (open_.LastModified - open_.admission_date).dt.days  # the day each was keyed
    assert len(open_) > 40
    assert lag.between(0, 60).all()
    assert (lag > 0).mean() == pytest.approx(0.5, abs=0.15)
    # a late stay is absent the day before it was keyed, present on the day
    for row in open_.loc[lag > 0].head(5).itertuples():
        before = _with_truth(care_a.build(big, row.LastModified - pd.Timedelta(days=1), seed=5, rates=rates), big)
        on = _with_truth(care_a.build(big, row.LastModified, seed=5, rates=rates), big)
        assert row.stay_id not in set(before.stay_id) and row.stay_id in set(on.stay_id)
    # at the default rate about 1% of assessments are keyed late, by 1-60 days
    a = _all(extract, "Assessment")
    lag = (a.LastModified - _d(a.AssessmentDate)).dt.days
    assert lag.between(0, 60).all()
    assert (lag > 0).mean() == pytest.approx(0.01, abs=0.008)


def test_corrected_admission_dates_are_wrong_until_fixed(big):
    """A stay keyed wrongly shows the wrong date until its correction, within 60 days."""
    rates = DefectRates(late=0.0, corrected=0.5, contradictory=0.0)
    n_wrong = 0
    for day in pd.date_range("2016-01-01", periods=8, freq="45D"):
        now = _with_truth(care_a.build(big, day, seed=5, rates=rates), big)
        wrong = now.loc[_d(now.AdmissionDate) != now.admission_date]
        assert (_d(wrong.AdmissionDate) < wrong.admission_date).all()
        later = _with_truth(care_a.build(big, day + pd.Timedelta(days=61), seed=5, rates=rates), big)
        fixed = later.loc[later.stay_id.isin(wrong.stay_id)]
        assert len(fixed) == len(wrong)
        assert (_d(fixed.AdmissionDate) == fixed.admission_date).all()
        n_wrong += len(wrong)
    assert n_wrong > 0
    clean = _with_truth(care_a.build(big, AS_OF, seed=5, rates=rates), big)
    settled = clean.loc[clean.admission_date < AS_OF - pd.Timedelta(days=61)]
    assert (_d(settled.AdmissionDate) == settled.admission_date).all()


def test_contradictory_discharges(truth):
    rates = DefectRates(contradictory=0.2)
    joined = _with_truth(care_a.build(truth, AS_OF, seed=5, rates=rates), truth)
    ended = joined.loc[joined.DischargeDate.notna()].copy()
    shown, adm = _d(ended.DischargeDate), _d(ended.AdmissionDate)
    before_admission = shown < adm
    nxt = ended.sort_values("admission_date").groupby(["database", "ResidentNo"])["admission_date"].shift(-1)
    overlapping = shown > nxt.reindex(ended.index)
    bad = (before_admission | overlapping).mean()
    assert bad == pytest.approx(0.2, abs=0.06)
    clean = _with_truth(care_a.build(truth, AS_OF, seed=5), truth)
    clean_ended = clean.loc[clean.DischargeDate.notna()]
    assert (_d(clean_ended.DischargeDate) < _d(clean_ended.AdmissionDate)).mean() < 0.02


def test_transfers_follow_the_true_spells_away(truth, extract):
    stays = _with_truth(extract, truth)
    transfers = _all(extract, "Transfer")
    spells = truth["hospital_spells"].merge(
        stays[["stay_id", "database", "StayId"]], left_on="care_stay_id", right_on="stay_id"
    )
    spells = spells.loc[(spells.admission_date >= GO) & (spells.admission_date <= AS_OF - pd.Timedelta(days=61))]
    hosp = transfers.loc[transfers.TransferTo == "HOSP"]
    assert len(spells) > 20
    got = hosp.merge(spells, on=["database", "StayId"])
    got = got.loc[_d(got.DateOut) == got.admission_date]
    assert len(got) == len(spells)
    done = got.loc[got.discharge_date <= AS_OF - pd.Timedelta(days=61)]
    assert (done.Outcome.loc[done.destination == "died"] == "DIED").all()
    assert (done.Outcome.loc[done.destination == "home"] == "RETURNED").mean() > 0.9
    assert set(transfers.Outcome.dropna()) <= {"RETURNED", "DIED", "NOT RETURNED"}
    assert set(transfers.TransferTo) <= {"HOSP", "HOSPICE"}


def test_assessments_every_quarter_with_score_rising_with_need(truth, extract):
    a = _all(extract, "Assessment")
    stays = _with_truth(extract, truth)
    a = a.merge(stays[["database", "StayId", "person_id", "admission_date"]], on=["database", "StayId"])
    first = a.loc[a.AssessmentType == "ADMISSION"]
    assert (_d(first.AssessmentDate) == first.admission_date).all()
    gaps = a.sort_values("AssessmentId").groupby(["database", "StayId"])["AssessmentDate"].apply(
        lambda s: _d(s).diff().dt.days.dropna()
    )
    assert gaps.between(84, 98).all()
    pm = truth["person_months"].set_index(["person_id", "month"]).need_level
    month = _d(a.AssessmentDate).dt.to_period("M").dt.start_time
    a["need"] = pm.reindex(list(zip(a.person_id, month))).to_numpy()
    means = a.groupby("need").DependencyScore.mean()
    assert means.is_monotonic_increasing and len(means) >= 3
    assert a.DependencyScore.between(0, 100).all()


def test_builds_on_the_simulated_world():
    truth = world_tables()
    extract = care_a.build(truth, pd.Timestamp("2026-10-31"), seed=1)
    assert len(extract.databases) >= 1
    stays = _all(extract, "Stay")
    assert len(stays) > 0 and stays.DischargeReason.dropna().isin(care_a.DISCHARGE_REASON.values()).all()
    assert assert_delta_is_difference(care_a, truth, "2020-01-01", "2026-10-31") > 0
    rec = extract.source_records
    assert rec.loc[rec.person_id >= 0, "person_id"].isin(truth["people"].person_id).all()
