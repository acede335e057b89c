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
