"""Stopping cleanly: child processes that die with the step that started them.

A night is stopped by SIGTERM (a service manager stopping the daemon, ``timeout``, Ctrl-C) or
by terminating the run in the Dagster UI, which interrupts the step
(``DagsterExecutionInterruptedError``, a ``BaseException``). Whatever the step had started must
end with it, within seconds, or it keeps the warehouse's write lock and the next night waits:
``run_child`` runs a command in a process group of its own and takes the whole group down when
the step is interrupted, times out or fails; ``terminate_group`` is the one way llif ends a group
(SIGTERM, then SIGKILL after a grace period).

A step killed hard (``kill -9``, the OOM killer) runs no handler at all, so its children must
notice for themselves: a process pool's workers start with ``worker_start``, whose watch ends the
worker within a second of its parent's death (a forked worker holds its own copy of the pool's
pipe, so it would otherwise wait for work for ever, an orphan of PID 1); ``llif-dbt`` asks the
kernel for the parent-death signal (``set_parent_death_signal``) before it becomes dbt.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

GRACE_SECONDS = 5.0
PARENT_WATCH_SECONDS = 0.5  # how often a pool worker looks whether its parent is still there
PR_SET_PDEATHSIG = 1  # prctl(2)


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


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent ends; False where unsupported.

    For a process that becomes another program (``exec``), as ``llif-dbt`` does: a watching thread
    would not survive the exec, the kernel's setting does."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def end_with_parent(poll_s: float = PARENT_WATCH_SECONDS) -> None:
    """End this process (at once, no clean-up: its work belongs to the dead parent) within
    ``poll_s`` of its parent's death, by a daemon thread that compares the parent's PID.

    Not the kernel's parent-death signal: that follows the parent *thread* that started the
    worker, and a pool may be started from a thread that ends before the pool does."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(70)  # EX_SOFTWARE: nobody is waiting for the exit code

    threading.Thread(target=watch, name="llif-parent-watch", daemon=True).start()


def worker_start(initializer=None, *initargs) -> None:
    """A process pool's initializer that makes each worker end with its parent, then runs the
    pool's own ``initializer(*initargs)``: ``ProcessPoolExecutor(initializer=worker_start,
    initargs=(init, *args))``."""
    end_with_parent()
    if initializer is not None:
        initializer(*initargs)
