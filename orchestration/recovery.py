"""Never stuck: free the ``warehouse`` pool slot of a run that died without giving it back.

Why this exists (issue 16): a night killed hard (``kill -9``, the machine losing power) never
writes its end, so Dagster keeps its run as STARTED and its claim on the one ``warehouse`` slot
for ever; every later night then waits on "Step blocked by limit for pool warehouse". Dagster's
own run monitoring cannot see it: the default run launcher has no worker health check, and
``llif demo`` runs in-process with no launcher at all. Marking the run failed by hand is not
enough either: Dagster frees slots at a run's end only when its own worker ends it.

What counts as dead: every Dagster event records the process that wrote it (``pid``), and every
llif run executes all its steps in one process (the in-process executor, jobs.py). A run that
holds or waits for a slot is judged by the newest of its events: it is dead when that process no
longer exists, or exists but started after the event was written (the PID was reused). Runs
that have finished (success, failure, cancel) keep nothing: their slots are freed too. One
assumption: runs execute on this machine (llif's services and its nightly all run on the one
host; docs/deploy.md), so a PID is meaningful here.

Called from two places: ``llif demo`` before it starts a night, and the sensor
``llif_release_crashed_runs`` (every minute) for nights the daemon launches, so a blocked night
starts within a minute of its predecessor's crash.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

log = logging.getLogger(__name__)

RELEASE_INTERVAL_SECONDS = 60
# a process that started this long after the event it supposedly wrote is another process
PID_REUSE_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class Released:
    """A run whose slots were freed, and why."""

    run_id: str
    status: str
    reason: str


def _boot_time() -> float:
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise RuntimeError("no btime in /proc/stat")


def process_started_at(pid: int) -> float | None:
    """When process ``pid`` started (Unix time), or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0.0  # someone else's live process: alive, start unknown
        return 0.0
    # the command name (field 2) may hold spaces and parentheses: fields count from the last ')'
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":  # a zombie holds nothing
        return None
    ticks = int(fields[19])
    return _boot_time() + ticks / os.sysconf("SC_CLK_TCK")


def worker_alive(pid: int, seen_at: float) -> bool:
    """Is the process that wrote an event at ``seen_at`` still the process with ``pid``?"""
    started = process_started_at(pid)
    return started is not None and started <= seen_at + PID_REUSE_SLACK_SECONDS


def _last_worker(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, timestamp) of the run's newest event written by its worker: a step's event, or the
    run's start. Run-level events from other processes (the daemon dequeuing it, the UI asking
    for a cancel) carry their own PIDs and say nothing about the worker."""
    records = instance.get_records_for_run(run_id, limit=200, ascending=False).records
    for record in records:
        event = record.event_log_entry
        dagster_event = event.dagster_event
        if dagster_event is None or dagster_event.pid is None:
            continue
        if event.step_key is not None or dagster_event.event_type == dg.DagsterEventType.RUN_START:
            return int(dagster_event.pid), float(event.timestamp)
    return None


def release_dead_runs(instance: dg.DagsterInstance, *, current_run_id: str | None = None,
                      alive: Callable[[int, float], bool] = worker_alive) -> list[Released]:
    """Free the concurrency slots of every run that holds or waits for one and is finished or
    dead; a dead run still marked in progress is marked failed, saying why. Returns what was
    freed; a live run (and ``current_run_id``) is never touched."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    released = []
    for run_id in sorted(storage.get_concurrency_run_ids()):
        if run_id == current_run_id:
            continue
        run = instance.get_run_by_id(run_id)
        if run is None:
            storage.free_concurrency_slots_for_run(run_id)
            released.append(Released(run_id, "deleted", "the run no longer exists"))
            continue
        if run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            released.append(Released(run_id, run.status.value, "the run has ended"))
            continue
        worker = _last_worker(instance, run_id)
        if worker is None:
            continue  # queued, or not started: nothing says it is dead
        pid, seen_at = worker
        if alive(pid, seen_at):
            continue
        reason = (f"its process {pid} is gone (killed or crashed); llif freed its warehouse pool slot so the "
                  "next night can run (orchestration/recovery.py)")
        instance.report_run_failed(run, message=f"Run {run_id} marked failed: {reason}.")
        storage.free_concurrency_slots_for_run(run_id)
        released.append(Released(run_id, run.status.value, reason))
    for r in released:
        log.warning("freed the concurrency slots of run %s (%s): %s", r.run_id, r.status, r.reason)
    return released


@dg.sensor(name="llif_release_crashed_runs", minimum_interval_seconds=RELEASE_INTERVAL_SECONDS,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Every minute: frees the warehouse pool slot of a run that was killed or crashed "
                       "(its process is gone) and marks it failed, so the next night is never stuck.")
def release_crashed_runs(context: dg.SensorEvaluationContext):
    released = release_dead_runs(context.instance)
    if not released:
        return dg.SkipReason("no slot held by a finished or dead run")
    for r in released:
        context.log.warning(f"freed the slots of run {r.run_id} ({r.status}): {r.reason}")
    return dg.SkipReason(f"freed the slots of {len(released)} run(s): "
                         + ", ".join(r.run_id for r in released))
