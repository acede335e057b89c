"""The nightly refresh: every asset llif makes, in lineage order."""

from __future__ import annotations

import dagster as dg

nightly_job = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("sources"),
    description="Ingest, identity, dbt (with its tests as checks) and validation, every night.",
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_refresh_0200",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
