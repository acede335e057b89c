"""What a source contract says, as Python objects: a system, its tables, its people, its layout.

The contracts themselves are data (``contracts/sources/systems/*.yaml``, and a provider's own in
``LLIF_HOME/contracts/sources``); :mod:`contracts.sources.load` reads them into these classes.
Ingest reads nothing about a source system from anywhere else, and the synthetic world writes
what they say, so a provider connecting its own CRM edits a contract, never the test double.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# A date of birth (or change marker) stored as ISO 8601 text; other forms are strptime formats.
ISO_DATE_TIME = "ISO8601"
# The forms a date column may be written in, as the staging models parse them
# (dbt_project/macros/parse_dates.sql): "iso" is an ISO 8601 date or date-time.
ISO, DMY_SLASH, YMD_COMPACT, DMY_DOT = "iso", "dd/mm/yyyy", "yyyymmdd", "dd.mm.yyyy"
DATE_FORMS = {ISO: None, DMY_SLASH: "%d/%m/%Y", YMD_COMPACT: "%Y%m%d", DMY_DOT: "%d.%m.%Y"}  # form -> strptime

# How a system's data sits in the embedded form (LLIF_HOME/sources, or wherever the provider's
# exports land): one SQLite file; one SQLite file per site (a care home) in a folder; a folder
# of dated CSV exports with a manifest; a folder of dated JSON-lines exports.
SQLITE, SQLITE_PER_SITE, CSV_EXPORTS, JSONL_EXPORTS = "sqlite", "sqlite_per_site", "csv_exports", "jsonl_exports"
LAYOUT_KINDS = (SQLITE, SQLITE_PER_SITE, CSV_EXPORTS, JSONL_EXPORTS)
EXPORT_KINDS = (CSV_EXPORTS, JSONL_EXPORTS)
SERVER_KINDS = ("postgresql", "mysql")
# The sources folder's own manifest (which systems were written, as of when): optional; where a
# provider's folder has none, the systems whose sources are there are the ones expected.
SOURCES_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PersonTable:
    """A person-level table: which columns identify someone, and how to read them.

    ``dropped`` never reach ``raw`` (they go to the ``identity`` schema, pseudonymised);
    ``record_key`` is the column that, as text (prefixed with the site's database where
    ``key_prefixed_by_source``), names the record in the linkage's cross-reference.
    """

    ni: str
    first_name: str
    surname: str
    dob: str
    dob_format: str  # strptime format, or ISO_DATE_TIME
    sex: str
    sex_codes: dict[str, str]  # the vendor's code as text -> M / F
    record_key: str
    key_prefixed_by_source: bool = False
    extra_identifiers: tuple[str, ...] = ()  # e.g. the CRM's title

    @property
    def dropped(self) -> tuple[str, ...]:
        return (self.ni, self.first_name, self.surname, self.dob, *self.extra_identifiers)


@dataclass(frozen=True)
class SourceTable:
    """``columns``: every column ingest expects, as the source names it, in its order. A column
    the source lacks stops the table's load; one it adds is held back (never in raw) until it is
    declared, after someone has looked at whether it identifies a person. ``dates``: the date
    columns and the form each is written in; a value that does not parse is quarantined."""

    name: str  # as named in the source
    primary_key: tuple[str, ...]
    marker: str | None
    person: PersonTable | None = None
    columns: tuple[str, ...] = ()
    dates: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def raw_name(self, system: str) -> str:
        return f"{system}__{self.name.lower()}"


@dataclass(frozen=True)
class Layout:
    """Where the embedded form of a system sits under the sources folder.

    ``path``: the SQLite file (``sqlite``) or the folder (the others). ``export_file``: how an
    export is named, ``{table}`` and ``{stamp}`` (the export's date, ``yyyymmdd``) standing for
    the parts. ``manifest``: the file in the folder that lists the exports (CSV exports), or
    None where the vendor sends none (its columns are then the contract's, all text)."""

    kind: str
    path: str
    export_file: str | None = None
    manifest: str | None = None
    suffix: str = ".sqlite"  # sqlite_per_site: each site's file ends so

    @property
    def is_export_folder(self) -> bool:
        return self.kind in EXPORT_KINDS

    def export_name(self, table: str, stamp: str) -> str:
        """The file name of ``table``'s export of ``stamp`` (yyyymmdd)."""
        return self.export_file.format(table=table, stamp=stamp)

    def parse_export(self, name: str) -> tuple[str, str] | None:
        """(table, stamp) of an export file's name, or None for a file that is not an export."""
        m = self._export_re().match(name)
        return (m["table"], m["stamp"]) if m else None

    def exports(self, folder: Path, table: str | None = None) -> list[tuple[str, Path]]:
        """(stamp, path) of the export files in ``folder`` (of one table), oldest first: how ingest
        finds what to apply and the synthetic world what it wrote."""
        if not folder.is_dir():
            return []
        found = [(parsed[1], p) for p in folder.iterdir() if (parsed := self.parse_export(p.name))
                 and (table is None or parsed[0] == table)]
        return sorted(found)

    def _export_re(self) -> re.Pattern:
        head, _, tail = self.export_file.partition("{table}")
        middle, _, end = tail.partition("{stamp}")
        return re.compile("^" + re.escape(head) + r"(?P<table>[A-Za-z_][A-Za-z0-9_]*?)" + re.escape(middle)
                          + r"(?P<stamp>\d{8})" + re.escape(end) + "$")


@dataclass(frozen=True)
class SourceSystem:
    """One source system's contract. ``database``: its database name on a server (a PostgreSQL
    schema or a MariaDB database) and in the sources' manifest; ``server``: the server form's
    dialect, None where the real system has none (vendor A keeps one file per home);
    ``go_live``: when it started keeping records (before it, it writes nothing)."""

    system: str
    label: str
    database: str | None
    layout: Layout
    go_live: pd.Timestamp
    tables: dict[str, SourceTable] = field(default_factory=dict)
    server: str | None = None
    people: bool = field(init=False, default=False)
    # the dbt models the shared unions read (int_person_records_linked, int_care_home_stays_unioned)
    dbt_models: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    origin: str = ""  # the contract file it was read from, for messages
    about: str = ""  # one sentence for people: what the system is and how it sends its data
    # a source with no new or changed rows for longer than this has probably stopped sending
    stale_after_days: int = 3

    def __post_init__(self):
        object.__setattr__(self, "people", any(t.person for t in self.tables.values()))

    def person_table(self) -> SourceTable | None:
        return next((t for t in self.tables.values() if t.person), None)
