"""A source that cannot be loaded stops only itself (issue 16, "a failed ingest stops identity,
dbt, the models and the forecast"; decision 46).

On a copy of the session's first night, the home-care system's database is emptied (a zero-byte
file, as a failed extract leaves it) and the whole nightly job runs, as ``llif demo`` runs it.
The night succeeds: every other system loads, linkage, dbt, the models and the forecast run on
the home-care system's last good load; the refusal names the file, fails the ``source_loaded``
check in Dagster and shows on the data-quality page; and nothing of home care's raw tables is lost.
"""

from __future__ import annotations

import shutil
import sys

import dagster as dg
import duckdb
import pytest


def _one(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def refused_night(first_night, tmp_path_factory):
    assert first_night.exit_code == 0, first_night.out[-3000:]
    home = tmp_path_factory.mktemp("refused") / "home"
    shutil.copytree(first_night.home, home)
    # the copy's Dagster instance must be its own: the first night's dagster.yaml names its storage
    (home / "dagster_home" / "dagster.yaml").unlink()
    warehouse = home / "warehouse.duckdb"
    before = {"visits": _one(warehouse, "select count(*) from raw.domcare__visit")[0][0],
              "runs": _one(warehouse, "select count(*) from forecast.runs")[0][0],
              "crm_loads": _one(warehouse, "select count(*) from raw._load_audit where system = 'crm'")[0][0]}
    (home / "sources" / "domcare.sqlite").write_bytes(b"")  # the extract failed and left an empty file
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLIF_HOME", str(home))
        mp.setenv("LLIF_WAREHOUSE", str(warehouse))
        sys.modules.pop("orchestration.definitions", None)  # the code location for this home
        try:
            from llif.demo import _nightly_refresh

            done = _nightly_refresh(replications=4)  # raises if the night failed
            from llif.services import open_instance

            with open_instance() as instance:
                run = instance.get_runs(limit=1)[0]
                checks = [e.dagster_event.event_specific_data for e in
                          instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
        finally:
            sys.modules.pop("orchestration.definitions", None)
    return {"home": home, "warehouse": warehouse, "before": before, "done": done, "checks": checks}


def test_the_night_succeeds_and_everything_after_ingest_runs(refused_night):
    w, before = refused_night["warehouse"], refused_night["before"]
    assert {"identity/person_xref", "marts/fct_person_month", "ml/transition_models", "forecast/scenario_forecasts"} \
        <= set(refused_night["done"])
    assert _one(w, "select count(*) from forecast.runs")[0][0] == before["runs"] + 1
    assert _one(w, "select count(*) from raw._load_audit where system = 'crm'")[0][0] > before["crm_loads"]


def test_nothing_of_the_refused_system_is_lost(refused_night):
    w = refused_night["warehouse"]
    assert _one(w, "select count(*) from raw.domcare__visit")[0][0] == refused_night["before"]["visits"]
    assert _one(w, "select count(*) from marts.fct_person_month where state_source_system = 'domcare'")[0][0] > 0


def test_the_refusal_names_the_file_and_fails_its_check(refused_night):
    w = refused_night["warehouse"]
    rows = _one(w, "select system, error, message from raw._load_refusals")
    assert [(s, e) for s, e, _ in rows] == [("domcare", "SourceCorrupt")]
    assert "domcare.sqlite" in rows[0][2] and "empty" in rows[0][2]
    by_check = {(c.asset_key.path[1], c.check_name): c for c in refused_night["checks"]}
    assert by_check[("domcare", "source_loaded")].passed is False
    assert "domcare.sqlite" in by_check[("domcare", "source_loaded")].metadata["finding"].value
    assert all(by_check[(s, "source_loaded")].passed for s in ("crm", "assets", "care_b"))


def test_the_data_quality_page_says_it_was_not_loaded(refused_night):
    from explorer import data

    dq = data.data_quality(refused_night["warehouse"])
    assert list(dq["refusals"]["system"]) == ["domcare"]
    row = next(r for r in dq["freshness"].itertuples(index=False) if r.system == "domcare")
    assert data.source_status(row, dq["now"]["now"].iloc[0], refused=True).startswith("Not loaded")
