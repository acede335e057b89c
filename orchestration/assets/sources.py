"""The provider's source systems, as external assets: Dagster does not make them, it reads them.

They head the lineage graph so a user sees where every table comes from and how fresh it is.
One per source contract (contracts/sources: llif's and the provider's own), so a system
connected by its contract alone appears here on the code location's next load.
"""

from __future__ import annotations

import dagster as dg

from contracts.sources import SourceSystem, source_systems
from contracts.sources.model import CSV_EXPORTS, JSONL_EXPORTS

_KINDS = {CSV_EXPORTS: "csv", JSONL_EXPORTS: "json"}  # a file form's Dagster kind; else SQLite


def source_key(system: str) -> dg.AssetKey:
    return dg.AssetKey(["source", system])


def _spec(spec: SourceSystem) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=source_key(spec.system),
        description=f"{spec.about or spec.label} Records since {spec.go_live.year}.",
        group_name="sources",
        kinds={_KINDS.get(spec.layout.kind, "sqlite")},
        metadata={"system": spec.system, "contract": spec.origin},
    )


def source_system_specs() -> list[dg.AssetSpec]:
    """The external asset of every source system with a contract, in go-live order."""
    return [_spec(spec) for spec in source_systems().values()]
