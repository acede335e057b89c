"""Every dbt model as an asset and every dbt test as an asset check, from one manifest.

Two dbt assets: ``llif_dbt`` (staging to the ml feature marts) and ``llif_dbt_planning`` (the
models tagged ``planning``: the forecast's staging views and the planning marts), which runs
after forecast/scenario_forecasts because the forecast schema exists only once it has.
"""


import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.assets.forecast import SCENARIO_FORECASTS
from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.dbt import manifest_path, project, prune_run_targets
from orchestration.resources import LlifHome

DBT_DOCS = dg.AssetKey(["dbt_docs"])
DBT_STOP_SECONDS = 10
PLANNING = "tag:planning"  # dbt_project.yml tags models/planning and models/staging/forecast


class LlifTranslator(DagsterDbtTranslator):
    """dbt sources are the raw tables ingest writes, identity's cross-reference, and the forecast
    schema, which one asset writes whole (every forecast table is that asset)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            if source == "identity":
                return dg.AssetKey(["identity", table])
            if source == "forecast":
                return SCENARIO_FORECASTS
            return dg.AssetKey(["raw", source, table])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        return f"dbt_{fqn[1]}" if len(fqn) > 2 else "dbt"


class DbtBuildConfig(dg.Config):
    """``full_refresh`` rebuilds incremental models from scratch (fct_person_month is incremental
    by person; a change to a household's area alone needs a full refresh to reach it)."""

    full_refresh: bool = False


def _stream_ending_dbt(invocation):
    """dbt's events; if the step is stopped, dbt goes with it. dagster-dbt forwards the interrupt
    (SIGINT) and waits ``DBT_STOP_SECONDS`` for dbt to end (its default, 25 s, is most of the 30 s a
    stop may take); a dbt still running then, or left by any other failure, is killed so it cannot
    keep the warehouse's write lock (issue 16: an orphaned dbt held it after its run had died)."""
    invocation.termination_timeout_seconds = DBT_STOP_SECONDS
    try:
        yield from invocation.stream()
    except BaseException:
        if invocation.process.poll() is None:
            invocation.process.kill()
            invocation.process.wait(timeout=10)
        raise
    target = Path(invocation.target_path)
    with contextlib.suppress(OSError):   # housekeeping never fails a night
        prune_run_targets(target if target.is_absolute() else Path(invocation.project_dir) / target)


def _translator() -> LlifTranslator:
    # several forecast tables map to the one forecast asset: dagster-dbt refuses duplicate
    # source keys unless told they are meant
    return LlifTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True,
                                                                enable_duplicate_source_asset_keys=True))


def build_dbt_assets() -> list[dg.AssetsDefinition]:
    @dbt_assets(
        manifest=manifest_path(),
        project=project,
        exclude=PLANNING,
        dagster_dbt_translator=_translator(),
        pool=WAREHOUSE_POOL,
    )
    def llif_dbt(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
        yield from _stream_ending_dbt(dbt.cli(args, context=context))

    @dbt_assets(
        manifest=manifest_path(),
        project=project,
        select=PLANNING,
        name="llif_dbt_planning",
        dagster_dbt_translator=_translator(),
        pool=WAREHOUSE_POOL,
    )
    def llif_dbt_planning(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from _stream_ending_dbt(dbt.cli(["build"], context=context))

    @dg.asset(key=DBT_DOCS, deps=list(llif_dbt_planning.keys), group_name="dbt_docs", pool=WAREHOUSE_POOL,
              kinds={"dbt", "html"},
              description="The dbt docs site (every model, column, test and the lineage, with tonight's catalogue) "
                          "as one static page, LLIF_HOME/dbt_docs/index.html; served by `make ui`.")
    def dbt_docs(llif: LlifHome) -> dg.MaterializeResult:
        from contracts.settings import paths
        from orchestration.dbt_docs import build_docs

        page = build_docs(llif.warehouse, paths(llif.root).dbt_docs)
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(page)),
                                              "size_kb": round(page.stat().st_size / 1024)})

    return [llif_dbt, llif_dbt_planning, dbt_docs]
