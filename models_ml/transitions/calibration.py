"""Probability calibration fitted on the validation period: temperature scaling for the
multiclass models, Platt scaling for the outlook's binary ones.

Kept apart from the boosting because the production refit reuses the evaluation fit's
calibration unchanged (decision 28): it is fitted once, on months the booster did not train on.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


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
