"""MLflow for llif: where runs live, how they are tagged, and the champion/challenger registry.

Convention 7: SQLite tracking and an absolute artifact location, both under LLIF_HOME and both
taken from contracts.settings (never from environment variables here), so a home directory carries
its whole model history with it. Every registered model has at most one ``champion`` (what
everything downstream loads) and one ``challenger`` (last night's training, until the gate
decides).
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from contracts.settings import PROJECT_ROOT, Paths, paths

EXPERIMENT = "llif-transition-models"
CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class Tracking:
    """Where MLflow keeps tracking data and artifacts, and the experiment to log to."""

    tracking_uri: str
    artifact_location: str
    experiment: str = EXPERIMENT

    @classmethod
    def from_paths(cls, p: Paths | None = None, experiment: str = EXPERIMENT) -> "Tracking":
        from contracts.settings import service_settings

        p = p or paths()  # SQLite under LLIF_HOME unless the operator set LLIF_MLFLOW_TRACKING_URI
        return cls(service_settings().mlflow_tracking_uri(p), Path(p.mlartifacts).resolve().as_uri(), experiment)

    @classmethod
    def for_home(cls, home: Path, experiment: str = EXPERIMENT) -> "Tracking":
        return cls.from_paths(paths(home), experiment)

    def activate(self) -> str:
        """Point the MLflow client at this store and make sure the experiment exists with the
        absolute artifact location; returns the experiment id."""
        import mlflow
        from mlflow.tracking import MlflowClient

        Path(self.artifact_location.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        client = MlflowClient(self.tracking_uri, self.tracking_uri)
        exp = client.get_experiment_by_name(self.experiment)
        exp_id = exp.experiment_id if exp else client.create_experiment(self.experiment, artifact_location=self.artifact_location)
        mlflow.set_experiment(experiment_id=exp_id)
        return exp_id

    def client(self):
        from mlflow.tracking import MlflowClient

        self.activate()
        return MlflowClient(self.tracking_uri, self.tracking_uri)


def git_commit(root: Path = PROJECT_ROOT) -> str:
    """The checkout's commit, or "unknown" where there is no git (a wheel, a container)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def run_tags(dagster_run_id: str | None = None, asset_key: str | None = None, commit: str | None = None) -> dict[str, str]:
    """The tags every run carries (convention 7); Dagster passes its run id and asset key."""
    return {
        "dagster_run_id": dagster_run_id or "none",
        "dagster_asset_key": asset_key or "none",
        "git_commit": commit if commit is not None else git_commit(),
    }


def alias_version(tracking: Tracking, name: str, alias: str) -> str | None:
    """The version number holding an alias, or None (no such model or alias yet)."""
    from mlflow.exceptions import MlflowException

    client = tracking.client()
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def version_metric(tracking: Tracking, name: str, version: str, metric: str) -> float | None:
    """A held-out metric of a registered version, read from the run that trained it."""
    client = tracking.client()
    mv = client.get_model_version(name, version)
    if not mv.run_id:
        return None
    value = client.get_run(mv.run_id).data.metrics.get(metric)
    return None if value is None else float(value)


def set_alias(tracking: Tracking, name: str, alias: str, version: str) -> None:
    tracking.client().set_registered_model_alias(name, alias, version)


def champion_uri(name: str) -> str:
    return f"models:/{name}@{CHAMPION}"


class RetiredModelFormat(RuntimeError):
    """A registered version llif no longer reads: logged before decision 41 as a pickle of
    ``models_ml.transitions.LgbmModel``, a class path that has since moved. Rerunning training
    registers a version in the current format; the gate replaces such a champion."""


def log_model(model, signature, pip_requirements: list[str], registered_model_name: str | None = None):
    """Log a ``models_ml.lgbm_model.LgbmModel`` to the active run, *from code* (decision 41):
    the model file is stored as code and the model's numbers as a JSON artifact beside it, so
    nothing in the logged model refers to a Python class path. Returns MLflow's ModelInfo."""
    import mlflow.pyfunc

    # imported here, not at the top: this module is read by the CLI and the Dagster definitions,
    # which need the store's location but not lightgbm and mlflow (about 2 s to import)
    from models_ml import lgbm_model

    with tempfile.TemporaryDirectory() as tmp:
        state = model.save_state(Path(tmp) / lgbm_model.STATE_FILE)
        # MLflow copies the code file with its mode (shutil.copy2), and the checkout's is 0644:
        # a copy written here has the process's owner-only umask instead (decision 51)
        code = Path(tmp) / Path(lgbm_model.__file__).name
        code.write_bytes(Path(lgbm_model.__file__).read_bytes())
        return mlflow.pyfunc.log_model(name="model", python_model=str(code),
                                       artifacts={lgbm_model.STATE_ARTIFACT: str(state)}, signature=signature,
                                       registered_model_name=registered_model_name,
                                       pip_requirements=pip_requirements)


def load_model(tracking: Tracking, uri: str):
    """A logged or registered model (``models:/name@alias``, ``models:/name/version``,
    ``models:/m-...``) as today's ``LgbmModel``: its state document read by the current code,
    not its stored code file run and not a pickle unpickled. The forecast's tables, the
    outlooks and the gate all load through here. A version in the retired pickled format
    raises ``RetiredModelFormat``."""
    import mlflow.artifacts
    from mlflow.models import Model

    from models_ml import lgbm_model  # see log_model for why here

    tracking.activate()
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
        pyfunc = Model.load(str(local)).flavors.get("python_function", {})
        state = (pyfunc.get("artifacts") or {}).get(lgbm_model.STATE_ARTIFACT)
        if state is None:
            raise RetiredModelFormat(
                f"{uri} was logged in the retired pickled format "
                f"({pyfunc.get('python_model', 'no state document')}, before decision 41), which llif no longer "
                "loads because it names a Python class path. Rerun training - the nightly refresh (`llif demo` on "
                "the existing world, or materialise ml/transition_models in Dagster) - to register a version in "
                "the current format; the gate then promotes it over this one.")
        return lgbm_model.LgbmModel.load_state(local / state["path"])


def load_champion(tracking: Tracking, name: str):
    """The champion's model (the object with ``predict_proba`` and ``contributions``)."""
    return load_model(tracking, champion_uri(name))
