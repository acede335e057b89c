"""Opening the DuckDB warehouse: one writer at a time, any number of readers.

DuckDB lets one process hold a database file for writing (architecture convention 5: a Dagster
pool of size 1 and dbt ``threads: 1`` keep to that); a second writer, or a reader while the
writer works, gets DuckDB's lock error. That error names a PID but not what to do, so it is
turned here into one that does.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file."""


class WarehouseMissing(FileNotFoundError):
    """A reader asked for a warehouse that has not been built yet."""


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        doing = "read" if read_only else "write"
        raise WarehouseBusy(
            f"llif: cannot {doing} the warehouse {path}: another process has it open for writing "
            f"({' '.join(str(exc).split())[:200]}). Only one job may write it at a time: wait for "
            "the running load or dbt build to finish (see the Dagster UI), then try again."
        ) from None


@contextmanager
def open_writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for writing, created if new; closed (and so checkpointed) on exit."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, read_only=False)
    try:
        # Row order in a table means nothing here; not keeping it lets bulk inserts stream.
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        yield con
    finally:
        con.close()


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
