"""The Dagster code location: it loads, its graph is what we expect, and a night then a day later works.

The snapshot of the asset graph (dagster-open-platform style) makes any change to lineage a
visible diff: rewrite it with `pytest tests/integration/test_orchestration.py --update-snapshots`.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from synthetic_sources import api

from helpers.paths import SNAPSHOTS

SNAPSHOT = SNAPSHOTS / "asset_graph.txt"


@pytest.fixture(scope="module")
def home(first_night, tmp_path_factory):
    """A copy of the session's first night (tests/conftest.py): `llif demo` generated a world
    (scale 0.02, seed 3, as of 2026-10-31) and ran the whole nightly job on it, with few forecast
    replications (a small world needs few to prove the wiring; the engine's own tests cover the
    rest). The end-to-end test takes this copy a day further; test_demo checks the demo's output."""
    home = tmp_path_factory.mktemp("orch") / "home"
    shutil.copytree(first_night.home, home)
    return home


@pytest.fixture(scope="module")
def defs(home):
    mp = pytest.MonkeyPatch()
    mp.setenv("LLIF_HOME", str(home))
    from llif.dbt_manifest import ensure

    ensure()
    import orchestration.definitions as module

    module = importlib.reload(module)
    yield module.defs
    mp.undo()


def _graph_lines(defs) -> list[str]:
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parents = sorted(p.to_user_string() for p in node.parent_keys)
        lines.append(f"{key.to_user_string()} [{node.group_name}] <- {', '.join(parents)}")
    return lines


def test_definitions_load_with_the_nightly_job_and_schedule(defs):
    job = defs.resolve_job_def("nightly_refresh")
    assert job is not None
    schedule = defs.resolve_schedule_def("nightly_refresh_0200")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/London"
    # Sundays rebuild dbt's incremental models in full; other nights do not
    import datetime as dt

    for day, full in ((dt.datetime(2026, 11, 22, 2), True), (dt.datetime(2026, 11, 23, 2), False)):
        with dg.build_schedule_context(scheduled_execution_time=day) as context:
            request = schedule.evaluate_tick(context).run_requests[0]
        assert bool(request.run_config) is full, day
        dg.validate_run_config(job, request.run_config)  # raises if the job would refuse it


def test_asset_graph_snapshot(defs, request):
    lines = _graph_lines(defs)
    text = "\n".join(lines) + "\n"
    if request.config.getoption("--update-snapshots"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.exists(), "no snapshot yet: run with --update-snapshots"
    assert text == SNAPSHOT.read_text()


def test_lineage_runs_sources_to_ingest_to_identity_to_dbt(defs):
    graph = defs.resolve_asset_graph()
    xref = graph.get(dg.AssetKey(["identity", "person_xref"]))
    assert dg.AssetKey(["raw", "crm", "contact"]) in xref.parent_keys
    assert dg.AssetKey(["raw", "care_a", "resident"]) in xref.parent_keys
    contacts = graph.get(dg.AssetKey(["raw", "crm", "contact"]))
    assert dg.AssetKey(["source", "crm"]) in contacts.parent_keys
    staged = [k for k in graph.get_all_asset_keys() if k.path[-1] == "stg_crm__contacts"]
    assert staged and dg.AssetKey(["raw", "crm", "contact"]) in graph.get(staged[0]).parent_keys
    # every vendor-A home file has its own ingest asset
    homes = [k for k in graph.get_all_asset_keys() if k.path[:2] == ["raw", "care_a_homes"]]
    assert len(homes) >= 1
    # every asset that writes the warehouse is in the one-writer pool
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable and key.path[0] in ("raw", "identity"):
            assert node.pools == {"warehouse"} or "warehouse" in (node.pools or set()), key


def test_planning_marts_are_a_second_dbt_asset_after_the_forecast(defs):
    graph = defs.resolve_asset_graph()
    forecast = dg.AssetKey(["forecast", "scenario_forecasts"])
    staged = {k for k in graph.get_all_asset_keys() if k.path[-1].startswith("stg_forecast__")}
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "planning"}
    assert {k.path[-1] for k in marts} == {"plan_capacity_outlook", "plan_annual_outlook", "plan_scenario_comparison",
                                           "plan_area_outlook"}
    assert {k.path[-1] for k in staged} == {"stg_forecast__runs", "stg_forecast__monthly_kpis",
                                            "stg_forecast__annual_kpis", "stg_forecast__scenario_differences",
                                            "stg_forecast__kpi_breakdowns"}
    assert all(graph.get(k).parent_keys == {forecast} for k in staged)
    assert all(graph.get(k).parent_keys and graph.get(k).parent_keys <= staged for k in marts)
    # one op builds them all, apart from the main dbt op (which must not wait for the forecast)
    assert {graph.assets_def_for_key(k).op.name for k in staged | marts} == {"llif_dbt_planning"}
    main = graph.assets_def_for_key(dg.AssetKey(["marts", "fct_person_month"]))
    assert main.op.name == "llif_dbt" and not set(main.keys) & (staged | marts)
    assert forecast not in main.dependency_keys
    # and the nightly job runs both
    nodes = set(defs.resolve_job_def("nightly_refresh").graph.node_dict)
    assert {"llif_dbt", "llif_dbt_planning", "forecast__scenario_forecasts"} <= nodes


@pytest.mark.timeout(1200)
def test_a_night_then_a_day_later_loads_only_new_data(defs, home, monkeypatch):
    from warehouse import duck

    monkeypatch.setenv("LLIF_HOME", str(home))
    job = defs.resolve_job_def("nightly_refresh")
    # the first night: `llif demo` ran the whole job and kept the run in the home's own Dagster
    # instance (llif.ui.prepare_dagster_home), so its events are read back from there
    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].job_name == "nightly_refresh"
        assert runs[0].status == dg.DagsterRunStatus.SUCCESS
        events = instance.all_logs(runs[0].run_id, of_type={dg.DagsterEventType.ASSET_MATERIALIZATION,
                                                            dg.DagsterEventType.ASSET_CHECK_EVALUATION})
    materialisations = [e.asset_materialization for e in events if e.asset_materialization is not None]
    made = {m.asset_key.to_user_string() for m in materialisations}
    assert {"ml/segments", "ml/transition_models", "ml/transition_probabilities", "ml/person_outlooks",
            "forecast/baseline", "forecast/scenario_forecasts", "forecast/backtest", "reports/nightly_report",
            "dbt_docs", "published/warehouse"} <= made
    # the baseline says where it blocks, the backtest how each key series fared
    baseline = next(m for m in materialisations if m.asset_key.to_user_string() == "forecast/baseline")
    assert {"bottlenecks", "statements", "people"} <= set(baseline.metadata)
    backtest = next(m for m in materialisations if m.asset_key.to_user_string() == "forecast/backtest")
    assert "people_total" in backtest.metadata["series_12m"].value
    planning = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()
                if k.path[0] == "planning"}
    assert planning <= made  # the planning marts, built after the forecast
    gate = [e.asset_check_evaluation for e in events if e.asset_check_evaluation is not None
            and e.asset_check_evaluation.check_name == "champion_gate"]
    assert len(gate) == 1 and gate[0].passed  # the first night: no champion yet, promoted
    # the synthetic world's truth is here, so the validation asset measured the warehouse against it
    validation = [m for m in materialisations if m.asset_key == dg.AssetKey(["validation", "truth_agreement"])]
    assert len(validation) == 1
    figures = {k: v.value for k, v in validation[0].metadata.items()}
    assert figures["linkage_precision"] >= 0.98 and figures["linkage_recall"] >= 0.97, figures
    assert figures["timeline_state_agreement"] >= 0.97, figures
    warehouse = home / "warehouse.duckdb"
    with duck.open_reader(warehouse) as con:
        loaded_first = con.execute("select sum(rows_loaded) from raw._load_audit").fetchone()[0]
        last_change = con.execute("select max(updated_at) from staging.stg_crm__tenancies").fetchone()[0]
        keys_first = con.execute("select count(distinct person_key) from identity.person_xref").fetchone()[0]
        marts_as_of = con.execute("select max(month_end) from marts.dim_month").fetchone()[0]
    assert loaded_first > 10_000 and keys_first > 100

    api.advance(home=home, days=1)
    # old nights' dbt target folders (dagster-dbt's <op>-<run>-<id>, ~47 MB a night at scale 1):
    # the second night's dbt asset must remove all but the newest few (issue 16.8)
    from orchestration.dbt import KEEP_RUN_TARGETS, project

    targets = Path(project.project_dir) / "target"
    planted = []
    for i in range(KEEP_RUN_TARGETS + 1):
        old = targets / f"llif_dbt-0ld{i:04d}-planted"
        old.mkdir(parents=True, exist_ok=True)
        os.utime(old, (1_600_000_000 + i, 1_600_000_000 + i))
        planted.append(old)
    # the second night checks loading and the marts; the models and forecasts were proven above
    warehouse_only = [k for k in defs.resolve_asset_graph().get_all_asset_keys()
                      if k.path[0] not in ("ml", "forecast", "reports", "source", "dbt_docs", "published")
                      or k.path[-1].startswith("ml_")]
    second = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), asset_selection=warehouse_only)
    assert second.success
    assert not any(p.exists() for p in planted), "the dbt asset left old nights' target folders"
    assert len([p for p in targets.glob("llif_dbt-*") if p.is_dir()]) <= KEEP_RUN_TARGETS
    with duck.open_reader(warehouse) as con:
        loads = con.execute(
            "select load_id, sum(rows_loaded) from raw._load_audit group by load_id order by min(started_at)"
        ).fetchall()
        staged_visits = con.execute("select max(visit_date) from staging.stg_domcare__visits").fetchone()[0]
        raw_visits = con.execute("select count(*) from raw.domcare__visit").fetchone()[0]
        marts_as_of_next = con.execute("select max(month_end) from marts.dim_month").fetchone()[0]
        stands_at = con.execute("select max(data_as_of_date) from intermediate.int_source_systems_summarised").fetchone()[0]
    # the second night read only what changed: a small fraction of the first
    first_ids = {r[0] for r in loads[: len(loads) // 2]}
    tonight = sum(n for lid, n in loads if lid not in first_ids)
    assert 0 < tonight < loaded_first * 0.05
    # and the warehouse moved on to the new day
    assert str(staged_visits) >= "2026-11-01"
    assert raw_visits > 0
    assert last_change is not None
    # the marts moved on with it: the world crossed into November, and so did the timeline
    assert str(marts_as_of)[:10] == "2026-10-31" and str(marts_as_of_next)[:10] == "2026-11-30"
    assert str(stands_at)[:10] == "2026-11-01"
    # the first night's forecast is in the warehouse under its run, and its report on disk
    with duck.open_reader(warehouse) as con:
        runs = con.execute("select count(distinct run_id) from forecast.runs").fetchone()[0]
        scenarios = con.execute("select count(distinct scenario) from forecast.kpi_summary").fetchone()[0]
    assert runs == 1 and scenarios == 8
    assert len(list((home / "reports").glob("*.html"))) >= 1
    assert len(list((home / "reports").glob("*.pdf"))) >= 1  # printed by headless Chromium
    assert "dbt" in (home / "dbt_docs" / "index.html").read_text()[:20000].lower()
    # the explorer reads the published first night, which holds no identifier
    from warehouse.published import current

    copy = current(home / "published")
    with duck.open_reader(copy) as con:
        schemas = {r[0] for r in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
    assert {"marts", "ml", "forecast"} <= schemas and "identity" not in schemas
