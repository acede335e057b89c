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
import tempfile
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

    if len(sys.argv) > 3 and sys.argv[3] == "code-location":   # as a run worker: it imports the code location
        import orchestration.definitions  # noqa: F401
    elif len(sys.argv) > 3:   # as llif demo runs a night: SIGTERM interrupts, and the stop watch
        from contracts.shutdown import sigterm_interrupts
        from orchestration.stop_watch import watch_interrupts

        sigterm_interrupts()
        watch_interrupts(grace=float(sys.argv[3]))
    instance = dg.DagsterInstance.from_config(sys.argv[1])
    night.execute_in_process(instance=instance)
    print("done", flush=True)
""")


def _instance_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(dagster_yaml_text(home, None))
    return home


def _night(home: Path, seconds: float, stop_grace: float | str | None = None) -> subprocess.Popen:
    """The stand-in night in a process of its own; what it says on stderr (Dagster's log) goes
    to ``<home>/night-<pid>.err`` (``_said``), where a pipe could fill and stall it. ``stop_grace``
    starts the stop watch as ``llif demo`` does, or "code-location" imports the code location
    first, as a run worker does (whose watch has the default grace)."""
    extra = [str(stop_grace)] if stop_grace is not None else []
    err = tempfile.NamedTemporaryFile("w", dir=home, prefix="night-", suffix=".err", delete=False)
    proc = subprocess.Popen([sys.executable, "-c", JOB, str(home), str(seconds), *extra], stdout=subprocess.PIPE,
                            stderr=err, text=True, start_new_session=True)
    proc.err_path = Path(err.name)
    err.close()
    return proc


def _said(proc: subprocess.Popen) -> str:
    return proc.err_path.read_text()


def _crashed_holding_the_slot(home: Path) -> str:
    """A night killed with ``kill -9`` while it holds the warehouse slot: its run id."""
    crashed = _night(home, 60)
    line = crashed.stdout.readline().strip()
    assert line.startswith("holding "), line
    os.kill(crashed.pid, signal.SIGKILL)
    crashed.wait()
    return line.split()[1]


def _claimed(instance: dg.DagsterInstance) -> int:
    storage = instance.event_log_storage
    return len(storage.get_concurrency_info(POOL).claimed_slots) if POOL in storage.get_concurrency_keys() else 0


def test_a_run_killed_holding_the_warehouse_slot_is_freed_and_the_next_night_runs(tmp_path):
    home = _instance_home(tmp_path)
    run_id = _crashed_holding_the_slot(home)

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


def test_a_night_waiting_for_the_slot_stops_on_sigterm(tmp_path):
    """A second night queued behind a live one that holds the slot is stopped with SIGTERM (a
    service manager, ``timeout``): it must exit within the stop watch's grace, not wait for ever;
    the night holding the slot is untouched, and once it ends the next night runs."""
    home = _instance_home(tmp_path)
    holder = _night(home, 600, stop_grace=2)
    try:
        assert holder.stdout.readline().startswith("holding ")
        waiting = _night(home, 0, stop_grace=2)
        time.sleep(6)    # well inside its wait for the slot
        assert waiting.poll() is None, "the second night should be waiting for the slot"
        told = time.monotonic()
        os.kill(waiting.pid, signal.SIGTERM)
        try:
            code = waiting.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(waiting.pid, signal.SIGKILL)
            pytest.fail("a night waiting for the warehouse slot ignored SIGTERM")
        took = time.monotonic() - told
        assert code == 143 and took < 10, (code, took)
        assert "stopped while waiting for the warehouse" in _said(waiting)
        assert holder.poll() is None   # the live night goes on holding its slot
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert _claimed(instance) == 1
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        release_dead_runs(instance)
    nxt = _night(home, 0)
    out, _ = nxt.communicate(timeout=60)
    assert "done" in out


def test_a_run_worker_waiting_for_the_slot_stops_on_sigterm(tmp_path):
    """A run launched by the daemon or the UI imports the code location, which starts the stop
    watch: queued behind a live night and sent SIGTERM (the UI's Terminate, a service stopping),
    it exits within the watch's grace instead of waiting for the slot."""
    from orchestration.stop_watch import STOP_GRACE_SECONDS

    home = _instance_home(tmp_path)
    holder = _night(home, 600, stop_grace=2)
    try:
        assert holder.stdout.readline().startswith("holding ")
        waiting = _night(home, 0, stop_grace="code-location")
        time.sleep(12)   # the code location loaded, the run waiting for the slot
        assert waiting.poll() is None, _said(waiting)[-2000:]
        told = time.monotonic()
        os.kill(waiting.pid, signal.SIGTERM)
        try:
            code = waiting.wait(timeout=STOP_GRACE_SECONDS + 15)
        except subprocess.TimeoutExpired:
            os.killpg(waiting.pid, signal.SIGKILL)
            pytest.fail("a run worker waiting for the warehouse slot ignored SIGTERM")
        assert code == 143 and time.monotonic() - told < STOP_GRACE_SECONDS + 5
        assert holder.poll() is None
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()


def test_the_release_sensor_frees_a_crashed_runs_slot(tmp_path):
    """The sensor the daemon ticks every minute does what ``llif demo`` does at its start."""
    from orchestration.recovery import release_crashed_runs

    home = _instance_home(tmp_path)
    run_id = _crashed_holding_the_slot(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert _claimed(instance) == 1
        result = release_crashed_runs(dg.build_sensor_context(instance=instance))
        assert isinstance(result, dg.SkipReason) and run_id in result.skip_message
        assert _claimed(instance) == 0
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        again = release_crashed_runs(dg.build_sensor_context(instance=instance))
        assert "no slot held" in again.skip_message


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
    run_id = _crashed_holding_the_slot(home)
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
