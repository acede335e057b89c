"""The embedded form of the source systems: SQLite files and vendor B's nightly CSV exports.

This is how the provider's systems hold their data when nothing is installed: the CRM, the
asset database and domiciliary care each keep one SQLite file, care vendor A keeps one SQLite
file per care home, and care vendor B only hands over a folder of nightly CSV exports (a full
export on the first night, then one delta file per table per night). The layout is documented
for the ingest engineers in ``synthetic_sources/writers/README.md``.

The writers know nothing about any system: they take a ``SystemExtract`` and store each table
with its declared primary key, so that night after night the same writer can bring the files
up to date (``mode="upsert"``) exactly as the real systems change under the pipeline.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sqlite3
import time
from pathlib import Path

import pandas as pd

from contracts.sources import source_system
from contracts.sources.servers import system_label
from synthetic_sources.systems.base import SystemExtract, TableSpec
from synthetic_sources.writers._common import (
    INTEGER,
    TEXT,
    TableWrite,
    TargetExistsError,
    check_extract,
    check_mode,
    check_name,
    column_chunks,
    column_lists,
    index_name,
    infer_kind,
    kind_of_declared,
    typed_frame,
)

log = logging.getLogger(__name__)

# Where each system's files go is its source contract's layout (contracts/sources/systems/):
# the synthetic world writes what ingest will read.
_CARE_A = source_system("care_a").layout
_CARE_B = source_system("care_b").layout
CARE_A_FOLDER = _CARE_A.path
CARE_B_FOLDER = _CARE_B.path
MANIFEST = _CARE_B.manifest
SQLITE_SUFFIX = _CARE_A.suffix


# --------------------------------------------------------------------------------------------
# public API


def database_path(sources_dir: Path, system: str, database: str) -> Path:
    """Where a system's SQLite database lives (vendor A keeps one file per home in a folder)."""
    sources_dir = Path(sources_dir)
    if system == "care_a":
        return sources_dir / CARE_A_FOLDER / f"{database}{SQLITE_SUFFIX}"
    if system == "care_b":
        raise ValueError(
            "llif: care vendor B has no SQLite file; its embedded form is the CSV export folder "
            f"{sources_dir / CARE_B_FOLDER} (read it with read_care_b_latest)."
        )
    return sources_dir / f"{database}{SQLITE_SUFFIX}"


def care_b_folder(sources_dir: Path) -> Path:
    return Path(sources_dir) / CARE_B_FOLDER


def write_embedded(
    extract: SystemExtract,
    sources_dir: Path,
    export_date: pd.Timestamp,
    mode: str,
    *,
    overwrite: bool = False,
) -> list[TableWrite]:
    """Store one night's extract of a system in its embedded form.

    ``mode="create"`` builds fresh files and refuses to touch existing ones unless
    ``overwrite=True`` (then each file is rebuilt aside and swapped in, so a failed night never
    leaves half a database). ``mode="upsert"`` inserts new rows and replaces changed ones by
    primary key, creating any file or table that is new tonight (a care home that opened, a
    table a vendor upgrade added); rows missing from the extract are kept, as a real system
    that never deletes would keep them. ``export_date`` names vendor B's export files and is
    otherwise unused.
    """
    check_mode(mode)
    check_extract(extract)
    sources_dir = Path(sources_dir)
    export_date = pd.Timestamp(export_date)
    if extract.system == "care_b":
        return _write_care_b(extract, care_b_folder(sources_dir), export_date, mode, overwrite)

    targets = {db: database_path(sources_dir, extract.system, db) for db in extract.databases}
    if mode == "create" and not overwrite:
        existing = [str(p) for p in targets.values() if p.exists()]
        if existing:
            raise TargetExistsError(
                f"llif: the {system_label(extract.system)} source files already exist: "
                f"{', '.join(existing)}. Write tonight's changes with mode='upsert', pass "
                "overwrite=True to rebuild them, or delete them first."
            )
    results: list[TableWrite] = []
    for database, tables in extract.databases.items():
        path = targets[database]
        path.parent.mkdir(parents=True, exist_ok=True)
        if mode == "create" or not path.exists():
            results += _build_sqlite(path, extract.system, database, tables)
        else:
            results += _upsert_sqlite(path, extract.system, database, tables)
    return results


def read_embedded_table(sources_dir: Path, database: str, table: str) -> pd.DataFrame:
    """One SQLite source table, typed as every reader types it (Int64, float64, str).

    Looks for ``<database>.sqlite`` directly under ``sources_dir`` and then in vendor A's
    folder, so callers need not know which system owns the database.
    """
    check_name("database", database, "read_embedded_table")
    sources_dir = Path(sources_dir)
    candidates = [
        sources_dir / f"{database}{SQLITE_SUFFIX}",
        sources_dir / CARE_A_FOLDER / f"{database}{SQLITE_SUFFIX}",
    ]
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        raise FileNotFoundError(
            f"llif: no SQLite source database {database!r} under {sources_dir} (looked for "
            f"{candidates[0].name} and {CARE_A_FOLDER}/{candidates[1].name}); write the sources "
            "first or check LLIF_HOME."
        )
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        info = _table_info(con, table)
        if not info:
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            raise KeyError(f"llif: {path} has no table {table!r}; it holds {names}.")
        columns = list(info)
        kinds = [info[c][0] for c in columns]
        pk = [c for c, (_, pos) in sorted(info.items(), key=lambda kv: kv[1][1]) if pos > 0]
        select = f"SELECT {', '.join(_q(c) for c in columns)} FROM {_q(table)}"
        rows = con.execute(select).fetchall()
    finally:
        con.close()
    values = list(zip(*rows)) if rows else [[] for _ in columns]
    return typed_frame(columns, kinds, values, pk)


def read_care_b_latest(sources_dir: Path, table: str) -> pd.DataFrame:
    """Vendor B's table as of its latest export: every key at the version in its newest file."""
    folder = care_b_folder(sources_dir)
    manifest = _load_manifest(folder)
    if manifest is None:
        raise FileNotFoundError(
            f"llif: no care vendor B export folder with a {MANIFEST} at {folder}; write the "
            "sources first or check LLIF_HOME."
        )
    entry = manifest["tables"].get(table)
    if entry is None:
        raise KeyError(
            f"llif: care vendor B exports hold no table {table!r}; the manifest lists "
            f"{sorted(manifest['tables'])}."
        )
    columns = list(entry["columns"])
    kinds = [entry["columns"][c] for c in columns]
    pk = entry["primary_key"]
    text = _latest_text(folder, table, pk)
    if text is None:
        return typed_frame(columns, kinds, [[] for _ in columns], pk)
    text = text.reindex(columns=columns, fill_value="")
    values = [
        [_parse_text(v, kind, folder, table, c) for v in text[c].tolist()]
        for c, kind in zip(columns, kinds)
    ]
    return typed_frame(columns, kinds, values, pk)


def export_files(sources_dir: Path, table: str) -> list[tuple[pd.Timestamp, Path]]:
    """Vendor B's files for one table, oldest first; the first is the table's full export."""
    return [(pd.Timestamp(stamp), path) for stamp, path in _export_files(care_b_folder(sources_dir), table)]


# --------------------------------------------------------------------------------------------
# SQLite


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_info(con: sqlite3.Connection, table: str) -> dict[str, tuple[str, int]]:
    """column -> (kind, position in the primary key, 0 if not in it), in table order."""
    rows = con.execute(f"PRAGMA table_info({_q(table)})").fetchall()
    return {r[1]: (kind_of_declared(r[2]), int(r[5])) for r in rows}


def _create_table(con, table: str, kinds: dict[str, str], pk: list[str]) -> None:
    cols = ", ".join(
        f"{_q(c)} {k}{' NOT NULL' if c in pk else ''}" for c, k in kinds.items()
    )
    con.execute(f"CREATE TABLE {_q(table)} ({cols}, PRIMARY KEY ({', '.join(_q(c) for c in pk)}))")


def _create_index(con, table: str, spec: TableSpec) -> None:
    if spec.change_marker is not None:
        con.execute(
            f"CREATE INDEX IF NOT EXISTS {_q(index_name(table, spec.change_marker))} "
            f"ON {_q(table)} ({_q(spec.change_marker)})"
        )


# Rows per INSERT statement: many rows per statement cut the per-row cost of Python's
# sqlite3 by about a quarter (benchmarks/bench_writers.py).
_ROWS_PER_STATEMENT = 64


def _insert(
    con, table: str, frame: pd.DataFrame, kinds: dict[str, str], where: str, pk: list[str] | None
) -> int:
    """Plain insert, or (with ``pk``) an upsert that rewrites only rows that really differ."""
    columns = list(frame.columns)
    width = len(columns)
    per = max(1, min(_ROWS_PER_STATEMENT, con.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    one = "(" + ", ".join("?" for _ in columns) + ")"
    head = f"INSERT INTO {_q(table)} ({', '.join(_q(c) for c in columns)}) VALUES "
    tail = ""
    if pk is not None:
        rest = [c for c in columns if c not in pk]
        conflict = ", ".join(_q(c) for c in pk)
        if rest:
            sets = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in rest)
            differs = " OR ".join(f"{_q(table)}.{_q(c)} IS NOT excluded.{_q(c)}" for c in rest)
            tail = f" ON CONFLICT ({conflict}) DO UPDATE SET {sets} WHERE {differs}"
        else:
            tail = f" ON CONFLICT ({conflict}) DO NOTHING"
    many = head + ", ".join([one] * per) + tail
    single = head + one + tail
    changed = 0
    for lists in column_chunks(frame, kinds, where):
        n = len(lists[0])
        full = n - n % per
        if full:
            flat = [None] * (full * width)
            for j, values in enumerate(lists):
                flat[j::width] = values[:full]
            step = per * width
            cur = con.executemany(many, (flat[i : i + step] for i in range(0, len(flat), step)))
            changed += cur.rowcount
        if full < n:
            cur = con.executemany(single, zip(*(values[full:] for values in lists)))
            changed += cur.rowcount
    return changed


def _build_sqlite(path: Path, system: str, database: str, tables: dict[str, TableSpec]) -> list[TableWrite]:
    """Build the whole file aside in one transaction and swap it in."""
    partial = path.with_name(path.name + ".partial")
    _remove_sqlite(partial)
    results = []
    con = sqlite3.connect(partial, isolation_level=None)
    try:
        # No journal at all: the file is built aside and only swapped in once complete, so a
        # crash costs nothing but the partial file, and every page is written once, not twice
        # (WAL would write it to the log and again at the checkpoint).
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        # cache_size stays at its default: a large page cache measurably slows the sorter that
        # builds the change-marker index (benchmarks/bench_writers.py).
        con.execute("BEGIN")
        for table, spec in tables.items():
            start = time.perf_counter()
            where = f"{system} {database}.{table}"
            kinds = {c: infer_kind(spec.frame[c]) for c in spec.frame.columns}
            _create_table(con, table, kinds, spec.primary_key)
            _insert(con, table, spec.frame, kinds, where, None)
            _create_index(con, table, spec)
            results.append(TableWrite(system, database, table, str(path), len(spec.frame), len(spec.frame)))
            _log_rate(where, len(spec.frame), start)
        con.execute("COMMIT")
        # Leave an ordinary rollback-journal file, as a vendor application would expect.
        con.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        con.close()
        _remove_sqlite(partial)
        raise
    con.close()
    os.replace(partial, path)
    return results


def _upsert_sqlite(path: Path, system: str, database: str, tables: dict[str, TableSpec]) -> list[TableWrite]:
    """Bring an existing file up to date in one transaction: the night lands whole or not at all."""
    results = []
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA temp_store=MEMORY")
        con.execute("PRAGMA cache_size=-262144")
        con.execute("BEGIN IMMEDIATE")
        for table, spec in tables.items():
            start = time.perf_counter()
            where = f"{system} {database}.{table}"
            columns = list(spec.frame.columns)
            info = _table_info(con, table)
            if not info:
                kinds = {c: infer_kind(spec.frame[c]) for c in columns}
                _create_table(con, table, kinds, spec.primary_key)
                changed = _insert(con, table, spec.frame, kinds, where, None)
            else:
                kinds = reconcile_columns(
                    where, str(path), {c: k for c, (k, _) in info.items()},
                    [c for c, (_, pos) in sorted(info.items(), key=lambda kv: kv[1][1]) if pos > 0],
                    spec,
                )
                for c in columns:
                    if c not in info:
                        con.execute(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(c)} {kinds[c]}")
                changed = _insert(con, table, spec.frame, kinds, where, spec.primary_key)
            _create_index(con, table, spec)
            results.append(TableWrite(system, database, table, str(path), len(spec.frame), changed))
            _log_rate(where, len(spec.frame), start)
        con.execute("COMMIT")
        # Back to a self-contained file: read-only readers then need no -wal/-shm files.
        con.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        con.close()
        raise
    con.close()
    return results


def reconcile_columns(
    where: str, location: str, stored: dict[str, str], stored_pk: list[str], spec: TableSpec
) -> dict[str, str]:
    """Kinds to write tonight's frame with: stored kinds for known columns, inferred for new.

    New columns are added (vendors upgrade their schemas); a column the table has but the
    frame lacks, or a different key, is a mistake upstream that must not pass silently.
    """
    if stored_pk != list(spec.primary_key):
        raise ValueError(
            f"llif: {where}: the stored table at {location} has primary key {stored_pk}, the "
            f"extract declares {list(spec.primary_key)}; rebuild it with mode='create', "
            "overwrite=True."
        )
    missing = [c for c in stored if c not in spec.frame.columns]
    if missing:
        raise ValueError(
            f"llif: {where}: the extract lacks columns {missing} that the stored table at "
            f"{location} has; the system module must keep emitting them (NULL if unknown)."
        )
    return {c: stored.get(c) or infer_kind(spec.frame[c]) for c in spec.frame.columns}


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _log_rate(where: str, rows: int, start: float) -> None:
    seconds = time.perf_counter() - start
    log.info("%s: %d rows in %.2f s (%.0f rows/s)", where, rows, seconds, rows / max(seconds, 1e-9))


# --------------------------------------------------------------------------------------------
# care vendor B: nightly CSV exports


def _export_files(folder: Path, table: str | None = None, before: str | None = None) -> list[tuple[str, Path]]:
    """(YYYYMMDD, path) of export files, oldest first; optionally one table, before a date."""
    return [(stamp, path) for stamp, path in _CARE_B.exports(folder, table) if before is None or stamp < before]


def _load_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"llif: {path} is not valid JSON ({exc}); restore it or rebuild the export folder "
            "with mode='create', overwrite=True."
        ) from exc


def _latest_text(folder: Path, table: str, pk: list[str], before: str | None = None) -> pd.DataFrame | None:
    """The table's rows as exported text ('' for NULL), newest version of each key."""
    files = _export_files(folder, table, before)
    if not files:
        return None
    parts = [
        pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8").astype(object)
        for _, path in files
    ]
    text = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return text.drop_duplicates(subset=pk, keep="last").fillna("")


def _parse_text(value: str, kind: str, folder: Path, table: str, column: str):
    if value == "":
        return None
    if kind == TEXT:
        return value
    try:
        return int(value) if kind == INTEGER else float(value)
    except ValueError:
        raise ValueError(
            f"llif: {folder}/{table}_*.csv: column {column!r} holds {value!r}, not the "
            f"{kind} the manifest declares; the export folder is damaged, rebuild it."
        ) from None


def _write_csv(path: Path, columns: list[str], text_columns: list[list[str]]) -> None:
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*text_columns))
    os.replace(partial, path)


def _write_care_b(
    extract: SystemExtract, folder: Path, export_date: pd.Timestamp, mode: str, overwrite: bool
) -> list[TableWrite]:
    stamp = export_date.strftime("%Y%m%d")
    day = export_date.strftime("%Y-%m-%d")
    tables: dict[str, tuple[str, TableSpec]] = {}
    for database, specs in extract.databases.items():
        for table, spec in specs.items():
            if table in tables:
                raise ValueError(
                    f"llif: care vendor B databases {tables[table][0]!r} and {database!r} both "
                    f"hold a table {table!r}; their export files would collide."
                )
            tables[table] = (database, spec)

    manifest = _load_manifest(folder)
    ours = _export_files(folder)
    if mode == "create" and (manifest is not None or ours):
        if not overwrite:
            raise TargetExistsError(
                f"llif: the care vendor B export folder {folder} already holds exports; write "
                "tonight's delta with mode='upsert', pass overwrite=True to start again from a "
                "full export, or delete the folder first."
            )
        for _, path in ours:
            path.unlink()
        (folder / MANIFEST).unlink(missing_ok=True)
        manifest = None
    if manifest is not None:
        dates = [e["date"] for e in manifest.get("exports", [])] + [
            f"{s[:4]}-{s[4:6]}-{s[6:]}" for s, _ in ours
        ]
        latest = max(dates) if dates else None
        if latest is not None and day < latest:
            raise ValueError(
                f"llif: care vendor B's latest export in {folder} is dated {latest}; an export "
                f"dated {day} would be older and lose to it. Write exports in date order."
            )
    folder.mkdir(parents=True, exist_ok=True)
    if manifest is None:
        manifest = {"format": 1, "system": "care_b", "tables": {}, "exports": []}
    earlier = [e for e in manifest["exports"] if e["date"] < day]
    night_kind = "delta" if earlier else "full"

    results = []
    rows_written = {}
    for table, (database, spec) in tables.items():
        where = f"care_b {database}.{table}"
        path = folder / _CARE_B.export_name(table, stamp)
        entry = manifest["tables"].get(table)
        baseline = None
        if entry is not None and _export_files(folder, table, before=stamp):
            kinds = reconcile_columns(
                where, str(folder), entry["columns"], entry["primary_key"], spec
            )
            baseline = _latest_text(folder, table, spec.primary_key, before=stamp)
        else:
            kinds = {c: infer_kind(spec.frame[c]) for c in spec.frame.columns}
            entry = {"database": database, "first_export": day}
        entry.update(
            database=database,
            primary_key=list(spec.primary_key),
            change_marker=spec.change_marker,
            columns={**entry.get("columns", {}), **kinds},
        )
        manifest["tables"][table] = entry

        columns = list(spec.frame.columns)
        lists = column_lists(spec.frame, kinds, where)
        text = [["" if v is None else str(v) for v in col] for col in lists]
        if baseline is not None:
            keep = _changed_rows(columns, text, baseline, spec.primary_key)
            text = [[v for v, k in zip(col, keep) if k] for col in text]
        written = len(text[0]) if text else 0
        _write_csv(path, columns, text)
        rows_written[table] = written
        results.append(TableWrite("care_b", database, table, str(path), len(spec.frame), written))

    manifest["exports"] = sorted(
        [e for e in manifest["exports"] if e["date"] != day]
        + [{"date": day, "kind": night_kind, "rows": rows_written}],
        key=lambda e: e["date"],
    )
    partial = folder / (MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(partial, folder / MANIFEST)
    return results


def _changed_rows(
    columns: list[str], text: list[list[str]], baseline: pd.DataFrame, pk: list[str]
) -> list[bool]:
    """Which of tonight's rows differ, as exported text, from the key's latest exported row.

    Comparing the exported text (not the typed values) means a row counts as changed exactly
    when its line in the file would change.
    """
    new = pd.DataFrame(dict(zip(columns, text)), columns=columns, dtype=object).set_index(pk)
    old = baseline.reindex(columns=columns, fill_value="").set_index(pk)
    known = new.index.isin(old.index)
    if not known.any():
        return [True] * len(new)
    aligned = old.reindex(new.index)
    differs = new.ne(aligned).any(axis=1).to_numpy() if len(new.columns) else ~known
    return (~known | differs).tolist()
