"""A `raw` schema for the dbt tests: by the real ingest when it is there, else by this stand-in.

The dbt staging models read `raw.<system>__<table>` as docs/warehouse_contract.md describes it:
the source's columns in lower case, as text/integer/real as stored, plus `_source`, `_load_id`
and `_loaded_at`; in the four person-level tables the identifiers (NI number, names, date of
birth, title) are replaced by `ni_token` and `birth_month`.

`build_duckdb_raw` uses `warehouse.ingest.ingest_system` when that module can be imported (the
ingest is written alongside dbt), unless ``LLIF_DBT_RAW=fixture`` forces the stand-in below,
which follows the contract closely enough for staging to be built and tested on it. Either way
`copy_raw_to_postgres` then copies the same raw tables, column for column, into a PostgreSQL
database, so the two dbt targets are tested on identical input.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import importlib
import inspect
import json
import os
import re
import sqlite3
import sys
from pathlib import Path

import duckdb
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the checkout
SYSTEMS = ("crm", "assets", "care_a", "care_b", "domcare")

# person-level tables: identifier columns that never reach raw, and how the DOB is written
PERSON_TABLES = {
    ("crm", "contact"): (("title", "first_name", "surname", "date_of_birth", "ni_no"), "date_of_birth", "%Y-%m-%dT%H:%M:%S"),
    ("care_a", "Resident"): (("Forename", "Surname", "DateOfBirth", "NINumber"), "DateOfBirth", "%d/%m/%Y"),
    ("care_b", "client"): (("first_name", "last_name", "birth_date", "ni_no"), "birth_date", "%Y%m%d"),
    ("domcare", "service_user"): (("forename", "surname", "date_of_birth", "ni_number"), "date_of_birth", "%d.%m.%Y"),
}
NI_COLUMN = {("crm", "contact"): "ni_no", ("care_a", "Resident"): "NINumber",
             ("care_b", "client"): "ni_no", ("domcare", "service_user"): "ni_number"}
_NI = re.compile(r"^[A-Z]{2}[0-9]{6}[A-D]$")
FIXTURE_KEY = b"llif-dbt-test-fixture-key-32-bytes!"
LOADED_AT = pd.Timestamp("2026-11-01 02:00:00")


# ---------------------------------------------------------------------------------------------
# which raw builder


def real_ingest():
    """`warehouse.ingest.ingest_system` if the ingest module exists (None to use the stand-in)."""
    if os.environ.get("LLIF_DBT_RAW", "").lower() == "fixture":
        return None
    if not (PROJECT_ROOT / "warehouse" / "ingest.py").exists():
        return None
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    module = importlib.import_module("warehouse.ingest")
    return getattr(module, "ingest_system", None)


def build_duckdb_raw(sources_dir: Path, warehouse: Path) -> str:
    """Fill `warehouse`'s raw schema from the sources; says which builder did it."""
    ingest = real_ingest()
    if ingest is not None:
        kwargs, env = {}, {}
        if "pseudonym_key" in inspect.signature(ingest).parameters:
            kwargs["pseudonym_key"] = FIXTURE_KEY
        else:  # an older ingest reads the key from the environment only
            env["LLIF_PSEUDONYM_KEY"] = FIXTURE_KEY.decode()
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            for system in SYSTEMS:
                ingest(system, Path(warehouse), sources_dir=Path(sources_dir), **kwargs)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return "warehouse.ingest"
    load_fixture_raw(sources_dir, warehouse)
    return "fixture"


# ---------------------------------------------------------------------------------------------
# the stand-in: read the embedded sources and apply the contract


def _clean_ni(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    s = re.sub(r"[\s\-]", "", str(value).upper())
    if len(s) == 9:
        s = s[:2] + s[2:8].replace("O", "0") + s[8:]
    return s if _NI.match(s) else None


def _token(ni: str | None) -> str | None:
    if ni is None:
        return None
    return hmac.new(FIXTURE_KEY, ni.encode(), hashlib.sha256).hexdigest()[:32]


def _birth_month(values: pd.Series, fmt: str) -> pd.Series:
    parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    return parsed.dt.to_period("M").dt.start_time.dt.date.where(parsed.notna(), None)


def _pseudonymise(system: str, table: str, frame: pd.DataFrame) -> pd.DataFrame:
    spec = PERSON_TABLES.get((system, table))
    if spec is None:
        return frame
    drop, dob_col, fmt = spec
    out = frame.copy()
    out["ni_token"] = [_token(_clean_ni(v)) for v in out[NI_COLUMN[(system, table)]].astype(object)]
    out["birth_month"] = _birth_month(out[dob_col].astype(object), fmt)
    return out.drop(columns=[c for c in drop if c in out.columns])


def _sqlite_tables(path: Path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute("select name from sqlite_master where type='table' order by name")]
        for name in names:
            cols = con.execute(f'pragma table_info("{name}")').fetchall()
            kinds = {c[1]: (c[2] or "TEXT").upper() for c in cols}
            rows = con.execute(f'select * from "{name}"').fetchall()
            frame = pd.DataFrame.from_records(rows, columns=[c[1] for c in cols])
            yield name, _typed(frame, kinds)
    finally:
        con.close()


def _typed(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    out = {}
    for col, kind in kinds.items():
        values = frame[col] if col in frame.columns else pd.Series([None] * len(frame))
        if kind == "INTEGER":
            out[col] = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif kind == "REAL":
            out[col] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            out[col] = values.astype(object).where(values.notna(), None)
    return pd.DataFrame(out, index=frame.index)


def _care_b_tables(sources_dir: Path):
    folder = sources_dir / "care_b_exports"
    manifest = json.loads((folder / "manifest.json").read_text())
    for table, spec in manifest["tables"].items():
        files = sorted(folder.glob(f"{table}_[0-9]*.csv"), key=lambda p: p.stem.rsplit("_", 1)[1])
        parts = []
        for f in files:
            with f.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
            part = pd.DataFrame(rows, columns=list(spec["columns"]), dtype=object)
            part = part.where(part.notna() & (part != ""), None)
            part["_source"] = f.name
            parts.append(part)
        frame = pd.concat(parts, ignore_index=True).drop_duplicates(spec["primary_key"], keep="last")
        typed = _typed(frame.reset_index(drop=True), spec["columns"])
        typed["_source"] = frame["_source"].to_numpy()
        yield table, typed


def fixture_frames(sources_dir: Path) -> dict[str, pd.DataFrame]:
    """raw table name -> frame, as the contract lays raw out."""
    sources_dir = Path(sources_dir)
    found: dict[str, list[pd.DataFrame]] = {}

    def add(system, table, frame, source):
        frame = _pseudonymise(system, table, frame)
        frame.columns = [c.lower() for c in frame.columns]
        if "_source" not in frame.columns:
            frame["_source"] = source
        frame["_load_id"] = "fixture-1"
        frame["_loaded_at"] = LOADED_AT
        found.setdefault(f"{system}__{table.lower()}", []).append(frame)

    for system in ("crm", "assets", "domcare"):
        path = sources_dir / f"{system}.sqlite"
        if path.exists():
            for table, frame in _sqlite_tables(path):
                add(system, table, frame, path.stem)
    for path in sorted((sources_dir / "care_a").glob("*.sqlite")):
        for table, frame in _sqlite_tables(path):
            add("care_a", table, frame, path.stem)
    if (sources_dir / "care_b_exports" / "manifest.json").exists():
        for table, frame in _care_b_tables(sources_dir):
            add("care_b", table, frame, None)
    return {name: pd.concat(parts, ignore_index=True) for name, parts in found.items()}


def load_fixture_raw(sources_dir: Path, warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists raw")
        for name, frame in fixture_frames(sources_dir).items():
            con.register("_frame", frame)
            con.execute(f'create or replace table raw."{name}" as select * from _frame')
            con.unregister("_frame")
            cols = set(frame.columns)
            if "birth_month" in cols:
                con.execute(f'alter table raw."{name}" alter birth_month type date')
            con.execute(f'alter table raw."{name}" alter _loaded_at type timestamp')
            for col, dtype in frame.dtypes.items():
                if pd.api.types.is_object_dtype(dtype) and frame[col].isna().all():
                    con.execute(f'alter table raw."{name}" alter "{col}" type varchar')
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# the same raw tables in PostgreSQL

_PG_TYPES = {
    "BIGINT": "bigint", "INTEGER": "bigint", "SMALLINT": "bigint", "TINYINT": "bigint", "HUGEINT": "numeric",
    "UBIGINT": "numeric", "UINTEGER": "bigint", "DOUBLE": "double precision", "FLOAT": "double precision",
    "REAL": "double precision", "VARCHAR": "text", "DATE": "date", "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz", "BOOLEAN": "boolean", "JSON": "text", "UUID": "text",
}


def _pg_type(duck_type: str) -> str:
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        return "numeric"
    if t.startswith("TIMESTAMP") and "TIME ZONE" not in t:
        return "timestamp"
    return _PG_TYPES.get(t, "text")


def raw_tables(warehouse: Path) -> dict[str, list[tuple[str, str]]]:
    """raw table -> [(column, duckdb type)], in column order."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' order by table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, col, dtype in rows:
        out.setdefault(table, []).append((col, dtype))
    return out


def copy_raw_to_postgres(warehouse: Path, pg_conninfo: str) -> dict[str, int]:
    """Every raw.* table of the DuckDB warehouse into the PostgreSQL database's raw schema."""
    import psycopg

    tables = raw_tables(warehouse)
    counts = {}
    duck = duckdb.connect(str(warehouse), read_only=True)
    try:
        with psycopg.connect(pg_conninfo, autocommit=False) as pg:
            pg.execute("create schema if not exists raw")
            for table, cols in tables.items():
                ddl = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in cols)
                pg.execute(f'drop table if exists raw."{table}"')
                pg.execute(f'create table raw."{table}" ({ddl})')
                names = ", ".join(f'"{c}"' for c, _ in cols)
                cur = duck.execute(f'select {names} from raw."{table}"')
                n = 0
                with pg.cursor().copy(f'copy raw."{table}" ({names}) from stdin') as copy:
                    while True:
                        batch = cur.fetchmany(50_000)
                        if not batch:
                            break
                        for row in batch:
                            copy.write_row(row)
                        n += len(batch)
                counts[table] = n
            pg.commit()
    finally:
        duck.close()
    return counts
