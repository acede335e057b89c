"""The explorer's reading of the warehouse, its plain words, the what-if rules and the nightly report.

The made-up warehouse (``explorer/sample.py``) stands in for a built one; the first tests pin
it to the real contracts, so the pages are tested against the columns the pipeline really
writes: the marts' columns against the dbt model files, the forecast tables' against what
``simulation/outputs.py`` writes for a small run of the real engine.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from explorer import data, forecasting, insights, whatif, words
from explorer.report import build_report
from explorer.sample import build_sample_warehouse

from helpers.paths import ROOT


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build_sample_warehouse(tmp_path_factory.mktemp("explorer_data") / "warehouse.duckdb")


def _tables(path: Path, schema: str) -> dict[str, list[str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("select table_name, column_name from information_schema.columns where table_schema = ?",
                           [schema]).fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    for t, c in rows:
        out.setdefault(t, []).append(c)
    return out


def test_sample_marts_use_only_columns_the_dbt_models_declare(warehouse):
    declared: dict[str, set[str]] = {}
    for yml in (ROOT / "dbt_project" / "models" / "marts").rglob("_*.yml"):
        for model in yaml.safe_load(yml.read_text()).get("models", []):
            declared[model["name"]] = {c["name"] for c in model.get("columns", [])}
    for table, cols in _tables(warehouse, "marts").items():
        assert table in declared, f"marts.{table} is not a dbt model"
        assert set(cols) <= declared[table], f"marts.{table}: {set(cols) - declared[table]} not in the dbt model"


def test_sample_forecast_tables_have_the_engines_columns(warehouse, tmp_path):
    outputs = pytest.importorskip("simulation.outputs")
    from simulation.replications import run_forecast
    from simulation.scenarios import baseline, validate
    from simulation.testing import toy_inputs

    res = run_forecast(toy_inputs(800, seed=3), [baseline(), validate({"name": "more", "arrivals": [{"state": "temporary", "multiply": 1.2}]})],
                       replications=4, months=6, run_date="2026-11-01")
    con = duckdb.connect(str(tmp_path / "engine.duckdb"))
    outputs.write_forecast(con, res)
    # the backtest's own writer, on the engine's result against a made-up history of every key series
    from simulation.backtest import AREA_SERIES, KEY_SERIES, compare, compare_areas, write_backtest

    history = pd.DataFrame({s: np.full(6, 100.0) for s in KEY_SERIES})
    by_area = {a: pd.DataFrame({s: np.full(6, 10.0) for s in AREA_SERIES}) for a in res.breakdown_layout.areas}
    write_backtest(con, {12: {**compare(res, history), "areas": compare_areas(res, by_area), "cutoff": "2025-11-01"}},
                   "test-backtest", "2026-11-01")
    con.close()
    real = _tables(tmp_path / "engine.duckdb", "forecast")
    ours = _tables(warehouse, "forecast")
    assert set(ours) == set(real)
    for table in real:
        assert set(ours[table]) == set(real[table]), table
    # and every measure the sample names is one the engine writes
    con = duckdb.connect(str(tmp_path / "engine.duckdb"), read_only=True)
    real_kpis = {r[0] for r in con.execute("select distinct kpi from forecast.kpi_summary").fetchall()}
    con.close()
    sample_kpis = set(data.forecast_summary(warehouse)["kpi"])
    assert sample_kpis <= real_kpis, sample_kpis - real_kpis


def test_only_the_newest_forecast_run_is_read(warehouse):
    assert data.latest_run(warehouse) == "2026-11-01:sample"
    s = data.forecast_summary(warehouse, ("baseline",))
    assert set(s["run_id"]) == {"2026-11-01:sample"}
    assert "last night's sentence" not in set(data.overview(warehouse)["statements"]["statement"])


def test_forecast_statistics_are_named_for_the_pages(warehouse):
    s = data.forecast_summary(warehouse, ("baseline",), ("occupied",))
    assert {"lo50", "hi50", "lo80", "hi80", "lo95", "hi95", "mean_lo", "mean_hi"} <= set(s.columns)
    row = s.iloc[5]
    assert row["lo95"] <= row["lo80"] <= row["lo50"] <= row["median"] <= row["hi50"] <= row["hi80"] <= row["hi95"]
    assert data.split_kpi("occupied_extra_care_flats") == ("occupied", "extra_care", None)
    assert data.split_kpi("needed_nursing_beds") == ("needed", "nursing_care", None)
    assert data.split_kpi("waiting_extra_care") == ("waiting", "extra_care", None)
    assert data.split_kpi("cost_local_authority") == ("cost", "local_authority", None)
    assert data.split_kpi("delayed_discharges") == ("delayed_discharges", None, None)
    assert data.split_kpi("occupied:extra_care:CDF") == ("occupied", "extra_care", "CDF")


def test_engine_sentences_are_put_in_plain_words():
    s = data.plain("the waiting list for nursing beds grows in 62% of replications")
    assert s == "The waiting list for nursing beds grows in 62% of the runs"
    s = data.plain("compared with the baseline, extra_care_x lowers cost by £1m (95% CI £0.5m to £1.5m)", ["extra_care_x"])
    assert "CI" not in s and "likely between £0.5m and £1.5m" in s and "'Extra care x'" in s


def test_the_explorer_never_reads_identity(warehouse):
    assert not any(t.startswith("identity.") for t in data.catalogue(warehouse))
    with pytest.raises(PermissionError):
        data.read(warehouse, {"x": "select * from identity.person_xref"})
    with pytest.raises(PermissionError):
        data.read(warehouse, {"x": "select * from staging.stg_identity__person_xref"})
    # quoted, bracketed, catalogue-qualified, or made the default schema
    for sql in ('select * from "identity".source_identifiers', "select * from [identity].person_xref",
                'select * from warehouse."IDENTITY" . person_xref', "use identity; select * from person_xref",
                "set schema = 'identity'", "set search_path = 'identity'"):
        with pytest.raises(PermissionError):
            data._check_sql(sql)
    data._check_sql("select identity_rate, 'identity' as label from marts.fct_linkage")   # words, not the schema
    # no loader's SQL names it either
    source = (ROOT / "explorer" / "data.py").read_text()
    assert "from identity" not in source.lower()


def test_a_warehouse_being_written_gives_a_friendly_message(warehouse, tmp_path):
    copy = tmp_path / "busy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)",
         str(copy)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(data.WarehouseBusy) as err:
            with data.connect(copy, retries=2, wait=0.1):
                pass
        assert time.monotonic() - started < 10
        assert "nightly run is updating" in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    with data.connect(copy) as con:  # and once the writer is gone, it reads again
        assert con.execute("select count(*) from marts.dim_month").fetchone()[0] > 0


def test_a_missing_warehouse_says_what_to_run(tmp_path):
    with pytest.raises(data.WarehouseMissing, match="make demo"):
        data.overview(tmp_path / "none.duckdb")


def test_loaders_return_small_aggregated_frames(warehouse):
    f = data.flows(warehouse, "2025-11-01", "2026-10-01")
    assert list(f.columns) == ["source", "target", "people"] and (f["source"] != f["target"]).all()
    with_stayers = data.flows(warehouse, "2025-11-01", "2026-10-01", include_stayers=True)
    assert with_stayers["people"].sum() > f["people"].sum()
    seg = data.flow_options(warehouse)["segments"][0]
    assert data.flows(warehouse, "2025-11-01", "2026-10-01", segment=seg)["people"].sum() < f["people"].sum()
    h = data.demand_history(warehouse)
    assert {"residential_care", "nursing_care", "extra_care"} <= set(h["service"])
    dq = data.data_quality(warehouse)
    assert dq["quarantine"]["rows"].sum() == 4 and 0 < dq["people"]["share_with_ni"].iloc[0] < 1


def test_headlines_group_by_topic_with_their_chance(warehouse):
    groups = dict(insights.headline_groups(data.overview(warehouse)["statements"]))
    assert list(groups)[:4] == ["Where places are likely to run out", "Waiting lists", "Delays leaving hospital", "Cost"]
    assert all(text[0].isupper() for items in groups.values() for _, text in items)
    assert words.chance(0.81) == "likely (81%)" and words.chance(0.05) == "very unlikely (5%)"


def test_cost_by_financial_year_and_its_sentence(warehouse):
    cost = data.forecast_summary(warehouse, ("baseline",), ("cost",))
    cost = cost[cost["service"] == "total"]
    fy = insights.cost_by_financial_year(cost)
    assert list(fy["financial_year"][:2]) == ["2026-27", "2027-28"] and fy["months"].iloc[1] == 12
    assert "2027-28" in insights.cost_sentence(cost)


# ------------------------------------------------------------------------------------ what-if


def test_what_if_builds_an_engine_scenario():
    spec, errors = whatif.build(whatif.WhatIf(
        name="Care home closes", capacity_service="residential", capacity_area="NWP", capacity_change=-40,
        capacity_start="2027-01", hospital_admissions_pct=20, hospital_winter_only=True, homeless_growth_pct=10,
        home_care_hours_cap_pct=90, costs={"residential_week": 900.0, "nursing_week": 1050.0}), ["2027-01"])
    assert errors == []
    assert spec["name"] == "care_home_closes"
    assert spec["capacity"] == [{"unit_type": "care_home", "beds": "residential", "area": "NWP", "start": "2027-01", "delta": -40}]
    assert spec["transitions"][0]["months_of_year"] == [12, 1, 2] and spec["transitions"][0]["multiply"] == 1.2
    assert spec["arrivals"] == [{"state": "temporary", "annual_growth": 0.1}]
    assert spec["costs"] == {"residential_week": 900.0}  # unchanged costs are left out
    assert spec["rationing"] == {"home_care": {"weekly_hours_cap_fraction": 0.9}}
    try:
        from simulation.scenarios import validate
    except ImportError:
        return
    assert validate(yaml.safe_load(whatif.to_yaml(spec))).name == "care_home_closes"


@pytest.mark.parametrize("answers, message", [
    (dict(name=""), "Name: give the what-if a short name"),
    (dict(name="baseline", homeless_growth_pct=5), "is taken by the nightly run"),
    (dict(name="ok name", capacity_service="extra_care", capacity_change=2.5), "whole number"),
    (dict(name="ok name", capacity_service="extra_care", capacity_change=5000), "between -1,000 and 1,000"),
    (dict(name="ok name", capacity_service="nursing", capacity_change=-5, capacity_new_scheme=True), "A new scheme must add places"),
    (dict(name="ok name", capacity_service="extra_care", capacity_change=5, capacity_start="2040-01"), "From: choose a month"),
    (dict(name="ok name", care_home_moves_pct=-95), "between -90% and 200%"),
    (dict(name="ok name", costs={"home_care_hour": 0}), "home care, an hour: must be more than £0"),
    (dict(name="ok name", costs={"home_care_hour": "lots"}), "enter an amount in pounds"),
    (dict(name="ok name", costs={"home_care_hour": 25_000}), "far above today's"),
    (dict(name="ok name", homeless_growth_pct=5, runs=1), "Runs: choose between 5 and 200"),
    (dict(name="ok name"), "changes nothing"),
])
def test_what_if_refuses_bad_answers_in_plain_words(answers, message):
    spec, errors = whatif.build(whatif.WhatIf(**answers), ["2027-01", "2027-02"])
    assert spec is None
    assert any(message in e for e in errors), errors


def test_what_if_runs_the_real_engine_paired_with_the_baseline(warehouse, monkeypatch):
    pytest.importorskip("simulation.replications")
    from simulation.testing import toy_inputs

    monkeypatch.setattr(forecasting, "_inputs_for", lambda w: toy_inputs(1500, seed=2))
    spec, _ = whatif.build(whatif.WhatIf(name="Fewer care home moves", care_home_moves_pct=-30))
    r = forecasting.run_what_if(warehouse, spec, runs=6, months=12, run_date="2026-11-01")
    assert set(r.summary["scenario"]) == {"baseline", "fewer_care_home_moves"}
    assert set(r.differences["scenario"]) == {"fewer_care_home_moves"}
    d = r.differences[r.differences["kpi"] == "care_home_admissions"]
    assert d["mean"].sum() < 0  # fewer admissions, paired with the same random numbers
    again = forecasting.run_what_if(warehouse, spec, runs=6, months=12, run_date="2026-11-01")
    pd.testing.assert_frame_equal(r.summary, again.summary)  # the same answer every time


def test_saved_scenarios_are_not_overwritten_by_accident(tmp_path):
    spec, _ = whatif.build(whatif.WhatIf(name="More homeless arrivals", homeless_growth_pct=10))
    path = forecasting.save_scenario(spec, tmp_path)
    assert path == tmp_path / "more_homeless_arrivals.yaml" and yaml.safe_load(path.read_text())["arrivals"]
    with pytest.raises(FileExistsError, match="already saved"):
        forecasting.save_scenario(spec, tmp_path)
    forecasting.save_scenario(spec, tmp_path, overwrite=True)


def test_the_what_if_folder_holds_at_most_its_cap_and_a_saved_one_can_still_be_replaced(tmp_path):
    """A planners' shortlist, not an archive: the 101st what-if is refused with what to do, while
    replacing one already saved still works."""
    from explorer.scenario_store import MAX_SAVED

    spec, _ = whatif.build(whatif.WhatIf(name="More homeless arrivals", homeless_growth_pct=10))
    for i in range(MAX_SAVED):
        forecasting.save_scenario({**spec, "name": f"what_if_{i:03d}"}, tmp_path)
    with pytest.raises(ValueError, match=f"{MAX_SAVED} what-ifs are saved already; remove some"):
        forecasting.save_scenario({**spec, "name": "one_too_many"}, tmp_path)
    assert not (tmp_path / "one_too_many.yaml").exists()
    forecasting.save_scenario({**spec, "name": "what_if_007", "description": "changed"}, tmp_path, overwrite=True)
    assert "changed" in (tmp_path / "what_if_007.yaml").read_text()
    assert len(list(tmp_path.glob("*.yaml"))) == MAX_SAVED


def test_what_ifs_are_saved_under_llif_home_with_author_and_time_and_the_nightly_reads_them(tmp_path, monkeypatch):
    from explorer import scenario_store

    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "home"))
    assert forecasting.scenarios_dir() == tmp_path / "home" / "scenarios"
    spec, _ = whatif.build(whatif.WhatIf(name="More homeless arrivals", homeless_growth_pct=10))
    path = forecasting.save_scenario(spec, author="pat")
    assert path.parent == tmp_path / "home" / "scenarios"
    author, when = scenario_store.saved_by(path)
    assert author == "pat" and when.startswith("20")
    names = [s.name for s in scenario_store.nightly_scenarios()]
    shipped = [s.name for s in __import__("simulation.scenarios", fromlist=["x"]).shipped_scenarios()]
    assert names == shipped + ["more_homeless_arrivals"]  # the shipped ones first, the saved one after
    # a planner cannot take a shipped scenario's name, nor write an essay into the description
    with pytest.raises(FileExistsError, match="comes with llif"):
        forecasting.save_scenario({**spec, "name": "reablement"}, author="pat")
    with pytest.raises(ValueError, match="longer than"):
        forecasting.save_scenario({**spec, "description": "x" * 200_000}, author="pat")
    with pytest.raises(ValueError, match="lower-case"):
        forecasting.save_scenario({**spec, "name": "../../etc/x"}, author="pat")
    # a saved file an engine upgrade no longer accepts is left out and named, not fatal
    (tmp_path / "home" / "scenarios" / "broken.yaml").write_text("name: broken\nno_such_field: 1\n")
    again = scenario_store.nightly_scenarios()
    assert [s.name for s in again] == names and "broken.yaml" in again.skipped[0]


# ------------------------------------------------------------------------------------- report


def test_the_report_is_one_self_contained_file(warehouse, tmp_path):
    out = build_report(warehouse, tmp_path / "reports")
    text = out.read_text()
    assert out.parent == tmp_path / "reports" and out.suffix == ".html"
    assert text.count("<script type=\"text/javascript\">/**") <= 1 and "plotly" in text.lower()
    assert not re.search(r"<script[^>]*\bsrc=", text)  # Plotly is embedded, nothing is fetched
    for heading in ("Headlines", "Cost", "Demand against places", "Bottlenecks and delays", "Scenarios compared",
                    "Care-home beds: block or spot", "Data quality"):
        assert f"<h2>{heading}" in text
    # the commissioner's block-or-spot answer for the provider, each care type, the first two years
    assert html.unescape(text).count("costs least on average") == 4
    assert "placed outside their own area" in text
    assert "The extra-care waiting list is likely (80%)" in text
    assert text.count("class='figure'") >= 10
    # a page per area of the forecast's breakdown, each from that area's own forecast, after the scenarios
    for name in ("Cardiff", "Newport", "Bridgend", "Caerphilly"):
        assert f"<h2 class='area'>{name}</h2>" in text, name
        assert text.index("<h2>Scenarios compared") < text.index(f"<h2 class='area'>{name}") < text.index("<h2>Data quality")
    assert "Cardiff's extra-care waiting list is very likely (90%) to exceed" in html.unescape(text)
    prose = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    prose = re.sub(r"Plotly\.newPlot\(.*?\)", "", prose, flags=re.S)
    for word in ("replication", "KPI", "p95", "quantile"):
        assert not re.search(rf"\b{word}", prose, re.IGNORECASE), word


def test_the_report_without_a_forecast_says_what_is_missing(tmp_path):
    bare = build_sample_warehouse(tmp_path / "bare.duckdb", n_people=100, with_forecast=False, with_ml=False)
    text = build_report(bare, tmp_path / "out").read_text()
    assert "No forecast has been made yet." in text and "nightly_refresh" in text
    assert "Bottlenecks and delays" in text


def test_what_if_starts_from_the_inputs_the_nightly_forecast_kept(tmp_path, monkeypatch):
    """The nightly forecast saves its inputs beside the warehouse; a what-if reads them instead
    of re-estimating (which would take tens of seconds at scale 1.0)."""
    import shutil

    import simulation.inputs as sim_inputs
    from simulation.testing import toy_inputs

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(build_sample_warehouse(tmp_path / "sample" / "warehouse.duckdb"), home / "warehouse.duckdb")
    kept = toy_inputs(300, 7)
    sim_inputs.save_inputs(kept, home / "forecasts")

    def refuse(*args, **kwargs):
        raise AssertionError("estimated again although the nightly inputs were there")

    monkeypatch.setattr(sim_inputs, "estimate_inputs", refuse)
    forecasting._INPUTS.clear()
    got = forecasting._inputs_for(home / "warehouse.duckdb")
    assert got.n_people == kept.n_people and (got.state == kept.state).all()
    # unreadable leftovers are ignored, not trusted
    (home / "forecasts" / sim_inputs.INPUTS_FILE).write_bytes(b"not a pickle")
    assert sim_inputs.load_inputs(home / "forecasts") is None


def test_a_connection_lost_mid_read_says_so_in_plain_words(tmp_path, monkeypatch):
    """The file going from under a read (the published copy replaced, a disk gone) is a message
    the page shows, not a traceback (issue 16, item 8)."""
    import contextlib

    import duckdb

    class Gone:
        def execute(self, sql, params):
            raise duckdb.IOException("IO Error: Could not read from file: No such file or directory")

    monkeypatch.setattr(data, "connect", lambda path: contextlib.nullcontext(Gone()))
    with pytest.raises(data.WarehouseUnavailable, match="connection to the warehouse was lost .*IOException.* Reload"):
        data.read(tmp_path / "w.duckdb", {"x": "select 1"})
