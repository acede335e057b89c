"""The server form of the source systems: PostgreSQL (CRM, assets, home care) and MariaDB
(care vendor B), as the provider's central systems would hold them.

Each database of an extract becomes a PostgreSQL *schema* in the URL's database, or a MariaDB
*database* on the server (MariaDB's schemas are its databases, so ``<database>.<table>`` reads
the same way on both). Tables carry the declared primary key, an index on the change marker,
and only three column kinds (BIGINT, DOUBLE, TEXT/VARCHAR): dates stay in each vendor's own
text format, exactly as in the embedded form, so ingest sees the same values either way.

Every entry point checks the server first and fails within seconds with an error that names
the system and host, because a nightly run that hangs on a dead server is worse than one that
stops and says what to start.
"""

from __future__ import annotations

import logging
import time

import pandas as pd
from sqlalchemy.engine import URL, Connection, Engine

from contracts.sources import source_system
from contracts.sources.servers import (  # noqa: F401  (SourceServerUnreachable and check_reachable: re-exported)
    COLUMNS_SQL,
    DEFAULT_PORTS,
    PRIMARY_KEY_SQL,
    SourceServerUnreachable,
    check_reachable,
    is_pg,
    mask_url,
    parse_url,
    server_engine,
    system_label,
)
from synthetic_sources.systems.base import SystemExtract, TableSpec
from synthetic_sources.writers._common import (
    TEXT,
    TableWrite,
    TargetExistsError,
    check_extract,
    check_mode,
    check_name,
    column_chunks,
    index_name,
    infer_kind,
    kind_of_declared,
    typed_frame,
)
from synthetic_sources.writers.embedded import reconcile_columns

log = logging.getLogger(__name__)

# MariaDB cannot index TEXT, so key and change-marker text columns are VARCHAR; their bytes
# (4 per character in utf8mb4) must fit InnoDB's 3072-byte key limit.
_MARIADB_KEY_BYTES = 3072
# Binary, no-pad collation: keys that differ only in case or trailing spaces stay different
# rows, as they are in SQLite, the CSV exports and PostgreSQL.
_MARIADB_COLLATION = "utf8mb4_nopad_bin"
_MYSQL_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE", "TEXT": "TEXT"}
_PG_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "TEXT": "TEXT"}


def write_server(
    extract: SystemExtract, url: str, mode: str, *, overwrite: bool = False, timeout_s: float = 5
) -> list[TableWrite]:
    """Store one night's extract of a system in its server database.

    ``mode="create"`` makes fresh tables and refuses existing ones unless ``overwrite=True``
    (then they are dropped and rebuilt); ``mode="upsert"`` inserts new rows and rewrites only
    rows whose values changed, creating missing schemas, tables and columns. On PostgreSQL a
    database's tables land in one transaction; MariaDB commits DDL as it goes, so there each
    table's rows land in one transaction.
    """
    check_mode(mode)
    check_extract(extract)
    if source_system(extract.system).server is None:  # the real vendor keeps files only
        raise ValueError(
            f"llif: {system_label(extract.system)} has no server form: the real vendor keeps one "
            "SQLite file per care home. Write it with write_embedded."
        )
    u = parse_url(extract.system, url)
    check_reachable(extract.system, url, timeout_s)
    engine = server_engine(u, timeout_s)
    try:
        dialect = _Postgres(engine, u) if is_pg(u) else _MariaDB(engine, u)
        if mode == "create" and not overwrite:
            existing = dialect.existing_tables(extract)
            if existing:
                raise TargetExistsError(
                    f"llif: the {system_label(extract.system)} tables {', '.join(existing)} "
                    f"already exist on {mask_url(u)}. Write tonight's changes with mode='upsert', "
                    "pass overwrite=True to rebuild them, or drop them first."
                )
        results: list[TableWrite] = []
        for database, tables in extract.databases.items():
            results += dialect.write_database(extract.system, database, tables, mode)
        return results
    finally:
        engine.dispose()


def read_server_table(url: str, database: str, table: str) -> pd.DataFrame:
    """One server source table, typed as every reader types it (Int64, float64, str)."""
    check_name("database", database, "read_server_table")
    check_name("table", table, "read_server_table")
    u = parse_url("source", url)
    engine = server_engine(u, 5)
    try:
        dialect = _Postgres(engine, u) if is_pg(u) else _MariaDB(engine, u)
        with engine.connect() as con:
            columns = dialect.columns(con, database, table)
            if not columns:
                raise KeyError(f"llif: {mask_url(u)} has no table {database}.{table}.")
            pk = dialect.primary_key(con, database, table)
            names = list(columns)
            sql = (
                f"SELECT {', '.join(dialect.q(c) for c in names)} "
                f"FROM {dialect.q(database)}.{dialect.q(table)}"
            )
            rows = con.exec_driver_sql(sql).fetchall()
    finally:
        engine.dispose()
    values = list(zip(*rows)) if rows else [[] for _ in names]
    return typed_frame(names, [columns[c] for c in names], values, pk)


# --------------------------------------------------------------------------------------------
# engines


class _Dialect:
    """What differs between PostgreSQL and MariaDB, behind one small interface."""

    column_sql = ""  # information_schema query: (database, table) -> rows of (name, type)
    pk_sql = ""  # information_schema query: (database, table) -> key columns in key order
    types: dict[str, str] = {}
    table_suffix = ""  # CREATE TABLE options

    def __init__(self, engine: Engine, url: URL):
        self.engine = engine
        self.url = url
        self.preparer = engine.dialect.identifier_preparer

    def q(self, name: str) -> str:
        return self.preparer.quote_identifier(name)

    def qt(self, database: str, table: str) -> str:
        return f"{self.q(database)}.{self.q(table)}"

    def location(self, database: str, table: str) -> str:
        return f"{mask_url(self.url)} {database}.{table}"

    def columns(self, con: Connection, database: str, table: str) -> dict[str, str]:
        rows = con.exec_driver_sql(self.column_sql, (database, table)).fetchall()
        return {name: kind_of_declared(dtype) for name, dtype in rows}

    def primary_key(self, con: Connection, database: str, table: str) -> list[str]:
        rows = con.exec_driver_sql(self.pk_sql, (database, table)).fetchall()
        return [r[0] for r in rows]

    def existing_tables(self, extract: SystemExtract) -> list[str]:
        found = []
        with self.engine.connect() as con:
            for database, tables in extract.databases.items():
                for table in tables:
                    if self.columns(con, database, table):
                        found.append(f"{database}.{table}")
        return found

    def column_type(self, kind: str, column: str, spec: TableSpec, frame_kinds: dict) -> str:
        return self.types[kind]

    def create_table(self, con, database, table, kinds, spec) -> None:
        cols = ", ".join(
            f"{self.q(c)} {self.column_type(k, c, spec, kinds)}"
            f"{' NOT NULL' if c in spec.primary_key else ''}"
            for c, k in kinds.items()
        )
        pk = ", ".join(self.q(c) for c in spec.primary_key)
        con.exec_driver_sql(
            f"CREATE TABLE {self.qt(database, table)} ({cols}, PRIMARY KEY ({pk})){self.table_suffix}"
        )

    def create_index(self, con, database, table, spec) -> None:
        if spec.change_marker is not None:
            con.exec_driver_sql(self.index_sql(database, table, spec.change_marker))

    def prepare_table(self, con, system, database, table, spec, mode) -> tuple[dict, bool]:
        """Make the table ready for tonight's rows; return its kinds and whether it is new."""
        where = f"{system} {database}.{table}"
        stored = self.columns(con, database, table)
        if stored and mode == "create":
            con.exec_driver_sql(f"DROP TABLE {self.qt(database, table)}")
            stored = {}
        if not stored:
            kinds = {c: infer_kind(spec.frame[c]) for c in spec.frame.columns}
            self.create_table(con, database, table, kinds, spec)
            return kinds, True
        stored_pk = self.primary_key(con, database, table)
        kinds = reconcile_columns(where, self.location(database, table), stored, stored_pk, spec)
        for c, k in kinds.items():
            if c not in stored:
                con.exec_driver_sql(
                    f"ALTER TABLE {self.qt(database, table)} ADD COLUMN {self.q(c)} "
                    f"{self.column_type(k, c, spec, kinds)}"
                )
        return kinds, False


class _Postgres(_Dialect):
    types = _PG_TYPES
    column_sql = COLUMNS_SQL
    pk_sql = PRIMARY_KEY_SQL["postgresql"]

    def index_sql(self, database, table, column) -> str:
        return (
            f"CREATE INDEX IF NOT EXISTS {self.q(index_name(table, column))} "
            f"ON {self.qt(database, table)} ({self.q(column)})"
        )

    def write_database(self, system, database, tables, mode) -> list[TableWrite]:
        results = []
        with self.engine.begin() as con:
            con.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {self.q(database)}")
            raw = con.connection.driver_connection
            for table, spec in tables.items():
                start = time.perf_counter()
                where = f"{system} {database}.{table}"
                kinds, fresh = self.prepare_table(con, system, database, table, spec, mode)
                columns = list(spec.frame.columns)
                chunks = column_chunks(spec.frame, kinds, where)
                names = ", ".join(self.q(c) for c in columns)
                with raw.cursor() as cur:
                    if fresh:
                        self._copy(cur, self.qt(database, table), names, chunks)
                        changed = len(spec.frame)
                    else:
                        changed = self._upsert(cur, database, table, columns, spec.primary_key, chunks)
                self.create_index(con, database, table, spec)
                results.append(
                    TableWrite(system, database, table, self.location(database, table),
                               len(spec.frame), changed)
                )
                _log_rate(where, len(spec.frame), start)
        return results

    @staticmethod
    def _copy(cur, target: str, names: str, chunks) -> None:
        with cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for lists in chunks:
                for row in zip(*lists):
                    copy.write_row(row)

    def _upsert(self, cur, database, table, columns, pk, chunks) -> int:
        """COPY into a temporary table, then one INSERT ... ON CONFLICT: far faster than
        row-by-row statements, and only rows whose values differ are rewritten."""
        stage = self.q("llif_stage")
        target = self.qt(database, table)
        names = ", ".join(self.q(c) for c in columns)
        cur.execute(f"DROP TABLE IF EXISTS {stage}")
        cur.execute(
            f"CREATE TEMPORARY TABLE {stage} AS SELECT {names} FROM {target} WITH NO DATA"
        )
        self._copy(cur, stage, names, chunks)
        rest = [c for c in columns if c not in pk]
        conflict = ", ".join(self.q(c) for c in pk)
        if rest:
            sets = ", ".join(f"{self.q(c)} = EXCLUDED.{self.q(c)}" for c in rest)
            differs = " OR ".join(
                f"{target}.{self.q(c)} IS DISTINCT FROM EXCLUDED.{self.q(c)}" for c in rest
            )
            action = f"DO UPDATE SET {sets} WHERE {differs}"
        else:
            action = "DO NOTHING"
        cur.execute(
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {stage} "
            f"ON CONFLICT ({conflict}) {action}"
        )
        changed = cur.rowcount
        cur.execute(f"DROP TABLE {stage}")
        return changed


class _MariaDB(_Dialect):
    types = _MYSQL_TYPES
    table_suffix = f" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={_MARIADB_COLLATION}"
    column_sql = COLUMNS_SQL
    pk_sql = PRIMARY_KEY_SQL["mariadb"]

    def varchar_length(self, spec: TableSpec, kinds: dict) -> int:
        text_keys = [c for c in spec.primary_key if kinds.get(c) == TEXT]
        return min(255, _MARIADB_KEY_BYTES // 4 // max(1, len(text_keys)))

    def column_type(self, kind, column, spec, frame_kinds) -> str:
        if kind == TEXT and (column in spec.primary_key or column == spec.change_marker):
            return f"VARCHAR({self.varchar_length(spec, frame_kinds)})"
        return self.types[kind]

    def index_sql(self, database, table, column) -> str:
        return (
            f"CREATE INDEX IF NOT EXISTS {self.q(index_name(table, column))} "
            f"ON {self.qt(database, table)} ({self.q(column)})"
        )

    def write_database(self, system, database, tables, mode) -> list[TableWrite]:
        results = []
        with self.engine.connect() as con:
            con.exec_driver_sql(
                f"CREATE DATABASE IF NOT EXISTS {self.q(database)} "
                f"CHARACTER SET utf8mb4 COLLATE {_MARIADB_COLLATION}"
            )
            con.commit()
            for table, spec in tables.items():
                start = time.perf_counter()
                where = f"{system} {database}.{table}"
                kinds, fresh = self.prepare_table(con, system, database, table, spec, mode)
                con.commit()
                self._check_lengths(con, database, table, spec, kinds, where)
                columns = list(spec.frame.columns)
                target = self.qt(database, table)
                names = ", ".join(self.q(c) for c in columns)
                sql = f"INSERT INTO {target} ({names}) VALUES ({', '.join('%s' for _ in columns)})"
                if not fresh:
                    # A key-only table has nothing to update: a no-op assignment skips the row.
                    rest = [c for c in columns if c not in spec.primary_key] or spec.primary_key[:1]
                    sets = ", ".join(f"{self.q(c)} = VALUES({self.q(c)})" for c in rest)
                    sql += f" ON DUPLICATE KEY UPDATE {sets}"
                raw = con.connection.driver_connection
                with raw.cursor() as cur:
                    before = 0 if fresh else self._count(cur, target)
                    affected = 0
                    for lists in column_chunks(spec.frame, kinds, where):
                        affected += cur.executemany(sql, list(zip(*lists))) or 0
                    after = self._count(cur, target)
                con.commit()
                inserted = after - before
                # affected = 1 per insert + 2 per update (0 for rows set to their own values)
                changed = len(spec.frame) if fresh else inserted + (affected - inserted) // 2
                self.create_index(con, database, table, spec)
                con.commit()
                results.append(
                    TableWrite(system, database, table, self.location(database, table),
                               len(spec.frame), changed)
                )
                _log_rate(where, len(spec.frame), start)
        return results

    @staticmethod
    def _count(cur, target: str) -> int:
        cur.execute(f"SELECT COUNT(*) FROM {target}")
        return int(cur.fetchone()[0])

    def _check_lengths(self, con, database, table, spec, kinds, where) -> None:
        """VARCHAR key columns would reject (or, in a lax SQL mode, cut) longer values."""
        rows = con.exec_driver_sql(
            "SELECT column_name, character_maximum_length FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND data_type = 'varchar'",
            (database, table),
        ).fetchall()
        for column, limit in rows:
            if column not in spec.frame.columns:
                continue
            lengths = spec.frame[column].dropna().astype(str).str.len()
            if len(lengths) and int(lengths.max()) > int(limit):
                raise ValueError(
                    f"llif: {where}: column {column!r} holds values up to {int(lengths.max())} "
                    f"characters, but MariaDB keeps key and change-marker text as VARCHAR({limit}); "
                    "shorten the codes in the system module."
                )


def _log_rate(where: str, rows: int, start: float) -> None:
    seconds = time.perf_counter() - start
    log.info("%s: %d rows in %.2f s (%.0f rows/s)", where, rows, seconds, rows / max(seconds, 1e-9))
