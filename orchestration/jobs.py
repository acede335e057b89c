"""The nightly refresh: every asset llif makes, in lineage order."""

from __future__ import annotations

import dagster as dg

from contracts.settings import service_settings
from orchestration.night import RUN_DATE_TAG, TIMEZONE, WEEKLY_TAG

nightly_job = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("sources"),
    description="Ingest, identity, dbt (with its tests as checks), validation and everything after, every night.",
    # every step writes the one DuckDB file, so they run one at a time anyway (the warehouse pool);
    # in the run's own process they start in milliseconds instead of each loading the code
    # location again (about 10 s a step), and stopping the run stops one process tree
    executor_def=dg.in_process_executor,
)

# dbt's incremental models rebuild from scratch once a week, taking in the rare changes their
# nightly runs do not look for (docs/decisions.md).
FULL_REFRESH_WEEKDAY = 6  # Sunday
FULL_REFRESH_CONFIG = {"ops": {"llif_dbt": {"config": {"full_refresh": True}}}}


@dg.schedule(
    name="nightly_refresh_0200",
    job=nightly_job,
    cron_schedule=service_settings().nightly_cron,  # LLIF_NIGHTLY_CRON; 02:00 unless the operator moves it
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00; on Sundays dbt's incremental models are rebuilt in full.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    when = context.scheduled_execution_time
    full = when is not None and when.weekday() == FULL_REFRESH_WEEKDAY
    tags = {WEEKLY_TAG: str(full).lower()}
    if when is not None:   # the night's logical date seeds the forecast (orchestration.night)
        tags[RUN_DATE_TAG] = when.astimezone(TIMEZONE).date().isoformat()
    return dg.RunRequest(run_config=FULL_REFRESH_CONFIG if full else {}, tags=tags)
