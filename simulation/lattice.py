"""The discretised feature lattice shared by the transition models and the forecast engine.

Why a lattice: the engine must never call LightGBM per person per month (docs/decisions.md).
The champion models are evaluated once over every cell of this lattice; the engine then looks a
person's probabilities up by the cell's integer index (mixed-radix code of the keys), which is
a single numpy gather over the whole population.

The lattice is the contract between ``models_ml`` (which fills it) and ``simulation`` (which
reads it); both import it from here so the bands cannot drift apart.

Tables over the lattice (pandas DataFrames, one row per cell, ``cell`` the integer index):

* transition table: the keys, ``cell``, and ``p_<state>`` for every state in ``STATES`` - the
  probability that a person in the cell is in that state at the end of next month. Rows sum to 1.
* need table: the keys, ``cell``, and ``p_need_0`` .. ``p_need_3`` - the probability of each care
  need level at the end of next month, given the person is still alive and known. Rows sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# the states and need levels are the vocabulary's (their order gives the codes)
from contracts.vocabulary.states import LIVE_STATES, NEED_LEVELS, STATES

STATE_CODE = {s: i for i, s in enumerate(STATES)}

# Age bands: lower edges in whole years; the last band is open. Unknown age gets its own band
# (people known only to care can lack a usable month of birth).
AGE_EDGES: tuple[int, ...] = (0, 18, 40, 55, 65, 75, 85, 95)
AGE_BANDS: tuple[str, ...] = ("0-17", "18-39", "40-54", "55-64", "65-74", "75-84", "85-94", "95+", "unknown")

SEXES: tuple[str, ...] = ("F", "M", "U")

# Months already spent in the current state: lower edges; the last band is open.
MONTHS_IN_STATE_EDGES: tuple[int, ...] = (0, 3, 12, 60)
MONTHS_IN_STATE_BANDS: tuple[str, ...] = ("0-2", "3-11", "12-59", "60+")

TRANSITION_COLUMNS: tuple[str, ...] = tuple(f"p_{s}" for s in STATES)
NEED_COLUMNS: tuple[str, ...] = tuple(f"p_need_{n}" for n in NEED_LEVELS)
KEYS: tuple[str, ...] = ("state", "need_level", "age_band", "sex", "segment", "months_in_state_band")


def age_band_index(age: np.ndarray) -> np.ndarray:
    """Band index of ages in whole years; NaN or negative ages go to the 'unknown' band."""
    age = np.asarray(age, dtype=float)
    idx = np.searchsorted(np.asarray(AGE_EDGES, dtype=float), age, side="right") - 1
    unknown = ~np.isfinite(age) | (age < 0)
    return np.where(unknown, len(AGE_BANDS) - 1, idx).astype(np.int64)


def months_in_state_band_index(months: np.ndarray) -> np.ndarray:
    months = np.maximum(np.asarray(months, dtype=np.int64), 0)
    return (np.searchsorted(np.asarray(MONTHS_IN_STATE_EDGES), months, side="right") - 1).astype(np.int64)


@dataclass(frozen=True)
class Lattice:
    """The lattice for a given number of segments (segments are 0..n_segments-1; -1 unknown).

    ``segment`` is stored in the lattice as ``segment + 1`` internally so that unknown (-1) is
    code 0.
    """

    n_segments: int

    @property
    def radices(self) -> tuple[int, ...]:
        return (len(LIVE_STATES), len(NEED_LEVELS), len(AGE_BANDS), len(SEXES),
                self.n_segments + 1, len(MONTHS_IN_STATE_BANDS))

    @property
    def size(self) -> int:
        return int(np.prod(self.radices))

    def encode(self, state: np.ndarray, need_level: np.ndarray, age_band: np.ndarray,
               sex: np.ndarray, segment: np.ndarray, months_in_state_band: np.ndarray) -> np.ndarray:
        """Cell index from integer codes: state is a code into LIVE_STATES (same order as
        STATES), age_band/sex/months_in_state_band are indexes into their tuples, segment is
        -1..n_segments-1."""
        codes = (np.asarray(state), np.asarray(need_level), np.asarray(age_band), np.asarray(sex),
                 np.asarray(segment) + 1, np.asarray(months_in_state_band))
        for code, radix, name in zip(codes, self.radices, KEYS):
            if code.size and (code.min() < 0 or code.max() >= radix):
                raise ValueError(f"lattice key {name!r} out of range 0..{radix - 1}")
        cell = np.zeros(np.broadcast(*codes).shape, dtype=np.int64)
        for code, radix in zip(codes, self.radices):
            cell = cell * radix + code
        return cell

    def decode(self, cell: np.ndarray) -> tuple[np.ndarray, ...]:
        """Integer key codes of cells, the inverse of ``encode`` (segment comes back as
        -1..n_segments-1). The forecast engine's back-off estimator groups cells by subsets of
        these codes."""
        rest = np.asarray(cell, dtype=np.int64).copy()
        out = []
        for radix in reversed(self.radices):
            out.append(rest % radix)
            rest //= radix
        state, need, age, sex, seg, mis = reversed(out)
        return state, need, age, sex, seg - 1, mis

    def frame(self) -> pd.DataFrame:
        """Every cell with its keys as labels (state name, band labels, segment -1..K-1)."""
        grids = np.meshgrid(*[np.arange(r) for r in self.radices], indexing="ij")
        s, n, a, x, g, m = (grid.ravel() for grid in grids)
        return pd.DataFrame({
            "cell": self.encode(s, n, a, x, g - 1, m),
            "state": np.asarray(LIVE_STATES, dtype=object)[s],
            "need_level": n.astype(np.int64),
            "age_band": np.asarray(AGE_BANDS, dtype=object)[a],
            "sex": np.asarray(SEXES, dtype=object)[x],
            "segment": (g - 1).astype(np.int64),
            "months_in_state_band": np.asarray(MONTHS_IN_STATE_BANDS, dtype=object)[m],
        })

    def encode_frame(self, df: pd.DataFrame) -> np.ndarray:
        """Cell index of rows holding the keys as labels (as ``frame()`` writes them)."""
        def codes(col: str, labels) -> np.ndarray:
            mapping = {v: i for i, v in enumerate(labels)}
            out = df[col].map(mapping)
            if out.isna().any():
                bad = df.loc[out.isna(), col].iloc[0]
                raise ValueError(f"lattice key {col!r} has an unknown value {bad!r}")
            return out.to_numpy(dtype=np.int64)

        return self.encode(codes("state", LIVE_STATES), df["need_level"].to_numpy(np.int64),
                           codes("age_band", AGE_BANDS), codes("sex", SEXES),
                           df["segment"].to_numpy(np.int64),
                           codes("months_in_state_band", MONTHS_IN_STATE_BANDS))


def validate_table(table: pd.DataFrame, lattice: Lattice, columns: tuple[str, ...], name: str) -> np.ndarray:
    """Check a probability table covers the lattice and each row sums to 1; return the
    probabilities as a (lattice.size, len(columns)) array ordered by cell."""
    missing = [c for c in ("cell", *columns) if c not in table.columns]
    if missing:
        raise ValueError(f"{name}: missing columns {missing}")
    if len(table) != lattice.size or not np.array_equal(np.sort(table["cell"].to_numpy()), np.arange(lattice.size)):
        raise ValueError(f"{name}: must hold exactly one row per lattice cell ({lattice.size})")
    probs = table.sort_values("cell")[list(columns)].to_numpy(dtype=np.float64)
    if (probs < 0).any() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
        bad = int(np.argmax(np.abs(probs.sum(axis=1) - 1.0)))
        raise ValueError(f"{name}: probabilities must be >= 0 and sum to 1 (cell {bad} sums to {probs[bad].sum():.6f})")
    return probs
