"""Reading source contracts (YAML) into :mod:`contracts.sources.model`, with errors that say where.

A contract is written by a provider's data team, not by a programmer, so every mistake is
reported with the file and the field (``crm.yaml: tables.contact.person: no field 'dob'``) and
what is allowed, before anything is read from a source.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from contracts.errors import LlifError
from contracts.sources.model import (
    DATE_FORMS,
    EXPORT_KINDS,
    ISO_DATE_TIME,
    LAYOUT_KINDS,
    SERVER_KINDS,
    Layout,
    PersonTable,
    SourceSystem,
    SourceTable,
)


class ContractError(LlifError, ValueError):
    """A source contract is not well formed; the message names the file and the field."""


_SYSTEM_KEYS = {"system", "label", "about", "go_live", "database", "server", "layout", "change_marker", "dbt",
                "tables", "stale_after_days"}
_TABLE_KEYS = {"primary_key", "columns", "dates", "person", "change_marker"}
_PERSON_KEYS = {"record_key", "ni", "first_name", "surname", "dob", "dob_format", "sex", "sex_codes",
                "key_prefixed_by_source", "extra_identifiers"}
_LAYOUT_KEYS = {"kind", "path", "export_file", "manifest", "suffix"}
DBT_ROLES = ("person_records", "person_record_key", "care_stays")


def read_contract(path: Path) -> SourceSystem:
    """One contract file -> its SourceSystem (ContractError naming the file and field if wrong)."""
    path = Path(path)
    where = path.name
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContractError(f"llif: the source contract {path} cannot be read ({exc}).") from None
    if not isinstance(doc, dict):
        raise ContractError(f"llif: the source contract {path} is not a mapping of fields.")
    _known(doc, _SYSTEM_KEYS, where)
    system = _text(doc, "system", where)
    if system != path.stem:
        raise ContractError(f"llif: {where}: system {system!r} must match the file's name ({path.stem}.yaml).")
    marker = doc.get("change_marker")
    tables_doc = doc.get("tables")
    if not isinstance(tables_doc, dict) or not tables_doc:
        raise ContractError(f"llif: {where}: 'tables' must list at least one table.")
    tables = {name: _table(name, t, marker, f"{where}: tables.{name}") for name, t in tables_doc.items()}
    server = doc.get("server")
    if server is not None and server not in SERVER_KINDS:
        raise ContractError(f"llif: {where}: server {server!r} is not one of {', '.join(SERVER_KINDS)} (or leave it out).")
    dbt = doc.get("dbt") or {}
    unknown = set(dbt) - set(DBT_ROLES)
    if unknown:
        raise ContractError(f"llif: {where}: dbt has {sorted(unknown)}; the roles are {', '.join(DBT_ROLES)}.")
    try:
        go_live = pd.Timestamp(str(doc.get("go_live")))
    except ValueError:
        raise ContractError(f"llif: {where}: go_live {doc.get('go_live')!r} is not a date (yyyy-mm-dd).") from None
    stale = doc.get("stale_after_days", 3)
    if not isinstance(stale, int) or isinstance(stale, bool) or stale < 1:
        raise ContractError(f"llif: {where}: stale_after_days {stale!r} must be a whole number of days, 1 or more.")
    return SourceSystem(
        system=system,
        label=str(doc.get("label") or system),
        database=doc.get("database"),
        layout=_layout(doc.get("layout"), f"{where}: layout"),
        go_live=go_live,
        tables=tables,
        server=server,
        dbt_models={k: str(v) for k, v in dbt.items()},
        origin=str(path),
        stale_after_days=stale,
        about=" ".join(str(doc.get("about") or "").split()),
    )


def read_contracts(folders: list[Path]) -> dict[str, SourceSystem]:
    """Every ``*.yaml`` in the folders: a later folder's contract for the same system replaces the
    earlier one (a provider's own CRM contract over the one llif ships). Ordered by go-live date
    (then name): the order systems are listed, ingested and reported in."""
    found: dict[str, SourceSystem] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            spec = read_contract(path)
            found[spec.system] = spec
    return dict(sorted(found.items(), key=lambda kv: (kv[1].go_live, kv[0])))


def _known(doc: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise ContractError(f"llif: {where}: unknown field(s) {unknown}; allowed: {', '.join(sorted(allowed))}.")


def _text(doc: dict, key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise ContractError(f"llif: {where}: no field {key!r} (text).")
    return value


def _names(doc: dict, key: str, where: str) -> tuple[str, ...]:
    value = doc.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ContractError(f"llif: {where}: {key!r} must be a list of column names.")
    return tuple(value)


def _table(name: str, doc, marker: str | None, where: str) -> SourceTable:
    if not isinstance(doc, dict):
        raise ContractError(f"llif: {where}: must be a mapping with primary_key and columns.")
    _known(doc, _TABLE_KEYS, where)
    columns = _names(doc, "columns", where)
    key = _names(doc, "primary_key", where)
    marker = doc.get("change_marker", marker)
    for col in (*key, *([marker] if marker else [])):
        if col not in columns:
            raise ContractError(f"llif: {where}: {col!r} (key or change marker) is not among its columns.")
    dates = {str(k): str(v) for k, v in (doc.get("dates") or {}).items()}
    for col, form in dates.items():
        if col not in columns:
            raise ContractError(f"llif: {where}: dates.{col}: no such column.")
        if form not in DATE_FORMS:
            raise ContractError(f"llif: {where}: dates.{col}: form {form!r} is not one of {', '.join(DATE_FORMS)}.")
    person = _person(doc["person"], columns, f"{where}.person") if doc.get("person") else None
    return SourceTable(name, key, marker, person, columns, dates)


def _person(doc, columns: tuple[str, ...], where: str) -> PersonTable:
    if not isinstance(doc, dict):
        raise ContractError(f"llif: {where}: must be a mapping of identifier columns.")
    _known(doc, _PERSON_KEYS, where)
    cols = {k: _text(doc, k, where) for k in ("record_key", "ni", "first_name", "surname", "dob", "sex")}
    extra = tuple(doc.get("extra_identifiers") or ())
    for field_name, col in [*cols.items(), *(("extra_identifiers", c) for c in extra)]:
        if col not in columns:
            raise ContractError(f"llif: {where}.{field_name}: {col!r} is not among the table's columns.")
    codes = doc.get("sex_codes")
    if not isinstance(codes, dict) or not codes or set(map(str, codes.values())) - {"M", "F"}:
        raise ContractError(f"llif: {where}.sex_codes: map each of the system's codes to M or F.")
    dob_format = str(doc.get("dob_format") or ISO_DATE_TIME)
    if dob_format != ISO_DATE_TIME and "%" not in dob_format:
        raise ContractError(f"llif: {where}.dob_format: {dob_format!r} is neither {ISO_DATE_TIME} nor a strptime "
                            "format such as %d/%m/%Y.")
    return PersonTable(
        ni=cols["ni"], first_name=cols["first_name"], surname=cols["surname"], dob=cols["dob"],
        dob_format=dob_format, sex=cols["sex"], sex_codes={str(k): str(v) for k, v in codes.items()},
        record_key=cols["record_key"], key_prefixed_by_source=bool(doc.get("key_prefixed_by_source", False)),
        extra_identifiers=extra,
    )


def _layout(doc, where: str) -> Layout:
    if not isinstance(doc, dict):
        raise ContractError(f"llif: {where}: give kind ({', '.join(LAYOUT_KINDS)}) and path.")
    _known(doc, _LAYOUT_KEYS, where)
    kind = doc.get("kind")
    if kind not in LAYOUT_KINDS:
        raise ContractError(f"llif: {where}.kind: {kind!r} is not one of {', '.join(LAYOUT_KINDS)}.")
    path = _text(doc, "path", where)
    export_file = doc.get("export_file")
    if kind in EXPORT_KINDS and (not export_file or "{table}" not in export_file or "{stamp}" not in export_file):
        raise ContractError(f"llif: {where}.export_file: name the exports with {{table}} and {{stamp}} "
                            "(the export's date, yyyymmdd), e.g. '{table}_{stamp}.csv'.")
    return Layout(kind, path, export_file, doc.get("manifest"), str(doc.get("suffix", ".sqlite")))
