"""MLflow from inside an asset: the home's tracking store, and the tags that tie an MLflow run
to the Dagster run and asset that made it (and the code's commit), so a model in the MLflow UI
leads back to its night in the Dagster UI. Shared by the ml and forecast assets."""

from __future__ import annotations

from dagster import AssetExecutionContext

from orchestration.resources import LlifHome


def tracking_of(llif: LlifHome):
    """The home's MLflow tracking store (SQLite and artifacts under LLIF_HOME unless configured)."""
    from contracts.settings import paths
    from models_ml.tracking import Tracking

    return Tracking.from_paths(paths(llif.root))


def run_tags_of(context: AssetExecutionContext) -> dict[str, str]:
    """Tags for an MLflow run started by this asset: Dagster run id, asset key, git commit."""
    from models_ml.tracking import git_commit, run_tags

    return run_tags(context.run.run_id, context.asset_key.to_user_string(), git_commit())
