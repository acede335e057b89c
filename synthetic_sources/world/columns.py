"""A growable struct of arrays: the population and every spell table of the world.

People, tenancies and stays are appended as the world runs; each table keeps one numpy array
per column with spare capacity, so a month's arrivals are a slice assignment, not a Python
loop per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class Columns:
    def __init__(self, spec: dict[str, tuple], capacity: int = 1024):
        self._spec = spec
        self.n = 0
        self._cap = capacity
        for name, (dtype, fill) in spec.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))

    def _grow(self, needed: int) -> None:
        cap = self._cap
        while cap < needed:
            cap *= 2
        for name, (dtype, fill) in self._spec.items():
            old = getattr(self, name)
            new = np.full(cap, fill, dtype=dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        self._cap = cap

    def add(self, k: int, **values) -> np.ndarray:
        """Append ``k`` rows; returns their indices."""
        if self.n + k > self._cap:
            self._grow(self.n + k)
        idx = np.arange(self.n, self.n + k)
        for name, value in values.items():
            getattr(self, name)[idx] = value
        self.n += k
        return idx

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({name: getattr(self, name)[: self.n].copy() for name in self._spec})
