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
    "SourceTable", "contract_folders", "read_contract", "source_system", "source_systems",
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


def source_system(system: str) -> SourceSystem:
    systems = source_systems()
    try:
        return systems[system]
    except KeyError:
        raise ValueError(
            f"llif: unknown source system {system!r}; expected one of {', '.join(systems)} "
            f"(contracts in {', '.join(map(str, contract_folders()))})."
        ) from None
