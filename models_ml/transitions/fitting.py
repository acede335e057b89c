"""Fitting the three transition models: the evaluation fit and the production refit.

Shapes (docs/transition_models.md): one multiclass LightGBM for next month's state with the
current state as a feature (the rare states - hospice, extra care - borrow strength from the
common ones, and the lattice is filled by one model); one multiclass model for next month's
need level given the person is still alive and known; four binary models for the outlooks
(a care-home move, an emergency hospital stay, need rising, the tenancy ending within 12
months), held together as one model.

Validation picks the number of rounds and fits the calibration; the held-out period is touched
only for the figures. The model the forecast uses is then a *production refit* on every
labelled month with the evaluation's rounds and calibration (decision 28). The model object
itself is ``models_ml/lgbm_model.py``, logged from code (decision 41).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from models_ml import features as F
from models_ml import lgbm_model
from models_ml.lgbm_model import LgbmModel
from models_ml.transitions.baseline import MarkovBaseline
from models_ml.transitions.calibration import fit_platt, fit_temperature
from models_ml.transitions.config import NEED, NEXT_STATE, OUTCOMES, OUTLOOK, TrainConfig
from models_ml.transitions.data import Windows, outlook_mask
from models_ml.transitions.metrics import evaluate, evaluate_binary
from simulation.lattice import LIVE_STATES, NEED_LEVELS, STATES


def build_vocab(frame: pd.DataFrame, n_segments: int) -> dict[str, list]:
    vocab: dict[str, list] = {"state": list(LIVE_STATES), "sex": ["F", "M", "U"],
                              "segment": list(range(-1, n_segments))}
    for col in F.CATEGORICAL:
        if col not in vocab:
            vocab[col] = sorted(str(v) for v in frame[col].dropna().unique())
    return vocab


def encode(frame: pd.DataFrame, vocab: dict[str, list]) -> np.ndarray:
    """The feature matrix of ``features.FEATURES`` (the model file's encoding, this order)."""
    return lgbm_model.encode(frame, vocab, F.FEATURES)


def _dataset(x, y, w, vocab, reference=None):
    cat = [i for i, c in enumerate(F.FEATURES) if c in vocab]
    return lgb.Dataset(x, label=y, weight=w, feature_name=list(F.FEATURES), categorical_feature=cat,
                       reference=reference, free_raw_data=False, params={"max_bin": 63, "verbose": -1})


def fit_booster(x_tr, y_tr, w_tr, x_va, y_va, w_va, vocab, params: dict, cfg: TrainConfig) -> tuple[lgb.Booster, int]:
    train = _dataset(x_tr, y_tr, w_tr, vocab)
    valid = _dataset(x_va, y_va, w_va, vocab, reference=train)
    booster = lgb.train(params, train, num_boost_round=cfg.num_boost_round, valid_sets=[valid],
                        callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)])
    best = booster.best_iteration or booster.current_iteration()
    return booster, int(best)


def refit_rounds(best: int, cfg: TrainConfig) -> int:
    """The production refit's boosting rounds from the evaluation's best iteration."""
    return max(1, round(best * cfg.refit_round_scale))


def refit_booster(x, y, w, vocab, params: dict, rounds: int) -> lgb.Booster:
    """A booster on every labelled row with a fixed number of rounds: nothing is left to stop
    early on, so the evaluation's choice is reused (decision 28)."""
    return lgb.train(params, _dataset(x, y, w, vocab), num_boost_round=rounds)


@dataclass
class FittedModel:
    """One model's two fits: ``model`` is the evaluation fit (trained before validation and the
    held-out months, scored on them: ``metrics``), ``refit`` the production refit on every
    labelled month with the evaluation's rounds and calibration (None when not asked for)."""

    name: str
    model: LgbmModel
    metrics: dict  # held-out figures of the evaluation fit: the model's and the baseline's
    per_destination: pd.DataFrame
    windows: Windows
    rows: dict
    drivers: dict[str, pd.DataFrame] = field(default_factory=dict)
    seconds: float = 0.0
    refit: LgbmModel | None = None
    refit_rows: dict = field(default_factory=dict)
    refit_seconds: float = 0.0

    @property
    def production(self) -> LgbmModel:
        """What the forecast and the outlooks use: the refit, or the evaluation fit without one."""
        return self.refit if self.refit is not None else self.model


def _multiclass(name: str, df: pd.DataFrame, y: np.ndarray, classes: list[str], w: Windows, cfg: TrainConfig,
                n_segments: int, params: dict | None = None, refit: bool = True) -> FittedModel:
    started = time.perf_counter()
    vocab = build_vocab(df.loc[df["period"] == "train"], n_segments)
    x = encode(df, vocab)
    wt = df["sample_weight"].to_numpy(dtype=float)
    tr, va, te = (df["period"] == p for p in ("train", "valid", "test"))
    tr, va, te = tr.to_numpy(), va.to_numpy(), te.to_numpy()
    p = {**cfg.lgb_params(), "objective": "multiclass", "num_class": len(classes), **(params or {})}
    booster, best = fit_booster(x[tr], y[tr], wt[tr], x[va], y[va], wt[va], vocab, p, cfg)
    model = LgbmModel("multiclass", classes, [booster.model_to_string(num_iteration=best)], vocab, [{}], [best],
                      list(F.FEATURES))
    model.calibration = [fit_temperature(model.raw_proba(df.loc[va]), y[va], wt[va])]
    p_te = model.predict_proba(df.loc[te])
    base = MarkovBaseline(classes).fit(df.loc[tr | va], y[tr | va], wt[tr | va])
    b_te = base.predict_proba(df.loc[te])
    mine, per = evaluate(y[te], p_te, classes)
    theirs, per_b = evaluate(y[te], b_te, classes)
    per = per.merge(per_b.drop(columns="observed_rate"), on="destination", suffixes=("", "_baseline"))
    metrics = {f"heldout_{k}": v for k, v in mine.items()}
    metrics.update({f"baseline_heldout_{k}": v for k, v in theirs.items() if k != "n_rows"})
    metrics["best_iteration"] = best
    metrics["temperature"] = model.calibration[0]["temperature"]
    rows = {"train": int(tr.sum()), "valid": int(va.sum()), "test": int(te.sum()),
            "train_weighted": float(wt[tr].sum())}
    fitted = FittedModel(name, model, metrics, per, w, rows, seconds=time.perf_counter() - started)
    if refit:
        started = time.perf_counter()
        al = tr | va | te
        rvocab = build_vocab(df.loc[al], n_segments)
        rounds = refit_rounds(best, cfg)
        booster = refit_booster(encode(df.loc[al], rvocab), y[al], wt[al], rvocab, p, rounds)
        fitted.refit = LgbmModel("multiclass", classes, [booster.model_to_string()], rvocab,
                                 [dict(c) for c in model.calibration], [rounds], list(F.FEATURES))
        fitted.refit_rows = {"train": int(al.sum()), "train_weighted": float(wt[al].sum())}
        fitted.refit_seconds = time.perf_counter() - started
    return fitted


def train_next_state(df: pd.DataFrame, w: Windows, cfg: TrainConfig, n_segments: int, params: dict | None = None,
                     refit: bool = True) -> FittedModel:
    y = df["next_state"].map({s: i for i, s in enumerate(STATES)}).to_numpy(dtype=np.int64)
    return _multiclass(NEXT_STATE, df, y, list(STATES), w, cfg, n_segments, params, refit)


def train_need(df: pd.DataFrame, w: Windows, cfg: TrainConfig, n_segments: int, params: dict | None = None,
               refit: bool = True) -> FittedModel:
    df = df.loc[df["next_state"].isin(LIVE_STATES)].reset_index(drop=True)
    y = df["next_need_level"].astype(np.int64).to_numpy()
    return _multiclass(NEED, df, y, [f"need_{n}" for n in NEED_LEVELS], w, cfg, n_segments, params, refit)


def train_outlook(df: pd.DataFrame, w: Windows, cfg: TrainConfig, n_segments: int, params: dict | None = None,
                  refit: bool = True) -> FittedModel:
    started = time.perf_counter()
    vocab = build_vocab(df.loc[df["period"] == "train"], n_segments)
    x = encode(df, vocab)
    wt = df["sample_weight"].to_numpy(dtype=float)
    boosters, bests, calib, metrics, per = [], [], [], {}, []
    p = {**cfg.lgb_params(), "objective": "binary", **(params or {})}
    for outcome, label in OUTCOMES.items():
        ok = outlook_mask(df, outcome)
        y = df[label].fillna(0).to_numpy(dtype=float)
        tr, va, te = ((df["period"] == q).to_numpy() & ok for q in ("train", "valid", "test"))
        booster, best = fit_booster(x[tr], y[tr], wt[tr], x[va], y[va], wt[va], vocab, p, cfg)
        boosters.append(booster.model_to_string(num_iteration=best))
        bests.append(best)
        raw_va = booster.predict(x[va], num_iteration=best, num_threads=cfg.num_threads)
        c = fit_platt(raw_va, y[va], wt[va])
        calib.append(c)
        raw_te = booster.predict(x[te], num_iteration=best, num_threads=cfg.num_threads)
        q = np.clip(raw_te, 1e-9, 1 - 1e-9)
        p_te = 1 / (1 + np.exp(-(c["a"] * np.log(q / (1 - q)) + c["b"])))
        # baseline: the training and validation rate by state, age band and need level
        base = MarkovBaseline([0, 1]).fit(df.loc[tr | va], y[tr | va].astype(int), wt[tr | va])
        b_te = base.predict_proba(df.loc[te])[:, 1]
        m, b = evaluate_binary(y[te], p_te), evaluate_binary(y[te], b_te)
        per.append({"destination": outcome, "observed_rate": m["observed_rate"], "predicted_rate": m["predicted_rate"],
                    "brier": m["brier"], "calibration_error": m["calibration_error"], "log_loss": m["log_loss"],
                    "predicted_rate_baseline": b["predicted_rate"], "brier_baseline": b["brier"],
                    "calibration_error_baseline": b["calibration_error"], "log_loss_baseline": b["log_loss"],
                    "best_iteration": best, "n_rows": m["n_rows"]})
        metrics[f"heldout_log_loss_{outcome}"] = m["log_loss"]
        metrics[f"baseline_heldout_log_loss_{outcome}"] = b["log_loss"]
    per = pd.DataFrame(per)
    metrics["heldout_log_loss"] = float(per["log_loss"].mean())
    metrics["baseline_heldout_log_loss"] = float(per["log_loss_baseline"].mean())
    metrics["heldout_brier"] = float(per["brier"].mean())
    metrics["heldout_calibration_error"] = float(per["calibration_error"].mean())
    model = LgbmModel("binary", list(OUTCOMES), boosters, vocab, calib, bests, list(F.FEATURES))
    rows = {q: int((df["period"] == q).sum()) for q in ("train", "valid", "test")}
    fitted = FittedModel(OUTLOOK, model, metrics, per, w, rows, seconds=time.perf_counter() - started)
    if refit:
        started = time.perf_counter()
        labelled = df["period"].isin(["train", "valid", "test"]).to_numpy()
        rvocab = build_vocab(df.loc[labelled], n_segments)
        rx = encode(df, rvocab)
        r_boosters, r_rounds = [], []
        for (outcome, label), best in zip(OUTCOMES.items(), bests):
            al = labelled & outlook_mask(df, outcome)
            y = df[label].fillna(0).to_numpy(dtype=float)
            rounds = refit_rounds(best, cfg)
            r_boosters.append(refit_booster(rx[al], y[al], wt[al], rvocab, p, rounds).model_to_string())
            r_rounds.append(rounds)
        fitted.refit = LgbmModel("binary", list(OUTCOMES), r_boosters, rvocab, [dict(c) for c in calib], r_rounds,
                                 list(F.FEATURES))
        fitted.refit_rows = {"train": int(labelled.sum()), "train_weighted": float(wt[labelled].sum())}
        fitted.refit_seconds = time.perf_counter() - started
    return fitted
