"""Recent change reaches the forecast: rates recalibrated to the last 12 months, by credibility.

Why: a table fitted to years of history (the models train from 2016; the engine's own estimate
on five years) answers "what is the average rate", while planners need "what is the rate now".
A change in how people move that began a year or so before the census (a new discharge policy,
a care-home market shift, more homeless referrals) shows only in the last months, a small
share of the training data, and is averaged away.

How (docs/forecast_engine.md, "Recent change"): for each flow (origin state x destination
state of the transition table, origin state for within-month hospital admissions, entry state
for arrivals) we count what happened in each of the last five years (O_y, year 0 = the 12
months to the census) and what the table expects of the same person-months (E_y). The ratio
of the latest year, r_0 = O_0 / E_0, is noisy (Poisson: variance about m / E_0); how much real
rates move between years is the extra-Poisson spread tau of the yearly ratios
(``extra_poisson_sd``). The credibility estimate of this year's ratio is

    r = m + w (r_0 - m),   w = tau^2 m^2 / (tau^2 m^2 + m / E_0)

with m the five-year ratio (shrunk towards 1 by 20 pseudo-moves at the table's rate, so a
handful of moves cannot say the table is off): a flow whose rate has never wandered beyond chance (tau = 0) is
left at the table's level however the last year fell, while a flow that shifted (which is
itself what makes tau large) follows the latest year almost fully. The factor is capped to
[1/4, 4]. This is the Buhlmann credibility weight for Poisson counts; it was chosen over a
calendar-time feature (trees extrapolate a step flat at best and cannot be trusted past the
data) and over recency weights (which discount the past for every flow, stable or not, and
widen every table's error) because it moves only what the data show has moved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

YEARS = 5
CAP = 4.0
TAU_CAP = 1.0   # a year's rate may differ from the others' by up to 100% (a regime change)
PRIOR_MOVES = 20.0   # pseudo-moves at the table's own rate behind the five years' ratio


def extra_poisson_sd(observed: np.ndarray, expected: np.ndarray, cap: float = 0.5) -> float:
    """The sd of log(rate of a year / rate of the window) beyond what Poisson chance explains,
    from yearly observed and expected counts (method of moments; 0 when chance explains it all).

    Why: a model fitted to five years reproduces their average; the bands must also allow that
    next year's rate will not be that average (a bad winter, a change of policy). At scale 1.0
    chance alone is a few percent, well under the year-to-year wander of real rates, and bands
    built on chance alone held the actual in only 73% of backtest months (goal 90%)."""
    keep = expected > 0
    o, e = np.asarray(observed, float)[keep], np.asarray(expected, float)[keep]
    if len(o) < 3 or o.sum() < 20:
        return 0.0
    m = o.sum() / e.sum()
    r = o / e
    # E[(r_y - m)^2] = m / e_y (chance) + sigma^2 m^2 (wander); n/(n-1) for m being estimated
    excess = np.mean((r - m) ** 2 - m / e) * len(o) / (len(o) - 1)
    return float(min(np.sqrt(max(excess, 0.0)) / m, cap))


@dataclass(frozen=True)
class Credibility:
    """One flow's recalibration: the latest year's and the five years' ratio to the table, the
    wander, the weight given to the latest year and the factor applied."""

    observed: float     # O_0, the last 12 months
    expected: float     # E_0
    ratio_latest: float
    ratio_years: float
    tau: float
    weight: float
    factor: float


NO_CHANGE = Credibility(0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0)


def credibility(observed_years: np.ndarray, expected_years: np.ndarray) -> Credibility:
    """The factor for one flow from its yearly observed and expected counts (year 0 the latest)."""
    o = np.asarray(observed_years, float)
    e = np.asarray(expected_years, float)
    if len(o) == 0 or e[0] < 1.0 or e.sum() <= 0:
        return NO_CHANGE
    # the five years' ratio, itself shrunk to the table's level where the flow is rare (a
    # handful of moves cannot say the table is off)
    m = (o.sum() + PRIOR_MOVES) / (e.sum() + PRIOR_MOVES)
    r0 = o[0] / e[0]
    tau = extra_poisson_sd(o, e, cap=TAU_CAP)
    if tau <= 0 or m <= 0:
        w = 0.0
    else:
        w = tau ** 2 * m ** 2 / (tau ** 2 * m ** 2 + m / e[0])
    factor = float(np.clip(m + w * (r0 - m), 1.0 / CAP, CAP))
    return Credibility(float(o[0]), float(e[0]), float(r0), float(m), float(tau), float(w), factor)


def year_of(month: np.ndarray, ref) -> np.ndarray:
    """Years back from the census of each row month t whose move lands in t+1: 0 for the 12
    months t = ref-12 .. ref-1, 1 for the 12 before, ...; negative for t >= ref."""
    ref_m = np.datetime64(ref, "M")
    return (ref_m - 1 - month.astype("datetime64[M]")).astype(np.int64) // 12


def yearly(key: np.ndarray, years: np.ndarray, n_keys: int, weights: np.ndarray | None = None) -> np.ndarray:
    """(n_keys, YEARS) sums of ``weights`` (or counts) by key and year, over rows 0 <= year < YEARS."""
    ok = (years >= 0) & (years < YEARS)
    idx = key[ok] * YEARS + years[ok]
    w = None if weights is None else np.asarray(weights, float)[ok]
    return np.bincount(idx, weights=w, minlength=n_keys * YEARS).reshape(n_keys, YEARS).astype(float)


def transition_factors(origin: np.ndarray, dest: np.ndarray, cell: np.ndarray, month: np.ndarray,
                       table: np.ndarray, ref, n_live: int) -> tuple[np.ndarray, dict]:
    """(n_states, n_states) factors on moves origin -> destination (1 on the diagonal), and the
    flows that moved, for the record. Rows are training person-months: origin state, the state
    next month, the lattice cell and the row month."""
    n = table.shape[1]
    years = year_of(month, ref)
    moved = origin != dest
    observed = yearly((origin * n + dest)[moved], years[moved], n * n)
    expected = np.zeros((n * n, YEARS))
    for o in range(n_live):
        rows = np.flatnonzero((origin == o) & (years >= 0) & (years < YEARS))
        p = table[cell[rows]]
        for d in range(n):
            if d != o:
                expected[o * n + d] = np.bincount(years[rows], weights=p[:, d], minlength=YEARS)[:YEARS]
    factors = np.ones((n, n))
    record = {}
    for o in range(n_live):
        for d in range(n):
            if d == o:
                continue
            c = credibility(observed[o * n + d], expected[o * n + d])
            factors[o, d] = c.factor
            if abs(c.factor - 1.0) >= 0.02:
                record[(o, d)] = c
    return factors, record


def apply_transition_factors(table: np.ndarray, state_of_cell: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """The table with each cell's moves out scaled by its origin's factors; staying put takes the
    rest (moves are scaled down together if they would leave less than nothing)."""
    out = table * factors[state_of_cell]
    rows = np.arange(len(out))
    out[rows, state_of_cell] = 0.0
    moves = out.sum(axis=1)
    over = moves > 0.999
    if over.any():
        out[over] *= (0.999 / moves[over])[:, None]
        moves = out.sum(axis=1)
    out[rows, state_of_cell] = 1.0 - moves
    return out


def factor_of_counts(observed: np.ndarray, month: np.ndarray, expected: np.ndarray, ref) -> Credibility:
    """One flow given per row: whether it happened (0/1 or a count) and its expected value."""
    years = year_of(month, ref)
    zeros = np.zeros(len(years), np.int64)
    return credibility(yearly(zeros, years, 1, observed)[0], yearly(zeros, years, 1, expected)[0])
