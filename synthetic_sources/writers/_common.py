"""What the embedded and the server writers share: checks, column types and value conversion.

Every storage form (SQLite, CSV export, PostgreSQL, MariaDB) knows only three column kinds,
``INTEGER``, ``REAL`` and ``TEXT``, because that is what survives every one of them unchanged
and what ingest can rely on whichever form a source arrives in. Dates stay text: the system
modules write them in each vendor's own format, and the writers must not tidy that away.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts.sources.servers import system_label
from synthetic_sources.systems.base import SYSTEMS, SystemExtract, TableSpec

INTEGER, REAL, TEXT = "INTEGER", "REAL", "TEXT"
KINDS = (INTEGER, REAL, TEXT)
MODES = ("create", "upsert")


# Database and table names become file names, schema names and MariaDB database names, so
# they must be safe in all of them (PostgreSQL cuts identifiers at 63 bytes).
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Column names are always quoted, but '%' would break the DB-API "format" parameter style.
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]{0,62}$")


class TargetExistsError(FileExistsError):
    """``mode="create"`` found a file, export folder or server table already there."""


@dataclass(frozen=True)
class TableWrite:
    """What one table write did, for logs and Dagster metadata."""

    system: str
    database: str
    table: str
    location: str  # file path, or masked URL plus schema.table
    rows: int  # rows in the extract's frame
    changed: int | None  # rows inserted or updated; None where the storage cannot tell


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"llif: unknown write mode {mode!r}; use 'create' or 'upsert'.")


def check_name(kind: str, name: str, where: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"llif: {where}: {kind} name {name!r} is not usable as a file, schema and table "
            "name; use letters, digits and underscores (at most 63), starting with a letter."
        )


def check_extract(extract: SystemExtract) -> None:
    """Refuse an extract that no storage could hold faithfully, naming the table and field.

    Duplicate or missing keys would otherwise surface as an engine error halfway through a
    night's write (or, in upsert mode, silently keep one of two rows).
    """
    if extract.system not in SYSTEMS:
        raise ValueError(
            f"llif: unknown source system {extract.system!r}; expected one of {', '.join(SYSTEMS)}."
        )
    if not extract.databases:
        raise ValueError(f"llif: the {system_label(extract.system)} extract holds no databases.")
    for database, tables in extract.databases.items():
        check_name("database", database, f"{extract.system}")
        for table, spec in tables.items():
            where = f"{extract.system} {database}.{table}"
            check_name("table", table, where)
            check_table(spec, where)


def check_table(spec: TableSpec, where: str) -> None:
    frame = spec.frame
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"llif: {where}: frame is a {type(frame).__name__}, not a DataFrame.")
    columns = list(frame.columns)
    for column in columns:
        if not isinstance(column, str) or not _COLUMN.match(column):
            raise ValueError(
                f"llif: {where}: column name {column!r} cannot be stored; use letters, digits, "
                "underscores and spaces (at most 63), starting with a letter."
            )
    lowered = [c.lower() for c in columns]
    if len(set(lowered)) != len(lowered):
        dupes = sorted({c for c in columns if lowered.count(c.lower()) > 1})
        raise ValueError(
            f"llif: {where}: columns {dupes} repeat (ignoring case, as MariaDB and PostgreSQL "
            "folding would); rename them in the system module."
        )
    if not spec.primary_key:
        raise ValueError(f"llif: {where}: no primary key declared; every source table needs one.")
    missing = [c for c in spec.primary_key if c not in columns]
    if missing:
        raise ValueError(f"llif: {where}: primary key columns {missing} are not in the frame.")
    if spec.change_marker is not None and spec.change_marker not in columns:
        raise ValueError(
            f"llif: {where}: change marker {spec.change_marker!r} is not a column of the frame."
        )
    key = frame[spec.primary_key]
    null_rows = key.isna().any(axis=1).to_numpy()
    if null_rows.any():
        first = int(np.flatnonzero(null_rows)[0])
        raise ValueError(
            f"llif: {where}: {int(null_rows.sum())} rows have an empty primary key "
            f"{spec.primary_key} (first at row {first}); a source table cannot hold them."
        )
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        examples = key[dup].drop_duplicates().head(3).to_dict("records")
        raise ValueError(
            f"llif: {where}: {int(dup.sum())} rows share a primary key {spec.primary_key}, "
            f"e.g. {examples}; the system module must emit one row per key."
        )


# --------------------------------------------------------------------------------------------
# column kinds


def infer_kind(series: pd.Series) -> str:
    """The storage kind a column gets when its table is first created."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return infer_kind(pd.Series(dtype.categories)) if len(dtype.categories) else TEXT
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        return INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return REAL
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred in ("integer", "boolean"):
            return INTEGER
        if inferred in ("floating", "mixed-integer-float", "decimal"):
            return REAL
    return TEXT


def kind_of_declared(declared: str) -> str:
    """Map a column type as an engine reports it back to one of the three kinds."""
    base = (declared or "").split("(")[0].strip().lower()
    if base in _INTEGER_TYPES:
        return INTEGER
    if base in _REAL_TYPES:
        return REAL
    return TEXT


_INTEGER_TYPES = {
    "integer", "int", "bigint", "smallint", "tinyint", "mediumint", "int2", "int4", "int8",
    "bigint unsigned", "int unsigned",
}
_REAL_TYPES = {"real", "double", "double precision", "float", "float4", "float8", "numeric", "decimal"}


# --------------------------------------------------------------------------------------------
# values: pandas column -> list of plain Python values (int, float, str or None)


def column_values(series: pd.Series, kind: str, where: str) -> list:
    """Plain Python values for a driver, NULL as ``None``, converted to the column's kind.

    Vectorised where the dtype allows, because at full scale one table has millions of rows
    and per-cell Python work would dominate the write.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    mask = series.isna().to_numpy(dtype=bool)
    if kind == INTEGER:
        values = _integers(series, mask, where)
    elif kind == REAL:
        values = _reals(series, mask, where)
    else:
        values = _texts(series, mask, where)
    return values


def _fill_none(values: list, mask: np.ndarray) -> list:
    for i in np.flatnonzero(mask).tolist():
        values[i] = None
    return values


def _integers(series: pd.Series, mask: np.ndarray, where: str) -> list:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        if isinstance(dtype, np.dtype):  # numpy bool or int: no NULLs possible
            return series.to_numpy().astype(np.int64, copy=False).tolist()
        return _fill_none(series.to_numpy(dtype="int64", na_value=0).tolist(), mask)
    if pd.api.types.is_float_dtype(dtype):
        arr = series.to_numpy(dtype="float64", na_value=np.nan)
        present = arr[~mask]
        bad = ~np.isfinite(present) | (present != np.floor(present))
        if bad.any():
            raise ValueError(
                f"llif: {where}: value {present[bad][0]!r} is not a whole number but the column is "
                "stored as INTEGER; fix the column's dtype in the system module."
            )
        return _fill_none(np.where(mask, 0, arr).astype(np.int64).tolist(), mask)
    if pd.api.types.is_object_dtype(dtype):
        return [None if m else _to_int(v, where) for v, m in zip(series.tolist(), mask)]
    raise ValueError(
        f"llif: {where}: a {dtype} column cannot go into a column stored as INTEGER; fix the "
        "column's dtype in the system module, or recreate the table (mode='create', overwrite=True)."
    )


def _to_int(value, where: str) -> int:
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating, decimal.Decimal)) and float(value).is_integer():
        return int(value)
    raise ValueError(
        f"llif: {where}: value {value!r} is not a whole number but the column is stored as "
        "INTEGER; fix the column in the system module."
    )


def _reals(series: pd.Series, mask: np.ndarray, where: str) -> list:
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return _fill_none(series.to_numpy(dtype="float64", na_value=np.nan).tolist(), mask)
    if pd.api.types.is_object_dtype(dtype):
        out = []
        for v, m in zip(series.tolist(), mask):
            if m:
                out.append(None)
            elif isinstance(v, (bool, np.bool_, int, np.integer, float, np.floating, decimal.Decimal)):
                out.append(float(v))
            else:
                raise ValueError(
                    f"llif: {where}: value {v!r} is not a number but the column is stored as "
                    "REAL; fix the column in the system module."
                )
        return out
    raise ValueError(
        f"llif: {where}: a {dtype} column cannot go into a column stored as REAL; fix the "
        "column's dtype in the system module, or recreate the table (mode='create', overwrite=True)."
    )


def _texts(series: pd.Series, mask: np.ndarray, where: str) -> list:
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _iso_datetimes(series, mask)
    if pd.api.types.is_object_dtype(dtype):
        if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
            values = series.tolist()
            return _fill_none(values, mask) if mask.any() else values
        return [None if m else to_text(v) for v, m in zip(series.tolist(), mask)]
    if pd.api.types.is_string_dtype(dtype):
        return series.to_numpy(dtype=object, na_value=None).tolist()
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        ints = _integers(series, mask, where)
        return [None if v is None else str(v) for v in ints]
    if pd.api.types.is_float_dtype(dtype):
        return [None if m else repr(v) for v, m in zip(series.tolist(), mask)]
    return [None if m else to_text(v) for v, m in zip(series.astype(object).tolist(), mask)]


def _iso_datetimes(series: pd.Series, mask: np.ndarray) -> list:
    """ISO 8601 text, as ``Timestamp.isoformat()`` would give (fractions only where present).

    Time-zone aware values are written in UTC with ``+00:00`` so one column never mixes
    offsets.
    """
    suffix = ""
    if getattr(series.dtype, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        suffix = "+00:00"
    arr = series.to_numpy(dtype="datetime64[us]")
    text = np.datetime_as_string(arr, unit="s")
    whole = arr.astype("datetime64[s]").astype("datetime64[us]")
    fractional = (arr != whole) & ~mask
    if fractional.any():
        text = text.astype(object)
        text[fractional] = np.datetime_as_string(arr[fractional], unit="us")
    values = text.tolist()
    if suffix:
        values = [v + suffix for v in values]
    return _fill_none(values, mask)


def to_text(value) -> str:
    """One value as text, the same way a whole column of its dtype would be written."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC")
        return value.isoformat()
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        if isinstance(value, _dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return to_text(pd.Timestamp(value))
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def column_lists(frame: pd.DataFrame, kinds: dict[str, str], where: str) -> list[list]:
    """One list of plain values per column; ``zip(*lists)`` gives the rows for a driver."""
    return [column_values(frame[c], kinds[c], f"{where}.{c}") for c in frame.columns]


CHUNK_ROWS = 128_000


def column_chunks(frame: pd.DataFrame, kinds: dict[str, str], where: str, rows: int = CHUNK_ROWS):
    """``column_lists`` a chunk of rows at a time, so that a table of millions of rows never
    exists as millions of Python objects at once."""
    for start in range(0, len(frame), rows):
        yield column_lists(frame.iloc[start : start + rows], kinds, where)


# --------------------------------------------------------------------------------------------
# reading back: plain values -> typed frame, the same dtypes whichever storage they came from


def typed_frame(
    columns: list[str], kinds: list[str], values: list[list], primary_key: list[str] | None
) -> pd.DataFrame:
    """INTEGER -> ``Int64``, REAL -> ``float64``, TEXT -> ``str``; rows sorted by the key.

    Sorting in pandas rather than in SQL keeps the order identical across engines whose text
    collations differ.
    """
    data = {}
    for column, kind, vals in zip(columns, kinds, values):
        if kind == INTEGER:
            data[column] = pd.array(list(vals), dtype="Int64")
        elif kind == REAL:
            data[column] = np.array([np.nan if v is None else float(v) for v in vals], dtype="float64")
        else:
            data[column] = pd.array(
                [None if v is None else (v if isinstance(v, str) else to_text(v)) for v in vals],
                dtype=pd.StringDtype(na_value=np.nan),
            )
    frame = pd.DataFrame(data, columns=columns)
    if primary_key and len(frame):
        frame = frame.sort_values(primary_key, kind="stable", ignore_index=True)
    return frame


def index_name(table: str, column: str) -> str:
    """A change-marker index name that fits every engine's identifier limit (63)."""
    import hashlib

    name = f"ix_{table}__{column}".replace(" ", "_")
    if len(name) <= 60:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:51]}_{digest}"
