"""The CRM writer: as-of behaviour, nightly deltas, go-live, defects and person mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_sources.systems import assets, crm
from synthetic_sources.systems.base import GO_LIVE, DefectRates

from helpers.truth_crm import UNTIL, assert_extract_equal, check_delta, make_truth

SEED = 11
AS_OF = pd.Timestamp("2020-06-30")


@pytest.fixture(scope="module")
def truth():
    return make_truth(n_households=4000, seed=3)


@pytest.fixture(scope="module")
def ext(truth):
    return crm.build(truth, AS_OF, SEED)


@pytest.fixture(scope="module")
def final(truth):
    return crm.build(truth, UNTIL, SEED)


def _t(extract, name):
    return extract.databases["crm"][name].frame


def _sd(p, n):
    return np.sqrt(p * (1 - p) / n)


def test_tables_and_contract(ext):
    assert ext.system == "crm" and list(ext.databases) == ["crm"]
    tables = ext.databases["crm"]
    assert set(tables) == {"contact", "household", "household_member", "application", "tenancy",
                           "circumstance"}
    for name, spec in tables.items():
        assert spec.change_marker == "last_updated"
        assert spec.frame["last_updated"].dtype == "datetime64[ns]"
        assert not spec.frame.duplicated(spec.primary_key).any(), name
        assert len(spec.frame) > 0, name
    assert list(ext.source_records.columns) == ["system", "table", "record_key", "person_id"]


def test_deterministic(truth, ext):
    assert_extract_equal(ext, crm.build(truth, AS_OF, SEED))
    other = crm.build(truth, AS_OF, SEED + 1)
    assert not _t(other, "contact")["first_name"].equals(_t(ext, "contact")["first_name"]) or \
        not _t(other, "contact")["contact_ref"].equals(_t(ext, "contact")["contact_ref"])


def test_nothing_before_go_live(truth, ext):
    empty = crm.build(truth, GO_LIVE["crm"] - pd.Timedelta(days=1), SEED)
    for name, spec in empty.databases["crm"].items():
        assert len(spec.frame) == 0, name
        assert list(spec.frame.columns) == list(_t(ext, name).columns)
    for name in ext.databases["crm"]:
        assert (_t(ext, name)["last_updated"] >= GO_LIVE["crm"]).all(), name
    # tenancies that ended before go-live were never keyed
    ten = truth["tenancies"]
    gone = ten.loc[ten["end_date"] < GO_LIVE["crm"], "tenancy_id"] + crm.TENANCY_OFFSET
    assert len(gone) > 0
    assert not _t(ext, "tenancy")["tenancy_ref"].isin(gone).any()
    # tenancies running at go-live keep their true start (migrated)
    running = ten[(ten["start_date"] < GO_LIVE["crm"]) & ~(ten["end_date"] < GO_LIVE["crm"])]
    got = _t(ext, "tenancy").set_index("tenancy_ref").reindex(running["tenancy_id"] + crm.TENANCY_OFFSET)
    same = got["tenancy_start"].to_numpy() == running["start_date"].to_numpy()
    assert same.mean() > 0.97  # all but corrections and contradictions


def test_as_of_hides_the_future(truth, ext):
    ten = truth["tenancies"].set_index("tenancy_id")
    t = _t(ext, "tenancy")
    true = ten.reindex(t["tenancy_ref"] - crm.TENANCY_OFFSET)
    assert (true["start_date"].to_numpy() <= AS_OF).all()
    ends_later = (true["end_date"] > AS_OF).to_numpy() | true["end_date"].isna().to_numpy()
    assert ends_later.sum() > 100
    assert t.loc[ends_later, "tenancy_end"].isna().all()
    assert t.loc[ends_later, "end_reason_code"].isna().all()
    # starting after as_of: absent
    later = ten.index[ten["start_date"] > AS_OF] + crm.TENANCY_OFFSET
    assert not t["tenancy_ref"].isin(later).any()
    # applications decided after as_of are open
    a = _t(ext, "application")
    app = truth["applications"].set_index("application_id").reindex(a["application_ref"] - crm.APPLICATION_OFFSET)
    decided_later = (app["outcome_date"] > AS_OF).to_numpy()
    assert decided_later.sum() > 10
    assert (a.loc[decided_later, "status"] == "OPEN").all()
    assert a.loc[decided_later, "tenancy_ref"].isna().all()
    assert (_t(ext, "contact")["date_created"] <= AS_OF).all()
    assert (_t(ext, "circumstance")["review_date"] <= AS_OF).all()


def test_record_ids_stable_whatever_as_of(truth, ext, final):
    c1 = _t(ext, "contact").set_index("contact_ref")
    r1 = ext.source_records[ext.source_records["table"] == "contact"].set_index("record_key")["person_id"]
    r2 = final.source_records[final.source_records["table"] == "contact"].set_index("record_key")["person_id"]
    assert r1.index.isin(r2.index).all()
    assert (r2.reindex(r1.index) == r1).all()
    c2 = _t(final, "contact").set_index("contact_ref").reindex(c1.index)
    assert (c2["date_of_birth"] == c1["date_of_birth"]).mean() > 0.99  # only corrections differ
    assert (c2["first_name"] == c1["first_name"]).all()


@pytest.mark.parametrize("d1,d2", [
    ("2020-06-30", "2020-07-01"),
    ("2020-06-30", "2020-08-15"),
    ("2001-12-31", "2009-03-31"),
    ("1997-06-30", "1998-01-31"),
])
def test_delta_is_exactly_what_changed(truth, d1, d2):
    sizes = check_delta(crm.build, truth, SEED, pd.Timestamp(d1), pd.Timestamp(d2))
    assert sum(sizes.values()) > 0


def test_delta_with_many_corrections(truth):
    rates = DefectRates(late=0.3, corrected=0.3, contradictory=0.05)
    sizes = check_delta(crm.build, truth, SEED, pd.Timestamp("2015-03-31"), pd.Timestamp("2015-06-30"),
                        rates=rates)
    assert sizes["tenancy"] > 0 and sizes["circumstance"] > 0


def test_referential_integrity(ext):
    contacts = set(_t(ext, "contact")["contact_ref"])
    households = set(_t(ext, "household")["household_ref"])
    tenancies = set(_t(ext, "tenancy")["tenancy_ref"])
    assert set(_t(ext, "tenancy")["contact_ref"]) <= contacts
    assert set(_t(ext, "application")["contact_ref"]) <= contacts
    assert set(_t(ext, "circumstance")["contact_ref"]) <= contacts
    assert set(_t(ext, "household")["lead_contact_ref"]) <= contacts
    assert set(_t(ext, "household_member")["contact_ref"]) <= contacts
    assert set(_t(ext, "household_member")["household_ref"]) <= households
    assert set(_t(ext, "tenancy")["household_ref"]) <= households
    assert set(_t(ext, "application")["household_ref"].dropna()) <= households
    assert set(_t(ext, "application")["tenancy_ref"].dropna()) <= tenancies
    assert set(_t(ext, "circumstance")["tenancy_ref"]) <= tenancies


def test_prop_refs_match_the_asset_system(truth):
    t = _t(crm.build(truth, UNTIL, SEED), "tenancy")
    props = assets.build(truth, UNTIL, SEED).databases["assets"]["PROPERTY"].frame
    assert t["prop_ref"].isin(props["PROP_REF"]).mean() > 0.95  # fixture units may open later


def test_codes(final):
    t = _t(final, "tenancy")
    assert set(t["tenancy_type"]) <= set(crm.TENANCY_TYPE.values())
    assert set(t["let_type"]) <= set(crm.LET_TYPE.values())
    assert set(t["end_reason_code"].dropna()) == set(crm.END_REASON.values())
    a = _t(final, "application")
    assert set(a["status"]) == {"OPEN", "LET", "WDN"}
    assert set(a["need_type"]) <= set(crm.NEED_TYPE.values())
    c = _t(final, "circumstance")
    assert set(c["review_type"]) == {"NEW", "REV", "MIG"}
    assert set(c["arrears_band"]) <= {"NIL", "LT13", "GE13"}
    assert set(_t(final, "household_member")["relationship"]) <= {"LEAD", "PTNR", "CHLD", "PRNT", "OTHR"}


def test_source_records_map_every_person_record(truth, final):
    sr = final.source_records
    assert (sr["system"] == "crm").all()
    for table, key in [("contact", "contact_ref"), ("tenancy", "tenancy_ref"),
                       ("application", "application_ref")]:
        keys = _t(final, table)[key].astype(str)
        mapped = sr[sr["table"] == table]
        assert set(mapped["record_key"]) == set(keys), table
    ten = _t(final, "tenancy")
    got = sr[sr["table"] == "tenancy"].set_index("record_key")["person_id"]
    true = truth["tenancies"].set_index("tenancy_id")["person_id"]
    assert (got.reindex(ten["tenancy_ref"].astype(str)).to_numpy()
            == true.reindex(ten["tenancy_ref"] - crm.TENANCY_OFFSET).to_numpy()).all()
    # a contact maps to the person whose NI number it carries (when it carries a good one)
    c = _t(final, "contact").merge(sr[sr["table"] == "contact"].assign(
        contact_ref=lambda d: d["record_key"].astype(np.int64)), on="contact_ref")
    real = c[c["person_id"] >= 0]
    ni = truth["people"].set_index("person_id")["ni_number"].reindex(real["person_id"]).to_numpy()
    good = real["ni_no"].notna().to_numpy() & (real["ni_no"].to_numpy() == ni)
    assert good.mean() > 0.85


def test_duplicates_map_to_the_same_person(final):
    sr = final.source_records[final.source_records["table"] == "contact"]
    per_person = sr[sr["person_id"] >= 0].groupby("person_id").size()
    assert per_person.max() == 2
    share = (per_person == 2).mean()
    assert abs(share - 0.02) < 4 * _sd(0.02, len(per_person))
    c = _t(final, "contact").set_index("contact_ref")
    dup_people = per_person.index[per_person == 2]
    pairs = sr[sr["person_id"].isin(dup_people)].assign(ref=lambda d: d["record_key"].astype(np.int64))
    pairs = pairs.join(c, on="ref").sort_values(["person_id", "date_created"])
    first, second = pairs.groupby("person_id").nth(0), pairs.groupby("person_id").nth(1)
    assert (second["date_created"].to_numpy() > first["date_created"].to_numpy()).all()
    same_sex = second["sex"].to_numpy() == first["sex"].to_numpy()
    assert same_sex.all()
    # "slightly different details": most duplicates differ in some identifying field
    differs = np.zeros(len(first), dtype=bool)
    for col in ("first_name", "surname", "date_of_birth", "ni_no"):
        a, b = first[col].to_numpy(), second[col].to_numpy()
        differs |= ~((a == b) | (pd.isna(a) & pd.isna(b)))
    assert differs.mean() > 0.5
    # later tenancies point at the duplicate
    t = _t(final, "tenancy")
    assert t["contact_ref"].isin(second["ref"]).any()


def test_ni_missing_rates_by_era(final):
    sr = final.source_records[final.source_records["table"] == "contact"]
    c = _t(final, "contact").assign(record_key=lambda d: d["contact_ref"].astype(str)).merge(sr, on="record_key")
    real = c[c["person_id"] >= 0]
    primary = real[~real["person_id"].duplicated(keep="first")]  # built in order: primaries first
    early = primary["date_created"] < crm.NI_BETTER_FROM
    for mask, p in [(early, 0.08), (~early, 0.03)]:
        rate = primary.loc[mask, "ni_no"].isna().mean()
        assert abs(rate - p) < 4 * _sd(p, mask.sum()) + 0.005, (p, rate)


def test_surname_changes(truth, final):
    people = truth["people"].set_index("person_id")
    sr = final.source_records[final.source_records["table"] == "contact"]
    c = _t(final, "contact").assign(record_key=lambda d: d["contact_ref"].astype(str)).merge(sr, on="record_key")
    c = c[c["person_id"] >= 0]
    p = people.reindex(c["person_id"])
    changed = p["surname_changed"].notna().to_numpy() & (p["previous_surname"] != "").to_numpy()
    after = changed & (c["date_created"].to_numpy() >= p["surname_changed"].to_numpy())
    before = changed & ~after
    assert after.sum() > 20 and before.sum() > 20
    new = c["surname"].to_numpy() == p["surname"].to_numpy()
    old = c["surname"].to_numpy() == p["previous_surname"].to_numpy()
    assert new[after].mean() > 0.9
    # before the change: some still carry the old surname, some were updated
    assert 0.2 < old[before].mean() < 0.7
    assert 0.2 < new[before].mean() < 0.8


def test_contradictory_tenancies(truth):
    rates = DefectRates(contradictory=0.2)
    t = _t(crm.build(truth, UNTIL, SEED, rates=rates), "tenancy")
    end_before = (t["tenancy_end"] < t["tenancy_start"]).mean()
    assert 0.02 < end_before < 0.2
    s = t.sort_values(["household_ref", "tenancy_start"])
    prev_end = s.groupby("household_ref")["tenancy_end"].shift()
    assert (s["tenancy_start"] < prev_end).sum() > 10
    default = _t(crm.build(truth, UNTIL, SEED), "tenancy")
    assert (default["tenancy_end"] < default["tenancy_start"]).mean() < 0.02


def test_corrections_show_wrong_value_until_fixed(truth):
    rates = DefectRates(corrected=0.5, late=0.0)
    full = crm.build(truth, UNTIL, SEED, rates=rates)
    t_final = _t(full, "tenancy").set_index("tenancy_ref")
    true = truth["tenancies"].set_index("tenancy_id")
    ended = true[true["end_date"].between("2010-01-01", "2013-01-01")]
    seen_wrong = 0
    for as_of in pd.date_range("2010-01-20", "2013-03-01", freq="45D"):
        t = _t(crm.build(truth, as_of, SEED, rates=rates), "tenancy").set_index("tenancy_ref")
        refs = (ended.index + crm.TENANCY_OFFSET).intersection(t.index)
        shown = t.loc[refs, "tenancy_end"].dropna()
        wrong = shown[shown.to_numpy() != t_final.loc[shown.index, "tenancy_end"].to_numpy()]
        if len(wrong):
            seen_wrong += len(wrong)
            # the wrong value is fixed later, with a later change marker
            assert (t_final.loc[wrong.index, "last_updated"] > t.loc[wrong.index, "last_updated"]).all()
    assert seen_wrong > 5


def test_late_arrivals(truth, final):
    # open tenancies never corrected: their only change is being keyed, late for ~1%
    t = _t(final, "tenancy")
    true = truth["tenancies"].set_index("tenancy_id").reindex(t["tenancy_ref"] - crm.TENANCY_OFFSET)
    fresh = (true["start_date"] >= GO_LIVE["crm"]).to_numpy() & t["tenancy_end"].isna().to_numpy()
    lag = (t["last_updated"].dt.normalize() - true["start_date"].to_numpy()).dt.days[fresh]
    assert lag.min() >= 0 and lag.max() <= 60 + 31
    share = (lag > 0).mean()
    assert 0.001 < share < 0.01 + 4 * _sd(0.01, fresh.sum()) + 0.005


def test_circumstances(truth, final):
    c = _t(final, "circumstance")
    assert c.loc[c["review_date"] < crm.WELLBEING_FROM, "wellbeing_score"].isna().all()
    assert c.loc[c["review_date"] >= crm.WELLBEING_FROM, "wellbeing_score"].notna().mean() > 0.99
    s = c.sort_values(["tenancy_ref", "review_date"])
    gap = s.groupby("tenancy_ref")["review_date"].diff().dt.days.dropna()
    assert gap.between(120, 240).mean() > 0.95  # six-monthly reviews (keyed day in month)
    # one NEW per tenancy started after go-live, and it is on the start date
    t = _t(final, "tenancy").set_index("tenancy_ref")
    new = c[c["review_type"] == "NEW"]
    assert not new["tenancy_ref"].duplicated().any()
    true_start = truth["tenancies"].set_index("tenancy_id")["start_date"].reindex(new["tenancy_ref"] - crm.TENANCY_OFFSET)
    assert (new["review_date"].to_numpy() == true_start.to_numpy()).all()
    assert new["tenancy_ref"].isin(t.index).all()


def test_test_contacts(final):
    c = _t(final, "contact")
    test = c[c["contact_ref"] < crm._CONTACT_BASE]
    assert len(test) == DefectRates().test_records
    sr = final.source_records.set_index("record_key")
    assert (sr.loc[test["contact_ref"].astype(str), "person_id"] == -1).all()


# ---------------------------------------------------------------------------------------------
# the lead's simulated world (small scale)

W_UNTIL = pd.Timestamp("2026-10-31")
W_EARLY = pd.Timestamp("2026-06-30")


def _world(until):
    w = pytest.importorskip("synthetic_sources.world")
    return w.simulate_world(w.WorldConfig(scale=0.02, seed=1, until=until)).tables


@pytest.fixture(scope="module")
def world():
    return _world(W_UNTIL)


def test_world_extract_is_consistent(world):
    e = crm.build(world, W_UNTIL, SEED)
    test_referential_integrity(e)
    test_tables_and_contract(e)
    sr = e.source_records
    per_person = sr[(sr["table"] == "contact") & (sr["person_id"] >= 0)].groupby("person_id").size()
    assert per_person.max() == 2
    assert abs((per_person == 2).mean() - 0.02) < 4 * _sd(0.02, len(per_person)) + 0.005
    # every tenancy and its lead's circumstances are there; nothing before go-live
    assert len(_t(e, "tenancy")) == (~(world["tenancies"]["end_date"] < GO_LIVE["crm"])).sum()
    for name in e.databases["crm"]:
        assert (_t(e, name)["last_updated"] >= GO_LIVE["crm"]).all()
    people = world["people"].set_index("person_id")
    crm_people = sr.loc[sr["person_id"] >= 0, "person_id"].unique()
    assert not people.loc[crm_people, "role"].eq("outside").all()


@pytest.mark.parametrize("d1,d2", [("2026-09-30", "2026-10-31"), ("2004-01-31", "2011-07-31")])
def test_world_delta_is_exactly_what_changed(world, d1, d2):
    sizes = check_delta(crm.build, world, SEED, pd.Timestamp(d1), pd.Timestamp(d2))
    assert sizes["tenancy"] > 0 and sizes["circumstance"] > 0


def test_world_advance_equals_building_later(world):
    """Generating the world to a later date leaves what the CRM showed on an earlier date alone.

    Known gap in the truth, not the writer: the world writes an application only once it is
    let or withdrawn, so applications still pending on the earlier date appear only in the
    later world (with their households and contacts). Every row both hold must be identical.
    """
    early = crm.build(_world(W_EARLY), W_EARLY, SEED)
    later = crm.build(world, W_EARLY, SEED)
    for name, spec in early.databases["crm"].items():
        a = spec.frame.set_index(spec.primary_key)
        b = later.databases["crm"][name].frame.set_index(spec.primary_key)
        assert a.index.isin(b.index).all(), name
        common = a.index
        pd.testing.assert_frame_equal(a.loc[common], b.loc[common], obj=name)
    for name in ("tenancy", "circumstance"):
        assert len(_t(early, name)) == len(_t(later, name))
