"""Block or spot (simulation/block_spot.py, forecast.block_spot): each replication's care-home
places bought under each block size; every place is bought exactly once (block, spot in the
area, or out of area); the areas add up to the provider in every replication; a bigger block
leaves fewer people placed out of area and more beds paid for but empty."""

from __future__ import annotations

import numpy as np
import pytest

from contracts.settings import spot_spare_share
from contracts.vocabulary.areas import km_between
from contracts.vocabulary.commissioning import BLOCK_SHARES, SPOT_SPARE_SHARE
from simulation.block_spot import ALL_AREAS, MEASURES, block_spot_years, buy, places_needed
from simulation.inputs import days_in_months
from simulation.outputs import block_spot
from simulation.replications import run_forecast
from simulation.scenarios import validate
from simulation.testing import toy_inputs


@pytest.fixture(scope="module")
def results():
    scen = [validate({"name": "baseline"}), validate({"name": "dear", "costs": {"residential_spot_week": 1900}})]
    return run_forecast(toy_inputs(2000, seed=5), scen, replications=6, months=14, run_date="2026-11-01",
                        needed=False)


def test_buying_by_hand():
    """Area 0 needs 5 with a block of 2 and 1 spare bed: 2 block, 1 spot, 2 go to area 1,
    which needs 1 of its 3 spare beds itself; area 1's block of 2 has 1 bed empty."""
    km = np.array([[0.0, 17.0], [17.0, 0.0]])
    got = buy(np.array([[[5.0], [1.0]]]), block=np.array([2.0, 2.0]), spare=np.array([1.0, 3.0]), km=km)
    assert got["used"][0, :, 0].tolist() == [2.0, 1.0]
    assert got["unused"][0, :, 0].tolist() == [0.0, 1.0]
    assert got["spot"][0, :, 0].tolist() == [1.0, 0.0]
    assert got["out"][0, :, 0].tolist() == [2.0, 0.0]
    assert got["out_km"][0, 0, 0] == 34.0


def test_every_place_is_bought_once_and_no_market_sells_more_than_it_has():
    rng = np.random.default_rng(3)
    need = rng.poisson(20, size=(5, 4, 7)).astype(float)
    km = np.array([[0, 5, 9, 30], [5, 0, 4, 20], [9, 4, 0, 12], [30, 20, 12, 0]], dtype=float)
    block, spare = np.array([10.0, 25.0, 0.0, 18.0]), np.array([2.0, 1.0, 4.0, 0.0])
    got = buy(need, block, spare, km)
    np.testing.assert_array_equal(got["used"] + got["spot"] + got["out"], need)
    assert (got["used"] <= block[None, :, None]).all() and (got["spot"] <= spare[None, :, None]).all()
    assert (got["out_km"] >= got["out"] * 4).all()   # the nearest other area is at least 4 km away


def test_the_areas_add_up_to_the_provider_in_every_replication(results):
    got = block_spot_years(results, "baseline", SPOT_SPARE_SHARE)
    assert all(labels[-1] == ALL_AREAS for labels in got.areas.values())
    for care_type, by_share in got.values.items():
        for share, arr in by_share.items():
            for m in MEASURES:
                if m == "out_of_area_km":
                    continue
                i = MEASURES.index(m)
                np.testing.assert_allclose(arr[:, :-1, i].sum(axis=1), arr[:, -1, i], rtol=1e-9)
    # places needed: people in residential care plus those waiting, as the breakdown counts them
    labels, need = places_needed(results, "baseline", "residential_care")
    k = results.kpis
    total = (results.values["baseline"][:, k.index("people_residential_care")]
             + results.values["baseline"][:, k.index("waiting_residential_care")])
    np.testing.assert_allclose(need.sum(axis=1), total, rtol=1e-5)
    assert total.sum() > 0


def test_a_bigger_block_places_fewer_out_of_area_and_leaves_more_beds_empty(results):
    got = block_spot_years(results, "baseline", SPOT_SPARE_SHARE)
    out, unused = MEASURES.index("out_of_area_placements"), MEASURES.index("block_beds_unused")
    for by_share in got.values.values():
        shares = sorted(by_share)
        for a, b in zip(shares, shares[1:]):
            assert (by_share[b][:, -1, out] <= by_share[a][:, -1, out] + 1e-9).all()
            assert (by_share[b][:, -1, unused] >= by_share[a][:, -1, unused] - 1e-9).all()
    none = got.values["residential_care"][0.0]
    assert none[:, -1, MEASURES.index("block_beds_used")].sum() == 0
    assert none[:, -1, out].sum() > 0   # no block and a 10% market: someone goes out of area


def test_costs_are_the_beds_and_placements_at_their_prices(results):
    got = block_spot_years(results, "baseline", SPOT_SPARE_SHARE)
    costs = results.costs["baseline"]
    weeks = days_in_months(results.month_dates) / 7.0
    share = 1.0
    beds = got.block_beds["residential_care"][share][-1]
    arr = got.values["residential_care"][share]
    assert arr[:, -1, MEASURES.index("cost_block"), 0] == pytest.approx(beds * costs["residential_block_week"]
                                                                         * weeks[:12].sum())
    total = sum(arr[:, -1, MEASURES.index(c)] for c in ("cost_block", "cost_spot", "cost_out_of_area"))
    np.testing.assert_allclose(total, arr[:, -1, MEASURES.index("cost_total")])
    # a scenario's own spot price reaches its spot cost, and nothing else
    dear = block_spot_years(results, "dear", SPOT_SPARE_SHARE).values["residential_care"][share]
    base_spot, dear_spot = arr[:, -1, MEASURES.index("cost_spot")], dear[:, -1, MEASURES.index("cost_spot")]
    same_people = arr[:, -1, MEASURES.index("spot_placements")] == dear[:, -1, MEASURES.index("spot_placements")]
    assert same_people.all()
    np.testing.assert_allclose(dear_spot, base_spot * 1900 / costs["residential_spot_week"])


def test_the_table_has_every_block_size_area_and_measure(results):
    t = block_spot(results)
    assert set(t["block_share"]) == set(BLOCK_SHARES)
    assert set(t["measure"]) == set(MEASURES)
    assert {"residential_care", "nursing_care"} == set(t["care_type"])
    assert set(t["scenario"]) == {"baseline", "dear"} and set(t["year"]) == {1, 2}
    assert t.loc[t["measure"] != "out_of_area_km", "mean"].notna().all()
    first = t[(t.scenario == "baseline") & (t.year == 1) & (t.area == ALL_AREAS) & (t.measure == "places_needed")]
    assert first["mean"].nunique() == 2   # the same places whatever the block size, per care type


def test_the_spare_share_setting(monkeypatch):
    monkeypatch.setenv("LLIF_SPOT_SPARE_SHARE", "0.25")
    assert spot_spare_share() == 0.25
    monkeypatch.setenv("LLIF_SPOT_SPARE_SHARE", "ten per cent")
    with pytest.raises(ValueError, match="LLIF_SPOT_SPARE_SHARE"):
        spot_spare_share()


def test_distances_between_area_centres():
    assert km_between("CDF", "CDF") == 0
    assert 12 < km_between("CDF", "NWP") < 25 and km_between("CDF", "NPT") > km_between("CDF", "VOG")


def test_a_care_type_with_people_of_no_recorded_area_has_its_own_line(results):
    """Residential and nursing care each list "area not recorded" only if someone of theirs has
    no area: the two may differ (the night of 2026-12-08 failed when they did)."""
    import dataclasses

    from simulation.block_spot import NOT_RECORDED

    lay = results.breakdown_layout
    arr = results.breakdown["baseline"].copy()
    unknown = [i for i, s in enumerate(lay.series) if s[0] == lay.area_labels[-1] and s[1] is None and s[2] is None
               and s[3] in ("people_residential_care", "waiting_residential_care", "people_nursing_care",
                            "waiting_nursing_care")]
    for i in unknown:
        arr[:, i] = 0.0
    nursing = next(i for i in unknown if lay.series[i][3] == "people_nursing_care")
    arr[:, nursing] = 2.0   # two nursing residents with no recorded area, no residential ones
    mixed = dataclasses.replace(results, breakdown={**results.breakdown, "baseline": arr})
    got = block_spot_years(mixed, "baseline", SPOT_SPARE_SHARE)
    assert NOT_RECORDED in got.areas["nursing_care"] and NOT_RECORDED not in got.areas["residential_care"]
    t = block_spot(mixed)
    b = t[t.scenario == "baseline"]
    assert set(b.loc[b.care_type == "nursing_care", "area"]) - set(b.loc[b.care_type == "residential_care", "area"]) \
        == {NOT_RECORDED}
