"""Shared pytest options and the session fixtures (a small world, the first night, a SQL Server
compile, server databases); what tests share besides fixtures is in ``tests/helpers``."""

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpers.dbt_runs import run_dbt

# `llif demo` on a tiny world: the first night that test_demo and test_orchestration's end-to-end
# test both check (one whole nightly job is minutes of work, so they share it)
from helpers.worlds import FIRST_NIGHT_DEMO, SMALL_WORLD, SMALL_WORLD_KEY


def pytest_addoption(parser):
    parser.addoption("--update-snapshots", action="store_true",
                     help="rewrite stored snapshots (the asset graph, the golden forecast)")


def _server_up(url: str) -> bool:
    try:
        with sa.create_engine(url, connect_args={"connect_timeout": 3}).connect():
            return True
    except Exception:
        return False


@pytest.fixture
def server_databases():
    """A fresh PostgreSQL database and MariaDB database, dropped afterwards.

    MariaDB has no schemas, so vendor B's extract lands in a server database named after it
    (``care_b``): that is dropped before and after too.
    """
    name = f"llif_test_{uuid.uuid4().hex[:8]}"
    pg_admin = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    my_admin = "mysql+pymysql://root@127.0.0.1:3306/test"
    if not (_server_up(pg_admin) and _server_up(my_admin)):
        pytest.skip("PostgreSQL or MariaDB is down: start them as .ci/run does")
    pg = sa.create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with pg.connect() as con:
        con.exec_driver_sql(f'CREATE DATABASE "{name}"')
    my = sa.create_engine(my_admin)
    with my.connect() as con:
        con.exec_driver_sql("DROP DATABASE IF EXISTS `care_b`")
        con.exec_driver_sql(f"CREATE DATABASE `{name}`")
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    with pg.connect() as con:
        con.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with my.connect() as con:
        con.exec_driver_sql("DROP DATABASE IF EXISTS `care_b`")
        con.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    pg.dispose()
    my.dispose()


@pytest.fixture(scope="session")
def small_world(tmp_path_factory):
    """(home, warehouse, dbt work dir): one small world (scale 0.05) generated, ingested, linked
    and `dbt build` over the whole project (every model, snapshot and test) once per session,
    except the planning models (tag:planning), which read the forecast schema no forecast has
    written here (tests/integration/test_planning_marts.py builds them on a forecast of their own).

    The marts, ML and forecast tests share it; a test that writes to the warehouse or the home
    copies it first. dbt failures are left for test_marts to report node by node.
    """
    from synthetic_sources import api
    from warehouse import duck, ingest
    from warehouse.identity import link_people

    home = tmp_path_factory.mktemp("small_world")
    api.generate(home=home, **SMALL_WORLD)
    path = home / "warehouse.duckdb"
    systems = ingest.systems_with_sources(home / "sources")
    assert set(systems) == {"crm", "assets", "care_a", "care_b", "domcare"}
    for system in systems:
        ingest.ingest_system(system, path, sources_dir=home / "sources", pseudonym_key=SMALL_WORLD_KEY)
    with duck.open_writer(path) as con:
        link_people(con)
    work = tmp_path_factory.mktemp("small_world_dbt")
    run_dbt(["build", "--exclude", "tag:planning"], work, {"LLIF_WAREHOUSE": str(path)}, check=False)
    return home, path, work


@pytest.fixture(scope="session")
def sqlserver_compile(tmp_path_factory) -> Path:
    """The folder whose target/ holds one offline `dbt compile --target sqlserver` of the whole
    project (incremental models in their full form). test_dbt_project scans its staging and
    planning models, test_marts its intermediate models, marts and snapshots: read it only."""
    work = tmp_path_factory.mktemp("sqlserver_compile")
    run_dbt(["compile", "--target", "sqlserver", "--no-populate-cache", "--vars", "{llif_offline_compile: full}"],
            work, {"LLIF_WAREHOUSE": str(work / "unused.duckdb")})
    return work


@dataclass(frozen=True)
class FirstNight:
    home: Path  # as the first night left it: copy it before writing (shutil.copytree)
    exit_code: int
    out: str  # what `llif demo` printed


@pytest.fixture(scope="session")
def first_night(tmp_path_factory) -> FirstNight:
    """`llif demo` (FIRST_NIGHT_DEMO) run once per session into a fresh LLIF_HOME: it generates a
    world (scale 0.02, as of 2026-10-31) and runs the whole `nightly_refresh` job on it, keeping
    the run in the home's own Dagster instance (dagster_home/), where tests read its events.

    Shared, so never written to: a test that goes on from the first night copies the home first.
    """
    import contextlib
    import io
    import sys

    from llif.cli import main

    home = tmp_path_factory.mktemp("first_night") / "home"
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLIF_HOME", str(home))
        # the code location writes these for dbt while it loads: put them back afterwards
        mp.setenv("LLIF_WAREHOUSE", str(home / "warehouse.duckdb"))
        # the code location lists its assets from the home's sources when it is imported: import
        # it afresh for this home rather than reuse one another test loaded for another
        sys.modules.pop("orchestration.definitions", None)
        with contextlib.redirect_stdout(out):
            code = main(FIRST_NIGHT_DEMO)
    return FirstNight(home=home, exit_code=code, out=out.getvalue())


@pytest.fixture(autouse=True)
def _keep_the_main_module():
    """Streamlit's AppTest leaves the app script installed as ``__main__``; a process spawned
    later (ingest's parallel readers, the forecast's workers) re-imports ``__main__`` and then
    dies running a Streamlit page. Put the real one back after every test."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
