"""Held-out figures for the transition models: log loss, Brier score and calibration error.

Weighted where the rows are sampled (the weights undo the sampling), per destination as well as
overall, so the report shows where a model is miscalibrated and not only by how much.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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
