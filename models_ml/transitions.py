"""Transition models: next month's state, next month's need level, and 12-month outlooks.

Shapes (docs/transition_models.md): one multiclass LightGBM for next month's state with the
current state as a feature (the rare states - hospice, extra care - borrow strength from the
common ones, and the lattice is filled by one model); one multiclass model for next month's
need level given the person is still alive and known (the need table's meaning); four binary
models for the outlooks (a care-home move, an emergency hospital stay, need rising, the tenancy
ending within 12 months), registered together as one model.

Temporal split, relative to the latest complete month M, so it rolls forward nightly: the held-
out period is the last 12 months with a label, validation the 12 before, training from
``train_start`` up to that. Validation picks the number of rounds and fits the calibration;
the held-out period is touched only for the report and the gate.

That evaluation fit chooses the configuration; the model the forecast uses is then a
*production refit* on every labelled month from ``train_start`` to the latest one (the held-out
end), with the evaluation's number of rounds and its calibration (decision 28,
docs/transition_models.md "Evaluation fit and production refit"). Both are logged to MLflow;
the refit is what is registered, promoted and loaded, and the gate compares evaluation fits.

Most person-months are "nothing happens": rows with no change are sampled (10%) in SQL and
weighted by the inverse of their inclusion probability, so the weighted data has the
population's rates and the probabilities need no correction for the sampling.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize

from contracts.vocabulary.states import CARE_HOME_STATES
from models_ml import features as F
from models_ml import lgbm_model
from models_ml import segments as S
from models_ml import tracking as T
from models_ml.lgbm_model import LgbmModel
from simulation.lattice import LIVE_STATES, NEED_LEVELS, STATES, age_band_index

NEXT_STATE = "llif_next_state"
NEED = "llif_next_need_level"
OUTLOOK = "llif_person_outlook"
MODEL_NAMES: tuple[str, ...] = (NEXT_STATE, NEED, OUTLOOK)
GATE_METRIC = "heldout_log_loss"

OUTCOMES: dict[str, str] = {
    "care_home_move": "has_care_home_admission_next_12_months",
    "hospital_admission": "has_hospital_admission_next_12_months",
    "need_rise": "has_need_rise_next_12_months",
    "tenancy_end": "has_tenancy_end_next_12_months",
}


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 20261031
    train_start: str = "2016-01-01"  # home care live from 2015, wellbeing recorded from 2016
    validation_months: int = 12
    heldout_months: int = 12
    stay_rate: float = 0.10  # share of no-change rows kept (weight 1 / stay_rate)
    negative_rate: float = 0.10  # outlook rows with no outcome kept
    num_boost_round: int = 600
    early_stopping_rounds: int = 40
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 100
    feature_fraction: float = 0.9
    lambda_l2: float = 5.0
    max_bin: int = 63
    num_threads: int = 2
    # production refit: boosting rounds = the evaluation's best iteration times this (1.0: not
    # scaled for the extra months; decision 28)
    refit_round_scale: float = 1.0

    def lgb_params(self) -> dict:
        return {
            "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf, "feature_fraction": self.feature_fraction,
            "feature_fraction_seed": self.seed, "lambda_l2": self.lambda_l2, "max_bin": self.max_bin,
            "num_threads": self.num_threads, "deterministic": True, "force_col_wise": True,
            "seed": self.seed, "verbose": -1, "max_cat_to_onehot": 8, "cat_smooth": 10.0,
        }


@dataclass(frozen=True)
class Windows:
    """Row months (inclusive) of each period for a label horizon of ``horizon`` months."""

    horizon: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    valid_start: pd.Timestamp
    valid_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    @classmethod
    def make(cls, latest: pd.Timestamp, horizon: int, cfg: TrainConfig) -> "Windows":
        test_end = F.months_before(latest, horizon)
        test_start = F.months_before(test_end, cfg.heldout_months - 1)
        valid_end = F.months_before(test_start, 1)
        valid_start = F.months_before(valid_end, cfg.validation_months - 1)
        train_end = F.months_before(valid_start, 1)
        train_start = pd.Timestamp(cfg.train_start)
        if train_end < train_start:
            raise ValueError(f"not enough history: training would end {train_end:%Y-%m} before it starts {train_start:%Y-%m}")
        return cls(horizon, train_start, train_end, valid_start, valid_end, test_start, test_end)

    def period(self, months: pd.Series) -> np.ndarray:
        m = pd.to_datetime(months)
        return np.select([m <= self.train_end, m <= self.valid_end, m <= self.test_end],
                         ["train", "valid", "test"], "after")

    @property
    def refit_end(self) -> pd.Timestamp:
        """The production refit's last row month: the latest month with a label."""
        return self.test_end

    def as_dict(self) -> dict[str, str]:
        return {k: (v.strftime("%Y-%m") if isinstance(v, pd.Timestamp) else v) for k, v in self.__dict__.items()}

    def refit_dict(self) -> dict[str, str]:
        return {"horizon": self.horizon, "train_start": f"{self.train_start:%Y-%m}", "train_end": f"{self.refit_end:%Y-%m}"}


# ---------------------------------------------------------------------------------------------
# data


_HISTORY = tuple(c for c in F.SEGMENT_SOURCE_COLUMNS if c not in F.FEATURES)


def _columns() -> str:
    cols = ["person_key", "month_start", *[c for c in F.FEATURES if c != "segment"], *_HISTORY, *F.LABELS]
    return ", ".join(dict.fromkeys(cols))


def _uniform(seed: int) -> str:
    """A per-row uniform draw from a hash of the row's key and the seed: the sample is the same
    whichever rows are loaded and in whatever order."""
    return f"(hash(concat(person_month_id, ':{int(seed)}')) % 1000003) / 1000003.0"


def load_next_month_rows(con, w: Windows, cfg: TrainConfig, segment_model: S.SegmentModel | None,
                         periods: tuple[str, ...] = ("train", "valid", "test")) -> pd.DataFrame:
    """Rows with a next month: every row of the held-out period, changes always, and no-change
    rows of training and validation with probability ``stay_rate`` (weight 1 / stay_rate)."""
    change = "(next_state <> state or next_need_level <> need_level)"
    start = w.train_start if {"train", "valid"} & set(periods) else w.test_start
    end = w.test_end if "test" in periods else w.valid_end
    sql = f"""
        select {_columns()},
               case when month_start >= ? or {change} then 1.0 else {1.0 / cfg.stay_rate} end as sample_weight
        from {F.PERSON_MONTHS}
        where has_next_month = 1 and month_start between ? and ?
          and (month_start >= ? or {change} or {_uniform(cfg.seed)} < {cfg.stay_rate})
        order by person_key, month_start
    """
    df = con.execute(sql, [w.test_start.date(), start.date(), end.date(), w.test_start.date()]).df()
    return _finish(df, w, segment_model)


def load_outlook_rows(con, w: Windows, cfg: TrainConfig, segment_model: S.SegmentModel | None,
                      periods: tuple[str, ...] = ("train", "valid", "test")) -> pd.DataFrame:
    """Rows whose 12 months ahead are known: every held-out row, rows with any outcome, and
    others with probability ``negative_rate``."""
    any_pos = "(" + " or ".join(f"coalesce({c}, 0) = 1" for c in OUTCOMES.values()) + ")"
    start = w.train_start if {"train", "valid"} & set(periods) else w.test_start
    end = w.test_end if "test" in periods else w.valid_end
    sql = f"""
        select {_columns()},
               case when month_start >= ? or {any_pos} then 1.0 else {1.0 / cfg.negative_rate} end as sample_weight
        from {F.PERSON_MONTHS}
        where is_outlook_horizon_complete = 1 and month_start between ? and ?
          and (month_start >= ? or {any_pos} or {_uniform(cfg.seed + 1)} < {cfg.negative_rate})
        order by person_key, month_start
    """
    df = con.execute(sql, [w.test_start.date(), start.date(), end.date(), w.test_start.date()]).df()
    return _finish(df, w, segment_model)


def _finish(df: pd.DataFrame, w: Windows, segment_model: S.SegmentModel | None) -> pd.DataFrame:
    df["month_start"] = pd.to_datetime(df["month_start"])
    df["segment"] = segment_model.predict(df) if segment_model is not None and len(df) else -1
    df["period"] = w.period(df["month_start"])
    return df


# ---------------------------------------------------------------------------------------------
# encoding (the model object itself is models_ml/lgbm_model.py, logged from code: decision 41)


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


# ---------------------------------------------------------------------------------------------
# fitting


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


def fit_temperature(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict:
    """Bias-corrected temperature scaling on the validation period (weighted log loss)."""
    logp = np.log(np.clip(p, 1e-12, 1.0))
    k = p.shape[1]
    present = np.bincount(y, weights=w, minlength=k) > 0

    def loss(theta):
        t, b = theta[0], theta[1:]
        z = t * logp + b
        z = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        return float(np.sum(w * (lse - z[np.arange(len(y)), y])) / w.sum()) + 1e-4 * float(b @ b)

    res = minimize(loss, np.r_[1.0, np.zeros(k)], method="L-BFGS-B",
                   bounds=[(0.2, 5.0)] + [(-5.0, 5.0) if present[j] else (0.0, 0.0) for j in range(k)])
    return {"temperature": float(res.x[0]), "bias": [float(v) for v in res.x[1:]]}


def fit_platt(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict:
    q = np.clip(p, 1e-9, 1 - 1e-9)
    logit = np.log(q / (1 - q))

    def loss(theta):
        s = theta[0] * logit + theta[1]
        return float(np.sum(w * (np.logaddexp(0, s) - y * s)) / w.sum())

    res = minimize(loss, np.array([1.0, 0.0]), method="L-BFGS-B", bounds=[(0.2, 5.0), (-5.0, 5.0)])
    return {"a": float(res.x[0]), "b": float(res.x[1])}


# ---------------------------------------------------------------------------------------------
# the Markov baseline and the metrics


class MarkovBaseline:
    """Empirical transition rates by state, age band and need level (weighted counts), shrunk
    towards the state's rates and those towards the overall rates where cells are thin."""

    def __init__(self, classes: list, alpha: float = 5.0):
        self.classes = list(classes)
        self.alpha = alpha

    @staticmethod
    def _keys(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"state": frame["state"].astype(str).to_numpy(),
                             "age_band": age_band_index(frame["age"].to_numpy(dtype=float, na_value=np.nan)),
                             "need_level": frame["need_level"].astype(int).to_numpy()})

    def fit(self, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> "MarkovBaseline":
        k = len(self.classes)
        keys = self._keys(frame)
        onehot = np.zeros((len(y), k))
        onehot[np.arange(len(y)), y] = w
        counts = pd.concat([keys, pd.DataFrame(onehot)], axis=1)
        overall = onehot.sum(0) + 1e-3
        self.overall = overall / overall.sum()
        by_state = counts.groupby("state")[list(range(k))].sum()
        n = by_state.sum(axis=1).to_numpy()[:, None]
        self.by_state = pd.DataFrame((by_state.to_numpy() + self.alpha * self.overall) / (n + self.alpha),
                                     index=by_state.index)
        cell = counts.groupby(["state", "age_band", "need_level"])[list(range(k))].sum()
        prior = self.by_state.loc[cell.index.get_level_values("state")].to_numpy()
        n = cell.sum(axis=1).to_numpy()[:, None]
        self.by_cell = pd.DataFrame((cell.to_numpy() + self.alpha * prior) / (n + self.alpha), index=cell.index)
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        keys = self._keys(frame)
        idx = pd.MultiIndex.from_frame(keys)
        out = self.by_cell.reindex(idx).to_numpy().copy()
        miss = np.isnan(out[:, 0])
        if miss.any():
            st = self.by_state.reindex(keys.loc[miss, "state"]).to_numpy().copy()
            st[np.isnan(st[:, 0])] = self.overall
            out[miss] = st
        return out


def log_loss(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float:
    w = np.ones(len(y)) if w is None else w
    return float(np.sum(-w * np.log(np.clip(p[np.arange(len(y)), y], 1e-15, 1.0))) / w.sum())


def brier(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float:
    w = np.ones(len(y)) if w is None else w
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.sum(w * ((p - onehot) ** 2).sum(1)) / w.sum())


def calibration_error(p: np.ndarray, hit: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of one destination: equal-count bins of the predicted
    probability (rare destinations would put everything in one equal-width bin)."""
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, bins)
    n = len(p)
    return float(sum(len(g) / n * abs(p[g].mean() - hit[g].mean()) for g in groups if len(g)))


def evaluate(y: np.ndarray, p: np.ndarray, classes: list[str]) -> tuple[dict, pd.DataFrame]:
    per = []
    for j, c in enumerate(classes):
        hit = (y == j).astype(float)
        per.append({"destination": c, "observed_rate": hit.mean(), "predicted_rate": p[:, j].mean(),
                    "brier": float(((p[:, j] - hit) ** 2).mean()), "calibration_error": calibration_error(p[:, j], hit)})
    per = pd.DataFrame(per)
    present = per["observed_rate"] > 0
    summary = {"log_loss": log_loss(y, p), "brier": brier(y, p),
               "calibration_error": float((per.loc[present, "calibration_error"] * per.loc[present, "observed_rate"]).sum()
                                          / max(per.loc[present, "observed_rate"].sum(), 1e-12)),
               "calibration_error_max": float(per["calibration_error"].max()), "n_rows": int(len(y))}
    return summary, per


def evaluate_binary(y: np.ndarray, p: np.ndarray) -> dict:
    pp = np.column_stack([1 - p, p])
    return {"log_loss": log_loss(y.astype(int), pp), "brier": float(((p - y) ** 2).mean()),
            "calibration_error": calibration_error(p, y.astype(float)), "observed_rate": float(y.mean()),
            "predicted_rate": float(p.mean()), "n_rows": int(len(y))}


# ---------------------------------------------------------------------------------------------
# the three models


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


def outlook_mask(df: pd.DataFrame, outcome: str) -> np.ndarray:
    """Rows an outcome is defined for: no care-home move for people already in one, no tenancy
    ending for people without a tenancy."""
    label = OUTCOMES[outcome]
    ok = df[label].notna().to_numpy()
    if outcome == "care_home_move":
        ok = ok & ~df["state"].isin(CARE_HOME_STATES).to_numpy()
    return ok


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


# ---------------------------------------------------------------------------------------------
# drivers


def drivers(fitted: FittedModel, df: pd.DataFrame, seed: int, n: int = 5000) -> dict[str, pd.DataFrame]:
    """Mean absolute and mean signed pred_contrib per feature for the main outcomes, on a
    seeded sample of held-out rows."""
    test = df.loc[df["period"] == "test"]
    if len(test) > n:
        test = test.sample(n, random_state=seed)
    out = {}
    m = fitted.model
    if fitted.name == NEXT_STATE:
        classes = ("residential_care", "nursing_care", "hospital")
        for cls, contrib in zip(classes, m.contributions(test, [m.classes.index(c) for c in classes])):
            out[f"next_state_{cls}"] = _summary(contrib)
    elif fitted.name == NEED:
        rows = test.loc[test["need_level"] < 3].reset_index(drop=True)
        if len(rows):
            level = rows["need_level"].astype(int).to_numpy()
            per_class = m.contributions(rows, [1, 2, 3])
            # each row's contribution to the class one level above its own
            picked = np.select([(level == k)[:, None] for k in range(3)], [f.to_numpy() for f in per_class])
            out["need_rises_next_month"] = _summary(pd.DataFrame(picked, columns=per_class[0].columns))
    else:
        for j, outcome in enumerate(m.classes):
            rows = test.loc[outlook_mask(test, outcome)]
            if len(rows):
                out[f"outlook_{outcome}"] = _summary(m.contributions(rows, j))
    return out


def _summary(contrib: pd.DataFrame) -> pd.DataFrame:
    c = contrib.drop(columns="bias")
    return pd.DataFrame({"mean_abs_contribution": c.abs().mean(), "mean_contribution": c.mean()}) \
        .sort_values("mean_abs_contribution", ascending=False).rename_axis("feature").reset_index()


def plot_drivers(table: pd.DataFrame, title: str, path: Path, top: int = 15) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(t) + 1.2))
    colours = ["#c0392b" if v > 0 else "#2e86c1" for v in t["mean_contribution"]]
    ax.barh(t["feature"], t["mean_abs_contribution"], color=colours)
    ax.set_xlabel("mean |contribution| to the raw score (red: raises on average, blue: lowers)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_importance(importance: pd.DataFrame, title: str, path: Path, top: int = 20) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    total = importance.sum(axis=1).sort_values().tail(top)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(total) + 1.2))
    ax.barh(total.index, total.to_numpy(), color="#566573")
    ax.set_xlabel("total gain")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------
# the nightly training


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
    from mlflow.models import infer_signature

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
    import mlflow

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


# ---------------------------------------------------------------------------------------------
# the gate


@dataclass
class GateDecision:
    name: str
    challenger_version: str | None
    champion_version: str | None
    challenger_log_loss: float | None
    champion_log_loss: float | None
    promoted: bool
    reason: str


@dataclass
class GateResult:
    decisions: dict[str, GateDecision]
    tolerance: float

    @property
    def all_promoted_or_kept(self) -> bool:
        return all(d.champion_version is not None or d.promoted for d in self.decisions.values())

    def metadata(self) -> dict:
        return {"tolerance": self.tolerance,
                **{name: {"promoted": d.promoted, "reason": d.reason, "challenger": d.challenger_version,
                          "champion_before": d.champion_version,
                          "challenger_log_loss": d.challenger_log_loss, "champion_log_loss": d.champion_log_loss}
                   for name, d in self.decisions.items()}}


def no_worse(challenger: float, champion: float, tolerance: float) -> bool:
    """The gate's rule: the challenger's held-out log loss at most ``tolerance`` (relative)
    above the champion's, both measured on the same held-out rows."""
    return challenger <= champion * (1.0 + tolerance)


def heldout_log_loss(model: LgbmModel, name: str, frames: dict[str, pd.DataFrame]) -> float:
    if name == OUTLOOK:
        df = frames["outlook"]
        losses = []
        p = model.predict_proba(df)
        for j, (outcome, label) in enumerate(OUTCOMES.items()):
            ok = outlook_mask(df, outcome)
            y = df.loc[ok, label].to_numpy(dtype=int)
            q = p[ok, j]
            losses.append(log_loss(y, np.column_stack([1 - q, q])))
        return float(np.mean(losses))
    df = frames["next_month"]
    if name == NEED:
        df = df.loc[df["next_state"].isin(LIVE_STATES)]
        y = df["next_need_level"].astype(int).to_numpy()
    else:
        y = df["next_state"].map({s: i for i, s in enumerate(STATES)}).to_numpy(dtype=np.int64)
    return log_loss(y, model.predict_proba(df))


def evaluation_fit(tracking: T.Tracking, name: str, version: str) -> tuple[LgbmModel, str]:
    """The evaluation fit behind a registered version, and its URI: what the version's
    ``evaluation_model_uri`` tag names. A version registered before production refits (no tag)
    was itself the evaluation fit."""
    mv = tracking.client().get_model_version(name, version)
    uri = (mv.tags or {}).get(EVALUATION_MODEL_TAG) or f"models:/{name}/{version}"
    return T.load_model(tracking, uri), uri


def heldout_frames(con, cfg: TrainConfig = TrainConfig()) -> dict[str, pd.DataFrame]:
    latest = F.latest_complete_month(con)
    seg_model = S.read_segment_model(con)
    return {"next_month": load_next_month_rows(con, Windows.make(latest, 1, cfg), cfg, seg_model, periods=("test",)),
            "outlook": load_outlook_rows(con, Windows.make(latest, 12, cfg), cfg, seg_model, periods=("test",))}


def gate_and_promote(con, tracking: T.Tracking, tolerance: float = 0.01, names: tuple[str, ...] = MODEL_NAMES,
                     cfg: TrainConfig = TrainConfig()) -> GateResult:
    """Promote each challenger that is no worse than its champion on tonight's held-out period.

    Like with like: the registered versions are production refits, which have seen the held-out
    months, so the gate scores each version's *evaluation fit* (``evaluation_fit``) - the
    challenger's trained before tonight's held-out period, the champion's before an older one -
    on the same rows (the champion's logged figure was for an older period, so it is not
    comparable). What is promoted is the refit. With no champion yet, or a champion in the
    retired pickled format (``tracking.RetiredModelFormat``), the challenger is promoted. A refused challenger keeps its alias for inspection; the champion is unchanged.
    """
    tracking.activate()
    frames = heldout_frames(con, cfg)
    decisions = {}
    for name in names:
        chal_v = T.alias_version(tracking, name, T.CHALLENGER)
        champ_v = T.alias_version(tracking, name, T.CHAMPION)
        if chal_v is None:
            decisions[name] = GateDecision(name, None, champ_v, None, None, False, "no challenger")
            continue
        if chal_v == champ_v:
            decisions[name] = GateDecision(name, chal_v, champ_v, None, None, False, "challenger is already champion")
            continue
        chal, _ = evaluation_fit(tracking, name, chal_v)
        chal_loss = heldout_log_loss(chal, name, frames)
        if champ_v is None:
            T.set_alias(tracking, name, T.CHAMPION, chal_v)
            tracking.client().delete_registered_model_alias(name, T.CHALLENGER)
            decisions[name] = GateDecision(name, chal_v, None, chal_loss, None, True, "no champion yet")
            continue
        try:
            champ, _ = evaluation_fit(tracking, name, champ_v)
        except T.RetiredModelFormat:
            # a champion from before decision 41 cannot be read, so nothing could ever beat it:
            # tonight's challenger replaces it rather than the night failing every time
            T.set_alias(tracking, name, T.CHAMPION, chal_v)
            tracking.client().delete_registered_model_alias(name, T.CHALLENGER)
            decisions[name] = GateDecision(name, chal_v, champ_v, chal_loss, None, True,
                                           f"champion version {champ_v} is in the retired pickled format "
                                           "(decision 41) and cannot be scored")
            continue
        champ_loss = heldout_log_loss(champ, name, frames)
        ok = no_worse(chal_loss, champ_loss, tolerance)
        if ok:
            T.set_alias(tracking, name, T.CHAMPION, chal_v)
            tracking.client().delete_registered_model_alias(name, T.CHALLENGER)
        reason = (f"evaluation fits' held-out log loss {chal_loss:.5f} vs champion {champ_loss:.5f} "
                  f"({'within' if ok else 'beyond'} {tolerance:.1%})")
        decisions[name] = GateDecision(name, chal_v, champ_v, chal_loss, champ_loss, ok, reason)
    return GateResult(decisions, tolerance)
