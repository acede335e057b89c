"""A pool's workers end with the process that started them, even when it is killed hard
(issue 16: "orphaned child processes are ended"; contracts/shutdown.py ``worker_start``).

A parent process starts a two-worker pool the way the forecast (fork) and ingest (spawn) do,
one worker busy with a long task and one idle waiting for work, and is killed with SIGKILL,
which runs no handler: both workers must be gone within a few seconds, not left as orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from contracts.shutdown import PARENT_WATCH_SECONDS

PARENT = textwrap.dedent("""
    import multiprocessing, os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from contracts.shutdown import worker_start

    def pid_then_sleep(seconds):
        print(os.getpid(), flush=True)
        time.sleep(seconds)

    def note(tag):
        os.environ["LLIF_TEST_INIT"] = tag

    if __name__ == "__main__":
        ctx = multiprocessing.get_context(sys.argv[1])
        args = dict(initializer=worker_start, initargs=(note, "x")) if sys.argv[2] == "watched" else {}
        with ProcessPoolExecutor(2, mp_context=ctx, **args) as pool:
            pool.submit(pid_then_sleep, 120)
            pool.submit(pid_then_sleep, 0).result()  # spawn starts a worker per task: two tasks, two workers
            while len(multiprocessing.active_children()) < 2:
                time.sleep(0.1)
            for p in multiprocessing.active_children():
                print("worker", p.pid, flush=True)
            time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _workers_after_parent_killed(tmp_path: Path, method: str, mode: str, wait: float) -> list[int]:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script), method, mode], stdout=subprocess.PIPE, text=True,
                              cwd=tmp_path)
    workers = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            line = parent.stdout.readline()
            if line.startswith("worker "):
                workers.append(int(line.split()[1]))
        assert len(workers) == 2, "the pool never started its two workers"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        return [w for w in workers if _alive(w)]
    finally:
        for w in workers:
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_end_within_seconds_of_their_parent_killed_hard(tmp_path, method):
    left = _workers_after_parent_killed(tmp_path, method, "watched", wait=PARENT_WATCH_SECONDS * 6)
    assert left == [], f"workers {left} outlived their parent"


def test_without_the_watch_a_forked_worker_is_orphaned(tmp_path):
    """The fault the watch answers: a plain pool's worker outlives a parent killed hard."""
    left = _workers_after_parent_killed(tmp_path, "fork", "plain", wait=PARENT_WATCH_SECONDS * 6)
    assert left, "a plain pool's workers died with their parent: the watch may not be needed"
