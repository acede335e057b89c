"""ONS life tables for Wales, as the world's mortality by calendar year.

A year uses the three-year period centred on it (2005 uses 2004-2006). Years after the last
period carry 2017-2019 forward with a modest improvement, as the data README advises.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

LAST_CENTRE = 2018
FIRST_CENTRE = 1981
IMPROVEMENT_AFTER_LAST = 0.01  # a year, on qx, after 2017-2019
MAX_AGE = 100


@lru_cache(maxsize=1)
def load() -> pd.DataFrame:
    with resources.files("synthetic_sources.data").joinpath(
        "ons_national_life_tables_wales.csv"
    ).open() as fh:
        frame = pd.read_csv(fh)
    frame["centre"] = frame["period"].str.slice(0, 4).astype(int) + 1
    return frame


@lru_cache(maxsize=None)
def qx_by_year(year: int) -> np.ndarray:
    """Annual probability of death, shape (2, 101): row 0 male, row 1 female, column age."""
    table = load()
    centre = min(max(year, FIRST_CENTRE), LAST_CENTRE)
    rows = table[table["centre"] == centre]
    out = np.empty((2, MAX_AGE + 1))
    for i, sex in enumerate(("male", "female")):
        part = rows[rows["sex"] == sex].set_index("age")["qx"].reindex(range(MAX_AGE + 1))
        out[i] = part.to_numpy()
    if year > LAST_CENTRE:
        out = out * (1.0 - IMPROVEMENT_AFTER_LAST) ** (year - LAST_CENTRE)
    return out


def period_for_year(year: int) -> str:
    centre = min(max(year, FIRST_CENTRE), LAST_CENTRE)
    return f"{centre - 1}-{centre + 1}"
