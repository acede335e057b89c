"""A night waiting for the warehouse pool still stops when it is told to.

Why: Dagster's in-process executor (the nightly's, ``orchestration/jobs.py``) turns SIGTERM and
Ctrl-C into a flag that a step reads at its checkpoints; a step waiting for the ``warehouse``
pool slot has not started, nothing reads the flag, and the run ignored SIGTERM for as long as the
slot stayed taken (issue 16: "waits on 'Step blocked by limit for pool warehouse' indefinitely and
ignores SIGTERM"). A running step is not affected: while it computes, Dagster raises the signal
in it directly, and the flag stays unset.

The watch reads the same flag from a thread: an interrupt left unread for ``grace`` seconds means
no step is in a position to act on it, so the process exits (status 143, as a SIGTERM'd process
does). Nothing is lost by exiting there: no step is running, and whatever an earlier step
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

_STARTED: list[threading.Thread] = []


def watch_interrupts(grace: float = STOP_GRACE_SECONDS, poll: float = 0.25,
                     stop: Callable[[int], None] = os._exit) -> threading.Thread:
    """Start (once per process) the thread that ends a run whose interrupt nobody reads."""
    if _STARTED and _STARTED[0].is_alive():
        return _STARTED[0]

    def watch() -> None:
        since = None
        while True:
            if check_captured_interrupt():
                since = since if since is not None else time.monotonic()
                if time.monotonic() - since >= grace:
                    print(f"llif: stopped while waiting for the warehouse (told to stop {grace:.0f}s ago and no "
                          "step could act on it); the next night frees this run's place in the queue",
                          file=sys.stderr, flush=True)
                    stop(STOPPED_STATUS)
                    return
            else:
                since = None
            time.sleep(poll)

    thread = threading.Thread(target=watch, name="llif-stop-watch", daemon=True)
    thread.start()
    _STARTED[:] = [thread]
    return thread
