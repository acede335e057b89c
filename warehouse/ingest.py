"""Nightly ingest: copy each source system's new and changed rows into the warehouse's ``raw``
schema, identifiers into ``identity`` only (docs/warehouse_contract.md).

How a table is loaded, and why:

- **Incremental by change marker.** Only rows whose marker is above the table's high-water
  mark are read, with the filter pushed into the source so its index does the work (the
  home-care visit table has about ten million rows). Vendor B sends files, not a database:
  each export file is applied once, oldest first, and the audit lists the files applied.
- **Staged, checked, then upserted in one transaction.** A batch lands in a temporary table;
  rows with an empty key, a value that is not of its column's type, a date that is not a real
  date in its vendor's form (``dates`` in its source contract, parsed as staging parses it), or a
  change marker that is missing or not an ISO date-time go to ``raw._quarantine`` with the
  field and the reason; of
  rows sharing a key, the one with the latest marker (then the last read) is loaded and the
  others are quarantined as superseded. The rest replace their keys in ``raw`` (DELETE then
  INSERT), and the quarantine rows, the identity rows and the audit row commit with them, so
  the high-water mark never moves past rows that did not land. Rejected rows count in the
  audit; nothing is dropped silently. A row whose marker is missing or unreadable is read and
  quarantined again every night until the source fixes it.
- **Only declared columns, all of them** (``columns`` in its source contract, contracts/sources/systems/). A column
  the source adds is held back from raw (it may identify someone) and listed in
  ``raw._held_columns``, which fails the ``undeclared_columns`` check until it is declared. A
  declared column the source lacks (dropped or renamed) stops that table's load before anything
  is written, so no NULL lands over a good value; the system's other tables load, then
  ``SchemaDrift`` names every such file, table and column (and the undeclared ones, as a likely
  rename).
- **Pseudonymised on the way in** (architecture convention 8). The NI number, names, date of
  birth and title of person-level tables never reach ``raw``: there they become ``ni_token``
  and ``birth_month``, and the values themselves go to ``identity.source_identifiers``.
  Quarantined rows of those tables keep their identifiers out of ``row_values`` too.

Everything is done set-wise in DuckDB over Arrow batches; Python touches rows only to read them
from the source drivers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from contracts.errors import LlifError
from contracts.settings import paths, server_url
from contracts.sources import (
    CSV_EXPORTS,
    DATE_FORMS,
    ISO_DATE_TIME,
    JSONL_EXPORTS,
    SQLITE_PER_SITE,
    PersonTable,
    SourceSystem,
    SourceTable,
    source_system,
    source_systems,
)
from contracts.sources.model import SOURCES_MANIFEST
from contracts.sources.servers import SourceServerUnreachable, check_reachable, mask_url, parse_url, server_engine
from warehouse import duck, pseudonymise
from warehouse.readers import (
    INTEGER,
    REAL,
    ROW,
    TEXT,
    Batch,
    CsvBatch,
    JsonlBatch,
    ServerBatch,
    ServerReadLost,
    SqliteBatch,
    read_manifest,
    server_tables,
    sqlite_connect,
    sqlite_tables,
)

log = logging.getLogger(__name__)

DUCK_TYPES = {INTEGER: "BIGINT", REAL: "DOUBLE", TEXT: "VARCHAR"}
# Markers are compared as text in the sources, which orders them in time only while every
# one has this shape (the writers' ISO 8601 form).
ISO_MARKER = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?)?"
META_COLUMNS = ("_source", "_load_id", "_loaded_at")
TOKEN_COLUMNS = (("ni_token", "VARCHAR"), ("birth_month", "DATE"))
# A column a vendor adds to a person-level table is kept out of raw if its name suggests it
# identifies someone, until it is declared in its source contract one way or the other.
_IDENTIFYING = re.compile(r"name|birth|dob|ni_?n|nino|national|title|address|postcode|phone|email|nhs", re.I)

Progress = Callable[[str, str, int, "int | None"], None]


@dataclass
class TableLoad:
    """One source table from one source (file, export file or server) in one load."""

    system: str
    source_table: str
    source: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    high_water_mark: str | None


@dataclass
class SystemLoad:
    system: str
    load_id: str
    tables: list[TableLoad]
    seconds: float

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables)

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables)


class IngestError(LlifError, RuntimeError):
    """A source cannot be loaded as it stands; the message names it and what to do."""


class SourceMissing(IngestError, FileNotFoundError):
    """A source file, export or server database is not where the layout says."""


class SourceCorrupt(IngestError):
    """A source file is empty, or is not a sound SQLite database (its integrity check fails)."""


class SourceServerLost(IngestError):
    """A source server dropped the connection part-way through a table. That table is not
    loaded (its transaction rolls back: raw keeps its last good rows and high-water mark), the
    tables loaded before it stay loaded, and the rest of the system waits for the next load."""


def check_sqlite_file(spec: SourceSystem, path: Path) -> None:
    """Refuse a vendor database that is empty or damaged, naming it, before anything is read.

    Why: a zero-byte file is a valid empty SQLite database (the night "succeeded" having loaded
    nothing), and a damaged one either loaded what it could or failed deep in a read with
    "database disk image is malformed" naming no file (issue 16). ``PRAGMA quick_check`` reads
    every page (the full ``integrity_check`` also cross-checks every index, several times slower
    on the ten-million-row visit table) and is what catches garbage written into the middle.
    """
    ask = f"ask the {spec.label} team for a sound copy (raw keeps the last good load)"
    if path.stat().st_size == 0:
        raise SourceCorrupt(f"llif: the {spec.label} source {path} is empty (0 bytes); nothing was loaded from it; {ask}.")
    try:
        con = sqlite_connect(path)
        try:
            found = [line for r in con.execute("PRAGMA quick_check(20)").fetchall() for line in str(r[0]).splitlines()
                     if line.strip() and not line.startswith("*** in database")]
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise SourceCorrupt(f"llif: the {spec.label} source {path} is not a readable SQLite database ({exc}); "
                            f"nothing was loaded from it; {ask}.") from None
    if found != ["ok"]:
        shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
        raise SourceCorrupt(f"llif: the {spec.label} source {path} fails SQLite's integrity check ({shown}); "
                            f"nothing was loaded from it; {ask}.")
    if not tables & set(spec.tables):
        raise SourceCorrupt(f"llif: the {spec.label} source {path} holds none of the tables ingest loads "
                            f"({', '.join(spec.tables)}); nothing was loaded from it; {ask}.")


class SchemaDrift(IngestError):
    """A source table's columns or key are not the declared ones (its source contract).

    The drifted table is not loaded (its rows stay as they were: no NULL over a good value
    because a column vanished); the system's other tables load; then this is raised naming
    every drifted table, file and column."""


# --------------------------------------------------------------------------------------------
# public API


def systems_with_sources(sources_dir: Path) -> list[str]:
    """The systems whose embedded sources exist (before its go-live a system writes nothing)."""
    d = Path(sources_dir)
    return [system for system, spec in source_systems().items() if _embedded_present(spec, d)]


def _embedded_present(spec: SourceSystem, d: Path) -> bool:
    """Is anything of the system where its contract's layout says (files, or an export)?"""
    where = d / spec.layout.path
    if spec.layout.kind == SQLITE_PER_SITE:
        return any(where.glob(f"*{spec.layout.suffix}"))
    if spec.layout.kind == CSV_EXPORTS and spec.layout.manifest:
        return (where / spec.layout.manifest).exists()
    if spec.layout.is_export_folder:
        return bool(_export_files(spec, where))
    return where.exists()


def _export_files(spec: SourceSystem, folder: Path, table: str | None = None) -> list[Path]:
    """A system's export files (of one table), oldest first, named as its layout says."""
    return [p for _, p in spec.layout.exports(folder, table)]


def ingest_system(
    system: str,
    warehouse: Path,
    sources_dir: Path | None = None,
    url: str | None = None,
    progress: Progress | None = None,
    *,
    homes: list[str] | None = None,
    pseudonym_key: bytes | None = None,
) -> SystemLoad:
    """Load one system's new and changed rows into ``raw`` (and ``identity``).

    From ``sources_dir`` (the embedded files) or ``url`` (its server); with neither, from
    ``LLIF_<SYSTEM>_URL`` if set, else ``LLIF_HOME/sources``. ``progress(source_table, source,
    rows_read_so_far, rows_expected)`` is called after every chunk read (``rows_expected`` is
    None where the source cannot say beforehand). ``homes`` limits vendor A to those home
    databases (file names without ``.sqlite``; one Dagster asset per home). ``pseudonym_key``
    overrides the key from ``LLIF_PSEUDONYM_KEY`` / the key file (tests).
    """
    spec = source_system(system)
    started = time.perf_counter()
    if sources_dir is not None and url is not None:
        raise ValueError(f"llif: ingest {system}: give sources_dir or url, not both.")
    if sources_dir is None and url is None:
        url = server_url(system) if spec.server else None
        if url is None:
            sources_dir = paths().sources
    if homes is not None and spec.layout.kind != SQLITE_PER_SITE:
        raise ValueError(f"llif: ingest {system}: only a system with one database per site has homes "
                         f"({spec.label}'s layout is {spec.layout.kind}).")
    if url is not None and spec.server is None:
        raise ValueError(
            f"llif: {spec.label} has no server form (its contract, {spec.origin}, names none); "
            "ingest it from the sources folder."
        )
    engine = _server_engine(system, url) if url is not None else None
    try:
        _check_present(spec, sources_dir, engine, url, homes)
        needs_key = any(t.person for t in spec.tables.values())
        key = pseudonym_key if pseudonym_key is not None else (pseudonymise.load_key() if needs_key else b"")
        load_id = f"{system}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        loads: list[TableLoad] = []
        drifted: list[str] = []
        stopped: set[str] = set()
        with duck.open_writer(warehouse) as con:
            ensure_schemas(con)
            if needs_key:
                check_pseudonym_key(con, key)
            for decl, batch, empty_source in _plan(spec, con, sources_dir, engine, url, homes):
                if decl.name in stopped:  # a later export of a drifted table must not jump the gap
                    continue
                if batch is None:  # an export table with no new export: nothing read tonight
                    loads.append(_record_nothing(con, spec, decl, empty_source, load_id))
                    continue
                try:
                    _check_key(spec, decl, batch)
                    loads.append(_load_batch(con, spec, decl, batch, load_id, key, progress))
                except ServerReadLost as exc:
                    done = ", ".join(t.source_table for t in loads) or "none"
                    raise SourceServerLost(
                        f"llif: {spec.label}: {exc}; the {decl.name} table was not loaded (raw keeps its last good "
                        f"load), the tables loaded before it tonight stay loaded ({done}) and the others were not "
                        f"read. Check the server is up, then rerun: `llif ingest {system}` (or the night's "
                        f"ingest asset).") from exc
                except SchemaDrift as exc:
                    log.error("%s", exc)
                    drifted.append(str(exc))
                    stopped.add(decl.name)
    finally:
        if engine is not None:
            engine.dispose()
    if drifted:
        loaded = sorted({t.source_table for t in loads} - stopped)
        raise SchemaDrift("\n".join(drifted) + (
            f"\n(the other {spec.label} tables loaded: {', '.join(loaded)})" if loaded else ""))
    result = SystemLoad(system, load_id, loads, time.perf_counter() - started)
    log.info("%s: %d rows loaded, %d rejected, %d tables in %.1f s", system, result.rows_loaded,
             result.rows_rejected, len(loads), result.seconds)
    return result


# What stops one system's load and nothing else (decision 46): its source is missing, empty or
# damaged, or a table drifted from its contract. raw keeps the last good load, the refusal is
# recorded (a failed check in Dagster, a line on the data-quality page) and the night goes on
# with every other system. A wrong pseudonym key is not among them: it would split every
# person of every system, so it stops the night.
REFUSALS = (SourceMissing, SourceCorrupt, SchemaDrift, SourceServerLost)


def record_refusal(warehouse: Path, system: str, exc: BaseException, site: str = "") -> None:
    """Write down that ``system`` (or one ``site``'s file of a per-site system) was not, or not
    wholly, loaded tonight, and why, in raw._load_refusals; it stands until a later load of the
    same system (or site): ``warehouse.health_checks.load_refused`` and the data-quality page."""
    with duck.open_writer(warehouse) as con:
        ensure_schemas(con)
        _run(con, "INSERT INTO raw._load_refusals VALUES (?, ?, ?, ?, ?)",
             [system, site, _now(), type(exc).__name__, str(exc)])


class ProgressBars:
    """``progress=`` for the command line: a tqdm bar for each table big enough to wait for.

    (Dagster passes its own callback and reports rows as metadata instead.)
    """

    def __init__(self, min_rows: int = 200_000):
        self.min_rows = min_rows
        self.bar = None
        self.current = None

    def __call__(self, source_table: str, source: str, rows: int, total: int | None) -> None:
        from tqdm import tqdm  # only the command line draws bars; the nightly assets never load it

        if (source_table, source) != self.current:
            self.close()
            self.current = (source_table, source)
            if total is not None and total >= self.min_rows:
                self.bar = tqdm(total=total, desc=f"{source}.{source_table}", unit="row",
                                unit_scale=True, leave=False, disable=None)
        if self.bar is not None:
            self.bar.update(rows - self.bar.n)
            if total is not None and rows >= total:
                self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = None


def expected_systems(sources_dir: Path) -> list[str]:
    """The systems that should have sources: every one live by the world's as-of date (the
    sources' manifest), whether or not its file is there, so a missing one is an error rather
    than a system quietly skipped; without a manifest, the systems whose sources exist."""
    try:
        as_of = json.loads((Path(sources_dir) / SOURCES_MANIFEST).read_text(encoding="utf-8"))["as_of"]
    except (OSError, ValueError, KeyError):
        return systems_with_sources(sources_dir)
    return [system for system, spec in source_systems().items() if spec.go_live <= pd.Timestamp(as_of)]


def main(argv: list[str] | None = None) -> int:
    """``python -m warehouse.ingest [SYSTEM ...]``: load LLIF_HOME's sources into its warehouse.

    Every system is tried even when one fails (they are independent), and each failure is
    printed with what to do; the exit status is 2 if any failed."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m warehouse.ingest", description=main.__doc__)
    parser.add_argument("systems", nargs="*", help="default: every system live by the sources' as-of date")
    args = parser.parse_args(argv)
    p = paths()
    systems = args.systems or expected_systems(p.sources)
    if not systems:
        print(f"llif: no sources in {p.sources}; run `llif sources generate` first.")
        return 2
    bars = ProgressBars()
    failed = []
    for system in systems:
        try:
            load = ingest_system(system, p.warehouse, progress=bars)
        except (RuntimeError, ValueError, OSError, SourceServerUnreachable) as exc:  # ours all say what to do
            print(exc)
            failed.append(system)
            continue
        finally:
            bars.close()
        print(f"  {system:<8} {load.rows_loaded:>11,} rows loaded, {load.rows_rejected:,} quarantined "
              f"in {load.seconds:5.1f}s")
    if failed:
        print(f"llif: {len(failed)} of {len(systems)} systems not loaded: {', '.join(failed)} (see above)")
        return 2
    return 0


# --------------------------------------------------------------------------------------------
# warehouse tables


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """The schemas and bookkeeping tables every load writes (created on the first load)."""
    _run(con, "CREATE SCHEMA IF NOT EXISTS raw")
    _run(con, "CREATE SCHEMA IF NOT EXISTS identity")
    _run(con,
        "CREATE TABLE IF NOT EXISTS raw._load_audit (load_id VARCHAR, system VARCHAR, "
        "source_table VARCHAR, source VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, "
        "rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, high_water_mark VARCHAR)"
    )
    _run(con,
        "CREATE TABLE IF NOT EXISTS raw._load_refusals (system VARCHAR, source VARCHAR, refused_at TIMESTAMP, "
        "error VARCHAR, message VARCHAR)"
    )
    _run(con,
        "CREATE TABLE IF NOT EXISTS raw._quarantine (load_id VARCHAR, system VARCHAR, "
        "source_table VARCHAR, source VARCHAR, row_number BIGINT, record_key VARCHAR, "
        "field VARCHAR, reason VARCHAR, row_values VARCHAR)"
    )
    _run(con,
        "CREATE TABLE IF NOT EXISTS raw._held_columns (load_id VARCHAR, system VARCHAR, "
        "source_table VARCHAR, source VARCHAR, column_name VARCHAR, seen_at TIMESTAMP)"
    )
    _run(con,
        "CREATE TABLE IF NOT EXISTS identity.source_identifiers (system VARCHAR, "
        "source_table VARCHAR, record_key VARCHAR, ni_raw VARCHAR, ni_clean VARCHAR, "
        "ni_token VARCHAR, first_name VARCHAR, surname VARCHAR, dob_raw VARCHAR, dob DATE, "
        "sex VARCHAR, postcode VARCHAR, _loaded_at TIMESTAMP)"
    )


class PseudonymKeyMismatch(IngestError):
    """The pseudonym key is not the one the warehouse's tokens were made with."""


def check_pseudonym_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Refuse a key other than the one the warehouse was built with; record it on first use.

    The fingerprint lives in ``identity._pseudonym_key``. A warehouse built before fingerprints
    were kept is checked by its own rows instead: the key must give a stored cleaned NI number
    its stored token. Why refuse: tokens from another key never match the old ones, so the
    same person would quietly become two (issue 16).
    """
    _run(con, "CREATE TABLE IF NOT EXISTS identity._pseudonym_key (fingerprint VARCHAR, first_used_at TIMESTAMP)")
    mine = pseudonymise.fingerprint(key)
    stored = [r[0] for r in _run(con, "SELECT DISTINCT fingerprint FROM identity._pseudonym_key").fetchall()]
    hint = ("set LLIF_PSEUDONYM_KEY (or LLIF_HOME/secrets/pseudonym.key) back to the key this warehouse was "
            "built with; to change keys on purpose, rebuild the warehouse from the sources with the new one")
    if stored:
        if mine not in stored:
            raise PseudonymKeyMismatch(
                f"llif: the pseudonym key (fingerprint {mine}) is not the one this warehouse was built with "
                f"(fingerprint {stored[0]}, identity._pseudonym_key); loading with it would give the same NI "
                f"numbers new tokens and split people in linkage. {hint}.")
        return
    sample = _run(con,
        "SELECT ni_clean, ni_token FROM identity.source_identifiers "
        "WHERE ni_clean IS NOT NULL AND ni_token IS NOT NULL ORDER BY system, source_table, record_key LIMIT 1"
    ).fetchone()
    if sample is not None and pseudonymise.token(sample[0], key) != sample[1]:
        raise PseudonymKeyMismatch(
            f"llif: the pseudonym key (fingerprint {mine}) does not give the tokens already in "
            f"identity.source_identifiers: this warehouse was built with another key. {hint}.")
    _run(con, "INSERT INTO identity._pseudonym_key VALUES (?, ?)", [mine, _now()])


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    """A SQL string literal (column names from a CSV header are not to be trusted)."""
    return "'" + text.replace("'", "''") + "'"


class _Rows:
    def __init__(self, rows: list):
        self.rows = rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list:
        return self.rows


def _run(con, sql: str, params=None) -> _Rows:
    """Execute and fetch everything: DuckDB refuses to register a frame (or run on) while a
    result is still open, so no result is ever left half-read."""
    return _Rows(con.execute(sql, params or []).fetchall())


def _now() -> dt.datetime:
    """UTC, without a zone: the audit's and raw's timestamps are all UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _high_water_mark(con, system: str, table: str, source: str) -> str | None:
    row = _run(con,
        "SELECT max(high_water_mark) FROM raw._load_audit WHERE system = ? AND source_table = ? AND source = ?",
        [system, table, source],
    ).fetchone()
    return row[0] if row else None


def _raw_columns(con, table: str) -> dict[str, str]:
    rows = _run(con,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: dtype for name, dtype in rows}


# --------------------------------------------------------------------------------------------
# where the sources are


def _server_engine(system: str, url: str):
    """An engine for the system's server, after failing fast (and saying what to do) if the
    server is down or refuses us."""
    check_reachable(system, url)  # SourceServerUnreachable names the system and host
    return server_engine(parse_url(system, url), 5)


def _generate_hint(system: str, server: bool = False) -> str:
    if server:
        return (f"run `llif sources generate --server {system}=URL` (or `llif sources advance`) to "
                "write it, or check the URL")
    return "run `llif sources generate` to write the sources, or check LLIF_HOME"


def _check_present(spec: SourceSystem, sources_dir: Path | None, engine, url: str | None,
                   homes: list[str] | None = None) -> None:
    if engine is not None:
        with engine.connect() as con:
            if not server_tables(con, spec.database):
                where = "schema" if engine.dialect.name == "postgresql" else "database"
                raise SourceMissing(
                    f"llif: the {spec.label} server at {mask_url(url)} has no {where} "
                    f"{spec.database!r}; {_generate_hint(spec.system, server=True)}."
                )
        return
    d = Path(sources_dir)
    layout = spec.layout
    where = d / layout.path
    if layout.kind == SQLITE_PER_SITE:
        if not any(where.glob(f"*{layout.suffix}")):
            raise SourceMissing(
                f"llif: no {spec.label} site databases in {where}; {_generate_hint(spec.system)}."
            )
        missing = [h for h in homes or [] if not (where / f"{h}{layout.suffix}").exists()]
        if missing:
            raise SourceMissing(
                f"llif: {spec.label} has no home database {missing[0]}{layout.suffix} in "
                f"{where}; check the home's name, or {_generate_hint(spec.system)}."
            )
    elif layout.is_export_folder:
        if not _embedded_present(spec, d):
            what = f"with a {layout.manifest}" if layout.manifest else f"with exports named {layout.export_file}"
            raise SourceMissing(
                f"llif: no {spec.label} export folder {what} at {where}; {_generate_hint(spec.system)}."
            )
    elif not where.exists():
        raise SourceMissing(f"llif: the {spec.label} source {where} is missing; {_generate_hint(spec.system)}.")


def _check_key(spec: SourceSystem, decl: SourceTable, batch: Batch) -> None:
    if batch.columns.primary_key and list(batch.columns.primary_key) != list(decl.primary_key):
        raise SchemaDrift(
            f"llif: {spec.label} {batch.location} declares primary key {batch.columns.primary_key}, "
            f"but ingest expects {list(decl.primary_key)} ({spec.origin}); the "
            "source system has changed: update the declaration (and staging) before loading it."
        )
    missing = [c for c in (*decl.primary_key, *([decl.marker] if decl.marker else [])) if c not in batch.columns.names]
    if missing:
        raise SchemaDrift(
            f"llif: {spec.label} {batch.location} has no column(s) {missing}, which ingest needs "
            f"as key or change marker; the source system has changed: update its contract, {spec.origin}."
        )


def _header(batch: Batch) -> list[str]:
    """The columns the source really has: for an export file its header line, or the keys its
    JSON lines hold (the batch's columns also hold what the manifest or contract declares, which
    the file may lack)."""
    return list(batch.header) if isinstance(batch, (CsvBatch, JsonlBatch)) else list(batch.columns.names)


def column_drift(spec: SourceSystem, decl: SourceTable, batch: Batch) -> list[str]:
    """The source's columns against the declaration: raises SchemaDrift when a declared column
    is missing (naming the file, the column and, as a likely rename, the undeclared ones);
    returns the undeclared columns, which are held back from raw."""
    if not decl.columns:
        return []
    header = _header(batch)
    declared = set(decl.columns)
    extra = [c for c in batch.columns.names if c not in declared]
    missing = [c for c in decl.columns if c not in header]
    if missing:
        renamed = f"; it has undeclared column(s) {extra}: renamed?" if extra else ""
        where = batch.location if decl.name in batch.location else f"{batch.location} (table {decl.name})"
        raise SchemaDrift(
            f"llif: {spec.label} {where} has no column(s) {missing}, declared in "
            f"{spec.origin}{renamed} Nothing of {decl.name} was loaded from it (raw keeps its "
            "last good rows); fix the source, or update the declaration and the staging model.")
    return extra


def _plan(spec: SourceSystem, con, sources_dir: Path | None, engine, url: str | None,
          homes: list[str] | None = None):
    """(declaration, batch or None, source) for every table and source to load tonight."""
    if engine is not None:
        with engine.connect() as c:
            present = set(server_tables(c, spec.database))
        for decl in spec.tables.values():
            if decl.name not in present:
                log.warning("%s: the server has no table %s.%s; skipped", spec.system, spec.database, decl.name)
                continue
            hwm = _high_water_mark(con, spec.system, decl.name, "server")
            batch = ServerBatch(engine, mask_url(url), spec.database, decl.name, decl.marker, hwm)
            yield decl, batch, None
        return
    d = Path(sources_dir)
    if spec.layout.is_export_folder:
        yield from _exports_plan(spec, con, d / spec.layout.path)
        return
    if spec.layout.kind == SQLITE_PER_SITE:
        files = sorted((d / spec.layout.path).glob(f"*{spec.layout.suffix}"))
        if homes is not None:
            files = [f for f in files if f.stem in set(homes)]
    else:
        files = [d / spec.layout.path]
    for path in files:
        check_sqlite_file(spec, path)
        present = set(sqlite_tables(path))
        for extra in sorted(present - set(spec.tables)):
            log.warning("%s: %s has a table %r that ingest does not declare; not loaded", spec.system, path, extra)
        for decl in spec.tables.values():
            if decl.name not in present:
                log.warning("%s: %s has no table %r; skipped", spec.system, path, decl.name)
                continue
            hwm = _high_water_mark(con, spec.system, decl.name, path.stem)
            batch = SqliteBatch(path, decl.name, path.stem, decl.marker, hwm)
            yield decl, batch, None


def _exports_plan(spec: SourceSystem, con, folder: Path):
    """An export folder's files not yet applied, oldest first, table by table.

    A file is applied once; only the newest applied file may be applied again, when the
    vendor has rewritten it since (re-running a night rewrites that night's files). Where the
    vendor sends a manifest, a file it lists but that is missing stops the table: applying later
    files over the gap would lose the missing night's changes without anyone knowing.
    """
    layout = spec.layout
    manifest = read_manifest(folder, layout.manifest, spec.label) if layout.manifest else None
    exports = sorted((manifest or {}).get("exports", []), key=lambda e: e["date"])
    for decl in spec.tables.values():
        entry = manifest.get("tables", {}).get(decl.name) if manifest is not None else {}
        if entry is None:
            log.warning("%s: the export manifest lists no table %r; skipped", spec.system, decl.name)
            continue
        files = _export_files(spec, folder, decl.name)
        loaded = dict(_run(con,
            "SELECT source, max(finished_at) FROM raw._load_audit WHERE system = ? "
            "AND source_table = ? AND source <> 'server' GROUP BY source", [spec.system, decl.name]).fetchall())
        names = {p.name for p in files}
        for e in exports:
            if decl.name not in e.get("rows", {}):
                continue
            expected = layout.export_name(decl.name, e["date"].replace("-", ""))
            if expected not in names and expected not in loaded:
                raise SourceMissing(
                    f"llif: {spec.label}'s manifest lists the export {folder / expected} "
                    f"({e['rows'][decl.name]} rows of {decl.name} on {e['date']}) but the file is "
                    "missing; ask the vendor to re-send that night's export (nothing of "
                    f"{decl.name} was loaded past it)."
                )
        applied = [p for p in files if p.name in loaded]
        newest = max(applied, key=lambda p: layout.parse_export(p.name)[1]) if applied else None
        todo = [p for p in files if p.name not in loaded]
        late = [p for p in todo if newest is not None
                and layout.parse_export(p.name)[1] < layout.parse_export(newest.name)[1]]
        if late:
            raise IngestError(
                f"llif: {spec.label}'s export {late[0]} is older than {newest.name}, which is "
                "already loaded; applying it now would overwrite newer rows. Move it out of the "
                f"export folder, or rebuild raw.{decl.raw_name(spec.system)} from all the exports."
            )
        if newest is not None:
            changed = dt.datetime.fromtimestamp(newest.stat().st_mtime, dt.UTC).replace(tzinfo=None)
            if changed > loaded[newest.name]:
                todo.insert(0, newest)
        if not todo:
            yield decl, None, newest.name if newest is not None else None
        for path in todo:
            if layout.kind == JSONL_EXPORTS:
                batch = JsonlBatch(path, decl.name, decl.columns, decl.primary_key, spec.label)
            else:
                batch = CsvBatch(path, decl.name, entry, spec.label)
            yield decl, batch, None


# --------------------------------------------------------------------------------------------
# loading one batch


def _record_nothing(con, spec: SourceSystem, decl: SourceTable, source: str | None, load_id: str) -> TableLoad:
    now = _now()
    source = source or ""
    hwm = _high_water_mark(con, spec.system, decl.name, source)
    _run(con, "INSERT INTO raw._load_audit VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?)",
                [load_id, spec.system, decl.name, source, now, now, hwm])
    return TableLoad(spec.system, decl.name, source, 0, 0, 0, hwm)


def _stage(con, batch: Batch, raw_names: list[str], progress: Progress | None) -> int:
    """Read the batch and register it as the view ``_stage``; returns the rows read.

    The chunks stay Arrow and DuckDB scans them where they are: copying ten million rows into
    a temporary table first would cost as much again as the insert into raw.
    """
    total = batch.total() if progress is not None else None
    if progress is not None:
        progress(batch.source_table, batch.source, 0, total)
    chunks: list[pa.Table] = []
    n = 0
    for chunk in batch.chunks():
        chunks.append(chunk.rename_columns([ROW, *raw_names]))
        n += chunk.num_rows
        if progress is not None:
            progress(batch.source_table, batch.source, n, total)
    if chunks:
        # a column that came as text in any chunk (a value of the wrong type) is text in all
        text = {f.name for c in chunks for f in c.schema if pa.types.is_string(f.type)}
        chunks = [c.cast(pa.schema([pa.field(f.name, pa.string()) if f.name in text else f for f in c.schema]))
                  for c in chunks]
        stage = pa.concat_tables(chunks)
    else:
        stage = pa.table({ROW: pa.array([], pa.int64()), **{c: pa.array([], pa.string()) for c in raw_names}})
    con.register("_stage", stage)
    return n




def _date_unreadable(text: str, form: str) -> str:
    """SQL true when ``text`` (non-empty) is not a real date in ``form``: the same parse as the
    staging models' (dbt_project/macros/parse_dates.sql), so what passes here parses there."""
    if form == "iso":
        return f"TRY_CAST({text} AS TIMESTAMP) IS NULL"
    if not DATE_FORMS.get(form):
        raise ValueError(f"llif: unknown date form {form!r} (a source contract's dates)")
    return f"TRY_STRPTIME({text}, '{DATE_FORMS[form]}') IS NULL"


def _reject_rows(con, decl: SourceTable, raw_of: dict[str, str], target: dict[str, str],
                 stage_types: dict[str, str], dropped: set[str]) -> None:
    """Fill ``_rejected (_row, field, reason)``: the first thing wrong with each bad row."""
    checks: list[tuple[str, str, str]] = []  # (condition, field, reason expression)
    for k in decl.primary_key:
        c = _q(raw_of[k])
        blank = f" OR trim(CAST({c} AS VARCHAR)) = ''" if stage_types[raw_of[k]] == "VARCHAR" else ""
        checks.append((f"{c} IS NULL{blank}", _lit(k), "'primary key is empty'"))
    for source_name, raw_name in raw_of.items():
        if source_name in dropped:
            continue  # identifiers are text wherever they go, and must not be echoed in reasons
        want, have = target[raw_name], stage_types[raw_name]
        if want != have:
            c = _q(raw_name)
            bad = f"TRY_CAST({c} AS {want}) IS NULL"
            if want == "BIGINT" and have == "VARCHAR":  # DuckDB would round '1.5' to 2
                bad += f" OR NOT regexp_full_match(trim({c}), '[-+]?[0-9]+')"
            checks.append((
                f"{c} IS NOT NULL AND ({bad})", _lit(source_name),
                f"'value ' || CAST({c} AS VARCHAR) || ' is not a valid {want}'",
            ))
    for source_name, form in decl.dates.items():
        if source_name in dropped or source_name not in raw_of:
            continue
        text = f"NULLIF(trim(CAST({_q(raw_of[source_name])} AS VARCHAR)), '')"
        checks.append((f"{text} IS NOT NULL AND {_date_unreadable(text, form)}", _lit(source_name),
                       f"'value ' || {text} || ' is not a date in the form {form}'"))
    if decl.marker is not None:
        m = f"CAST({_q(raw_of[decl.marker])} AS VARCHAR)"
        checks.append((f"{m} IS NULL", _lit(decl.marker), "'change marker is missing'"))
        checks.append((
            f"NOT regexp_full_match({m}, '{ISO_MARKER}') OR TRY_CAST({m} AS TIMESTAMP) IS NULL",
            _lit(decl.marker), f"'change marker ' || {m} || ' is not an ISO 8601 date-time'",
        ))
    field_case = " ".join(f"WHEN {cond} THEN {f}" for cond, f, _ in checks)
    reason_case = " ".join(f"WHEN {cond} THEN {r}" for cond, _, r in checks)
    _run(con,
        f"CREATE OR REPLACE TEMP TABLE _rejected AS SELECT {ROW}, field, reason FROM ("
        f"SELECT {ROW}, CASE {field_case} END AS field, CASE {reason_case} END AS reason FROM _stage"
        f") WHERE reason IS NOT NULL"
    )
    keys = ", ".join(f"TRY_CAST({_q(raw_of[k])} AS {target[raw_of[k]]})" for k in decl.primary_key)
    surplus = _run(con,
        f"SELECT count(*) - count(DISTINCT ({keys},)) FROM _stage ANTI JOIN _rejected USING ({ROW})"
    ).fetchone()[0]
    if surplus:
        order = (f"TRY_CAST(CAST({_q(raw_of[decl.marker])} AS VARCHAR) AS TIMESTAMP) DESC NULLS LAST, "
                 if decl.marker else "")
        _run(con,
            f"INSERT INTO _rejected SELECT {ROW}, {_lit(', '.join(decl.primary_key))}, "
            f"'duplicate key in this batch; row ' || kept || ' (the latest by change marker) was loaded' "
            f"FROM (SELECT {ROW}, row_number() OVER w AS n, first_value({ROW}) OVER w AS kept "
            f"FROM _stage ANTI JOIN _rejected USING ({ROW}) "
            f"WINDOW w AS (PARTITION BY {keys} ORDER BY {order}{ROW} DESC)) WHERE n > 1"
        )


def _identity_frames(con, spec: SourceSystem, decl: SourceTable, raw_of: dict[str, str],
                     target: dict[str, str], source: str, key: bytes, now: dt.datetime):
    """(tokens for raw by ``_row``, rows for identity.source_identifiers) of the valid rows."""
    p: PersonTable = decl.person
    rk = raw_of[p.record_key]
    text = {name: f"CAST({_q(raw_of[name])} AS VARCHAR)" for name in (p.ni, p.first_name, p.surname, p.dob, p.sex)}
    tbl = con.sql(
        f"SELECT {ROW}, CAST(TRY_CAST({_q(rk)} AS {target[rk]}) AS VARCHAR) AS record_key, "
        + ", ".join(f"{expr} AS {_q(name)}" for name, expr in text.items())
        + f" FROM _stage ANTI JOIN _rejected USING ({ROW})"
    ).to_arrow_table()
    col = {name: pd.Series(tbl.column(name).to_pylist(), dtype=object) for name in tbl.column_names}
    n = tbl.num_rows
    ni_clean = pseudonymise.clean_ni(col[p.ni])
    tokens = pseudonymise.ni_tokens(ni_clean, key)
    dob = _parse_dates(col[p.dob], p.dob_format)
    birth_month = dob.dt.to_period("M").dt.start_time
    sex = col[p.sex].map(p.sex_codes)  # unknown codes and None -> NaN
    record_key = col["record_key"]
    if p.key_prefixed_by_source:
        record_key = record_key.map(lambda k: None if k is None else f"{source}:{k}")
    tok = pa.table({
        ROW: pa.array(col[ROW].to_numpy(dtype=np.int64), pa.int64()),
        "ni_token": pa.array(tokens.tolist(), pa.string()),
        "birth_month": _dates(birth_month),
    })
    ident = pa.table({
        "system": pa.array([spec.system] * n, pa.string()),
        "source_table": pa.array([decl.name] * n, pa.string()),
        "record_key": pa.array(record_key.tolist(), pa.string()),
        "ni_raw": pa.array(col[p.ni].tolist(), pa.string()),
        "ni_clean": pa.array(ni_clean.tolist(), pa.string()),
        "ni_token": pa.array(tokens.tolist(), pa.string()),
        "first_name": pa.array(col[p.first_name].tolist(), pa.string()),
        "surname": pa.array(col[p.surname].tolist(), pa.string()),
        "dob_raw": pa.array(col[p.dob].tolist(), pa.string()),
        "dob": _dates(dob),
        "sex": pa.array([None if pd.isna(s) else s for s in sex], pa.string()),
        "postcode": pa.nulls(n, pa.string()),
        "_loaded_at": pa.array([now] * n, pa.timestamp("us")),
    })
    return tok, ident


def _parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    """Each vendor's date text as a date; what does not parse is NaT, never a guess (a
    swapped day and month that still makes a valid date parses as that wrong date)."""
    text = pd.Series(values, dtype=object)
    if fmt == ISO_DATE_TIME:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    else:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    return pd.Series(parsed, dtype="datetime64[ns]").dt.normalize()


def _dates(values: pd.Series) -> pa.Array:
    return pa.array(pd.Series(values, dtype="datetime64[ns]").to_numpy(), pa.timestamp("ns"),
                    from_pandas=True).cast(pa.date32())


@dataclass
class _Columns:
    """How one batch's columns land: ``raw_of`` source name -> raw name (lower case),
    ``dropped`` kept out of raw (identifiers, undeclared), ``held`` the undeclared among them,
    ``loaded`` the rest in source order, ``target`` raw name -> the raw table's type."""

    raw_of: dict[str, str]
    dropped: set[str]
    held: list[str]
    loaded: list[str]
    target: dict[str, str] | None = None


def _load_batch(con, spec: SourceSystem, decl: SourceTable, batch: Batch, load_id: str, key: bytes,
                progress: Progress | None) -> TableLoad:
    """One batch into raw: decide its columns, stage it, reject what cannot load, then replace
    its keys in raw, with its identity rows, quarantine and audit, in one transaction."""
    started, t0 = _now(), time.perf_counter()
    cols = _columns_to_load(spec, decl, batch)
    rows_read = _stage(con, batch, [cols.raw_of[c] for c in batch.columns.names], progress)
    stage_types = {r[0]: r[1] for r in _run(con, "DESCRIBE _stage").fetchall()}
    cols.target = _ensure_raw_table(con, spec.system, decl, batch, cols)
    _reject_rows(con, decl, cols.raw_of, cols.target, stage_types, cols.dropped)
    rejected = _run(con, "SELECT count(*) FROM _rejected").fetchone()[0] + len(batch.broken)
    hwm = _mark_after(con, decl, batch, cols.raw_of, rows_read)
    now = _now()
    tok = ident = None
    if decl.person and rows_read:
        tok, ident = _identity_frames(con, spec, decl, cols.raw_of, cols.target, batch.source, key, now)
    _run(con, "BEGIN TRANSACTION")
    try:
        loaded = _replace_keys(con, spec, decl, batch, cols, tok, ident, load_id, now) if rows_read else 0
        if rows_read:
            _quarantine_rejected(con, spec.system, decl, batch, cols.raw_of, cols.dropped, load_id)
        _quarantine_broken(con, spec.system, decl, batch, load_id)
        for c in cols.held:
            _run(con, "INSERT INTO raw._held_columns VALUES (?, ?, ?, ?, ?, ?)",
                 [load_id, spec.system, decl.name, batch.source, c, now])
        _run(con,
            "INSERT INTO raw._load_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, spec.system, decl.name, batch.source, started, _now(), rows_read + len(batch.broken),
             loaded, rejected, hwm],
        )
        _run(con, "COMMIT")
    except BaseException:
        _run(con, "ROLLBACK")
        raise
    finally:
        for view in ("_tok", "_ident"):
            try:
                con.unregister(view)
            except Exception:
                pass
        con.unregister("_stage")
        _run(con, "DROP TABLE IF EXISTS _rejected")
    if rejected:
        log.warning("%s %s (%s): %d rows quarantined (raw._quarantine, load %s)",
                    spec.system, decl.name, batch.source, rejected, load_id)
    log.info("%s %s (%s): read %d, loaded %d, rejected %d in %.1f s", spec.system, decl.name, batch.source,
             rows_read + len(batch.broken), loaded, rejected, time.perf_counter() - t0)
    return TableLoad(spec.system, decl.name, batch.source, rows_read + len(batch.broken), loaded, rejected, hwm)


def _columns_to_load(spec: SourceSystem, decl: SourceTable, batch: Batch) -> _Columns:
    """Which columns reach raw and under what names: identifiers and undeclared columns never do
    (SchemaDrift if a declared one is missing); names that clash once lower-cased stop the load."""
    person = decl.person
    dropped = set(person.dropped) if person else set()
    names = batch.columns.names
    raw_of = {c: c.lower() for c in names}
    clash = [c for c in raw_of.values() if c in (ROW, *META_COLUMNS, *(t for t, _ in TOKEN_COLUMNS))]
    if clash or len(set(raw_of.values())) != len(raw_of):
        raise IngestError(
            f"llif: {batch.location}: columns {clash or names} clash with each other or with "
            "ingest's own columns once lower-cased; rename them in the source or map them here."
        )
    held = column_drift(spec, decl, batch)
    for c in held:
        log.warning("%s: %s has a column %r that its contract does not declare; held back "
                    "from raw (raw._held_columns) until it is declared", spec.system, batch.location, c)
    dropped |= set(held)
    if person and not decl.columns:
        for c in names:
            if c not in dropped and c not in decl.primary_key and _IDENTIFYING.search(c) and c not in (
                    person.sex, person.record_key):
                log.warning("%s: %s column %r may identify a person and is not declared; kept out of raw",
                            spec.system, batch.location, c)
                dropped.add(c)
    return _Columns(raw_of, dropped, held, [c for c in names if c not in dropped])


def _ensure_raw_table(con, system: str, decl: SourceTable, batch: Batch, cols: _Columns) -> dict[str, str]:
    """The raw table, created on first sight and given any new source column; returns each raw
    column's type (a column's type is fixed by its first load)."""
    raw_table = decl.raw_name(system)
    qualified = f"raw.{_q(raw_table)}"
    existing = _raw_columns(con, raw_table)
    kinds = dict(zip(batch.columns.names, batch.columns.kinds))
    raw_of = cols.raw_of
    if not existing:
        defs = [f"{_q(raw_of[c])} {DUCK_TYPES[kinds[c]]}" for c in cols.loaded]
        if decl.person:
            defs += [f"{c} {t}" for c, t in TOKEN_COLUMNS]
        defs += ["_source VARCHAR", "_load_id VARCHAR", "_loaded_at TIMESTAMP"]
        _run(con, f"CREATE TABLE {qualified} ({', '.join(defs)})")
    else:
        for c in cols.loaded:
            if raw_of[c] not in existing:
                _run(con, f"ALTER TABLE {qualified} ADD COLUMN {_q(raw_of[c])} {DUCK_TYPES[kinds[c]]}")
    existing = _raw_columns(con, raw_table)
    return {raw_of[c]: existing.get(raw_of[c], DUCK_TYPES[kinds[c]]) for c in batch.columns.names}


def _mark_after(con, decl: SourceTable, batch: Batch, raw_of: dict[str, str], rows_read: int) -> str | None:
    """The high-water mark once this batch is in: the newest readable change marker it holds,
    never lower than the one before (an export file starts from none)."""
    hwm = batch.hwm if isinstance(batch, (SqliteBatch, ServerBatch)) else None
    if decl.marker is not None and rows_read:
        m = f"CAST({_q(raw_of[decl.marker])} AS VARCHAR)"
        newest = _run(con,
            f"SELECT max({m}) FROM _stage WHERE regexp_full_match({m}, '{ISO_MARKER}') "
            f"AND TRY_CAST({m} AS TIMESTAMP) IS NOT NULL"
        ).fetchone()[0]
        if newest is not None and (hwm is None or newest > hwm):
            hwm = newest
    return hwm


def _replace_keys(con, spec: SourceSystem, decl: SourceTable, batch: Batch, cols: _Columns, tok, ident,
                  load_id: str, now) -> int:
    """Inside the caller's transaction: the batch's keys deleted from raw (one site's rows only,
    for a database per site) and its good rows inserted, with their identity rows; returns the
    rows inserted."""
    raw_of, target = cols.raw_of, cols.target
    qualified = f"raw.{_q(decl.raw_name(spec.system))}"
    select = ", ".join(f"CAST({_q(raw_of[c])} AS {target[raw_of[c]]})" for c in cols.loaded)
    insert_cols = ", ".join(_q(raw_of[c]) for c in cols.loaded)
    if decl.person:
        insert_cols += ", ni_token, birth_month"
        select += ", _tok.ni_token, _tok.birth_month"
        source_rows = f"_stage JOIN _tok USING ({ROW})"
    else:
        source_rows = f"_stage ANTI JOIN _rejected USING ({ROW})"
    scope = " AND t._source = ?" if spec.layout.kind == SQLITE_PER_SITE else ""  # one site's rows
    params_scope = [batch.source] if scope else []
    if tok is not None:
        con.register("_tok", tok)
    has_rows = _run(con, f"SELECT EXISTS (SELECT 1 FROM {qualified} t WHERE true{scope})", params_scope).fetchone()[0]
    if has_rows:
        on = " AND ".join(f"t.{_q(raw_of[k])} = b.{_q(raw_of[k])}" for k in decl.primary_key)
        keys = ", ".join(f"CAST({_q(raw_of[k])} AS {target[raw_of[k]]}) AS {_q(raw_of[k])}" for k in decl.primary_key)
        _run(con, f"DELETE FROM {qualified} t USING (SELECT DISTINCT {keys} FROM {source_rows}) b WHERE {on}{scope}",
             params_scope)
    loaded = _run(con,
        f"INSERT INTO {qualified} ({insert_cols}, _source, _load_id, _loaded_at) "
        f"SELECT {select}, ?, ?, ? FROM {source_rows}",
        [batch.source, load_id, now],
    ).fetchone()[0]
    if ident is not None:
        con.register("_ident", ident)
        _run(con,
            "DELETE FROM identity.source_identifiers WHERE system = ? AND source_table = ? "
            "AND record_key IN (SELECT record_key FROM _ident)", [spec.system, decl.name])
        _run(con, "INSERT INTO identity.source_identifiers SELECT * FROM _ident")
    return loaded


def _quarantine_rejected(con, system, decl: SourceTable, batch: Batch, raw_of, dropped, load_id) -> None:
    shown = [c for c in batch.columns.names if c not in dropped]
    fields = [f"{_q(c)} := s.{_q(raw_of[c])}" for c in shown]
    if dropped:
        fields.append(f"\"_withheld\" := {_lit(', '.join(sorted(dropped)))}")
    key = ("NULLIF(concat_ws('|', " + ", ".join(f"CAST(s.{_q(raw_of[k])} AS VARCHAR)" for k in decl.primary_key)
           + "), '')")
    _run(con,
        f"INSERT INTO raw._quarantine SELECT ?, ?, ?, ?, r.{ROW}, {key}, r.field, r.reason, "
        f"CAST(to_json(struct_pack({', '.join(fields)})) AS VARCHAR) "
        f"FROM _rejected r JOIN _stage s USING ({ROW})",
        [load_id, system, decl.name, batch.source],
    )


def _quarantine_broken(con, system, decl: SourceTable, batch: Batch, load_id) -> None:
    if not batch.broken:
        return
    if decl.person:  # the fields cannot be matched to columns, so none can be shown safely
        values = [json.dumps({"_withheld": "all fields (person-level table)", "fields": len(b.values)})
                  for b in batch.broken]
    else:
        values = [json.dumps(b.values) for b in batch.broken]
    frame = pa.table({
        "row_number": pa.array([b.row_number for b in batch.broken], pa.int64()),
        "reason": pa.array([b.reason for b in batch.broken], pa.string()),
        "row_values": pa.array(values, pa.string()),
    })
    con.register("_broken", frame)
    try:
        _run(con,
            "INSERT INTO raw._quarantine SELECT ?, ?, ?, ?, row_number, NULL, NULL, reason, row_values FROM _broken",
            [load_id, system, decl.name, batch.source],
        )
    finally:
        con.unregister("_broken")


if __name__ == "__main__":
    raise SystemExit(main())
