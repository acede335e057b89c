"""The Markov baseline every transition model is scored against on the held-out months.

A model that cannot beat empirical rates by state, age band and need level is not worth its
complexity; the baseline is that bar, reported beside each model's held-out figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.lattice import age_band_index


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
