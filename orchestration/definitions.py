"""The one Dagster code location of llif (loaded from workspace.yaml).

Thin on purpose: assets call plain functions in the domain packages; this file only gathers them.
"""

from __future__ import annotations

import dagster as dg

from contracts.settings import owner_only_files, paths
from orchestration.alerts import alert_sensors
from orchestration.assets.dbt import build_dbt_assets
from orchestration.assets.forecast import forecast_assets
from orchestration.assets.identity import identity_asset
from orchestration.assets.ingest import ingest_assets, person_table_keys
from orchestration.assets.ml import ml_assets, ml_checks
from orchestration.assets.published import published_warehouse
from orchestration.assets.sources import source_system_specs
from orchestration.assets.validation import truth_agreement
from orchestration.checks import health_checks
from orchestration.jobs import nightly_job, nightly_schedule
from orchestration.recovery import release_crashed_runs
from orchestration.resources import build_resources
from orchestration.stop_watch import watch_interrupts


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *source_system_specs(),
            *ingest_assets(paths().sources),
            identity_asset(person_table_keys()),
            *build_dbt_assets(),
            truth_agreement,
            *ml_assets,
            *forecast_assets,
            published_warehouse,
        ],
        asset_checks=[*ml_checks, *health_checks()],
        sensors=[*alert_sensors, release_crashed_runs],
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        resources=build_resources(),
    )


# A code location loaded by Dagster itself (`dagster dev -w workspace.yaml`, the daemon's run
# workers and step processes, which each import this module) writes under LLIF_HOME too: the
# warehouse, the MLflow store, the forecasts, dbt's logs. The command line sets the same umask
# (llif/cli.py); here it covers a code location no `llif` command started. Decision 51.
owner_only_files()
# A run the daemon or the UI launches executes in a run worker that imports this module: the
# stop watch lets it stop on SIGTERM (the UI's Terminate, a service stopping) while it waits for
# the warehouse slot, as `llif demo` does (decision 52). In a process running no step (the code
# server, the webserver) it only ever finds no interrupt.
watch_interrupts()
defs = build_definitions()
