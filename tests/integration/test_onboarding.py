"""A system llif has never seen, connected by its contract alone (issue 13, item 3).

"Care vendor C" sends a nightly folder of JSON-lines files (no manifest), with its own codes
(gender m / f, care level RC / NC) and its own date form (dd.mm.yyyy). A provider connects it as
docs/onboarding.md says: its source contract into ``LLIF_HOME/contracts/sources``, its exports
where the contract's layout says, its two staging models into the dbt project. Nothing else:
no Python of llif names it (checked below). Then ingest loads it (quarantining a bad date and
a line that is not JSON, with file, row and field), linkage links its people (two records of
one resident, once with her short name and a spaced NI number, become one person), and the
timeline shows their stays.

The hand-made export is in tests/onboarding/care_c; it is added to a copy of the small world's
warehouse (tests/conftest.py), and dbt builds a copy of the project with the two models added.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from helpers.paths import DBT, ONBOARDING, ROOT
from helpers.worlds import SMALL_WORLD_KEY

ONBOARD = ONBOARDING / "care_c"


@pytest.fixture(scope="module")
def onboarded(small_world, tmp_path_factory):
    from contracts.sources import dbt_source_systems
    from warehouse import duck
    from warehouse.identity import link_people
    from warehouse.ingest import ingest_system, systems_with_sources

    _, world_warehouse, _ = small_world
    home = tmp_path_factory.mktemp("onboarded")
    warehouse = home / "warehouse.duckdb"
    shutil.copy(world_warehouse, warehouse)
    (home / "contracts" / "sources").mkdir(parents=True)
    shutil.copy(ONBOARD / "care_c.yaml", home / "contracts" / "sources" / "care_c.yaml")
    # Vendor C runs two of the provider's own care homes: every care home must be in the asset
    # system (fct_care_episodes tests it), found there by postcode; the hand-made export names
    # them CF99 1AA and SA99 2BB, here replaced by two care-home schemes of the small world.
    with duckdb.connect(str(world_warehouse), read_only=True) as con:
        postcodes = [r[0] for r in con.execute(
            "SELECT postcode FROM staging.stg_assets__schemes WHERE scheme_type = 'care_home' "
            "ORDER BY scheme_id LIMIT 2").fetchall()]
    exports = home / "sources" / "care_c_exports"
    exports.mkdir(parents=True)
    for path in (ONBOARD / "exports").glob("*.jsonl"):
        text = path.read_text(encoding="utf-8")
        (exports / path.name).write_text(text.replace("CF99 1AA", postcodes[0]).replace("SA99 2BB", postcodes[1]),
                                         encoding="utf-8")
    project = home / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    shutil.copytree(ONBOARD / "dbt", project / "models" / "staging" / "care_c")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLIF_HOME", str(home))
        found = systems_with_sources(home / "sources")
        load = ingest_system("care_c", warehouse, sources_dir=home / "sources", pseudonym_key=SMALL_WORLD_KEY)
        with duck.open_writer(warehouse) as con:
            link_people(con)
        systems = dbt_source_systems()
    env = {**os.environ, "LLIF_WAREHOUSE": str(warehouse), "LLIF_HOME": str(home),
           "LLIF_SOURCE_SYSTEMS": json.dumps(systems), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(
        [str(DBT), "build", "--exclude", "tag:planning", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(home / "dbt" / "target"), "--log-path", str(home / "dbt" / "logs"),
         "--no-version-check"],
        env=env, capture_output=True, text=True, timeout=1800)
    return {"home": home, "warehouse": warehouse, "found": found, "load": load, "systems": systems, "dbt": proc}


def _sql(warehouse: Path, query: str, params=None):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def test_no_python_of_llif_names_the_new_system():
    """The contract, the sample and the staging models are all it took."""
    named = [p.relative_to(ROOT) for folder in ("contracts", "warehouse", "models_ml", "simulation", "explorer",
                                               "orchestration", "llif", "synthetic_sources", "truth_validation")
             for p in (ROOT / folder).rglob("*.py") if re.search(r"\bcare_c\b", p.read_text(encoding="utf-8"))]
    assert named == []


def test_its_contract_is_found_and_its_exports_are_loaded(onboarded):
    assert "care_c" in onboarded["found"]
    assert "care_c" in [s["system"] for s in onboarded["systems"]]
    by_table = {}
    for t in onboarded["load"].tables:
        by_table.setdefault(t.source_table, []).append(t)
    assert sum(t.rows_loaded for t in by_table["resident"]) == 4
    # both nights' stay files applied, oldest first: the corrected row of the second replaces none
    # that landed, and fills the one the first night quarantined
    assert [t.source for t in by_table["stay"]] == ["stay_20261030.jsonl", "stay_20261031.jsonl"]
    w = onboarded["warehouse"]
    assert _sql(w, "SELECT stay_id FROM raw.care_c__stay ORDER BY stay_id") == [("9001",), ("9002",), ("9003",), ("9004",)]
    assert _sql(w, "SELECT start FROM raw.care_c__stay WHERE stay_id = '9004'") == [("20.01.2025",)]
    # its identifiers went to identity, never to raw
    columns = {r[0] for r in _sql(w, "SELECT column_name FROM information_schema.columns "
                                     "WHERE table_schema = 'raw' AND table_name = 'care_c__resident'")}
    assert not columns & {"given_name", "family_name", "born", "nino"} and {"ni_token", "birth_month"} <= columns


def test_bad_input_is_quarantined_with_its_file_row_and_field(onboarded):
    rows = _sql(onboarded["warehouse"],
                "SELECT source, row_number, field, reason FROM raw._quarantine WHERE system = 'care_c' "
                "ORDER BY source, row_number")
    assert ("stay_20261030.jsonl", 4, "start") in [r[:3] for r in rows]
    bad_date = next(r for r in rows if r[2] == "start")
    assert "31.02.2025" in bad_date[3] and "dd.mm.yyyy" in bad_date[3]
    assert any(r[0] == "stay_20261030.jsonl" and r[1] == 5 and "JSON" in r[3] for r in rows)


def test_its_people_are_linked(onboarded):
    xref = dict(_sql(onboarded["warehouse"],
                     "SELECT record_key, person_key FROM identity.person_xref WHERE system = 'care_c'"))
    assert set(xref) == {"501", "502", "503", "504"}
    assert xref["501"] == xref["503"]  # Megan and Meg Prosser: one NI number, one date of birth
    assert len({xref["501"], xref["502"], xref["504"]}) == 3


def test_dbt_builds_with_it_and_every_test_passes(onboarded):
    proc = onboarded["dbt"]
    assert proc.returncode == 0, "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])


def test_the_timeline_shows_their_stays(onboarded):
    assert onboarded["dbt"].returncode == 0
    w = onboarded["warehouse"]
    key = dict(_sql(w, "SELECT record_key, person_key FROM identity.person_xref WHERE system = 'care_c'"))

    def state(record: str, month: str):
        return _sql(w, "SELECT state, state_source_system FROM marts.fct_person_month "
                       "WHERE person_key = ? AND month_start = ?", [key[record], month])

    assert state("501", "2023-06-01") == [("residential_care", "care_c")]   # her first home
    assert state("503", "2025-06-01") == [("nursing_care", "care_c")]       # her second, the same person
    assert state("502", "2026-10-01") == [("nursing_care", "care_c")]       # a stay still open
    assert state("504", "2025-02-01") == [("residential_care", "care_c")]   # the corrected respite stay
    episodes = _sql(w, "SELECT count(*) FROM marts.fct_care_episodes WHERE source_system = 'care_c'")
    assert episodes[0][0] >= 3


def test_the_night_ingests_it_with_no_change_to_the_code_location(onboarded, small_world, tmp_path):
    """The code location lists its systems from the contracts: care vendor C has its source, its
    ingest asset with the health checks, feeds linkage, and a Dagster run of its ingest loads it."""
    import sys

    import dagster as dg

    home = tmp_path / "home"
    shutil.copytree(onboarded["home"] / "contracts", home / "contracts")
    shutil.copytree(onboarded["home"] / "sources", home / "sources")
    shutil.copy(small_world[1], home / "warehouse.duckdb")  # before vendor C was loaded
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLIF_HOME", str(home))
        mp.setenv("LLIF_WAREHOUSE", str(home / "warehouse.duckdb"))
        mp.setenv("LLIF_PSEUDONYM_KEY", SMALL_WORLD_KEY.decode())  # the key the small world was loaded with
        sys.modules.pop("orchestration.definitions", None)  # its assets come from this home's contracts
        try:
            from orchestration.definitions import defs

            graph = defs.resolve_asset_graph()
            keys = set(graph.get_all_asset_keys())
            assert dg.AssetKey(["source", "care_c"]) in keys
            assert {dg.AssetKey(["raw", "care_c", "resident"]), dg.AssetKey(["raw", "care_c", "stay"])} <= keys
            linkage = graph.get(dg.AssetKey(["identity", "person_xref"]))
            assert dg.AssetKey(["raw", "care_c", "resident"]) in linkage.parent_keys
            checks = {(k.asset_key.path[1], k.name) for k in graph.asset_check_keys}
            assert {("care_c", "quarantine_share"), ("care_c", "source_freshness")} <= checks
            ingest = next(a for a in defs.resolve_all_asset_specs() if a.key == dg.AssetKey(["raw", "care_c", "stay"]))
            assert dg.AssetKey(["source", "care_c"]) in {d.asset_key for d in ingest.deps}

            job = defs.resolve_implicit_global_asset_job_def()
            result = job.execute_in_process(
                instance=dg.DagsterInstance.ephemeral(),
                asset_selection=[dg.AssetKey(["raw", "care_c", t]) for t in ("resident", "stay")],
                raise_on_error=False)  # the code location's own resources: LLIF_HOME is this home
        finally:
            sys.modules.pop("orchestration.definitions", None)
    assert result.success
    assert _sql(home / "warehouse.duckdb", "SELECT count(*) FROM raw.care_c__stay") == [(4,)]
