"""The asset-management writer: go-live truncation, as-of voids, deltas and codes."""

from __future__ import annotations

import pandas as pd
import pytest

from synthetic_sources.systems import assets
from synthetic_sources.systems.base import GO_LIVE, DefectRates

from helpers.truth_crm import UNTIL, assert_extract_equal, check_delta, make_truth

SEED = 5
GO = GO_LIVE["assets"]
AS_OF = pd.Timestamp("2019-09-30")


@pytest.fixture(scope="module")
def truth():
    return make_truth(n_households=1500, seed=4)


@pytest.fixture(scope="module")
def ext(truth):
    return assets.build(truth, AS_OF, SEED)


def _t(extract, name):
    return extract.databases["assets"][name].frame


def test_contract(ext):
    assert ext.system == "assets" and list(ext.databases) == ["assets"]
    tables = ext.databases["assets"]
    assert set(tables) == {"SCHEME", "PROPERTY", "VOID_PERIOD"}
    for name, spec in tables.items():
        assert spec.change_marker == "MODIFIED_DATE"
        assert not spec.frame.duplicated(spec.primary_key).any()
        assert all(c == c.upper() for c in spec.frame.columns)
    assert len(ext.source_records) == 0
    assert list(ext.source_records.columns) == ["system", "table", "record_key", "person_id"]


def test_deterministic(truth, ext):
    assert_extract_equal(ext, assets.build(truth, AS_OF, SEED))


def test_nothing_before_go_live(truth, ext):
    before = assets.build(truth, GO - pd.Timedelta(days=1), SEED)
    for name, spec in before.databases["assets"].items():
        assert len(spec.frame) == 0, name
        assert list(spec.frame.columns) == list(_t(ext, name).columns)
    v = _t(ext, "VOID_PERIOD")
    truth_v = truth["voids"].set_index("void_id")
    ended_before = truth_v.index[truth_v["end_date"] < GO] + 100_000
    assert len(ended_before) > 0
    assert not v["VOID_ID"].isin(ended_before).any()
    # voids running at go-live are there with their true start, stamped on go-live day
    running = truth_v[(truth_v["start_date"] < GO) & ~(truth_v["end_date"] < GO)]
    assert len(running) > 0
    got = v.set_index("VOID_ID").reindex(running.index + 100_000)
    assert (got["VOID_START"].to_numpy() == running["start_date"].to_numpy()).all()
    # stock existing at go-live: true data, keyed on go-live day
    s = _t(ext, "SCHEME")
    old = s[(s["OPENED_DATE"] < GO) & s["CLOSED_DATE"].isna()]
    assert len(old) > 0 and (old["MODIFIED_DATE"].dt.normalize() == GO).all()
    p = _t(ext, "PROPERTY")
    old_p = p[p["AVAILABLE_FROM"] < GO]
    assert (old_p["MODIFIED_DATE"].dt.normalize() == GO).all()
    # a scheme closed before go-live was never keyed, nor its units
    sch = truth["schemes"]
    closed_early = sch.loc[sch["closed"] < GO, "scheme_id"]
    refs = assets.scheme_refs(closed_early)
    assert not s["SCHEME_ID"].isin(refs).any()
    assert not p["SCHEME_ID"].isin(refs).any()
    assert (s["MODIFIED_DATE"] >= GO).all() and (v["MODIFIED_DATE"] >= GO).all()


def test_voids_as_of(truth, ext):
    v = _t(ext, "VOID_PERIOD")
    true = truth["voids"].set_index("void_id").reindex(v["VOID_ID"] - 100_000)
    assert (true["start_date"] <= AS_OF).all()
    ends_later = (true["end_date"] > AS_OF).to_numpy() | true["end_date"].isna().to_numpy()
    assert ends_later.sum() > 0
    assert v.loc[ends_later, "VOID_END"].isna().all()
    ended = ~ends_later & v["VOID_END"].notna().to_numpy()
    # known ends are the true ones except a few not yet corrected
    assert (v.loc[ended, "VOID_END"].to_numpy() == true.loc[ended, "end_date"].to_numpy()).mean() > 0.98
    later = truth["voids"].loc[truth["voids"]["start_date"] > AS_OF, "void_id"] + 100_000
    assert not v["VOID_ID"].isin(later).any()


@pytest.mark.parametrize("d1,d2", [("2019-09-30", "2019-10-31"), ("2010-01-31", "2012-06-30"),
                                   ("2002-06-30", "2003-03-31")])
def test_delta_is_exactly_what_changed(truth, d1, d2):
    sizes = check_delta(assets.build, truth, SEED, pd.Timestamp(d1), pd.Timestamp(d2))
    assert sum(sizes.values()) > 0


def test_delta_with_many_late_and_corrected(truth):
    rates = DefectRates(late=0.4, corrected=0.4)
    sizes = check_delta(assets.build, truth, SEED, pd.Timestamp("2016-01-31"), pd.Timestamp("2016-04-30"),
                        rates=rates)
    assert sizes["VOID_PERIOD"] > 0


def test_wrong_void_end_is_corrected(truth):
    rates = DefectRates(corrected=1.0, late=0.0)
    final = _t(assets.build(truth, UNTIL, SEED, rates=rates), "VOID_PERIOD").set_index("VOID_ID")
    true = truth["voids"].set_index("void_id")
    assert (final["VOID_END"].dropna() == true["end_date"].reindex(final["VOID_END"].dropna().index - 100_000)
            .to_numpy()).mean() > 0.99
    mid = _t(assets.build(truth, pd.Timestamp("2015-06-30"), SEED, rates=rates), "VOID_PERIOD").set_index("VOID_ID")
    shown = mid["VOID_END"].dropna()
    wrong = shown.to_numpy() != final.loc[shown.index, "VOID_END"].to_numpy()
    assert wrong.sum() > 0
    assert (shown[wrong].to_numpy() < final.loc[shown.index[wrong], "VOID_END"].to_numpy()).all()


def test_codes_and_shared_refs(truth):
    e = assets.build(truth, UNTIL, SEED)
    s, p, v = _t(e, "SCHEME"), _t(e, "PROPERTY"), _t(e, "VOID_PERIOD")
    assert set(s["SCHEME_TYPE"]) == set(assets.SCHEME_TYPE.values())
    assert set(s["AREA_CODE"]) <= set(assets.AREA_CODE.values())
    assert set(p["PROP_TYPE"]) == set(assets.PROP_TYPE.values())
    assert set(v["VOID_REASON"]) == set(assets.VOID_REASON.values())
    assert set(p["ACCESSIBLE"]) == {"Y", "N"}
    assert set(p["SCHEME_ID"]) <= set(s["SCHEME_ID"])
    assert set(v["PROP_REF"]) <= set(p["PROP_REF"])
    assert assets.prop_refs([1, 1234567]).tolist() == ["P0000001", "P1234567"]
    assert assets.area_codes(["Cardiff", "vale_of_glamorgan", "Somewhere"]).tolist() == ["CDF", "VOG", "SOM"]
    beds = s[s["SCHEME_TYPE"] == "CH"]
    assert (beds["RES_BEDS"] + beds["NURS_BEDS"] == beds["CAPACITY"]).all()


def test_test_records(truth):
    e = assets.build(truth, UNTIL, SEED)
    p = _t(e, "PROPERTY")
    test = p[p["SCHEME_ID"] == "S9999"]
    assert len(test) == DefectRates().test_records
    assert test["PROP_REF"].str.startswith("TEST").all()
    assert (_t(e, "SCHEME")["SCHEME_ID"] == "S9999").sum() == 1


def test_late_properties(truth):
    e = assets.build(truth, UNTIL, SEED, rates=DefectRates(late=0.5))
    p = _t(e, "PROPERTY")
    p = p[p["SCHEME_ID"] != "S9999"]
    lag = (p["MODIFIED_DATE"].dt.normalize() - p["AVAILABLE_FROM"]).dt.days
    new = p["AVAILABLE_FROM"] >= GO
    assert lag[new].min() >= 0
    assert 0.3 < (lag[new] > 0).mean() < 0.7


# ---------------------------------------------------------------------------------------------
# the lead's simulated world (small scale)


def _world(until):
    w = pytest.importorskip("synthetic_sources.world")
    return w.simulate_world(w.WorldConfig(scale=0.02, seed=1, until=until)).tables


def test_world_extract_and_advance():
    until, early_date = pd.Timestamp("2026-10-31"), pd.Timestamp("2026-06-30")
    world = _world(until)
    e = assets.build(world, until, SEED)
    s, p, v = _t(e, "SCHEME"), _t(e, "PROPERTY"), _t(e, "VOID_PERIOD")
    assert set(p["SCHEME_ID"]) <= set(s["SCHEME_ID"]) and set(v["PROP_REF"]) <= set(p["PROP_REF"])
    assert not v["VOID_ID"].isin(world["voids"].loc[world["voids"]["end_date"] < GO, "void_id"] + 100_000).any()
    assert len(p) == len(world["units"]) + DefectRates().test_records
    check_delta(assets.build, world, SEED, pd.Timestamp("2026-07-31"), until)
    # generating the world further leaves the earlier extract unchanged
    assert_extract_equal(assets.build(_world(early_date), early_date, SEED),
                         assets.build(world, early_date, SEED))
