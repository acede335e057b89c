"""The provider's source systems, as external assets: Dagster does not make them, it reads them.

They head the lineage graph so a user sees where every table comes from and how fresh it is.
"""

from __future__ import annotations

import dagster as dg

SOURCE_SYSTEMS = {
    "crm": "Housing management CRM (since 1998): contacts, households, register, tenancies, circumstances.",
    "assets": "Asset management (since 2003): schemes, units, voids.",
    "care_a": "Care vendor A (since 2009): one database per care home: residents, stays, assessments, transfers.",
    "care_b": "Care vendor B (since 2014): nightly CSV exports of clients, placements and movement events.",
    "domcare": "Domiciliary care (since 2015): service users, packages, time-stamped visits.",
}

source_system_specs = [
    dg.AssetSpec(
        key=dg.AssetKey(["source", system]),
        description=description,
        group_name="sources",
        kinds={"sqlite"} if system != "care_b" else {"csv"},
        metadata={"system": system},
    )
    for system, description in SOURCE_SYSTEMS.items()
]
