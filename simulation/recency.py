"""Recent change reaches the forecast: rates recalibrated to the last 12 months, by credibility.

Why: a table fitted to years of history (the models train from 2016; the engine's own estimate
on five years) answers "what is the average rate", while planners need "what is the rate now".
A change in how people move that began a year or so before the census (a new discharge policy,
a care-home market shift, more homeless referrals) shows only in the last months, a small
share of the training data, and is averaged away.

How (docs/forecast_engine.md, "Recent change"; decisions 25 and 39): for each flow (origin
state x destination state of the transition table, origin state for within-month hospital
admissions, entry state for arrivals) we count what happened in each of the last five years
(O_y, year 0 = the 12 months to the census) and what the table expects of the same
person-months (E_y). What we want is theta, the latest year's true ratio to the table (the
forecast assumes it persists). The latest year's count is Poisson, O_0 ~ Poisson(theta E_0).

The years before it (1..4) say how much a year's rate wanders about the table beyond chance,
tau (``extra_poisson_sd`` of those years only: a change in the latest year must not be taken
for the flow's ordinary wander), and how well the table's level is known (their expected
moves, plus 20 pseudo-moves when they are few). Two hypotheses, each a gamma prior on theta
with mean 1 (the table's own level), so each posterior is closed-form (gamma-Poisson):

- no change: relative variance c0^2 = tau^2 + 1 / (E_1..4 + 20), the ordinary wander plus the
  error of the level. Its posterior mean 1 + w (r_0 - 1), w = c0^2 / (c0^2 + 1 / E_0), is
  Buhlmann's credibility estimate; with tau = 0 it weighs the latest year as one of the five.
- a level change: relative variance c0^2 + CHANGE_SD^2, CHANGE_SD = 1 (a change as large as
  the level itself is ordinary: halving, doubling), so theta follows the latest year's own
  Poisson precision: (a + O_0) / (a + E_0), a = 1 / (c0^2 + 1), i.e. r_0 with about one
  pseudo-move at the table's level.

Each hypothesis gives O_0 a negative-binomial probability; with a prior probability
CHANGE_PRIOR = 0.1 that a flow's level changed in a given year (about once a decade), Bayes
gives the probability p of a change, and the factor is the average of the two posterior means,
(1 - p) no-change + p change, capped to [1/4, 4]. A stable flow with plenty of moves has p
near 0 (a chance year is 1-2 sd from the table, far likelier under "no change"), so it stays
near the table whatever its last year drew; a step well beyond chance and wander has p near 1
and is followed nearly fully; a small flow is shrunk (neither hypothesis is much likelier, and
the change's own posterior is pulled to the table by its pseudo-move). The centre is the
table, not the years before: the champion models are refitted on every month to the latest
(issue 11.1), so a table that already matches the latest year (r_0 near 1) is left alone even
where it missed the years before, and a flow whose years wandered widely (a large tau, e.g. a
step that began part-way through year 1) is followed by the "no change" posterior itself,
whose weight on the latest year is then near 1. A step that began part-way through year 1
(the benchmark's began 16 months before the census) is thus still read from year 0. A change
younger than 12 months is followed only by the share of year 0 it covered; the flows are
counted by years, not months, so that one year's Poisson noise is the unit of evidence.
``ratio_before`` (the years before, shrunk to 1 by the pseudo-moves) is kept for the record.

The previous rule (decision 25) shrank the latest year towards the five years' ratio, the
latest year included, with a weight from the wander of all five, which moved flows the table
already had right for now towards the years before, and took a step's own jump for ordinary
wander. This one was chosen over
a calendar-time feature (trees extrapolate a step flat at best and cannot be trusted past the
data) and over recency weights (which discount the past for every flow, stable or not, and
widen every table's error) because it moves only what the data show has moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import exp, lgamma, log

import numpy as np

YEARS = 5
CAP = 4.0
TAU_CAP = 1.0        # a year's rate may differ from the others' by up to 100%
PRIOR_MOVES = 20.0   # pseudo-moves at the table's own rate behind the level of the years before
CHANGE_PRIOR = 0.1   # prior probability that a flow's level changed in the latest year
CHANGE_SD = 1.0      # the size of a level change, relative to the old level (sd of the gamma prior)


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


def _lower_half(n: int) -> int:
    """Which order statistic of n year-on-year differences the wander is read from (0-based):
    the largest of the smaller half, so that up to half of them may be a step's."""
    return max(n // 2, 1) - 1


@lru_cache(maxsize=8)
def _order_statistic_scale(n_years: int) -> float:
    """E[k-th smallest of d_i^2 / (2 sigma^2)] for the n_years - 1 first differences of n_years
    independent normal levels of sd sigma (k from ``_lower_half``): what the statistic
    ``step_robust_wander_sd`` reads is worth when there is only wander, so that dividing by it
    makes the variance estimate unbiased. The differences of independent years are correlated
    (adjacent ones share a year), so no table of chi-square order statistics applies; a fixed
    seed makes the constant the same in every process."""
    rng = np.random.default_rng(20261207)
    d = np.diff(rng.normal(0.0, 1.0, (200_000, n_years)), axis=1)
    k = _lower_half(n_years - 1)
    return float(np.mean(np.sort(d ** 2 / 2.0, axis=1)[:, k]))


def step_robust_wander_sd(observed: np.ndarray, expected: np.ndarray, cap: float = 0.5) -> float:
    """The sd of a year's log rate about the others beyond Poisson chance, like
    ``extra_poisson_sd``, but read from the year-on-year differences of the log ratios with a
    scale that a single step does not move.

    Why: this sd widens the forecast's bands (one factor per destination for the horizon), and
    the forecast already follows a step to the latest year's level (the recalibration of this
    module). Measured as the spread of the years about their mean, a step is counted as wander:
    hospital admissions that rose five-fold 16 months before the census gave the sd's cap, 0.5,
    and a mean-one factor that wide on bounded probabilities pulled the forecast's mean down by
    a tenth (benchmarks/bench_regime.py). A step changes one difference, or two adjacent ones
    when it falls inside a year (as most do: the years run to the census, not to the change), so
    the wander is read from the smaller half of the differences: sigma solves
    ``k-th smallest of d_i^2 / (2 sigma^2 + v_i) = c``, v_i the chance variance of d_i
    (1/O_i + 1/O_{i+1}) and c what that order statistic is worth under wander alone
    (``_order_statistic_scale``), so with no chance the variance estimate is unbiased.
    The price: one wild year (a hard winter, then back) also moves two differences and is not
    counted either; with five years no rule can tell a step from a spike both ways, and the
    forecast's centre, not its band, is what a step needs (see the module docstring).
    Differencing also cancels the table's own level, so a table that is right on average but
    wrong every year by the same amount is not wander; 0 with fewer than three years or 20
    moves, as ``extra_poisson_sd``."""
    keep = expected > 0
    o, e = np.asarray(observed, float)[keep], np.asarray(expected, float)[keep]
    if len(o) < 3 or o.sum() < 20:
        return 0.0
    level = np.log((o + 0.5) / e)          # +0.5: a year with no move is not minus infinity
    d2 = np.diff(level) ** 2
    chance = 1.0 / (o[:-1] + 0.5) + 1.0 / (o[1:] + 0.5)
    k = _lower_half(len(d2))
    c = _order_statistic_scale(len(o))

    def statistic(var: float) -> float:
        return float(np.sort(d2 / (2.0 * var + chance))[k])

    if statistic(0.0) <= c:                # chance explains the smaller half: no wander
        return 0.0
    if statistic(cap ** 2) >= c:
        return float(cap)
    lo, hi = 0.0, cap ** 2                 # the statistic falls as the variance grows
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if statistic(mid) > c:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(0.5 * (lo + hi)))


@dataclass(frozen=True)
class Credibility:
    """One flow's recalibration, for the record: the latest year's counts and ratio to the
    table, the years before it (their ratio and wander), the probability that the level changed,
    the weight the factor gives the latest year and the factor applied."""

    observed: float       # O_0, the last 12 months
    expected: float       # E_0
    ratio_latest: float   # r_0 = O_0 / E_0
    ratio_before: float   # m, the years before the latest (shrunk to the table's level)
    tau: float            # their wander beyond chance
    p_change: float       # posterior probability of a level change in the latest year
    weight: float         # (factor - 1) / (r_0 - 1): how far the factor went from the table to r_0
    factor: float


NO_CHANGE = Credibility(0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _log_negative_binomial(o: float, shape: float, rate: float, exposure: float) -> float:
    """log P(O = o) for O ~ Poisson(theta x exposure), theta ~ Gamma(shape, rate): the gamma-
    Poisson marginal (o may be fractional: weighted counts)."""
    return (lgamma(shape + o) - lgamma(shape) - lgamma(o + 1.0)
            + shape * log(rate / (rate + exposure)) + o * log(exposure / (rate + exposure)))


def credibility(observed_years: np.ndarray, expected_years: np.ndarray,
                change_prior: float = CHANGE_PRIOR) -> Credibility:
    """The factor for one flow from its yearly observed and expected counts (year 0 the latest):
    the latest year's ratio by credibility against the table's level, with the wander of the
    years before it, averaged over "no change" and "a level change" by their posterior
    probabilities (module docstring). ``change_prior``: the prior probability of a change,
    raised by ``destination_priors`` where the destination as a whole has changed."""
    o = np.asarray(observed_years, float)
    e = np.asarray(expected_years, float)
    if len(o) == 0 or e[0] < 1.0 or e.sum() <= 0:
        return NO_CHANGE
    o0, e0 = float(o[0]), float(e[0])
    before_o, before_e = o[1:], e[1:]
    m = float((before_o.sum() + PRIOR_MOVES) / (before_e.sum() + PRIOR_MOVES))   # for the record
    tau = extra_poisson_sd(before_o, before_e, cap=TAU_CAP) if len(before_o) else 0.0
    # "no change": the latest year at the table's own level (ratio 1), give or take the years'
    # wander and the error of a level fitted to the years before (20 pseudo-moves when few)
    c0 = tau ** 2 + 1.0 / (before_e.sum() + PRIOR_MOVES)
    means, log_evidence = [], []
    for c2, prior in ((c0, 1.0 - change_prior), (c0 + CHANGE_SD ** 2, change_prior)):
        shape = rate = 1.0 / c2    # gamma with mean 1, relative variance c2
        means.append((shape + o0) / (rate + e0))
        log_evidence.append(log(prior) + _log_negative_binomial(o0, shape, rate, e0))
    d = log_evidence[1] - log_evidence[0]
    p_change = 1.0 / (1.0 + exp(-d)) if d >= 0 else exp(d) / (1.0 + exp(d))
    factor = float(np.clip((1.0 - p_change) * means[0] + p_change * means[1], 1.0 / CAP, CAP))
    r0 = o0 / e0
    weight = (factor - 1.0) / (r0 - 1.0) if abs(r0 - 1.0) > 1e-9 else 0.0
    return Credibility(o0, e0, r0, m, float(tau), float(p_change), float(weight), factor)


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


def destination_priors(observed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """(prior probability of a change for each flow into a destination, the pooled flow's own
    probability) from the yearly observed and expected counts of all the flows into it added up.

    Why: a change in how people come to a destination (a discharge policy, a winter's pressure
    on admissions, a care-home market) shows in every origin at once, but each origin's flow
    alone may be too small to tell a change from chance: hospital admissions that rose five-
    fold from every origin left the smaller origins' factors at a fifth to a half of their own
    years' (benchmarks/bench_regime.py), so the forecast fell short by their sum. The flows
    added up are a far larger count; where they say the destination changed, each flow's prior
    probability of a change is that probability, so a flow follows its own latest year (the
    change posterior: its ratio with one pseudo-move at the table), not the pool's level, and a
    change confined to one origin does not move the others beyond what their own years say.
    The flow's prior runs from CHANGE_PRIOR (the destination did not change: the flows' own
    rule) to 1 - CHANGE_PRIOR (it did: nine flows in ten into it share the change, so a large
    stable flow can still show that it did not)."""
    pooled = credibility(observed, expected)
    return CHANGE_PRIOR + (1.0 - 2.0 * CHANGE_PRIOR) * pooled.p_change, pooled.p_change


def transition_factors(origin: np.ndarray, dest: np.ndarray, cell: np.ndarray, month: np.ndarray,
                       table: np.ndarray, ref, n_live: int,
                       also_into: dict | None = None) -> tuple[np.ndarray, dict, dict]:
    """(n_states, n_states) factors on moves origin -> destination (1 on the diagonal), the
    flows that moved, for the record, and per destination its pooled prior probability of a
    change (``destination_priors``: prior, pooled p_change). Rows are training person-months:
    origin state, the state next month, the lattice cell and the row month. ``also_into``: per
    destination, yearly (observed, expected) of other flows into it pooled with the moves
    (within-month hospital admissions are admissions to hospital too)."""
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
    into = {}
    for d in range(n):
        flows = [o * n + d for o in range(n_live) if o != d]
        po, pe = observed[flows].sum(axis=0), expected[flows].sum(axis=0)
        if also_into and d in also_into:
            po, pe = po + also_into[d][0], pe + also_into[d][1]
        into[d] = destination_priors(po, pe)
    factors = np.ones((n, n))
    record = {}
    for o in range(n_live):
        for d in range(n):
            if d == o:
                continue
            c = credibility(observed[o * n + d], expected[o * n + d], change_prior=into[d][0])
            factors[o, d] = c.factor
            if abs(c.factor - 1.0) >= 0.02:
                record[(o, d)] = c
    return factors, record, into


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


def yearly_of_counts(observed: np.ndarray, month: np.ndarray, expected: np.ndarray, ref) -> tuple[np.ndarray, np.ndarray]:
    """One flow given per row (whether it happened, 0/1 or a count, and its expected value):
    its yearly observed and expected counts, year 0 the latest."""
    years = year_of(month, ref)
    zeros = np.zeros(len(years), np.int64)
    return yearly(zeros, years, 1, observed)[0], yearly(zeros, years, 1, expected)[0]


def factor_of_counts(observed: np.ndarray, month: np.ndarray, expected: np.ndarray, ref,
                     change_prior: float = CHANGE_PRIOR) -> Credibility:
    """One flow given per row: whether it happened (0/1 or a count) and its expected value."""
    return credibility(*yearly_of_counts(observed, month, expected, ref), change_prior=change_prior)
