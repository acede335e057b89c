"""The empirical probability tables over the lattice: hierarchical back-off from counts.

Why back-off: at scale 1 the lattice has thousands of cells but most person-months sit in a
few of them (working-age general-needs tenants). A raw frequency in a sparse cell (three
person-months in nursing care, need 2, aged 55-64) would be 0 or 1; shrinking each cell
towards its coarser parent, level by level, gives the sparse cells their parent's pattern and
lets the well-populated cells speak for themselves. It is the table "estimated from the
timeline" the engine uses until models_ml's LightGBM table (same lattice, same format)
replaces it.

Why counts are kept: a bootstrap replication of the training person-months is, in aggregate,
an independent Poisson(n) draw of every (cell, outcome) count (the Poisson bootstrap), so a
resampled table costs one Poisson draw per count plus the same back-off - cheap enough to do
once per replication for honest parameter uncertainty.
"""

from __future__ import annotations

import numpy as np

from simulation.lattice import Lattice

# Key positions in Lattice.radices: state, need, age band, sex, segment, months-in-state band.
# Coarse to fine: what a cell is most like when it has few data of its own. State first
# (transitions differ most by state), then age, need, time already spent, sex, segment.
BACKOFF_LEVELS: tuple[tuple[int, ...], ...] = (
    (0,),
    (0, 2),
    (0, 2, 1),
    (0, 2, 1, 5),
    (0, 2, 1, 5, 3),
    (0, 2, 1, 5, 3, 4),
)


def level_groups(lattice: Lattice) -> list[np.ndarray]:
    """For each back-off level, the group id of every cell (mixed radix over the level's keys)."""
    codes = lattice.decode(np.arange(lattice.size))
    codes = list(codes)
    codes[4] = codes[4] + 1  # segment -1.. to 0..
    radices = lattice.radices
    groups = []
    for keys in BACKOFF_LEVELS:
        g = np.zeros(lattice.size, dtype=np.int64)
        for k in sorted(keys):
            g = g * radices[k] + codes[k]
        groups.append(g)
    return groups


def backoff(counts: np.ndarray, groups: list[np.ndarray], root_prior: np.ndarray,
            strength: float = 10.0, root_strength: float = 1.0) -> np.ndarray:
    """Shrunk probabilities per cell from counts per cell (size x K).

    At each level a group's probabilities are (its counts + strength x its parent's
    probabilities) / (its total + strength); the root (state) level shrinks towards
    ``root_prior`` (size x K, one row per cell, constant within a state) with weight
    ``root_strength``. The returned table's rows sum to 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    n_cells, k = counts.shape
    p = np.asarray(root_prior, dtype=np.float64)
    for level, g in enumerate(groups):
        n_groups = int(g.max()) + 1
        grouped = np.empty((n_groups, k))
        for j in range(k):
            grouped[:, j] = np.bincount(g, weights=counts[:, j], minlength=n_groups)
        c = grouped[g]
        total = c.sum(axis=1, keepdims=True)
        w = root_strength if level == 0 else strength
        p = (c + w * p) / (total + w)
    return p / p.sum(axis=1, keepdims=True)


def poisson_bootstrap(counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Counts of one Poisson-bootstrap replicate of the rows the counts summarise."""
    counts = np.asarray(counts)
    out = np.zeros(counts.shape, dtype=np.float64)
    nz = counts > 0
    out[nz] = rng.poisson(counts[nz])
    return out
