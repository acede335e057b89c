"""The services run a night with no one watching: the daemon launches the scheduled run (no UI
process), its failure reaches the alert e-mail within a minute, and Dagster's run storage and
MLflow's tracking store live in PostgreSQL when given by URL.

Against the local PostgreSQL server (a database of its own, dropped afterwards) and an SMTP
sink in the test (aiosmtpd). The schedule is moved to every minute with LLIF_NIGHTLY_CRON, an
operator's setting, and LLIF_HOME holds no source systems, so the night fails in its first step.
"""

from __future__ import annotations

import email
import json
import socket
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from llif import services

pytestmark = pytest.mark.server

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pg_database():
    name = f"llif_ops_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as con:
            con.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        pytest.skip("PostgreSQL is down: start it as .ci/run does")
    yield name
    with engine.connect() as con:
        con.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    got: list[tuple[float, email.message.Message]] = []

    class Keep(Message):
        def handle_message(self, message):
            got.append((time.time(), message))

    port = _free_port()
    server = Controller(Keep(), hostname="127.0.0.1", port=port)
    server.start()
    yield port, got
    server.stop()


@pytest.mark.timeout(420)
def test_the_daemon_runs_the_schedule_alone_and_a_failure_reaches_the_alert(tmp_path, monkeypatch, pg_database,
                                                                           smtp_sink):
    import dagster as dg

    port, mails = smtp_sink
    home = tmp_path / "home"
    monkeypatch.setenv("LLIF_HOME", str(home))
    monkeypatch.setenv("LLIF_DAGSTER_STORAGE_URL", f"postgresql://postgres@127.0.0.1:5432/{pg_database}")
    monkeypatch.setenv("LLIF_NIGHTLY_CRON", "* * * * *")
    monkeypatch.setenv("LLIF_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LLIF_SMTP_PORT", str(port))
    monkeypatch.setenv("LLIF_ALERT_TO", "duty@example.org")
    procs = services.start(only=["dagster-daemon"])  # no webserver, no `dagster dev`: the daemon alone
    assert list(procs) == ["dagster-daemon"]
    try:
        with services.open_instance() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            deadline = time.monotonic() + 330
            failed = None
            while time.monotonic() < deadline and not (failed and mails):
                assert procs["dagster-daemon"].poll() is None, "the daemon stopped"
                runs = instance.get_runs(dg.RunsFilter(tags={"dagster/schedule_name": "nightly_refresh_0200"}))
                done = [r for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
                failed = failed or (done[0] if done else None)
                time.sleep(2)
            assert failed is not None, f"no scheduled run failed in time (runs: {[(r.run_id, r.status) for r in runs]})"
            assert failed.job_name == "nightly_refresh"
            ended = instance.get_run_record_by_id(failed.run_id).end_time
    finally:
        services.stop(procs)
    assert mails, "the failure did not reach the alert"
    when, mail = mails[0]
    assert when - ended < 60, f"the alert came {when - ended:.0f}s after the failure"
    assert mail["To"] == "duty@example.org" and mail["Subject"].startswith("llif: the night failed")
    assert failed.run_id in mail.get_payload() and mail["X-llif-run-id"] == failed.run_id
    # the daemon left no process behind
    assert procs["dagster-daemon"].poll() is not None


@pytest.mark.timeout(180)
def test_mlflow_tracks_in_postgresql_when_given_by_url(tmp_path, monkeypatch, pg_database):
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_database}"
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LLIF_MLFLOW_TRACKING_URI", url)
    from models_ml.tracking import Tracking

    tracking = Tracking.from_paths()
    assert tracking.tracking_uri == url
    tracking.activate()
    import mlflow

    with mlflow.start_run(run_name="pg check"):
        mlflow.log_metric("x", 1.5)
    engine = sa.create_engine(url)
    with engine.connect() as con:
        assert con.exec_driver_sql("select count(*) from metrics where key = 'x'").scalar() == 1
    engine.dispose()
    # and the MLflow server of `llif serve` reads the same store
    ports = services.Ports(mlflow=_free_port())
    procs = services.start(only=["mlflow"], ports=ports)
    try:
        deadline, body = time.monotonic() + 120, None
        while time.monotonic() < deadline and body is None:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{ports.mlflow}/api/2.0/mlflow/experiments/search",
                                             data=json.dumps({"max_results": 10}).encode(),
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=5) as resp:
                    body = json.loads(resp.read())
            except OSError:
                time.sleep(1)
        assert body is not None
        assert "llif-transition-models" in {e["name"] for e in body["experiments"]}
    finally:
        services.stop(procs)


def _dbt_processes() -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "dbt build" in cmd:
                out.append(int(entry.name))
    return out


@pytest.mark.timeout(900)
def test_a_run_terminated_as_the_ui_does_stops_within_30s_with_no_dbt_left(tmp_path, monkeypatch):
    """The daemon's scheduled night, terminated during dbt the way the UI's *Terminate* does
    (the run coordinator's cancel_run): the run is cancelled within 30 s and no dbt is left."""
    import dagster as dg

    from synthetic_sources import api

    home = tmp_path / "llif_ui_stop"
    api.generate(home=home, scale=0.02, seed=3, until="2026-10-31")
    monkeypatch.setenv("LLIF_HOME", str(home))
    monkeypatch.delenv("LLIF_DAGSTER_STORAGE_URL", raising=False)
    monkeypatch.setenv("LLIF_NIGHTLY_CRON", "* * * * *")
    procs = services.start(only=["dagster-daemon"])
    try:
        with services.open_instance() as instance:
            deadline, run_id = time.monotonic() + 600, None
            while time.monotonic() < deadline and run_id is None:
                for r in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
                    starts = instance.all_logs(r.run_id, of_type=dg.DagsterEventType.STEP_START)
                    if any(e.step_key == "llif_dbt" for e in starts):
                        run_id = r.run_id
                time.sleep(1)
            assert run_id is not None, "the scheduled night never reached dbt"
            time.sleep(5)  # dbt is busy
            sent = time.monotonic()
            assert instance.run_coordinator.cancel_run(run_id)
            while time.monotonic() - sent < 60:
                status = instance.get_run_by_id(run_id).status
                if status in (dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE):
                    break
                time.sleep(0.5)
            took = time.monotonic() - sent
            assert status == dg.DagsterRunStatus.CANCELED, status
            assert took <= 30, f"{took:.1f}s from terminate to cancelled"
            print(f"terminated from the UI's path: cancelled {took:.1f}s later")
            time.sleep(2)
            left = []
            for p in _dbt_processes():
                try:
                    if str(home) in Path(f"/proc/{p}/environ").read_bytes().decode(errors="replace"):
                        left.append(p)
                except OSError:
                    pass
            assert not left, f"dbt outlived its run: {left}"
    finally:
        services.stop(procs)
    import duckdb

    duckdb.connect(str(home / "warehouse.duckdb")).close()  # nobody holds the write lock
