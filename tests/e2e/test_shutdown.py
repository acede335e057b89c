"""Stopping a night cleanly: SIGTERM during the forecast's process pool and during dbt ends the
run within 30 s with no process left behind, and the next run gives the same warehouse as a
night that was never stopped (issue 15; at scale 0.02, on copies of the session's first night).
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


def _stop_when(proc: subprocess.Popen, ready, timeout: float = 600) -> tuple[float, set[int]]:
    """SIGTERM ``proc`` once ``ready(descendants)`` holds; returns (seconds to exit, descendants seen)."""
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
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_WITHIN + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the run did not stop after SIGTERM") from None
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


@pytest.mark.timeout(1500)
def test_sigterm_in_the_forecasts_process_pool(first_night, tmp_path):
    stopped, calm = _copy(first_night, tmp_path, "stopped"), _copy(first_night, tmp_path, "calm")
    runs_before = _table(stopped / "warehouse.duckdb", "select count(*) from forecast.runs")[0][0]
    proc = _start(stopped, "forecast", "40")
    # the pool's two workers (forked from the run) are busy
    took, seen = _stop_when(proc, lambda kids: sum("night_runner" in _cmdline(k) for k in kids) >= 2)
    assert proc.returncode != 0
    assert took <= STOP_WITHIN, f"{took:.1f}s from SIGTERM to exit"
    print(f"forecast: stopped {took:.1f}s after SIGTERM; {len(seen)} child processes seen, none left")
    assert not _left(seen), _left(seen)
    # the stopped run wrote nothing; the next one completes and matches a night never stopped
    assert _table(stopped / "warehouse.duckdb", "select count(*) from forecast.runs")[0][0] == runs_before
    _run(stopped, "forecast", "40")
    _run(calm, "forecast", "40")
    a = _table(stopped / "warehouse.duckdb", LATEST_SUMMARY)
    b = _table(calm / "warehouse.duckdb", LATEST_SUMMARY)
    assert len(a) > 1000 and a == b


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
    took, seen = _stop_when(proc, lambda kids: any(" build" in _cmdline(k) and "dbt" in _cmdline(k) for k in kids))
    assert proc.returncode != 0
    assert took <= STOP_WITHIN, f"{took:.1f}s from SIGTERM to exit"
    print(f"dbt: stopped {took:.1f}s after SIGTERM; {len(seen)} child processes seen, none left")
    assert not _left(seen), _left(seen)
    # nobody holds the warehouse any more: a writer gets it at once
    con = duckdb.connect(str(stopped / "warehouse.duckdb"))
    con.close()
    _run(stopped, "dbt")
    assert _fingerprint(stopped / "warehouse.duckdb") == before
