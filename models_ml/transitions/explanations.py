"""What drives the transition models: SHAP-style contributions summarised per feature, and plots.

LightGBM's ``pred_contrib`` on a seeded sample of held-out rows, for the outcomes a planner asks
about (a care-home or hospital move, need rising, each outlook); the tables and charts are
logged beside the evaluation fit so a change in what the model leans on is visible run to run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models_ml.transitions.config import NEED, NEXT_STATE
from models_ml.transitions.data import outlook_mask
from models_ml.transitions.fitting import FittedModel


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
    import matplotlib  # here, not at the top: the Agg backend must be chosen before pyplot loads

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
    import matplotlib  # here, not at the top: the Agg backend must be chosen before pyplot loads

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
