"""Stopping cleanly: child processes that die with the step that started them.

A night is stopped by SIGTERM (a service manager stopping the daemon, ``timeout``, Ctrl-C) or
by terminating the run in the Dagster UI, which interrupts the step
(``DagsterExecutionInterruptedError``, a ``BaseException``). Whatever the step had started must
end with it, within seconds, or it keeps the warehouse's write lock and the next night waits:
``run_child`` runs a command in a process group of its own and takes the whole group down when
the step is interrupted, times out or fails; ``terminate_group`` is the one way llif ends a group
(SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass

GRACE_SECONDS = 5.0


def terminate_group(proc: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to the process group ``proc`` leads, SIGKILL to whatever is left after ``grace``."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    try:  # the leader may be gone while its children still hold the group
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@dataclass(frozen=True)
class Finished:
    returncode: int
    output: str


def run_child(cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None,
              cwd: str | None = None) -> Finished:
    """Run ``cmd`` to the end in its own process group; an interruption or a timeout ends the group."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except BaseException:
        terminate_group(proc)
        raise
    return Finished(proc.returncode, out or "")


@contextmanager
def pool_ends_with_caller(pool, grace: float = GRACE_SECONDS):
    """Use inside ``with ProcessPoolExecutor(...) as pool:``; if the caller is interrupted or fails,
    the pool's worker processes are ended at once instead of finishing their tasks.

    ``ProcessPoolExecutor.__exit__`` waits for running tasks (a forecast batch, a table's chunk),
    so a stopped night would sit in ``shutdown`` for minutes, or for ever when the workers had
    been interrupted too (issue 15: two forecast workers at 0% CPU for over ten minutes).
    """
    try:
        yield pool
    except BaseException:
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for w in workers:
            if w.is_alive():
                w.terminate()
        deadline = time.monotonic() + grace
        for w in workers:
            w.join(timeout=max(0.1, deadline - time.monotonic()))
            if w.is_alive():
                w.kill()
                w.join(timeout=1)
        raise


def sigterm_interrupts() -> None:
    """Make SIGTERM interrupt like Ctrl-C (SIGINT) in this process, as Dagster's own run workers
    do: ``llif demo`` runs the night in-process, and a service manager or ``timeout`` stops it
    with SIGTERM, whose default ends the process at once, leaving dbt and workers orphaned."""
    signal.signal(signal.SIGTERM, signal.getsignal(signal.SIGINT))
