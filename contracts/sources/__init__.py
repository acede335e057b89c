"""Source contracts: what each source system holds and how llif reads it (docs/onboarding.md).

``source_systems()`` are the contracts llif ships (``systems/*.yaml``: the provider's CRM, asset
system, two care-home vendors and home care, as the synthetic world also writes them) and those
a provider adds or replaces in ``LLIF_HOME/contracts/sources``. Ingest, linkage and Dagster's
assets read them; nothing about a source is written anywhere else.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from contracts.settings import paths
from contracts.sources.load import ContractError, read_contract, read_contracts
from contracts.sources.model import (
    CSV_EXPORTS,
    DATE_FORMS,
    DMY_DOT,
    DMY_SLASH,
    ISO,
    ISO_DATE_TIME,
    JSONL_EXPORTS,
    SQLITE,
    SQLITE_PER_SITE,
    YMD_COMPACT,
    Layout,
    PersonTable,
    SourceSystem,
    SourceTable,
)

SHIPPED = Path(__file__).resolve().parent / "systems"

__all__ = [
    "CSV_EXPORTS", "DATE_FORMS", "DMY_DOT", "DMY_SLASH", "ISO", "ISO_DATE_TIME", "JSONL_EXPORTS", "SHIPPED",
    "SQLITE", "SQLITE_PER_SITE", "YMD_COMPACT", "ContractError", "Layout", "PersonTable", "SourceSystem",
    "SourceTable", "contract_folders", "dbt_source_systems", "read_contract", "source_system", "source_systems",
]


def contract_folders() -> list[Path]:
    """Where contracts are read from, in order: the shipped ones, then the provider's."""
    own = paths().source_contracts
    return [SHIPPED, own] if own.is_dir() else [SHIPPED]


def _stamp(folders: list[Path]) -> tuple:
    return tuple((str(f), tuple((p.name, p.stat().st_mtime_ns) for p in sorted(f.glob("*.yaml")))) for f in folders)


@lru_cache(maxsize=8)
def _read(stamp: tuple) -> dict[str, SourceSystem]:
    return read_contracts([Path(f) for f, _ in stamp])


def source_systems() -> dict[str, SourceSystem]:
    """Every declared system by name (re-read when a contract file changes)."""
    return _read(_stamp(contract_folders()))


def dbt_source_systems(systems: dict[str, SourceSystem] | None = None) -> list[dict[str, str]]:
    """What the dbt project needs of each system (the ``llif_source_systems`` var): its go-live
    date, its person-records staging model and that model's record-key column, its care-stays
    model.

    Why: the person records and care-home stays of every system meet in one intermediate model
    each (int_person_records_linked, int_care_home_stays_unioned), and the timeline needs every
    system's go-live; a system a provider adds by contract appears there without anyone editing
    them. ``dbt_project.yml`` holds the shipped systems' list as the default (a test checks it
    equals this); llif's dbt runs pass the whole list, the provider's systems included, as
    ``LLIF_SOURCE_SYSTEMS`` (``orchestration.dbt.dbt_environment``)."""
    out = []
    for spec in (systems if systems is not None else source_systems()).values():
        entry = {"system": spec.system, "go_live": f"{spec.go_live:%Y-%m-%d}"}
        person = spec.person_table()
        if spec.dbt_models.get("person_records") and person is not None:
            entry.update(person_table=person.name, person_records=spec.dbt_models["person_records"],
                         person_record_key=spec.dbt_models.get("person_record_key", "record_key"))
        if spec.dbt_models.get("care_stays"):
            entry["care_stays"] = spec.dbt_models["care_stays"]
        out.append(entry)
    return out


def source_system(system: str) -> SourceSystem:
    systems = source_systems()
    try:
        return systems[system]
    except KeyError:
        raise ValueError(
            f"llif: unknown source system {system!r}; expected one of {', '.join(systems)} "
            f"(contracts in {', '.join(map(str, contract_folders()))})."
        ) from None
