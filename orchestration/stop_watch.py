"""A night waiting for the warehouse pool still stops when it is told to.

Why: Dagster's in-process executor (the nightly's, ``orchestration/jobs.py``) turns SIGTERM and
Ctrl-C into a flag that a step reads at its checkpoints; a step waiting for the ``warehouse``
pool slot has not started, nothing reads the flag, and the run ignored SIGTERM for as long as the
slot stayed taken (issue 16: "waits on 'Step blocked by limit for pool warehouse' indefinitely and
ignores SIGTERM"). A running step is not affected: while it computes, Dagster raises the signal
in it directly, and the flag stays unset.

The watch reads the same flag from a thread: an interrupt left unread for ``grace`` seconds while
the executor sits in its wait for a slot (``ActiveExecution.sleep_til_ready`` on the main
thread's stack) means no step is in a position to act on it, so the process exits (status 143,
as a SIGTERM'd process does). The flag alone is not enough: a second interrupt that lands while
an interrupted step is still ending (the UI's *Terminate* sends one from the code server and one
from the run's cancellation thread) sets it too, and exiting then would leave the run marked
"canceling" for ever instead of "canceled". Nothing is lost by exiting there: no step is running, and whatever an earlier step
started ends with its parent (``contracts.shutdown``: pool workers' watch, ``llif-dbt``'s
parent-death signal). The run is left marked started; the next night's start and the release
sensor mark it failed and free its claims (``orchestration/recovery.py``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

# the interrupt flag of Dagster's in-process execution (dagster._utils.interrupts): not public,
# so it is read in this one place, and tests/integration/test_recovery.py fails if it moves
from dagster._utils.interrupts import check_captured_interrupt

STOP_GRACE_SECONDS = 10.0   # longer than a checkpoint takes to come round in a running night
STOPPED_STATUS = 143        # 128 + SIGTERM
# frames of the in-process executor (dagster/_core/execution/plan): its wait for a step to become
# ready (a pool slot among them), and a step's execution, cleanup included
WAITING_FRAME = "sleep_til_ready"
STEP_FRAME = "dagster_event_sequence_for_step"

_STARTED: list[threading.Thread] = []


def main_thread_frames() -> set[str]:
    """The names of the functions on the main thread's stack."""
    frame, names = sys._current_frames().get(threading.main_thread().ident), set()
    while frame is not None:
        names.add(frame.f_code.co_name)
        frame = frame.f_back
    return names


def watch(grace: float, poll: float, stop: Callable[[int], None], done: threading.Event | None = None) -> None:
    """The watch's loop: ``stop(143)`` once the interrupt has waited ``grace`` seconds with no
    step running and the executor in its wait (or until ``done`` is set)."""
    since, done = None, done or threading.Event()
    while not done.is_set():
        frames = main_thread_frames() if check_captured_interrupt() else {STEP_FRAME}
        if STEP_FRAME not in frames:   # told to stop and no step running: measure how long
            since = since if since is not None else time.monotonic()
            if time.monotonic() - since >= grace and WAITING_FRAME in frames:
                print(f"llif: stopped while waiting for the warehouse (told to stop {grace:.0f}s ago and no "
                      "step could act on it); the next night frees this run's place in the queue",
                      file=sys.stderr, flush=True)
                stop(STOPPED_STATUS)
                return
        else:
            since = None
        time.sleep(poll)


def watch_interrupts(grace: float = STOP_GRACE_SECONDS, poll: float = 0.25,
                     stop: Callable[[int], None] = os._exit) -> threading.Thread:
    """Start (once per process) the thread that ends a run whose interrupt nobody reads."""
    if _STARTED and _STARTED[0].is_alive():
        return _STARTED[0]
    thread = threading.Thread(target=watch, args=(grace, poll, stop), name="llif-stop-watch", daemon=True)
    thread.start()
    _STARTED[:] = [thread]
    return thread


CANCEL_POLL_SECONDS = 2.0    # how often a run worker reads its own run's status
CANCEL_GRACE_SECONDS = 5.0   # Dagster's own path (the code server's interrupt) goes first
CANCEL_AGAIN_SECONDS = 15.0  # then an interrupt this often until the process ends


def watch_cancellation(open_instance: Callable, run_id: str, *, poll: float = CANCEL_POLL_SECONDS,
                       grace: float = CANCEL_GRACE_SECONDS, again: float = CANCEL_AGAIN_SECONDS,
                       interrupt: Callable[[], None] | None = None) -> threading.Thread:
    """Interrupt this process when its run is marked canceling and is still running.

    Why: the UI's *Terminate* reaches a run worker through its code server (a gRPC call that
    sets an event the worker turns into SIGINT). In CI that interrupt was seen to reach nobody:
    the run was marked canceling and its dbt step streamed on for 60 s. Dagster's own poll of a
    run's status (its cancellation thread) runs only for runs started by ``dagster api
    execute_run``. This is that poll for every run llif launches: canceling seen, ``grace``
    seconds for Dagster's own path, then SIGINT (what *Terminate* would have sent), again every
    ``again`` seconds until the process ends. The thread ends with the run.
    ``open_instance()`` opens the run's Dagster instance for the thread (a connection of its own)."""
    from dagster import DagsterRunStatus

    if interrupt is None:
        from dagster._utils import send_interrupt as interrupt

    finished = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}

    def watch() -> None:
        seen, sent = None, None
        try:
            with open_instance() as instance:
                while True:
                    run = instance.get_run_by_id(run_id)
                    if run is None or run.status in finished:
                        return
                    now = time.monotonic()
                    if run.status == DagsterRunStatus.CANCELING:
                        seen = seen if seen is not None else now
                        if now - seen >= grace and (sent is None or now - sent >= again):
                            print(f"llif: run {run_id[:8]} is marked canceling and still running: interrupting it",
                                  file=sys.stderr, flush=True)
                            interrupt()
                            sent = now
                    time.sleep(poll)
        except Exception as exc:   # the watch never fails a run; say why it stopped watching
            print(f"llif: the cancellation watch of run {run_id[:8]} stopped: {exc}", file=sys.stderr, flush=True)

    thread = threading.Thread(target=watch, name=f"llif-cancel-watch-{run_id[:8]}", daemon=True)
    thread.start()
    return thread
