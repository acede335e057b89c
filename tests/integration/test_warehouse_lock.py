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


def test_dbt_waits_for_the_file_too():
    """dbt-duckdb's own retry of its first connect (2**n seconds between tries) covers a reader
    that holds the file when the build starts."""
    import yaml

    from contracts.settings import dbt_project_dir

    profile = yaml.safe_load((Path(dbt_project_dir()) / "profiles.yml").read_text())
    retries = profile["llif"]["outputs"]["duckdb"]["retries"]
    assert retries["connect_attempts"] >= 6  # 1 + 2 + ... + 32 s: about a minute at least
