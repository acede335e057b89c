"""Outputs: tidy summaries, paired differences, bottlenecks, statements, the forecast schema."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from contracts import forecast as forecast_contract
from simulation.forecast_model import KPIS
from simulation.outputs import (
    FLOW_KPIS,
    NEEDED_KPIS,
    STATS,
    bottlenecks,
    kpi_annual,
    kpi_summary,
    likelihood,
    nice_floor,
    scenario_differences,
    statements,
    write_forecast,
)
from simulation.replications import ForecastResults
from simulation.testing import toy_forecast

REPS, MONTHS = 10, 12


@pytest.fixture(scope="module")
def results():
    return toy_forecast(REPS, MONTHS)


def test_kpi_summary_is_tidy_and_ordered(results):
    s = kpi_summary(results)
    n_kpis = len(KPIS) + len(NEEDED_KPIS)
    assert len(s) == 3 * n_kpis * MONTHS
    assert list(s.columns[:4]) == ["scenario", "month", "month_index", "kpi"] and set(STATS) <= set(s.columns)
    ok = s.dropna()
    assert (ok.p2_5 <= ok.p10 + 1e-9).all() and (ok.p10 <= ok.p25 + 1e-9).all()
    assert (ok.p25 <= ok["median"] + 1e-9).all() and (ok["median"] <= ok.p75 + 1e-9).all()
    assert (ok.p90 <= ok.p97_5 + 1e-9).all() and (ok.mean_ci_low <= ok.mean_ci_high + 1e-9).all()
    assert s.month.min() == pd.Timestamp("2026-11-01")
    needed = s[(s.scenario == "closure") & (s.kpi == "needed_residential_beds")]
    occupied = s[(s.scenario == "closure") & (s.kpi == "occupied_residential_beds")]
    assert needed["mean"].iloc[-1] > occupied["mean"].iloc[-1]     # the closure leaves need unmet


def test_kpi_annual_sums_each_replications_months_before_summarising(results):
    a = kpi_annual(results)
    assert list(a.columns) == ["scenario", "year", "year_start", "year_end", "months_in_year", "kpi", *STATS,
                               "n_replications"]
    assert set(a.kpi) == set(FLOW_KPIS)
    assert not set(a.kpi) & {"waiting_extra_care", "people_total", "delayed_discharges"}  # stocks
    assert len(a) == 3 * len(FLOW_KPIS) and set(a.year) == {1} and set(a.months_in_year) == {MONTHS}
    assert a.year_start.min() == pd.Timestamp("2026-11-01") and a.year_end.max() == pd.Timestamp("2027-10-01")
    k = KPIS.index("cost_total")
    totals = results.values["closure"][:, k, :].sum(axis=1)
    row = a[(a.scenario == "closure") & (a.kpi == "cost_total")].iloc[0]
    assert row["mean"] == pytest.approx(totals.mean())
    assert row["p10"] == pytest.approx(np.quantile(totals, 0.10))
    assert row["p97_5"] == pytest.approx(np.quantile(totals, 0.975))
    assert row["n_replications"] == REPS
    # the mean adds up over months; the bands do not (the months of a replication move together)
    monthly = kpi_summary(results)
    monthly = monthly[(monthly.scenario == "closure") & (monthly.kpi == "cost_total")]
    assert row["mean"] == pytest.approx(monthly["mean"].sum())
    assert row["p90"] != pytest.approx(monthly["p90"].sum())
    # unconstrained hours are a flow too
    need = results.needed("closure")[:, KPIS.index("home_care_hours"), :].sum(axis=1)
    hours = a[(a.scenario == "closure") & (a.kpi == "needed_home_care_hours")].iloc[0]
    assert hours["mean"] == pytest.approx(need.mean())


def test_kpi_annual_keeps_a_part_year_and_says_so(results):
    cut = 7
    part = ForecastResults(results.scenarios, results.month_dates[:cut], {n: v[..., :cut] for n, v in results.values.items()},
                           {n: v[..., :cut] for n, v in results.unconstrained.items()}, results.kpis, results.metadata)
    a = kpi_annual(part)
    assert set(a.year) == {1} and set(a.months_in_year) == {cut}
    lets = a[(a.scenario == "baseline") & (a.kpi == "lets")].iloc[0]
    assert lets["mean"] == pytest.approx(results.values["baseline"][:, KPIS.index("lets"), :cut].sum(axis=1).mean())


def test_paired_difference_of_a_no_op_is_exactly_zero(results):
    d = scenario_differences(results)
    same = d[d.scenario == "same"]
    assert set(d.scenario) == {"same", "closure"}
    assert (same[list(STATS)].abs().to_numpy() == 0).all()
    closure = d[(d.scenario == "closure") & (d.kpi == "waiting_residential_care")]
    assert closure["mean"].iloc[-1] > 0 and closure.p_higher.iloc[-1] > 0.5


def test_bottlenecks_flag_the_closed_beds(results):
    b = bottlenecks(results)
    c = b[(b.scenario == "closure") & (b.resource == "residential_beds")]
    assert "utilisation" in set(c.kind)
    assert list(b.columns) == ["scenario", "resource", "kind", "first_month", "share_of_months", "probability",
                               "value", "description"]


def test_statements_read_as_sentences(results):
    st = statements(results)
    assert len(st) > 0 and st.statement.str.len().min() > 20
    text = " | ".join(st.statement)
    assert "residential care-home" in text and "likely" in text
    assert any(s.startswith("compared with the baseline, closure") for s in st.statement)
    assert nice_floor(47) == 20 and nice_floor(7) == 5 and nice_floor(0.4) == 0.2
    assert likelihood(0.97) == "very likely" and likelihood(0.85) == "likely"


def test_write_forecast_creates_the_schema_and_replaces_a_rerun(results):
    con = duckdb.connect()
    written = write_forecast(con, results, {"model_versions": {"transition": "backoff"}})
    assert set(written) == set(forecast_contract.TABLES)
    again = write_forecast(con, results)
    assert again == written
    n = con.execute("select count(*) from forecast.kpi_summary").fetchone()[0]
    assert n == written["kpi_summary"]
    annual = con.execute("select count(*), min(year), max(months_in_year), typeof(min(year_start)) "
                         "from forecast.kpi_annual").fetchone()
    assert annual[:3] == (written["kpi_annual"], 1, MONTHS) and annual[3].startswith("TIMESTAMP")
    runs = con.execute("select run_id, seeds, scenario_hashes from forecast.runs").df()
    assert len(runs) == 1 and "root_entropy" in runs.seeds.iloc[0] and "closure" in runs.scenario_hashes.iloc[0]


def test_kpi_breakdown_has_totals_and_groups_from_the_replications(results):
    """The provider's rows equal kpi_summary's; every dimension's group means add up to the
    total's (means add), while the groups' bands are their own (an area's p90 is not a share of
    the total's); the unknown area, empty in the toy, is left out."""
    from simulation.breakdowns import BKPIS, MAIN_KPIS
    from simulation.outputs import kpi_breakdown

    b = kpi_breakdown(results)
    s = kpi_summary(results)
    total = b[b.area.isna() & b.segment.isna() & b.age_band.isna()]
    assert set(total.kpi) == set(BKPIS) and len(total) == 3 * len(BKPIS) * MONTHS
    merged = total.merge(s, on=["scenario", "month", "kpi"], suffixes=("", "_s"))
    assert len(merged) == len(total)
    for stat in ("mean", "median", "p10", "p90"):
        np.testing.assert_array_equal(merged[stat].to_numpy(), merged[f"{stat}_s"].to_numpy())
    areas = b[b.area.notna() & b.segment.isna()]
    assert set(areas.area) == set(results.breakdown_layout.areas)   # all known: no 'unknown' rows
    by_area = areas.groupby(["scenario", "month", "kpi"])["mean"].sum()
    want = total.set_index(["scenario", "month", "kpi"])["mean"].reindex(by_area.index)
    np.testing.assert_allclose(by_area.to_numpy(), want.to_numpy(), rtol=1e-5, atol=1e-3)
    people = areas[(areas.kpi == "people_total") & (areas.month_index == MONTHS) & (areas.scenario == "baseline")]
    share = people["mean"] / people["mean"].sum()
    tot90 = total[(total.kpi == "people_total") & (total.month_index == MONTHS) & (total.scenario == "baseline")]
    assert not np.allclose(people["p90"].to_numpy(), share.to_numpy() * tot90["p90"].iloc[0])
    ages = b[b.age_band.notna()]
    assert ages.area.isna().all() and ages.segment.isna().all() and len(set(ages.age_band)) >= 4
    pairs = b[b.area.notna() & b.segment.notna()]
    assert set(pairs.kpi) == set(MAIN_KPIS)
    assert (b.n_replications == REPS).all()
    ok = b.dropna(subset=["p10"])
    assert (ok.p10 <= ok["median"] + 1e-9).all() and (ok["median"] <= ok.p90 + 1e-9).all()


def test_kpi_breakdown_lands_in_the_forecast_schema_and_is_empty_without_breakdowns(results):
    from dataclasses import replace

    con = duckdb.connect()
    written = write_forecast(con, results)
    got = con.execute("select count(*), count(distinct area), count(*) filter (where area is null and segment is null "
                      "and age_band is null) from forecast.kpi_breakdown").fetchone()
    assert got[0] == written["kpi_breakdown"] > 0 and got[1] == len(results.breakdown_layout.areas) and got[2] > 0
    none = replace(results, breakdown={}, breakdown_layout=None)
    assert write_forecast(duckdb.connect(), none)["kpi_breakdown"] == 0
