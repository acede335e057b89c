"""Readers do not make the night fail (issue 16, point 2): the warehouse writer waits a bounded
time for a reader to let go, and when it gives up its message says who holds the file, a reader
or a writer, instead of always "open for writing"."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from warehouse import duck


def _holder(path: Path, read_only: bool, seconds: float) -> subprocess.Popen:
    """Another process with the warehouse open for ``seconds``; returns once it has it."""
    code = ("import sys, time, duckdb\n"
            f"con = duckdb.connect({str(path)!r}, read_only={read_only})\n"
            "print('ready', flush=True)\n"
            f"time.sleep({seconds})\n"
            "con.close()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duck.open_writer(path) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS a")
    return path


def test_the_writer_waits_for_a_reader_to_finish(warehouse):
    reader = _holder(warehouse, read_only=True, seconds=2)
    try:
        started = time.monotonic()
        with duck.open_writer(warehouse, wait=30) as con:
            con.execute("INSERT INTO t VALUES (2)")
        waited = time.monotonic() - started
    finally:
        reader.kill()
        reader.wait()
    assert 1.0 < waited < 15
    with duck.open_reader(warehouse) as con:
        assert con.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_a_writer_that_gives_up_names_the_reader(warehouse):
    reader = _holder(warehouse, read_only=True, seconds=30)
    try:
        started = time.monotonic()
        with pytest.raises(duck.WarehouseBusy) as err, duck.open_writer(warehouse, wait=1):
            pass
        assert time.monotonic() - started < 8
    finally:
        reader.kill()
        reader.wait()
    message = str(err.value)
    assert "a reader has it open" in message
    assert f"PID {reader.pid}" in message
    assert "published" in message and "after waiting" in message
    assert "open for writing" not in message


def test_a_writer_that_gives_up_names_the_other_writer(warehouse):
    writer = _holder(warehouse, read_only=False, seconds=30)
    try:
        with pytest.raises(duck.WarehouseBusy) as err, duck.open_writer(warehouse, wait=0):
            pass
        with pytest.raises(duck.WarehouseBusy, match="writing it"), duck.open_reader(warehouse):
            pass
    finally:
        writer.kill()
        writer.wait()
    assert f"another process is writing it (PID {writer.pid}" in str(err.value)


def test_the_wait_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(duck.WAIT_ENV, raising=False)
    assert duck.wait_seconds() == duck.DEFAULT_WAIT_SECONDS
    monkeypatch.setenv(duck.WAIT_ENV, "12.5")
    assert duck.wait_seconds() == 12.5
    monkeypatch.setenv(duck.WAIT_ENV, "soon")
    with pytest.raises(ValueError, match="LLIF_WAREHOUSE_WAIT_SECONDS='soon'"):
        duck.wait_seconds()


def test_dbt_waits_for_the_file_too(tmp_path):
    """dbt-duckdb's own retry of its first connect (2**n seconds between tries), with the
    project's own duckdb profile, covers a reader that holds the file when dbt comes to open it:
    a real dbt, kept out by this process's hold until it is ready to connect, then let in."""
    import os

    import duckdb
    import yaml

    from contracts.settings import dbt_project_dir

    from helpers.paths import DBT

    profile = yaml.safe_load((Path(dbt_project_dir()) / "profiles.yml").read_text())
    duck_profile = profile["llif"]["outputs"]["duckdb"]
    assert duck_profile["retries"]["connect_attempts"] >= 6  # 1 + 2 + ... + 32 s: about a minute at least
    # a one-file dbt project on the project's duckdb profile (parsing the whole project would
    # take most of a minute before dbt came to the file)
    path = tmp_path / "held.duckdb"
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: held\nversion: '1.0'\nprofile: llif\nconfig-version: 2\n")
    (project / "profiles.yml").write_text(yaml.safe_dump(
        {"llif": {"target": "duckdb", "outputs": {"duckdb": {**duck_profile, "path": str(path)}}}}))
    holder = duckdb.connect(str(path))   # this process holds the file, as the explorer once did
    cmd = [str(DBT), "show", "--inline", "select 42 as answer", "--project-dir", str(project), "--profiles-dir",
           str(project), "--log-path", str(tmp_path / "logs"), "--target-path", str(tmp_path / "target"),
           "--no-version-check"]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    said = []
    try:
        for line in proc.stdout:
            said.append(line)
            if "Concurrency:" in line:   # dbt has parsed and is about to open the warehouse
                break
        time.sleep(4)                    # its first tries meet the lock
        assert proc.poll() is None, "".join(said)
        holder.close()
        released = time.monotonic()
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    said.append(out)
    assert proc.returncode == 0, "".join(said)[-3000:]
    assert "42" in out
    assert time.monotonic() - released < 60