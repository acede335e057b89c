"""Logging a transition model's two fits to MLflow and registering the refit as ``challenger``.

The evaluation run holds the held-out figures, the windows and the drivers; the production run
holds the refit, which is what is registered. The tags here link the two, and the gate reads
``EVALUATION_MODEL_TAG`` to score like with like (decision 28).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from models_ml import features as F
from models_ml import tracking as T
from models_ml.lgbm_model import LgbmModel
from models_ml.transitions.config import TrainConfig
from models_ml.transitions.explanations import plot_drivers, plot_importance
from models_ml.transitions.fitting import FittedModel

PIP_REQUIREMENTS = [f"lightgbm=={lgb.__version__}", f"pandas=={pd.__version__}", f"numpy=={np.__version__}"]
FIT_TAG = "llif_fit"  # run and version tag: "evaluation" or "production"
EVALUATION_RUN_TAG = "evaluation_run_id"  # on the refit's run and registered version
EVALUATION_MODEL_TAG = "evaluation_model_uri"  # on the registered version: what the gate scores
PRODUCTION_RUN_TAG = "production_run_id"  # on the evaluation run: its refit


@dataclass
class LoggedFits:
    version: str  # the registered version (the production refit)
    evaluation_run_id: str
    evaluation_model_uri: str
    refit_run_id: str


def _signature(model: LgbmModel, frame: pd.DataFrame):
    example = frame.loc[frame["period"] == "test", list(F.FEATURES)].head(200).reset_index(drop=True)
    # numbers as doubles: a missing value must not break the signature at inference
    example[list(F.NUMERIC)] = example[list(F.NUMERIC)].astype("float64")
    return infer_signature(example, model.predict(None, example))


def log_fits(fm: FittedModel, frame: pd.DataFrame, tracking: T.Tracking, tags: dict[str, str],
             cfg: TrainConfig = TrainConfig(), params: dict | None = None) -> LoggedFits:
    """Log one model's two fits as two MLflow runs and register the refit as ``challenger``.

    The evaluation run holds the held-out metrics, the windows, the drivers and the evaluation
    model (logged, not registered); the refit run holds its own window (train_start, train_end
    = the latest labelled month), rounds and rows, tagged with the evaluation run. The
    registered version is the refit, tagged with the evaluation model's URI so the gate can
    score the evaluation fit on held-out months it never saw.
    """
    if fm.refit is None:
        raise ValueError(f"{fm.name}: no production refit to register (fit with refit=True)")
    client = tracking.client()
    name, w = fm.name, fm.windows
    signature = _signature(fm.model, frame)
    common = {f"cfg_{k}": v for k, v in cfg.__dict__.items()}
    common.update({f"override_{k}": v for k, v in (params or {}).items()})
    common.update({"model": name, "kind": fm.model.kind, "features": ",".join(F.FEATURES)})
    with mlflow.start_run(run_name=f"{name} evaluation {w.test_end:%Y-%m}",
                          tags={**tags, "model": name, FIT_TAG: "evaluation"}) as run:
        mlflow.log_params({**common, **{f"window_{k}": v for k, v in w.as_dict().items()},
                           "train_start": f"{w.train_start:%Y-%m}", "train_end": f"{w.train_end:%Y-%m}"})
        mlflow.log_metrics({k: float(v) for k, v in fm.metrics.items()})
        mlflow.log_metrics({f"rows_{k}": float(v) for k, v in fm.rows.items()})
        mlflow.log_metric("train_seconds", fm.seconds)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "data_window.json").write_text(json.dumps({**w.as_dict(), "rows": fm.rows}, indent=2))
            fm.per_destination.to_csv(tmp / "per_destination.csv", index=False)
            imp = fm.model.feature_importance()
            imp.to_csv(tmp / "feature_importance.csv")
            plot_importance(imp, f"{name}: feature importance", tmp / "feature_importance.png")
            for key, table in fm.drivers.items():
                table.to_csv(tmp / f"drivers_{key}.csv", index=False)
                plot_drivers(table, f"{name}: drivers of {key.replace('_', ' ')}", tmp / f"drivers_{key}.png")
            mlflow.log_artifacts(str(tmp), artifact_path="evaluation")
        info = T.log_model(fm.model, signature, PIP_REQUIREMENTS)
        eval_run, eval_uri = run.info.run_id, info.model_uri
    rw = w.refit_dict()
    with mlflow.start_run(run_name=f"{name} production {w.refit_end:%Y-%m}",
                          tags={**tags, "model": name, FIT_TAG: "production", EVALUATION_RUN_TAG: eval_run}) as run:
        mlflow.log_params({**common, **{f"refit_{k}": v for k, v in rw.items()},
                           "train_start": rw["train_start"], "train_end": rw["train_end"],
                           "num_rounds": ",".join(map(str, fm.refit.best_iterations)),
                           "calibration": "evaluation fit's, from its validation months"})
        mlflow.log_metrics({f"rows_{k}": float(v) for k, v in fm.refit_rows.items()})
        mlflow.log_metric("train_seconds", fm.refit_seconds)
        info = T.log_model(fm.refit, signature, PIP_REQUIREMENTS, registered_model_name=name)
        refit_run = run.info.run_id
    client.set_tag(eval_run, PRODUCTION_RUN_TAG, refit_run)
    version = str(info.registered_model_version)
    for key, value in {FIT_TAG: "production", EVALUATION_RUN_TAG: eval_run, EVALUATION_MODEL_TAG: eval_uri,
                       "train_end": rw["train_end"], "heldout_log_loss": f"{fm.metrics['heldout_log_loss']:.6f}"}.items():
        client.set_model_version_tag(name, version, key, value)
    client.set_registered_model_alias(name, T.CHALLENGER, version)
    return LoggedFits(version, eval_run, eval_uri, refit_run)
