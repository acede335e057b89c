"""The published copy of the last complete night: what the explorer (and any other reader) reads.

Why a copy: DuckDB lets one process write a file, and a reader holding it open makes the
nightly writer fail ("Could not set lock on file"; issue 16 saw 4 failed nights in 4 with the
explorer open). A reader of a *different* file can never stop the writer. And a reader must not
land on a half-refreshed night: marts of tonight beside models of last night. So the nightly
job's last step (asset ``published/warehouse``, after every other asset) writes a new copy and
then switches readers to it in one atomic rename; until then readers see the last complete
night, and a night that fails never publishes.

What the copy holds: every table of the schemas readers use, and of ``raw`` only the load audit
and the quarantine counts' table. Never ``identity``, nor dbt's staging, intermediate and
snapshot schemas (views over raw and identity, or copies of identity's cross-reference): the
published file carries no identifier, so a reader cannot leak one whatever SQL it runs.

Layout under ``LLIF_HOME/published/``: one folder a night, ``night-<stamp>/warehouse.duckdb``
with the forecast's kept inputs beside it (``forecasts/``, as in LLIF_HOME, so a what-if starts
from the published night's baseline), and ``CURRENT``, a one-line file naming the current
folder. Older nights are removed once they are two behind; a reader that still has a file open
keeps reading it (unlinking an open file is safe on POSIX).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

CURRENT = "CURRENT"
# schemas whose tables readers may see; raw only for the two bookkeeping tables below
PUBLISHED_SCHEMAS = ("marts", "ml", "forecast", "planning", "validation", "main")
RAW_TABLES = ("_load_audit", "_quarantine")
NEVER = ("identity", "staging", "intermediate", "snapshots")
KEEP = 2


@dataclass(frozen=True)
class Published:
    path: Path
    tables: int
    rows: int
    seconds: float


WAREHOUSE_FILE = "warehouse.duckdb"


def current(folder: Path) -> Path | None:
    """The published warehouse readers should open now, or None before the first complete night."""
    pointer = Path(folder) / CURRENT
    try:
        name = pointer.read_text().strip()
    except FileNotFoundError:
        return None
    path = Path(folder) / name / WAREHOUSE_FILE
    return path if name and path.exists() else None


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? "
        "order by schema_name, table_name", [database]).fetchall()
    out = []
    for schema, table in rows:
        if schema in NEVER:
            continue
        if (schema == "raw" and table in RAW_TABLES) or schema in PUBLISHED_SCHEMAS:
            out.append((schema, table))
    return out


def publish(warehouse: Path, folder: Path, forecasts: Path | None = None, stamp: str | None = None) -> Published:
    """Copy the readers' tables of ``warehouse`` (and the forecast's kept inputs in ``forecasts``)
    into a new night under ``folder`` and make it current.

    ``warehouse`` is opened read-only: the nightly job runs this as its last step, in the
    warehouse pool, so nothing writes it meanwhile.
    """
    import shutil
    import time

    started = time.perf_counter()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = stamp or dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    night = folder / f"night-{stamp}"
    partial = folder / f".night-{stamp}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    try:
        rows, tables = _copy(warehouse, partial / WAREHOUSE_FILE)
    except BaseException:  # a failed or interrupted copy leaves nothing behind and the last night current
        shutil.rmtree(partial, ignore_errors=True)
        raise
    os.chmod(partial / WAREHOUSE_FILE, 0o600)
    if forecasts is not None and Path(forecasts).is_dir():
        shutil.copytree(forecasts, partial / "forecasts")
    os.replace(partial, night)
    _point_to(folder, night.name)
    _prune(folder, keep=KEEP)
    return Published(night / WAREHOUSE_FILE, len(tables), rows, time.perf_counter() - started)


def _copy(warehouse: Path, target: Path) -> tuple[int, list[tuple[str, str]]]:
    rows = 0
    # the new file is the connection's own database; tonight's warehouse is attached read-only
    con = duckdb.connect(str(target))
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("ATTACH ? AS night (READ_ONLY)", [str(warehouse)])
        tables = _tables(con, "night")
        for schema in sorted({s for s, _ in tables}):
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for schema, table in tables:
            con.execute(f'CREATE TABLE "{schema}"."{table}" AS SELECT * FROM night."{schema}"."{table}"')
            rows += con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        con.execute("DETACH night")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return rows, tables


def _point_to(folder: Path, name: str) -> None:
    tmp = folder / f".{CURRENT}.new"
    tmp.write_text(name + "\n")
    os.replace(tmp, folder / CURRENT)  # readers see the old night or the new one, never neither


def _prune(folder: Path, keep: int) -> None:
    import shutil

    nights = sorted(p for p in folder.glob("night-*") if p.is_dir())
    now = current(folder)
    for p in nights[:-keep] if keep else nights:
        if now is None or p != now.parent:
            shutil.rmtree(p, ignore_errors=True)
