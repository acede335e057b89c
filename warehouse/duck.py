"""Opening the DuckDB warehouse: one writer at a time, any number of readers.

DuckDB lets one process hold a database file for writing (architecture convention 5: a Dagster
pool of size 1 and dbt ``threads: 1`` keep to that); a second writer, or a reader while the
writer works, gets DuckDB's lock error. That error names a PID but not what to do, so it is
turned here into one that does, and says whether a *reader* or a *writer* holds the file (read
from the kernel's lock table, ``/proc/locks``: DuckDB takes a shared lock to read, an exclusive
one to write), since the cure differs.

A writer waits: a reader (a check, a notebook, someone's ``duckdb -readonly``) holds the file
for seconds, and failing the night for that is the wrong trade (issue 16: four failed nights in
four with readers about). ``open_writer`` retries for up to ``LLIF_WAREHOUSE_WAIT_SECONDS``
(default 300 s), backing off to 5 s between tries, then fails naming the holder. Readers do not
wait: they are interactive, and the explorer reads the published copy (warehouse/published.py),
never this file.

Owner-only (issue 16, point 3): the warehouse holds the restricted ``identity`` schema, so it is
created 0600 and an older, looser file is tightened when opened for writing. DuckDB makes its
write-ahead log and spill folder itself, with the process's umask, so the umask is 077 while a
writer is open (and for the whole of dbt's process: orchestration/dbt_child.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# one definition for every layer (contracts/errors.py); callers may keep naming duck.WarehouseBusy
from contracts.errors import WarehouseBusy, WarehouseMissing
from contracts.settings import OWNER_ONLY_UMASK

WAIT_ENV = "LLIF_WAREHOUSE_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 300.0
MAX_BACKOFF_SECONDS = 5.0


def wait_seconds() -> float:
    """How long a writer waits for the file (``LLIF_WAREHOUSE_WAIT_SECONDS``)."""
    text = os.environ.get(WAIT_ENV, "").strip()
    if not text:
        return DEFAULT_WAIT_SECONDS
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"llif: {WAIT_ENV}={text!r} is not a number of seconds") from None
    if value < 0:
        raise ValueError(f"llif: {WAIT_ENV}={text!r} must not be negative")
    return value


def _is_lock_error(exc: duckdb.IOException) -> bool:
    return "lock" in str(exc).lower()


def holders(path: Path) -> list[tuple[int, str]]:
    """(pid, "READ" or "WRITE") of every other process with a lock on ``path`` (Linux; empty
    where the kernel's lock table cannot be read)."""
    try:
        inode = os.stat(path).st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split()
        # "1: POSIX  ADVISORY  READ 12283 fe:00:2146915 0 EOF" (blocked waiters have "->")
        if len(parts) < 6 or parts[1] == "->":
            continue
        kind, pid, where = parts[3], parts[4], parts[5]
        if where.rsplit(":", 1)[-1] == str(inode) and pid.isdigit() and int(pid) != os.getpid():
            out.append((int(pid), kind))
    return sorted(set(out))


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(raw.decode(errors="replace").split("\0")).strip()[:120] or "?"


def _who(path: Path, exc: Exception) -> str:
    found = holders(path)
    readers = [p for p, kind in found if kind == "READ"]
    writers = [p for p, kind in found if kind == "WRITE"]
    if writers:
        return (f"another process is writing it (PID {writers[0]}: {_command(writers[0])}). Only one job may "
                "write it at a time: wait for the running load or dbt build to finish (see the Dagster UI)")
    if readers:
        shown = ", ".join(f"PID {p}: {_command(p)}" for p in readers[:3])
        return (f"a reader has it open ({shown}). Readers should use the published copy "
                "(LLIF_HOME/published, warehouse/published.py), never the live file; close that "
                "session or wait for it to end")
    detail = " ".join(str(exc).split())[:200]
    return (f"another process holds its lock ({detail}). Only one job may write it at a time: wait for "
            "the running load or dbt build to finish (see the Dagster UI)")


def _connect(path: Path, read_only: bool, wait: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Connect; on DuckDB's lock error retry for up to ``wait`` seconds, then raise WarehouseBusy."""
    started = time.monotonic()
    pause = 0.1
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            waited = time.monotonic() - started
            if waited + pause > wait:
                doing = "read" if read_only else "write"
                after = f" after waiting {waited:.0f} s" if wait else ""
                raise WarehouseBusy(f"llif: cannot {doing} the warehouse {path}{after}: "
                                    f"{_who(path, exc)}, then try again.") from None
            time.sleep(pause)
            pause = min(pause * 2, MAX_BACKOFF_SECONDS)


@contextmanager
def open_writer(path: Path, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for writing, created if new; closed (and so checkpointed) on exit. Waits up
    to ``wait`` seconds (default ``LLIF_WAREHOUSE_WAIT_SECONDS``) for another holder to let go."""
    path = Path(path)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    previous = os.umask(OWNER_ONLY_UMASK)  # the file, its WAL and spill folder: owner-only
    try:
        con = _connect(path, read_only=False, wait=wait_seconds() if wait is None else wait)
        try:
            tighten(path)
            # Row order in a table means nothing here; not keeping it lets bulk inserts stream.
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET enable_progress_bar = false")
            yield con
        finally:
            con.close()
            tighten(path)
    finally:
        os.umask(previous)



def tighten(path: Path) -> None:
    """The warehouse file and DuckDB's files beside it (``.wal``, the ``.tmp`` spill folder)
    readable by their owner only, whatever mode they were made with."""
    path = Path(path)
    for p in (path, path.with_name(path.name + ".wal")):
        if p.exists() and p.stat().st_mode & 0o077:
            os.chmod(p, 0o600)
    spill = path.with_name(path.name + ".tmp")
    if spill.is_dir() and spill.stat().st_mode & 0o077:
        os.chmod(spill, 0o700)


@contextmanager
def open_reader(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse read-only, for the explorer and checks: it can never block on itself or
    change anything, and fails clearly if there is no warehouse yet."""
    path = Path(path)
    if not path.exists():
        raise WarehouseMissing(
            f"llif: there is no warehouse at {path} yet; run the nightly load (ingest and dbt) "
            "first, or check LLIF_HOME."
        )
    con = _connect(path, read_only=True)
    try:
        yield con
    finally:
        con.close()
