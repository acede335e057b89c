"""The explorer's pages under Streamlit's own test harness (AppTest), against made-up warehouses.

Every page is run against a warehouse with a forecast and ML tables, and against one without
(the pages must then say what is missing and what to run, never fail). The what-if form is
driven like a planner would: bad values are refused with a message, good ones run (with a
stand-in engine, the engine's speed is not this test's business) and save a scenario file.
A last test runs every page against the real development warehouse when one is present.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from explorer import auth, data, forecasting, words
from explorer.app import PAGES
from explorer.auth import User
from explorer.sample import build_sample_home, build_sample_warehouse

from helpers.paths import ROOT

VIEWS = ROOT / "explorer" / "views"
DEV_WAREHOUSE = Path("/work/devdata/home02/warehouse.duckdb")
TIMEOUT = 60


@pytest.fixture(scope="module")
def full_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("explorer_full")
    build_sample_home(home)  # built and published: the explorer reads the published copy
    return home


@pytest.fixture(scope="module")
def bare_warehouse(tmp_path_factory) -> Path:
    """Marts only: no forecast, no ML tables (a warehouse before the first forecast)."""
    return build_sample_warehouse(tmp_path_factory.mktemp("explorer_bare") / "warehouse.duckdb",
                                  n_people=150, with_forecast=False, with_ml=False)


PLANNER = User("pat", auth.PLANNER, "local")
CARE_MANAGER = User("cam", auth.CARE_MANAGER, "local")


def _run(page: str, warehouse: Path | None = None, user: User | None = PLANNER) -> AppTest:
    at = AppTest.from_file(str(VIEWS / page), default_timeout=TIMEOUT)
    if user is not None:  # logged in (tests/integration/test_explorer_auth.py covers the login itself)
        at.session_state["llif_user"] = user
    if warehouse is not None:
        at.session_state["warehouse_path"] = str(warehouse)
    at.run()
    return at


def _texts(at: AppTest) -> list[str]:
    """Every piece of text a planner reads on the page, chart titles and legends included."""
    out = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for w in list(at.selectbox) + list(at.multiselect) + list(at.radio):
        out.append(w.label)
        out += [str(o) for o in w.options]
    for df in at.dataframe:
        out += [str(c) for c in df.value.columns]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        layout = spec.get("layout", {})
        out.append(str((layout.get("title") or {}).get("text", "")))
        for axis in ("xaxis", "yaxis"):
            out.append(str(((layout.get(axis) or {}).get("title") or {}).get("text", "")))
        for trace in spec.get("data", []):
            out.append(str(trace.get("name", "")))
            out += [str(x) for x in (trace.get("node") or {}).get("label", [])]
    return out


def _jargon(texts: list[str]) -> list[str]:
    found = []
    for t in texts:
        for word in words.JARGON:
            flags = 0 if word in ("KPI", "NaN") else re.IGNORECASE
            if re.search(rf"\b{re.escape(word)}\b", t, flags):
                found.append(f"{word!r} in {t[:80]!r}")
    return found


def _chart_count(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


EXPECTED_CHARTS = {  # at least this many charts with a forecast and ML tables
    "overview.py": 1, "demand.py": 2, "flows.py": 1, "bottlenecks.py": 5, "case_mix.py": 4,
    "compare.py": 2, "commissioning.py": 3, "long_range.py": 2, "what_if.py": 0, "data_quality.py": 2,
}


@pytest.mark.parametrize("page", [p for p, _, _ in PAGES])
def test_every_page_renders_with_a_forecast_and_speaks_plainly(page, full_home, monkeypatch):
    monkeypatch.setenv("LLIF_HOME", str(full_home))  # the path comes from contracts.settings, as in production
    at = _run(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert _chart_count(at) >= EXPECTED_CHARTS[page]
    texts = _texts(at)
    assert not _jargon(texts), _jargon(texts)
    for chart_key in [c.proto.id for c in at.get("plotly_chart")]:
        assert chart_key
    # every chart has its reading and its data to download
    readings = [c.value for c in at.caption if "What this shows" in c.value]
    assert len(readings) >= _chart_count(at)
    downloads = at.get("download_button")
    assert len(downloads) >= _chart_count(at)


@pytest.mark.parametrize("page", [p for p, _, _ in PAGES])
def test_pages_without_a_forecast_say_what_is_missing(page, bare_warehouse):
    at = _run(page, bare_warehouse)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    texts = " ".join(_texts(at))
    if page in ("overview.py", "demand.py", "compare.py", "bottlenecks.py", "commissioning.py"):
        assert "No forecast has been made yet" in texts and "nightly" in texts
    if page == "case_mix.py":
        assert "segments" in texts and "have not been found yet" in texts
    assert not _jargon(_texts(at))


def test_a_missing_warehouse_is_explained(tmp_path):
    at = _run("overview.py", tmp_path / "nowhere" / "warehouse.duckdb")
    assert not at.exception
    assert any("There is no warehouse" in e.value and "make demo" in e.value for e in at.error)


def test_the_app_navigates_between_pages(full_home):
    at = AppTest.from_file(str(ROOT / "explorer" / "app.py"), default_timeout=TIMEOUT)
    at.session_state["llif_user"] = PLANNER
    at.session_state["warehouse_path"] = str(full_home / "warehouse.duckdb")
    at.run()
    assert [t.value for t in at.title] == ["Tonight's overview"]
    at.switch_page("views/flows.py").run()
    assert [t.value for t in at.title] == ["Flows"] and not at.exception


def test_flows_filters_by_segment_and_area(full_home):
    at = _run("flows.py", full_home / "warehouse.duckdb")
    everyone = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["link"]["value"]
    at.selectbox(key="flows_segment").select_index(1).run()
    at.selectbox(key="flows_area").select_index(1).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    if charts:  # a small group in one area may have no moves: then the page says so
        assert sum(json.loads(charts[0].proto.spec)["data"][0]["link"]["value"]) < sum(everyone)
    else:
        assert any("No moves match" in i.value for i in at.info)


# ----------------------------------------------------------------------------------- what-if


def stand_in_engine(warehouse, spec, runs, months, seed):
    """The nightly baseline as the 'baseline', and 10% fewer of everything as the what-if."""
    s = data.forecast_summary(warehouse, ("baseline",))
    s = s[s["month"] < s["month"].min() + pd.DateOffset(months=months)]
    what = s.copy()
    what["scenario"] = spec["name"]
    for c in ("mean", "median", "lo50", "hi50", "lo80", "hi80", "lo95", "hi95"):
        what[c] = what[c] * 0.9
    return pd.concat([s, what], ignore_index=True)


@pytest.fixture
def what_if_page(full_home, tmp_path, monkeypatch):
    """The what-if page with the real engine on a small made-up population (``simulation.testing``);
    with a stand-in when the engine is not installed."""
    try:
        from simulation.testing import toy_inputs
    except ImportError:
        monkeypatch.setattr(forecasting, "ENGINE", stand_in_engine)
    else:
        toy = toy_inputs(1200, seed=4)
        monkeypatch.setattr(forecasting, "ENGINE", None)
        monkeypatch.setattr(forecasting, "_inputs_for", lambda warehouse: toy)
    monkeypatch.setattr(forecasting, "scenarios_dir", lambda: tmp_path / "scenarios")
    at = _run("what_if.py", full_home / "warehouse.duckdb")
    assert not at.exception and not at.info  # the engine (stand-in) is ready
    return at


def _submit(at: AppTest) -> AppTest:
    [button] = [b for b in at.button if b.label.startswith("Check")]
    return button.click().run()


def test_what_if_refuses_bad_values_with_a_message(what_if_page):
    at = what_if_page
    at.text_input(key="wi_name").input("x/")
    at.selectbox(key="wi_cap_service").set_value("extra_care")
    at.number_input(key="wi_cap_change").set_value(0)
    at.number_input(key="wi_cost_nursing_week").set_value(-5.0)
    _submit(at)
    assert not at.exception
    [err] = at.error
    assert "Name:" in err.value
    assert "Change in places" in err.value
    assert "nursing care home" in err.value and "more than £0" in err.value
    assert not at.get("plotly_chart") and "wi_spec" not in at.session_state


def test_what_if_with_no_change_is_refused(what_if_page):
    at = what_if_page
    at.text_input(key="wi_name").input("Nothing changes")
    _submit(at)
    assert any("changes nothing" in e.value for e in at.error)


def test_what_if_runs_beside_the_baseline_and_saves_a_scenario(what_if_page, tmp_path):
    at = what_if_page
    at.text_input(key="wi_name").input("New extra care in Cardiff")
    at.selectbox(key="wi_cap_service").set_value("extra_care")
    at.selectbox(key="wi_cap_area").set_value("CDF")
    at.number_input(key="wi_cap_change").set_value(60)
    at.checkbox(key="wi_new_scheme").check()
    at.slider(key="wi_care_home_moves").set_value(-15)
    at.select_slider(key="wi_runs").set_value(10)
    _submit(at)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _chart_count(at) == 1
    assert any("runs of" in c.value for c in at.caption)
    spec = at.session_state["wi_spec"]
    assert spec["capacity"][0] == {"unit_type": "extra_care", "area": "CDF", "start": spec["capacity"][0]["start"],
                                   "delta": 60, "new_unit": "New extra-care flats in Cardiff"}
    assert spec["transitions"][0]["multiply"] == 0.85
    at.button(key="wi_save").click().run()
    saved = tmp_path / "scenarios" / "new_extra_care_in_cardiff.yaml"
    assert saved.exists()
    assert yaml.safe_load(saved.read_text())["name"] == "new_extra_care_in_cardiff"
    try:
        from simulation.scenarios import load_scenario
    except ImportError:
        return
    assert load_scenario(saved).name == "new_extra_care_in_cardiff"  # the nightly run will accept it


def test_what_if_without_an_engine_still_checks_and_saves(full_home, tmp_path, monkeypatch):
    monkeypatch.setattr(forecasting, "ENGINE", None)
    monkeypatch.setattr(forecasting, "engine_status", lambda: "The forecast engine is not installed in this copy.")
    monkeypatch.setattr(forecasting, "scenarios_dir", lambda: tmp_path / "scen")
    at = _run("what_if.py", full_home / "warehouse.duckdb")
    assert any("cannot be run here" in i.value for i in at.info)
    at.text_input(key="wi_name").input("More homeless arrivals")
    at.slider(key="wi_homeless").set_value(10)
    _submit(at)
    assert any("valid" in s.value for s in at.success)
    at.button(key="wi_save").click().run()
    assert (tmp_path / "scen" / "more_homeless_arrivals.yaml").exists()


# --------------------------------------------------------------------------- commissioning


def test_goal_seek_finds_the_places_the_engine_finds(full_home, monkeypatch):
    """The Commissioning page's goal seek, with the real engine on a small made-up population
    (full care homes), answers what ``simulation.goal_seek`` answers for the same question."""
    from simulation.goal_seek import Goal, goal_seek
    from simulation.testing import toy_inputs

    toy = toy_inputs(1500, seed=7, occupancy=1.0)
    monkeypatch.setattr(forecasting, "_inputs_for", lambda warehouse: toy)
    monkeypatch.setattr(forecasting, "_night_for", lambda warehouse: "2026-11-01")
    at = _run("commissioning.py", full_home / "warehouse.duckdb")
    at.selectbox(key="goal_service").set_value("residential")
    at.selectbox(key="goal_kpi").set_value("waiting_residential_care")
    at.number_input(key="goal_below").set_value(1.0)
    at.select_slider(key="goal_months").set_value(12)
    [button] = [b for b in at.button if b.label.startswith("Find the smallest")]
    button.click().run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    expected = goal_seek(toy, {"unit_type": "care_home", "beds": "residential"},
                         Goal("waiting_residential_care", below=1.0, level=0.8), replications=20, months=12,
                         run_date="2026-11-01", max_change=200)
    assert expected.change and expected.change > 0
    [answer] = at.success
    assert f"{expected.change} more residential care-home beds" in answer.value
    assert not _jargon(_texts(at))


# ------------------------------------------------------------------------- the real warehouse


@pytest.mark.skipif(not DEV_WAREHOUSE.exists(), reason="no development warehouse on this machine (CI has none)")
@pytest.mark.parametrize("page", [p for p, _, _ in PAGES])
def test_every_page_renders_against_the_development_warehouse(page, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(DEV_WAREHOUSE, copy)  # never read the shared file while its writer may run
    at = _run(page, copy)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not _jargon(_texts(at))


def test_demand_forecasts_an_area_and_a_group_of_people(full_home):
    """Choosing an area or a group of people draws that group's own forecast (forecast.kpi_breakdown),
    beside what happened to the same people, and says it counts people."""
    at = _run("demand.py", full_home / "warehouse.duckdb")
    everyone = json.loads(at.get("plotly_chart")[0].proto.spec)
    at.selectbox(key="demand_area").set_value("CDF").run()
    assert not at.exception and not at.error
    cardiff = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "Cardiff" in cardiff["layout"]["title"]["text"]
    assert any("person by person" in c.value for c in at.caption)

    assert any("likely range" in t.get("name", "") for t in cardiff["data"])   # Cardiff's own fan
    # ... which is Cardiff's people, fewer than everyone's (the sample's breakdown)
    mine = data.forecast_groups(full_home / "warehouse.duckdb", area="CDF")
    total = data.forecast_summary(full_home / "warehouse.duckdb", ("baseline",))
    k = "people_extra_care"
    assert 0 < mine.loc[mine["kpi"] == k, "median"].sum() < total.loc[total["kpi"] == k, "median"].sum()
    assert everyone["layout"]["title"]["text"] != cardiff["layout"]["title"]["text"]
    at.selectbox(key="demand_segment").select_index(1).run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) >= 1


def test_overview_says_where_an_areas_queues_are_heading(full_home):
    at = _run("overview.py", full_home / "warehouse.duckdb")
    at.selectbox(key="overview_area").set_value("CDF").run()
    assert not at.exception and not at.error
    said = [m.value for m in at.markdown if "Cardiff's" in m.value]
    assert said and all("very likely (90%) to exceed" in s for s in said), said
    # the sentence's threshold is met in 90 of 100 runs (the 10th percentile is above it) by that month
    groups = data.forecast_groups(full_home / "warehouse.duckdb", area="CDF")
    line = next(s for s in said if "extra-care waiting list" in s)
    threshold = float(re.search(r"exceed ([\d.]+) by", line).group(1))
    wait = groups[(groups["kpi"] == "waiting_extra_care") & (groups["scenario"] == "baseline")].sort_values("month")
    month = wait[wait["lo80"] > threshold]["month"].iloc[0]
    assert words.month(month) in line and threshold <= wait["lo80"].iloc[-1]


def test_compare_draws_an_areas_scenarios_from_its_own_forecast(full_home):
    at = _run("compare.py", full_home / "warehouse.duckdb")
    at.selectbox(key="compare_kpi").set_value("waiting_extra_care").run()
    at.selectbox(key="compare_area").set_value("NWP").run()
    assert not at.exception and not at.error
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert any("in Newport" in t for t in titles), titles
    assert any("counted person by person" in c.value for c in at.caption)


def test_bottlenecks_draw_each_areas_queue(full_home):
    at = _run("bottlenecks.py", full_home / "warehouse.duckdb")
    at.selectbox(key="bottlenecks_queue").set_value("waiting_extra_care").run()
    assert not at.exception and not at.error
    [chart] = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
               if "each area" in json.loads(c.proto.spec)["layout"]["title"]["text"]]
    assert {t["name"] for t in chart["data"]} == {"Cardiff", "Newport", "Bridgend", "Caerphilly"}


def test_commissioning_says_which_block_size_costs_least_and_who_goes_out_of_area(full_home):
    at = _run("commissioning.py", full_home / "warehouse.duckdb")
    at.selectbox(key="block_area").set_value("CDF").run()
    at.selectbox(key="block_care").set_value("residential_care").run()
    assert not at.exception and not at.error
    said = " ".join(m.value for m in at.markdown)
    table = data.block_spot(full_home / "warehouse.duckdb")
    mine = table.query("scenario == 'baseline' and care_type == 'residential_care' and area == 'CDF' and year == 1")
    cost = mine[mine["measure"] == "cost_total"]
    best = cost.loc[cost["mean"].idxmin(), "block_beds"]
    assert f"{best:,.0f} beds costs least on average" in said and "in Cardiff" in said
    out = mine.query("block_beds == 0 and measure == 'out_of_area_placements'")["mean"].iloc[0]
    assert f"about {out:,.0f} people at a time would be placed outside their own area" in said
    [chart] = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
               if "the cost of each block size" in json.loads(c.proto.spec)["layout"]["title"]["text"]]
    assert len(chart["data"][0]["x"]) == mine["block_share"].nunique()


def test_commissioning_says_how_many_carers_each_team_needs(full_home):
    at = _run("commissioning.py", full_home / "warehouse.duckdb")
    at.selectbox(key="commission_team").set_value("east").run()
    assert not at.exception and not at.error
    said = " ".join(m.value for m in at.markdown)
    assert "the east team are likely to need between" in said and "full-time carers" in said
    assert "30 carers delivered care" in said     # the team's own last month, from the staffing mart
    staffing = data.home_care_staffing(full_home / "warehouse.duckdb")
    east = staffing["forecast"].query("measure == 'carers_needed' and team == 'east' and scenario == 'baseline'")
    peak = east[pd.to_datetime(east["month"]).dt.month.isin([12, 1, 2])].head(3)["hi80"].max()
    assert f"{peak:,.0f} full-time carers" in said


def test_the_data_quality_page_shows_the_backtest_area_by_area(full_home):
    at = _run("data_quality.py", full_home / "warehouse.duckdb")
    assert not at.exception and not at.error
    said = " ".join(m.value for m in at.markdown)
    assert "The same, area by area" in said
    tables = [df.value for df in at.dataframe if "People: off by" in df.value.columns]
    assert len(tables) == 2   # 12 and 24 months ahead
    assert {"Cardiff", "Vale of Glamorgan", "Rhondda Cynon Taf", "Neath Port Talbot"} == set(tables[0]["Area"])


@pytest.mark.parametrize("page", ["overview.py", "data_quality.py"])
def test_a_warehouse_lost_mid_read_is_a_plain_message_on_the_page(page, bare_warehouse, tmp_path, monkeypatch):
    """Issue 16.8: the file going from under a read (the published copy replaced, a disk gone)
    shows the page's plain error, never a traceback."""
    import contextlib

    import duckdb

    class Gone:
        def execute(self, sql, params=None):
            raise duckdb.IOException("IO Error: Could not read from file: No such file or directory")

    here = tmp_path / "warehouse.duckdb"   # a path no earlier page has cached
    shutil.copy(bare_warehouse, here)
    monkeypatch.setattr(data, "connect", lambda path: contextlib.nullcontext(Gone()))
    at = _run(page, here)
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "connection to the warehouse was lost" in errors and "Reload" in errors



@pytest.fixture(scope="module")
def long_range_home(bare_warehouse, tmp_path_factory):
    """A published night with a long-range outlook beside it, made and written as
    `llif forecast long-range` makes and writes one (a toy population, ten years)."""
    from simulation.long_range import run_long_range, write_long_range
    from simulation.testing import toy_inputs

    night = tmp_path_factory.mktemp("long_range_night")
    shutil.copy(bare_warehouse, night / "warehouse.duckdb")
    lr = run_long_range(toy_inputs(800, seed=4), years=10, replications=6, run_date="2026-11-01", processes=1)
    write_long_range(lr, night / "forecasts" / "long_range" / "2026-11-01_10y", 1.0)
    return night, lr


def test_the_long_range_page_splits_the_change_into_rates_and_population(long_range_home, monkeypatch):
    night, lr = long_range_home
    monkeypatch.setenv("LLIF_HOME", str(night / "elsewhere"))   # only the night's own outlook
    at = _run("long_range.py", night / "warehouse.duckdb")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error and not _jargon(_texts(at)), _jargon(_texts(at))
    at.selectbox(key="long_range_kpi").set_value("needed_extra_care_flats").run()
    said = " ".join(m.value for m in at.markdown)
    d = lr.decomposition.query("kpi == 'needed_extra_care_flats' and year == 10").set_index("component")["mean"]
    assert f"about **{d['end']:,.0f}**" in said and f"against {d['start']:,.0f} in the first year" in said
    if abs(d["demography"]) >= 0.5:
        assert f"the growing and ageing population {'add' if d['demography'] >= 0 else 'take away'} " \
               f"{abs(d['demography']):,.0f}" in said
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 2
    bars = {t["name"]: t["y"] for t in charts[0]["data"] if t["type"] == "bar"}
    total = next(t for t in charts[0]["data"] if t["type"] == "scatter")["y"]
    # the parts stack to the total, year by year
    for i, whole in enumerate(total):
        assert sum(v[i] for v in bars.values()) == pytest.approx(whole, abs=1e-6)


def test_the_long_range_page_says_how_to_make_one(bare_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "home"))
    here = tmp_path / "night" / "warehouse.duckdb"
    here.parent.mkdir()
    shutil.copy(bare_warehouse, here)
    at = _run("long_range.py", here)
    assert not at.exception and not at.error
    assert any("No long-range outlook has been made yet" in i.value and "llif forecast long-range" in i.value
               for i in at.info)
