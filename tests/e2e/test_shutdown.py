"""Stopping a night cleanly, and surviving a crash: SIGTERM during the forecast's process pool
and during dbt ends the run within 30 s with no process left behind (issue 15); ``kill -9``
during the forecast's pool, dbt and model training leaves no process behind either, and in every
case the next run gives the same warehouse as a night that was never stopped (issue 16). At
scale 0.02, on copies of the session's first night.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from helpers.paths import HELPERS, ROOT

RUNNER = HELPERS / "night_runner.py"
STOP_WITHIN = 30.0


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _start(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "LLIF_HOME": str(home), "LLIF_WAREHOUSE": str(home / "warehouse.duckdb")}
    return subprocess.Popen([sys.executable, str(RUNNER), *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _run(home: Path, *args: str, timeout: float = 900) -> None:
    proc = _start(home, *args)
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()[-3000:]


def _stop_when(proc: subprocess.Popen, ready, timeout: float = 600,
               sig: int = signal.SIGTERM) -> tuple[float, set[int]]:
    """Send ``sig`` to ``proc`` once ``ready(descendants)`` holds; returns (seconds to exit,
    descendants seen). SIGKILL is a crash: no handler runs, the children are on their own."""
    deadline = time.monotonic() + timeout
    seen: set[int] = set()
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended before it could be stopped: {proc.stderr.read().decode()[-2000:]}"
        kids = _children(proc.pid)
        seen |= kids
        if ready(kids):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the step to stop never started")
    time.sleep(3)  # well inside the step
    seen |= _children(proc.pid)
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(timeout=STOP_WITHIN + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"the run did not stop after {signal.Signals(sig).name}") from None
    return time.monotonic() - sent, seen


def _left(pids: set[int], grace: float = 5.0) -> list[str]:
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    return [f"{p}: {_cmdline(p)[:120]}" for p in pids if _alive(p)]


def _table(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _copy(first_night, tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    shutil.copytree(first_night.home, home)
    return home


LATEST_SUMMARY = """select * exclude (run_id) from forecast.kpi_summary
                    where run_id = (select run_id from forecast.runs order by created_at desc limit 1)
                    order by all"""


@pytest.fixture(scope="module")
def calm_forecast(first_night, tmp_path_factory) -> list[tuple]:
    """Tonight's forecast (40 replications) on a copy of the first night never stopped."""
    calm = _copy(first_night, tmp_path_factory.mktemp("calm"), "calm")
    _run(calm, "forecast", "40")
    return _table(calm / "warehouse.duckdb", LATEST_SUMMARY)


def _pool_busy(kids: set[int]) -> bool:
    return sum("night_runner" in _cmdline(k) for k in kids) >= 2  # the pool's two forked workers


def _dbt_building(kids: set[int]) -> bool:
    return any(" build" in _cmdline(k) and "dbt" in _cmdline(k) for k in kids)


@pytest.mark.timeout(1500)
def test_sigterm_in_the_forecasts_process_pool(first_night, calm_forecast, tmp_path):
    stopped = _copy(first_night, tmp_path, "stopped")
    runs_before = _table(stopped / "warehouse.duckdb", "select count(*) from forecast.runs")[0][0]
    proc = _start(stopped, "forecast", "40")
    # the pool's two workers (forked from the run) are busy
    took, seen = _stop_when(proc, _pool_busy)
    assert proc.returncode != 0
    assert took <= STOP_WITHIN, f"{took:.1f}s from SIGTERM to exit"
    print(f"forecast: stopped {took:.1f}s after SIGTERM; {len(seen)} child processes seen, none left")
    assert not _left(seen), _left(seen)
    # the stopped run wrote nothing; the next one completes and matches a night never stopped
    assert _table(stopped / "warehouse.duckdb", "select count(*) from forecast.runs")[0][0] == runs_before
    _run(stopped, "forecast", "40")
    a = _table(stopped / "warehouse.duckdb", LATEST_SUMMARY)
    assert len(a) > 1000 and a == calm_forecast


@pytest.mark.timeout(1500)
def test_kill_9_in_the_forecasts_process_pool(first_night, calm_forecast, tmp_path):
    crashed = _copy(first_night, tmp_path, "crashed")
    runs_before = _table(crashed / "warehouse.duckdb", "select count(*) from forecast.runs")[0][0]
    proc = _start(crashed, "forecast", "40")
    _, seen = _stop_when(proc, _pool_busy, sig=signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    # the workers were mid-batch: they see their parent gone and end (contracts/shutdown.py)
    assert not _left(seen), _left(seen)
    print(f"forecast: killed; {len(seen)} child processes seen, none left")
    assert _table(crashed / "warehouse.duckdb", "select count(*) from forecast.runs")[0][0] == runs_before
    _run(crashed, "forecast", "40")
    assert _table(crashed / "warehouse.duckdb", LATEST_SUMMARY) == calm_forecast


MARTS = ("dim_person", "fct_person_month", "fct_tenancy_spells", "fct_care_episodes", "fct_occupancy_monthly",
         "fct_case_mix_monthly")


def _fingerprint(path: Path) -> dict[str, tuple]:
    return {t: _table(path, f"select count(*), md5(string_agg(r, '|' order by r)) from "
                            f"(select t::varchar as r from marts.{t} t)")[0] for t in MARTS}


@pytest.mark.timeout(1500)
def test_sigterm_during_dbt(first_night, tmp_path):
    stopped = _copy(first_night, tmp_path, "stopped_dbt")
    before = _fingerprint(first_night.home / "warehouse.duckdb")  # the night as it finished, never stopped
    proc = _start(stopped, "dbt")
    took, seen = _stop_when(proc, _dbt_building)
    assert proc.returncode != 0
    assert took <= STOP_WITHIN, f"{took:.1f}s from SIGTERM to exit"
    print(f"dbt: stopped {took:.1f}s after SIGTERM; {len(seen)} child processes seen, none left")
    assert not _left(seen), _left(seen)
    # nobody holds the warehouse any more: a writer gets it at once
    con = duckdb.connect(str(stopped / "warehouse.duckdb"))
    con.close()
    _run(stopped, "dbt")
    assert _fingerprint(stopped / "warehouse.duckdb") == before


@pytest.mark.timeout(1500)
def test_kill_9_during_dbt(first_night, tmp_path):
    crashed = _copy(first_night, tmp_path, "crashed_dbt")
    before = _fingerprint(first_night.home / "warehouse.duckdb")
    proc = _start(crashed, "dbt")
    _, seen = _stop_when(proc, _dbt_building, sig=signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    # dbt asked for the parent-death signal (llif-dbt): it does not live on holding the lock
    assert not _left(seen), _left(seen)
    con = duckdb.connect(str(crashed / "warehouse.duckdb"))  # the write lock is free at once
    con.close()
    _run(crashed, "dbt")
    assert _fingerprint(crashed / "warehouse.duckdb") == before


TABLES = """select * exclude (table_version) from ml.{t} order by all"""


def _training_started(home: Path):
    """Ready once MLflow holds a training run begun by this process (a RUNNING run)."""
    import sqlite3

    def ready(_kids) -> bool:
        try:
            con = sqlite3.connect(f"file:{home / 'mlflow.db'}?mode=ro", uri=True, timeout=1)
            try:
                return con.execute("select count(*) from runs where status = 'RUNNING'").fetchone()[0] > 0
            finally:
                con.close()
        except sqlite3.Error:
            return False
    return ready


@pytest.mark.timeout(1500)
def test_kill_9_during_model_training(first_night, tmp_path):
    crashed, calm = _copy(first_night, tmp_path, "crashed_models"), _copy(first_night, tmp_path, "calm_models")
    proc = _start(crashed, "models")
    _, seen = _stop_when(proc, _training_started(crashed), sig=signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert not _left(seen), _left(seen)
    _run(crashed, "models")
    _run(calm, "models")
    for t in ("transition_probabilities", "need_probabilities"):
        a = _table(crashed / "warehouse.duckdb", TABLES.format(t=t))
        b = _table(calm / "warehouse.duckdb", TABLES.format(t=t))
        assert len(a) > 100 and a == b, t
