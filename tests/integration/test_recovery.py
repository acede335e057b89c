"""Never stuck (issue 16, point 1): a run killed with ``kill -9`` while it holds the one
``warehouse`` pool slot must not block every later night, and a killed run's dbt must not
outlive it holding DuckDB's write lock.

The runs here are real Dagster runs in a real instance (the ``dagster.yaml`` llif writes), in a
child process killed hard, exactly as a crash leaves them; the job is a one-op stand-in for the
nightly so the test takes seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pytest

from llif.services import dagster_yaml_text
from orchestration.recovery import release_dead_runs, worker_alive

POOL = "warehouse"

JOB = textwrap.dedent("""
    import sys, time
    import dagster as dg

    @dg.op(pool="warehouse")
    def write_warehouse(context):
        print("holding " + context.run_id, flush=True)
        time.sleep(float(sys.argv[2]))

    @dg.job(executor_def=dg.in_process_executor)
    def night():
        write_warehouse()

    instance = dg.DagsterInstance.from_config(sys.argv[1])
    night.execute_in_process(instance=instance)
    print("done", flush=True)
""")


def _instance_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(dagster_yaml_text(home, None))
    return home


def _night(home: Path, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", JOB, str(home), str(seconds)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)


def _claimed(instance: dg.DagsterInstance) -> int:
    storage = instance.event_log_storage
    return len(storage.get_concurrency_info(POOL).claimed_slots) if POOL in storage.get_concurrency_keys() else 0


def test_a_run_killed_holding_the_warehouse_slot_is_freed_and_the_next_night_runs(tmp_path):
    home = _instance_home(tmp_path)
    crashed = _night(home, 60)
    line = crashed.stdout.readline().strip()
    assert line.startswith("holding "), line
    run_id = line.split()[1]
    os.kill(crashed.pid, signal.SIGKILL)
    crashed.wait()

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert _claimed(instance) == 1  # the fault: the dead run still holds the only slot
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED

        released = release_dead_runs(instance)

        assert [r.run_id for r in released] == [run_id]
        assert "process" in released[0].reason and "gone" in released[0].reason
        assert _claimed(instance) == 0
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        assert release_dead_runs(instance) == []  # nothing left; a second call changes nothing

    nxt = _night(home, 0)
    try:
        out, _ = nxt.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(nxt.pid, signal.SIGKILL)
        pytest.fail("the next night is still blocked on the warehouse pool")
    assert "done" in out


def test_a_live_run_keeps_its_slot(tmp_path):
    home = _instance_home(tmp_path)
    live = _night(home, 60)
    try:
        run_id = live.stdout.readline().split()[1]
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert release_dead_runs(instance) == []
            assert _claimed(instance) == 1
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
    finally:
        os.killpg(live.pid, signal.SIGKILL)
        live.wait()


def test_a_reused_pid_does_not_count_as_the_dead_run():
    me = os.getpid()
    assert worker_alive(me, time.time())
    # an event written long before this process started was written by another process
    assert not worker_alive(me, 1_000_000.0)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not worker_alive(dead.pid, time.time())


def test_the_dagster_yaml_turns_on_run_monitoring_and_frees_ended_runs_slots(tmp_path):
    home = _instance_home(tmp_path)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        settings = instance.run_monitoring_settings
        assert settings["enabled"] is True
        assert settings["free_slots_after_run_end_seconds"] > 0


def test_the_release_sensor_is_in_the_code_location():
    from orchestration.definitions import defs

    assert defs.resolve_sensor_def("llif_release_crashed_runs") is not None


def test_dbt_dies_with_a_run_killed_hard(tmp_path):
    """The run's process starts ``llif-dbt`` as dagster-dbt does (a plain Popen) and is killed
    with SIGKILL: its 'dbt' (a long sleep standing in) must not live on as an orphan."""
    wrapper = Path(sys.executable).parent / "llif-dbt"
    assert wrapper.exists(), "llif-dbt is installed with llif (pyproject [project.scripts])"
    parent = subprocess.Popen(
        [sys.executable, "-c",
         ("import subprocess, sys, time\n"
          f"p = subprocess.Popen([{str(wrapper)!r}, '120'])\n"
          "print(p.pid, flush=True); time.sleep(120)")],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "LLIF_DBT_EXECUTABLE": "/bin/sleep"})
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the wrapper has become the program (same PID)
        if Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"/bin/sleep"):
            break
        time.sleep(0.05)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and worker_alive(child, time.time()):
        time.sleep(0.05)
    try:
        assert not worker_alive(child, time.time()), "dbt outlived the run that started it"
    finally:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_the_dbt_resource_runs_dbt_through_the_wrapper():
    from orchestration.dbt import dbt_resource

    assert Path(dbt_resource().dbt_executable).name == "llif-dbt"


def test_a_dead_run_marked_failed_by_hand_gives_its_slot_back(tmp_path):
    """Issue 16: marking the dead run failed (as an operator would in the UI) left the slot held."""
    home = _instance_home(tmp_path)
    crashed = _night(home, 60)
    run_id = crashed.stdout.readline().split()[1]
    os.kill(crashed.pid, signal.SIGKILL)
    crashed.wait()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.report_run_failed(instance.get_run_by_id(run_id), message="marked failed by the operator")
        assert _claimed(instance) == 1
        released = release_dead_runs(instance)
        assert [(r.run_id, r.reason) for r in released] == [(run_id, "the run has ended")]
        assert _claimed(instance) == 0


def test_a_live_run_is_judged_by_its_worker_not_by_another_process_that_wrote_to_it(tmp_path):
    """The UI or the daemon write run-level events too; that process ending says nothing."""
    home = _instance_home(tmp_path)
    live = _night(home, 60)
    try:
        run_id = live.stdout.readline().split()[1]
        subprocess.run([sys.executable, "-c",
                        ("import sys, dagster as dg\n"
                        "i = dg.DagsterInstance.from_config(sys.argv[1])\n"
                        "i.report_engine_event('a note from the UI', i.get_run_by_id(sys.argv[2]))\n"),
                        str(home), run_id], check=True)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert release_dead_runs(instance) == []
            assert _claimed(instance) == 1
    finally:
        os.killpg(live.pid, signal.SIGKILL)
        live.wait()
