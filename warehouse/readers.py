"""Reading one source table's new rows as Arrow chunks: SQLite files, CSV and JSON-lines export
files, PostgreSQL and MariaDB.

Every reader yields the same thing, whatever the storage: Arrow tables with a ``_row`` column
(where the row is in the source, for the quarantine: SQLite's rowid, the CSV file's line, or
the JSON-lines file's line, or the position in the server's answer) followed by the source's columns under their own names.
Values are typed as the source declares them (INTEGER -> int64, REAL -> float64, TEXT ->
string); a chunk in which a column holds something else (SQLite does not enforce its types)
carries that column as text instead, and ingest then rejects the rows that do not convert.

The change-marker filter runs in the source (``WHERE marker > ?`` uses the marker's index), so
a night's read is proportional to the night's changes, not to the table.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import json
import multiprocessing
import os
import sqlite3
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contracts.shutdown import pool_ends_with_caller, worker_start
from contracts.sources.servers import COLUMNS_SQL, PRIMARY_KEY_SQL

INTEGER, REAL, TEXT = "INTEGER", "REAL", "TEXT"
ARROW_TYPES = {INTEGER: pa.int64(), REAL: pa.float64(), TEXT: pa.string()}
CHUNK_ROWS = 200_000
ROW = "_row"
# A first load of a table this big is read by several processes (rowid ranges), because
# turning SQLite rows into Python values and then into Arrow costs a few microseconds a row
# in one process: the ten million home-care visits would take a minute.
PARALLEL_MIN_ROWS = 1_000_000
MAX_WORKERS = 4


def kind_of(declared: str | None) -> str:
    """SQLite's affinity rules, which also read PostgreSQL's and MariaDB's type names right."""
    t = (declared or "").upper()
    if "INT" in t:
        return INTEGER
    if any(s in t for s in ("REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL")):
        return REAL
    return TEXT


@contextmanager
def _no_gc():
    """Millions of row tuples are created and dropped per table; the cycle collector would
    walk them again and again (a third of the read time) though none can be in a cycle."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _as_text(values) -> pa.Array:
    return pa.array(
        [None if v is None else (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
         for v in values],
        pa.string(),
    )


def arrow_chunk(names: list[str], kinds: list[str], columns: list, rows: np.ndarray | list) -> pa.Table:
    """Columns of plain values -> an Arrow table, each column typed as declared if it can be."""
    arrays = [pa.array(rows, pa.int64())]
    for kind, values in zip(kinds, columns):
        try:
            arrays.append(pa.array(values, ARROW_TYPES[kind]))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            arrays.append(_as_text(values))
    return pa.Table.from_arrays(arrays, names=[ROW, *names])


@dataclass
class SourceColumns:
    names: list[str]
    kinds: list[str]
    primary_key: list[str]


@dataclass
class Broken:
    """A record that could not even be split into columns (a CSV line with the wrong count)."""

    row_number: int
    reason: str
    values: list[str]


class Batch:
    """One source table's rows for one load, from one source (file, export file or server)."""

    source_table: str
    source: str  # the ``_source`` value
    location: str  # for messages: the path, or the masked URL and table
    columns: SourceColumns
    broken: list[Broken]

    def total(self) -> int | None:
        return None

    def chunks(self) -> Iterator[pa.Table]:
        raise NotImplementedError


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# SQLite


def sqlite_connect(path: Path) -> sqlite3.Connection:
    """Read-only, so ingest can never change a vendor's database, even by a stray journal."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def sqlite_tables(path: Path) -> list[str]:
    con = sqlite_connect(path)
    try:
        return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    finally:
        con.close()


def sqlite_columns(con: sqlite3.Connection, table: str) -> SourceColumns:
    info = con.execute(f"PRAGMA table_info({_q(table)})").fetchall()
    names = [r[1] for r in info]
    kinds = [kind_of(r[2]) for r in info]
    pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]
    return SourceColumns(names, kinds, pk)


class SqliteBatch(Batch):
    def __init__(self, path: Path, table: str, source: str, marker: str | None, high_water_mark: str | None):
        self.path = Path(path)
        self.source_table = table
        self.source = source
        self.location = f"{self.path} table {table}"
        self.marker = marker
        self.hwm = high_water_mark
        self.broken = []
        con = sqlite_connect(self.path)
        try:
            self.columns = sqlite_columns(con, table)
            try:
                con.execute(f"SELECT rowid FROM {_q(table)} LIMIT 0")
                self.row_expr = "rowid"
            except sqlite3.OperationalError:  # WITHOUT ROWID: number the rows as read
                self.row_expr = None
        finally:
            con.close()

    def _where(self) -> list[tuple[str, tuple]]:
        """One (WHERE, params) per index range: a marker above the mark, or no marker at all
        (never comparable, so read every night until fixed rather than never)."""
        if self.marker is None or self.hwm is None:
            return [("", ())]
        m = _q(self.marker)
        return [(f" WHERE {m} > ?", (self.hwm,)), (f" WHERE {m} IS NULL", ())]

    def total(self) -> int:
        con = sqlite_connect(self.path)
        try:
            return sum(
                con.execute(f"SELECT count(*) FROM {_q(self.source_table)}{w}", p).fetchone()[0]
                for w, p in self._where()
            )
        finally:
            con.close()

    def chunks(self) -> Iterator[pa.Table]:
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
        if self.row_expr and self._where() == [("", ())] and workers > 1:
            con = sqlite_connect(self.path)
            try:
                n, lo, hi = con.execute(
                    f"SELECT count(*), min(rowid), max(rowid) FROM {_q(self.source_table)}").fetchone()
            finally:
                con.close()
            if n >= PARALLEL_MIN_ROWS:
                yield from self._parallel_chunks(n, lo, hi, workers)
                return
        cols = ", ".join(_q(c) for c in self.columns.names)
        row = self.row_expr or "NULL"
        con = sqlite_connect(self.path)
        n = 0
        try:
            for where, params in self._where():
                cur = con.execute(f"SELECT {row}, {cols} FROM {_q(self.source_table)}{where}", params)
                while True:
                    with _no_gc():
                        rows = cur.fetchmany(CHUNK_ROWS)
                        if not rows:
                            break
                        columns = list(zip(*rows))
                        del rows
                        numbers = columns[0] if self.row_expr else np.arange(n + 1, n + 1 + len(columns[0]))
                        chunk = arrow_chunk(self.columns.names, self.columns.kinds, columns[1:], numbers)
                        del columns
                    n += chunk.num_rows
                    yield chunk
        finally:
            con.close()


    def _parallel_chunks(self, n: int, lo: int, hi: int, workers: int) -> Iterator[pa.Table]:
        """Equal rowid spans, many more than workers, so sparse or dense stretches of rowids
        even out; at most two ranges per worker wait in memory at any time."""
        parts = max(workers * 8, 2 * -(-n // CHUNK_ROWS))
        step = max(1, -(-(hi - lo + 1) // parts))
        ranges = [(a, min(a + step, hi + 1)) for a in range(lo, hi + 1, step)]
        args = (str(self.path), self.source_table, self.columns.names, self.columns.kinds)
        # spawn, not fork: the parent holds DuckDB's threads, which a forked child must not inherit
        # a stopped ingest ends its readers at once (contracts/shutdown.py)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=worker_start) as pool, pool_ends_with_caller(pool):
            pending = set()
            todo = iter(ranges)
            for a, b in todo:
                pending.add(pool.submit(_read_rowid_range, *args, a, b))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = future.result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending.add(pool.submit(_read_rowid_range, *args, *nxt))
                    if chunk is not None:
                        yield chunk


def _read_rowid_range(path: str, table: str, names: list[str], kinds: list[str], lo: int, hi: int):
    """One rowid range of a table as an Arrow table (runs in a worker process)."""
    con = sqlite_connect(Path(path))
    try:
        cols = ", ".join(_q(c) for c in names)
        with _no_gc():
            rows = con.execute(
                f"SELECT rowid, {cols} FROM {_q(table)} WHERE rowid >= ? AND rowid < ?", (lo, hi)
            ).fetchall()
            if not rows:
                return None
            columns = list(zip(*rows))
            del rows
            return arrow_chunk(names, kinds, columns[1:], columns[0])
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# export files (care vendor B's CSV; any vendor's JSON lines)


class CsvBatch(Batch):
    """One export file, applied whole: the vendor already cut it to the night's changes.

    Parsed with the csv module record by record, because a line with the wrong number of
    fields must be set aside with its line number while the rest of the file loads; the
    exports are small (a night's delta, or one full export of a few hundred thousand rows).
    """

    def __init__(self, path: Path, table: str, manifest_entry: dict, label: str = "the vendor"):
        self.path = Path(path)
        self.label = label
        self.source_table = table
        self.source = self.path.name
        self.location = str(self.path)
        self.broken = []
        declared = manifest_entry.get("columns", {})
        with open(self.path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
            header = next(csv.reader(fh), None)
        if header and any(_undecodable(c) for c in header):
            raise ValueError(f"llif: {self.path}: the header line is not valid UTF-8; nothing of it was loaded. "
                             f"Ask {self.label} to re-send this export in UTF-8.")
        if not header:
            raise ValueError(f"llif: {self.path} is empty (not even a header line); ask {self.label} to re-send it.")
        self.header = header
        names = list(declared) + [c for c in header if c not in declared]
        self.columns = SourceColumns(
            names, [declared.get(c, TEXT) for c in names], list(manifest_entry.get("primary_key", []))
        )

    def chunks(self) -> Iterator[pa.Table]:
        width = len(self.header)
        position = {c: i for i, c in enumerate(self.header)}
        records: list[list[str]] = []
        starts: list[int] = []
        # bytes that are not UTF-8 survive decoding as lone surrogates, so the one line that has
        # them is set aside with its line number instead of the whole file failing unnamed
        with open(self.path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
            reader = csv.reader(fh)
            last = 0
            try:
                for i, record in enumerate(reader):
                    start, last = last + 1, reader.line_num
                    if i == 0:
                        continue  # the header
                    bad = next((j for j, v in enumerate(record) if _undecodable(v)), None)
                    if bad is not None:
                        field = self.header[bad] if bad < width else f"field {bad + 1}"
                        self.broken.append(Broken(
                            start, f"line is not valid UTF-8 (in {field})", [_shown(v) for v in record]))
                        continue
                    if len(record) == width:
                        records.append(record)
                        starts.append(start)
                    elif record:  # a blank line is no record
                        self.broken.append(Broken(
                            start, f"line has {len(record)} fields, the header has {width}", record))
            except csv.Error as exc:
                raise ValueError(
                    f"llif: {self.path} cannot be read past line {last + 1} ({exc}); nothing of "
                    f"it was loaded. Ask {self.label} to re-send this export."
                ) from None
        if not records:
            return
        columns = list(zip(*records))
        del records
        arrays = [pa.array(starts, pa.int64())]
        for name in self.columns.names:
            if name in position:
                values = pa.array(columns[position[name]], pa.string())
                # an empty field is NULL: the vendor's export cannot tell the two apart
                values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
            else:  # a column the manifest added after this file was written
                values = pa.nulls(len(starts), pa.string())
            arrays.append(values)
        yield pa.Table.from_arrays(arrays, names=[ROW, *self.columns.names])


def _undecodable(text: str) -> bool:
    """Did decoding with ``surrogateescape`` meet bytes that are not UTF-8?"""
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _shown(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_manifest(folder: Path, name: str = "manifest.json", label: str = "the vendor") -> dict:
    path = Path(folder) / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"llif: {label}'s export manifest {path} is not valid JSON ({exc}); ask the "
            "vendor to re-send it, or regenerate the sources."
        ) from None


class JsonlBatch(Batch):
    """One JSON-lines export file (an object per line), applied whole like a CSV export.

    The vendor sends no manifest, so the columns are the contract's (all read as text, typed by
    staging as for the CSV exports) plus any key a line has that the contract does not declare
    (held back by ingest). A key a line leaves out is NULL there. A line that is not a JSON
    object is set aside with its line number; the rest of the file loads.
    """

    def __init__(self, path: Path, table: str, columns: tuple[str, ...], primary_key: tuple[str, ...],
                 label: str = "the vendor"):
        self.path = Path(path)
        self.source_table = table
        self.source = self.path.name
        self.location = str(self.path)
        self.label = label
        self.broken = []
        self._records: list[tuple[int, dict]] = []
        seen: dict[str, None] = {}
        try:
            text = self.path.read_bytes().decode("utf-8", "surrogateescape")
        except OSError as exc:
            raise ValueError(f"llif: {self.path} cannot be read ({exc}); ask {label} to re-send it.") from None
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if _undecodable(line):
                self.broken.append(Broken(number, "line is not valid UTF-8", [_shown(line)]))
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                self.broken.append(Broken(number, f"line is not valid JSON ({exc.msg})", [line]))
                continue
            if not isinstance(record, dict):
                self.broken.append(Broken(number, "line is not a JSON object", [line]))
                continue
            seen.update(dict.fromkeys(record))
            self._records.append((number, record))
        self.header = [c for c in seen]
        names = list(columns) + [c for c in seen if c not in columns]
        self.columns = SourceColumns(names, [TEXT] * len(names), list(primary_key))

    def chunks(self) -> Iterator[pa.Table]:
        if not self._records:
            return
        arrays = [pa.array([n for n, _ in self._records], pa.int64())]
        for name in self.columns.names:
            arrays.append(pa.array([_json_text(r.get(name)) for _, r in self._records], pa.string()))
        yield pa.Table.from_arrays(arrays, names=[ROW, *self.columns.names])


def _json_text(value) -> str | None:
    """A JSON value as the text staging parses: numbers and booleans as written, "" as NULL
    (as in the CSV exports), a nested value as its JSON."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


# --------------------------------------------------------------------------------------------
# servers


class ServerReadLost(RuntimeError):
    """The source server dropped the connection (or failed the query) part-way through a table;
    ``rows`` were read before it did. Ingest turns this into a refusal naming the system."""

    def __init__(self, location: str, rows: int, cause: BaseException):
        super().__init__(f"the connection to {location} was lost after {rows:,} rows "
                         f"({type(cause).__name__}: {str(cause).strip().splitlines()[0] if str(cause).strip() else ''})")
        self.location, self.rows = location, rows


def _driver_error(exc: BaseException) -> bool:
    """An error of the server's own driver (psycopg, PyMySQL) or SQLAlchemy's wrapper of one: a
    connection lost, a server restarted, a query killed; not a bug of ours."""
    return type(exc).__module__.split(".")[0] in ("psycopg", "psycopg2", "pymysql", "sqlalchemy")


class ServerBatch(Batch):
    """A table on PostgreSQL (a schema per extract database) or MariaDB (a database each).

    Streams through a server-side cursor, so the server never sends a whole table at once.
    """

    def __init__(self, engine, url_masked: str, database: str, table: str, marker: str | None,
                 high_water_mark: str | None):
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.database = database
        self.source_table = table
        self.source = "server"
        self.location = f"{url_masked} {database}.{table}"
        self.marker = marker
        self.hwm = high_water_mark
        self.broken = []
        with engine.connect() as con:
            self.columns = server_columns(con, self.pg, database, table)

    def q(self, name: str) -> str:
        return _q(name) if self.pg else "`" + name.replace("`", "``") + "`"

    def _where(self) -> list[tuple[str, tuple]]:
        if self.marker is None or self.hwm is None:
            return [("", ())]
        m = self.q(self.marker)
        return [(f" WHERE {m} > %s", (self.hwm,)), (f" WHERE {m} IS NULL", ())]

    def _from(self) -> str:
        return f"{self.q(self.database)}.{self.q(self.source_table)}"

    def total(self) -> int:
        with self.engine.connect() as con:
            return sum(
                int(con.exec_driver_sql(f"SELECT count(*) FROM {self._from()}{w}", p).scalar())
                for w, p in self._where()
            )

    def chunks(self) -> Iterator[pa.Table]:
        state = {"rows": 0}
        try:
            yield from self._chunks(state)
        except Exception as exc:
            if _driver_error(exc):
                raise ServerReadLost(self.location, state["rows"], exc) from exc
            raise

    def _chunks(self, state: dict) -> Iterator[pa.Table]:
        cols = ", ".join(self.q(c) for c in self.columns.names)
        n = 0
        with self.engine.connect() as con:
            raw = con.connection.driver_connection
            for where, params in self._where():
                sql = f"SELECT {cols} FROM {self._from()}{where}"
                if self.pg:
                    cur = raw.cursor(name="llif_ingest")
                    cur.itersize = CHUNK_ROWS
                else:
                    import pymysql.cursors

                    cur = pymysql.cursors.SSCursor(raw)
                try:
                    cur.execute(sql, params or None)
                    while True:
                        with _no_gc():
                            rows = cur.fetchmany(CHUNK_ROWS)
                            if not rows:
                                break
                            columns = list(zip(*rows))
                            del rows
                            numbers = np.arange(n + 1, n + 1 + len(columns[0]))
                            chunk = arrow_chunk(self.columns.names, self.columns.kinds, columns, numbers)
                        n += chunk.num_rows
                        state["rows"] = n
                        yield chunk
                finally:
                    with contextlib.suppress(Exception):   # a cursor on a lost connection
                        cur.close()
            if self.pg:
                raw.commit()  # close the read transaction the named cursor needed


def server_columns(con, pg: bool, database: str, table: str) -> SourceColumns:
    rows = con.exec_driver_sql(COLUMNS_SQL, (database, table)).fetchall()
    pk_sql = PRIMARY_KEY_SQL["postgresql" if pg else "mariadb"]
    pk = [r[0] for r in con.exec_driver_sql(pk_sql, (database, table)).fetchall()]
    return SourceColumns([r[0] for r in rows], [kind_of(r[1]) for r in rows], pk)


def server_tables(con, database: str) -> list[str]:
    return [r[0] for r in con.exec_driver_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (database,)
    ).fetchall()]
