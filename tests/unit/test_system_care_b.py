"""Care vendor B: vendor-wide clients, placements and an event log of movements, as of a date."""

from __future__ import annotations

import pandas as pd
import pytest

from synthetic_sources.systems import care_b
from synthetic_sources.systems.base import GO_LIVE, DefectRates

from helpers.truth_care import assert_delta_is_difference, make_truth, world_tables

GO = GO_LIVE["care_b"]
AS_OF = pd.Timestamp("2025-06-30")


@pytest.fixture(scope="module")
def truth():
    return make_truth(n_people=1200, seed=11)


@pytest.fixture(scope="module")
def big():
    return make_truth(n_people=4000, seed=3)


@pytest.fixture(scope="module")
def extract(truth):
    return care_b.build(truth, AS_OF, seed=5)


def _t(extract, name) -> pd.DataFrame:
    return extract.databases["care_b"][name].frame


def _d(text) -> pd.Series:
    return pd.to_datetime(text, format=care_b.DATE_FORMAT)


def _b_stays(truth) -> pd.DataFrame:
    homes = care_b.homes(truth["schemes"])
    return truth["care_stays"].merge(homes[["scheme_id", "home_code"]], on="scheme_id")


def _placements_with_truth(extract, truth) -> pd.DataFrame:
    """Placements joined to their true stays (a client's placements in order are the person's)."""
    pl = _t(extract, "placement").merge(
        extract.source_records.rename(columns={"record_key": "client_ref"})[["client_ref", "person_id"]],
        on="client_ref",
    )
    pl = pl.sort_values(["client_ref", "placement_id"])
    pl["nth"] = pl.groupby("client_ref").cumcount()
    true = _b_stays(truth)
    true = true.loc[true.discharge_date.isna() | (true.discharge_date >= GO)]
    true = true.sort_values(["person_id", "admission_date", "stay_id"])
    true["nth"] = true.groupby("person_id").cumcount()
    return pl.merge(true, on=["person_id", "nth"], suffixes=("", "_true"))


def test_one_database_four_tables(truth, extract):
    assert list(extract.databases) == ["care_b"]
    db = extract.databases["care_b"]
    assert set(db) == {"home", "client", "placement", "movement_event"}
    for spec in db.values():
        assert spec.change_marker == "updated_at"
        assert not spec.frame.duplicated(spec.primary_key).any()
        assert spec.frame.updated_at.max() <= AS_OF
    assert len(_t(extract, "home")) == 2
    ev = _t(extract, "movement_event")
    assert set(ev.event_code) == {"ADM", "HTX", "HRT", "HSP", "DTH", "DIS"}
    assert set(ev.location) <= {"ACUTE_HOSPITAL", "HOSPICE", "CARE_HOME", "COMMUNITY"}
    assert pd.to_datetime(ev.event_ts, format=care_b.TS_FORMAT).notna().all()
    # every event belongs to a placement and a client the export holds
    assert ev.placement_id.isin(_t(extract, "placement").placement_id).all()
    assert ev.client_ref.isin(_t(extract, "client").client_ref).all()


def test_nothing_before_go_live_and_migrated_placements(truth, extract):
    assert care_b.build(truth, GO - pd.Timedelta(days=1), seed=5).databases == {}
    joined = _placements_with_truth(extract, truth)
    migrated = joined.loc[joined.admission_date < GO]
    assert len(migrated) > 10
    assert (_d(migrated.start_date) == migrated.admission_date).all()
    # the event log starts at go-live: migrated placements have no admission event
    ev = _t(extract, "movement_event")
    adm = ev.loc[ev.event_code == "ADM"]
    assert not adm.placement_id.isin(migrated.placement_id).any()
    assert pd.to_datetime(ev.event_ts, format=care_b.TS_FORMAT).min() >= GO
    true = _b_stays(truth)
    assert (true.discharge_date < GO).sum() > 0
    assert len(joined) == (true.discharge_date.isna() | (true.discharge_date >= GO)).sum() - (
        true.admission_date > AS_OF).sum()


def test_open_and_future_ends_are_null(truth):
    mid = pd.Timestamp("2017-07-01")
    joined = _placements_with_truth(care_b.build(truth, mid, seed=5), truth)
    future = joined.discharge_date.isna() | (joined.discharge_date > mid)
    assert future.sum() > 10 and joined.loc[future, "end_date"].isna().all()
    assert (joined.admission_date <= mid).all()
    ev = _t(care_b.build(truth, mid, seed=5), "movement_event")
    assert pd.to_datetime(ev.event_ts, format=care_b.TS_FORMAT).max() < mid + pd.Timedelta(days=1)


def test_event_log_tells_each_placement_story(truth, extract):
    joined = _placements_with_truth(extract, truth)
    ev = _t(extract, "movement_event").assign(
        date=lambda e: pd.to_datetime(e.event_ts, format=care_b.TS_FORMAT).dt.normalize()
    )
    settled = joined.loc[(joined.admission_date >= GO) & (joined.admission_date < AS_OF - pd.Timedelta(days=61))]
    adm = ev.loc[ev.event_code == "ADM"].set_index("placement_id")
    assert (adm.loc[settled.placement_id, "date"].to_numpy() == settled.admission_date.to_numpy()).all()
    where = adm.loc[settled.placement_id, "location"].to_numpy()
    assert (where == settled.admission_source.map(care_b.ADMITTED_FROM).to_numpy()).all()
    ended = joined.loc[joined.discharge_date < AS_OF - pd.Timedelta(days=61)]
    last = ev.loc[ev.event_code.isin(["DTH", "DIS"])].set_index("placement_id")
    codes = last.loc[ended.placement_id, "event_code"].to_numpy()
    assert (codes == ended.discharge_destination.map(lambda d: care_b.END_EVENT[d][0]).to_numpy()).all()
    # every spell to hospital returns (HRT) or the placement ends with the person's death
    htx = ev.loc[ev.event_code == "HTX"].sort_values("event_id")
    hrt = ev.loc[(ev.event_code == "HRT") & (ev.location == "ACUTE_HOSPITAL")]
    dth = ev.loc[ev.event_code == "DTH"]
    assert len(htx) > 30
    assert len(hrt) + len(dth.loc[dth.location == "ACUTE_HOSPITAL"]) >= 0.9 * len(htx)
    # event ids are in time order
    ordered = ev.sort_values("event_id")
    assert ordered.date.is_monotonic_increasing or (ordered.date.diff().dt.days < -60).sum() == 0


@pytest.mark.parametrize(
    "d1, d2", [("2013-12-31", "2014-01-01"), ("2016-06-01", "2016-09-01"), ("2019-01-01", "2025-06-30")]
)
def test_delta_is_what_changed(truth, d1, d2):
    assert assert_delta_is_difference(care_b, truth, d1, d2) > 0


def test_delta_day_by_day_with_every_defect_frequent(truth):
    """Nights after admissions and discharges, with late, corrected and contradictory rows."""
    rates = DefectRates(late=0.3, corrected=0.3, contradictory=0.3)
    stays = _b_stays(truth)
    days = pd.concat([stays.admission_date, stays.discharge_date]).dropna()
    n = 0
    for day in sorted(days.loc[days > pd.Timestamp("2018-01-01")])[:6]:
        n += assert_delta_is_difference(care_b, truth, day - pd.Timedelta(days=1), day, rates=rates)
    assert n > 0


def test_deterministic_and_refs_stable(truth, extract):
    again = care_b.build(truth, AS_OF, seed=5)
    for name, spec in extract.databases["care_b"].items():
        pd.testing.assert_frame_equal(spec.frame, again.databases["care_b"][name].frame)
    early = care_b.build(truth, pd.Timestamp("2016-01-01"), seed=5).source_records.set_index("record_key").person_id
    late = extract.source_records.set_index("record_key").person_id
    assert len(early) > 20 and (late.loc[early.index] == early).all()


def test_clients_and_their_defects(big):
    ex = care_b.build(big, AS_OF, seed=9)
    clients = _t(ex, "client")
    rec = ex.source_records
    assert set(rec.record_key) == set(clients.client_ref) and len(rec) == len(clients)
    assert set(rec.system) == {"care_b"} and set(rec.table) == {"client"}
    real = clients.merge(rec, left_on="client_ref", right_on="record_key")
    assert 1 <= (real.person_id == -1).sum() <= 4
    real = real.loc[real.person_id >= 0]
    assert len(real) > 300
    assert real.ni_no.isna().mean() == pytest.approx(0.40, abs=0.07)
    bad = ~real.ni_no.dropna().str.fullmatch(r"[A-Z]{2}\d{6}[A-D]")
    assert bad.mean() == pytest.approx(0.05, abs=0.03)
    true_dob = real.person_id.map(big["people"].set_index("person_id").dob)
    same = _d(real.birth_date) == true_dob
    assert 0.95 < same.mean() < 1.0  # swaps, about 1% of the eligible
    assert set(real.gender) <= {"M", "F"}
    # a client keyed wrongly keeps the typo: names differ from the truth for a few percent
    first = real.person_id.map(big["people"].set_index("person_id").first_name)
    assert 0.01 < (real.first_name != first).mean() < 0.12


def test_late_corrected_and_contradictory_placements(big):
    rates = DefectRates(late=0.0, corrected=0.5, contradictory=0.3)
    n_wrong = 0
    for day in pd.date_range("2016-01-01", periods=6, freq="60D"):
        now = _placements_with_truth(care_b.build(big, day, seed=5, rates=rates), big)
        wrong = now.loc[_d(now.start_date) != now.admission_date]
        assert (_d(wrong.start_date) < wrong.admission_date).all()
        later = _placements_with_truth(care_b.build(big, day + pd.Timedelta(days=61), seed=5, rates=rates), big)
        fixed = later.loc[later.placement_id.isin(wrong.placement_id)]
        assert len(fixed) == len(wrong) and (_d(fixed.start_date) == fixed.admission_date).all()
        n_wrong += len(wrong)
    assert n_wrong > 0
    final = _placements_with_truth(care_b.build(big, AS_OF, seed=5, rates=rates), big)
    ended = final.loc[final.end_date.notna()]
    start, end = _d(ended.start_date), _d(ended.end_date)
    nxt = ended.sort_values("placement_id").groupby("client_ref").start_date.shift(-1)
    odd = (end < start) | (end > _d(nxt.reindex(ended.index)))
    assert odd.mean() == pytest.approx(0.3, abs=0.07)


def test_late_events_arrive_within_sixty_days(big):
    rates = DefectRates(late=0.5, corrected=0.0, contradictory=0.0)
    ev = _t(care_b.build(big, AS_OF, seed=5, rates=rates), "movement_event")
    date = pd.to_datetime(ev.event_ts, format=care_b.TS_FORMAT).dt.normalize()
    lag = (ev.updated_at - date).dt.days
    assert lag.between(0, 120).all()  # an event waits for its placement, itself up to 60 days late
    # events after the admission: only their own lateness (their placement is long keyed)
    later = ev.event_code != "ADM"
    assert (lag[later] > 0).mean() == pytest.approx(0.5, abs=0.08)
    assert (lag[~later] > 0).mean() == pytest.approx(0.75, abs=0.1)


def test_builds_on_the_simulated_world():
    truth = world_tables()
    extract = care_b.build(truth, pd.Timestamp("2026-10-31"), seed=1)
    ev = _t(extract, "movement_event")
    assert len(ev) > 20 and ev.event_code.isin(list(care_b.EVENT_ORDER)).all()
    assert assert_delta_is_difference(care_b, truth, "2020-01-01", "2026-10-31") > 0
    rec = extract.source_records
    assert rec.loc[rec.person_id >= 0, "person_id"].isin(truth["people"].person_id).all()
