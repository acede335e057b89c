"""What every source-system writer hands to the storage writers.

A system module turns the truth store into the tables the real system would hold *as of* a
date, with its own names, codes, date formats and defects. The storage writers
(``synthetic_sources/writers/``) put an extract into SQLite files, a CSV export folder or a
server database, without knowing anything about the system.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from contracts.sources import source_system

SYSTEMS = ("crm", "assets", "care_a", "care_b", "domcare")

# when each system went live, as its source contract says (the world writes what ingest reads)
CONTRACTS = {name: source_system(name) for name in SYSTEMS}
GO_LIVE = {name: spec.go_live for name, spec in CONTRACTS.items()}


@dataclass(frozen=True)
class DefectRates:
    """The documented defect rates (docs/domain.md, "The source systems"), each configurable."""

    ni_missing: dict = field(
        default_factory=lambda: {"crm": 0.03, "care_a": 0.25, "care_b": 0.40, "domcare": 0.15}
    )
    ni_missing_crm_before_2005: float = 0.08
    ni_malformed: float = 0.05  # of those present
    dob_swapped: float = 0.01  # day and month swapped
    name_typo: float = 0.03
    nickname: float = 0.02
    crm_duplicate_person: float = 0.02
    late: float = 0.01
    late_max_days: int = 60
    corrected: float = 0.005
    contradictory: float = 0.005
    test_records: int = 4  # per system


@dataclass
class TableSpec:
    """A source table: its rows, the columns that identify a row, and its change marker."""

    frame: pd.DataFrame
    primary_key: list[str]
    change_marker: str | None


@dataclass
class SystemExtract:
    """One source system as of a date: database (or file) name -> table name -> table."""

    system: str
    databases: dict[str, dict[str, TableSpec]]
    source_records: pd.DataFrame  # system, table, record_key (str), person_id (int64)
