"""Every dbt model as an asset and every dbt test as an asset check, from one manifest."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.dbt import manifest_path, project


class LlifTranslator(DagsterDbtTranslator):
    """dbt sources are the raw tables ingest writes, and identity's cross-reference."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            if source == "identity":
                return dg.AssetKey(["identity", table])
            return dg.AssetKey(["raw", source, table])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        return f"dbt_{fqn[1]}" if len(fqn) > 2 else "dbt"


class DbtBuildConfig(dg.Config):
    """``full_refresh`` rebuilds incremental models from scratch (fct_person_month is incremental
    by person; a change to a household's area alone needs a full refresh to reach it)."""

    full_refresh: bool = False


def build_dbt_assets():
    @dbt_assets(
        manifest=manifest_path(),
        project=project,
        dagster_dbt_translator=LlifTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        pool=WAREHOUSE_POOL,
    )
    def llif_dbt(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
        yield from dbt.cli(args, context=context).stream()

    return llif_dbt
