"""The probability tables over the forecast lattice: the contract between the transition models
(``models_ml`` writes them) and the forecast engine (which only reads them).

Reading needs numpy and pandas only, so the engine never imports LightGBM or MLflow. The
tables live in the warehouse (``ml.transition_probabilities``, ``ml.need_probabilities``) and
as an MLflow artifact of the run that built them; ``models_ml.probability_table`` builds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.lattice import (
    LIVE_STATES,
    NEED_COLUMNS,
    SEXES,
    TRANSITION_COLUMNS,
    Lattice,
    age_band_index,
    months_in_state_band_index,
    validate_table,
)

TRANSITION_TABLE = ("ml", "transition_probabilities")
NEED_TABLE = ("ml", "need_probabilities")


@dataclass
class ProbabilityTables:
    """The two tables, ordered by cell, with the lattice they cover and where they came from."""

    lattice: Lattice
    transition: pd.DataFrame  # keys, cell, p_<state> for every state
    need: pd.DataFrame  # keys, cell, p_need_0..3
    version: dict = field(default_factory=dict)

    def __post_init__(self):
        self._p_transition = validate_table(self.transition, self.lattice, TRANSITION_COLUMNS, "transition table")
        self._p_need = validate_table(self.need, self.lattice, NEED_COLUMNS, "need table")

    def transition_probs(self, cells: np.ndarray) -> np.ndarray:
        """(n, len(STATES)) next-month state probabilities of cells: one gather."""
        return self._p_transition[np.asarray(cells, dtype=np.int64)]

    def need_probs(self, cells: np.ndarray) -> np.ndarray:
        return self._p_need[np.asarray(cells, dtype=np.int64)]

    def cells(self, state, need_level, age, sex, segment, months_in_state) -> np.ndarray:
        """Cell indexes from person attributes: state names, need 0-3, age in years (NaN
        unknown), sex F/M/U, segment -1..k-1, months already in the state."""
        s = pd.Series(np.asarray(state, dtype=object)).map({v: i for i, v in enumerate(LIVE_STATES)})
        if s.isna().any():
            raise ValueError(f"not a live state: {pd.Series(np.asarray(state, dtype=object))[s.isna()].iloc[0]!r}")
        x = pd.Series(np.asarray(sex, dtype=object)).map({v: i for i, v in enumerate(SEXES)}).fillna(SEXES.index("U"))
        return self.lattice.encode(s.to_numpy(np.int64), np.asarray(need_level, dtype=np.int64), age_band_index(age),
                                   x.to_numpy(np.int64), np.asarray(segment, dtype=np.int64),
                                   months_in_state_band_index(months_in_state))

    def lookup(self, **keys) -> tuple[np.ndarray, np.ndarray]:
        """Both tables' probabilities for people given by ``cells``' keyword arguments."""
        c = self.cells(**keys)
        return self.transition_probs(c), self.need_probs(c)


def _n_segments(table: pd.DataFrame) -> int:
    return int(table["segment"].max()) + 1


def load_probability_tables(con) -> ProbabilityTables:
    """The tables as last written to the warehouse (ml.transition_probabilities and
    ml.need_probabilities)."""
    transition = con.execute("select * from ml.transition_probabilities order by cell").df()
    need = con.execute("select * from ml.need_probabilities order by cell").df()
    version = {}
    if "table_version" in transition.columns and len(transition):
        version["table_version"] = str(transition["table_version"].iloc[0])
    return ProbabilityTables(Lattice(_n_segments(transition)), transition, need, version)


def load_probability_table_files(folder) -> ProbabilityTables:
    """The tables from the parquet files of an MLflow artifact folder (or any copy of it)."""
    from pathlib import Path

    folder = Path(folder)
    transition = pd.read_parquet(folder / "transition_probabilities.parquet")
    need = pd.read_parquet(folder / "need_probabilities.parquet")
    return ProbabilityTables(Lattice(_n_segments(transition)), transition, need)
