"""The nightly training: load the rows, fit the three models, explain them, log and register.

``train_transition_models`` is what the Dagster asset calls; ``fit_all`` is the same fitting
without MLflow, for tests, benchmarks and the backtest's cut-off models.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from models_ml import features as F
from models_ml import segments as S
from models_ml import tracking as T
from models_ml.transitions.config import MODEL_NAMES, NEED, NEXT_STATE, OUTLOOK, TrainConfig
from models_ml.transitions.data import Windows, load_next_month_rows, load_outlook_rows
from models_ml.transitions.explanations import drivers
from models_ml.transitions.fitting import FittedModel, train_need, train_next_state, train_outlook
from models_ml.transitions.mlflow_runs import log_fits
from simulation.lattice import LIVE_STATES


@dataclass
class TrainingResult:
    versions: dict[str, str]  # registered model -> version (the production refit) now holding `challenger`
    run_ids: dict[str, str]  # registered model -> the evaluation fit's run
    metrics: dict[str, dict]
    windows: dict[str, dict]
    rows: dict[str, dict]
    seconds: dict[str, float]
    fitted: dict[str, FittedModel] = field(default_factory=dict, repr=False)
    refit_run_ids: dict[str, str] = field(default_factory=dict)
    refit_windows: dict[str, dict] = field(default_factory=dict)

    def metadata(self) -> dict:
        out = {"challenger_versions": self.versions, "seconds": {k: round(v, 1) for k, v in self.seconds.items()}}
        for name, m in self.metrics.items():
            out[f"{name}: held-out log loss"] = round(m["heldout_log_loss"], 5)
            out[f"{name}: baseline log loss"] = round(m["baseline_heldout_log_loss"], 5)
        out["windows"] = self.windows
        out["production_refit_windows"] = self.refit_windows
        return out


WAREHOUSE_SEGMENTS = "warehouse"  # fit_all's default: tonight's segmentation (ml.segment_profiles)


def fit_all(con, cfg: TrainConfig = TrainConfig(), params: dict | None = None,
            only: tuple[str, ...] = MODEL_NAMES, *, latest: pd.Timestamp | None = None,
            segment_model: S.SegmentModel | None | str = WAREHOUSE_SEGMENTS,
            refit: bool = True) -> tuple[dict[str, FittedModel], dict[str, pd.DataFrame]]:
    """Fit the models without MLflow (tests, benchmarks, the backtest's cut-off models):
    name -> FittedModel (evaluation fit and production refit), and the frames.

    ``latest``: the month treated as the latest complete one (default the warehouse's); with a
    cut-off, no row whose label month is after it is read. ``segment_model``: the segmentation
    applied to each row as of its month (default tonight's, None for none).
    """
    latest = F.latest_complete_month(con) if latest is None else pd.Timestamp(latest)
    seg_model = S.read_segment_model(con) if isinstance(segment_model, str) else segment_model
    n_segments = seg_model.k if seg_model is not None else 0
    fitted, frames = {}, {}
    if NEXT_STATE in only or NEED in only:
        w1 = Windows.make(latest, 1, cfg)
        t = time.perf_counter()
        frames["next_month"] = load_next_month_rows(con, w1, cfg, seg_model)
        load_seconds = time.perf_counter() - t
        if NEXT_STATE in only:
            fitted[NEXT_STATE] = train_next_state(frames["next_month"], w1, cfg, n_segments, params, refit)
            fitted[NEXT_STATE].rows["load_seconds"] = round(load_seconds, 1)
        if NEED in only:
            fitted[NEED] = train_need(frames["next_month"], w1, cfg, n_segments, params, refit)
    if OUTLOOK in only:
        w12 = Windows.make(latest, 12, cfg)
        t = time.perf_counter()
        frames["outlook"] = load_outlook_rows(con, w12, cfg, seg_model)
        fitted[OUTLOOK] = train_outlook(frames["outlook"], w12, cfg, n_segments, params, refit)
        fitted[OUTLOOK].rows["load_seconds"] = round(time.perf_counter() - t, 1)
    return fitted, frames


def train_transition_models(con, tracking: T.Tracking, tags: dict[str, str] | None = None,
                            cfg: TrainConfig = TrainConfig(), params: dict | None = None,
                            with_drivers: bool = True, only: tuple[str, ...] = MODEL_NAMES) -> TrainingResult:
    """Train (evaluation fit, then production refit), evaluate against the Markov baseline, log
    both fits to MLflow and register each refit as the new ``challenger``. ``tags``:
    ``tracking.run_tags(dagster_run_id, asset_key, commit)``."""
    tags = tags or T.run_tags()
    fitted, frames = fit_all(con, cfg, params, only)
    tracking.activate()
    result = TrainingResult({}, {}, {}, {}, {}, {})
    for name, fm in fitted.items():
        frame = frames["outlook" if name == OUTLOOK else "next_month"]
        if with_drivers:
            fm.drivers = drivers(fm, frame if name != NEED else frame.loc[frame["next_state"].isin(LIVE_STATES)], cfg.seed)
        logged = log_fits(fm, frame, tracking, tags, cfg, params)
        result.versions[name] = logged.version
        result.run_ids[name] = logged.evaluation_run_id
        result.refit_run_ids[name] = logged.refit_run_id
        result.metrics[name] = fm.metrics
        result.windows[name] = fm.windows.as_dict()
        result.refit_windows[name] = fm.windows.refit_dict()
        result.rows[name] = fm.rows
        result.seconds[name] = fm.seconds + fm.refit_seconds
        result.fitted[name] = fm
    return result
