"""The one Dagster code location of llif (loaded from workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.sources import source_system_specs

defs = dg.Definitions(assets=[*source_system_specs])
