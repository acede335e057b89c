"""Recent change reaches the forecast (simulation.recency): a flow that shifted in the last year
is followed, a stable one is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.recency import apply_transition_factors, credibility, transition_factors


def test_a_stable_flow_keeps_the_tables_level_whatever_the_last_year_drew():
    rng = np.random.default_rng(1)
    factors = []
    for _ in range(200):
        expected = np.full(5, 400.0)
        observed = rng.poisson(expected)
        factors.append(credibility(observed, expected).factor)
    factors = np.array(factors)
    # chance alone moves a year's count by 5%; the factor moves far less, and on average not at all
    assert abs(factors.mean() - 1.0) < 0.01
    assert np.std(factors) < 0.025


def test_a_flow_that_doubled_last_year_is_followed():
    expected = np.full(5, 300.0)
    observed = np.array([600.0, 310, 295, 305, 290])   # year 0 is the latest
    c = credibility(observed, expected)
    assert c.factor == pytest.approx(2.0, rel=0.1)
    assert c.weight > 0.9


def test_a_small_flow_is_shrunk_towards_its_years():
    c = credibility(np.array([3.0, 1, 1, 1, 1]), np.full(5, 1.0))
    assert c.factor < 3.0


def test_transition_factors_find_the_move_that_changed_and_leave_the_rest():
    rng = np.random.default_rng(3)
    n_states = 4        # states 0, 1 live; 2, 3 absorbing
    table = np.array([[0.90, 0.05, 0.03, 0.02], [0.10, 0.80, 0.05, 0.05]])
    ref = np.datetime64("2026-10-01")
    months = (np.datetime64("2026-10", "M") - 1 - np.arange(60)).astype("datetime64[D]")
    rows_month = np.repeat(months, 2000)
    cell = np.tile(np.repeat([0, 1], 1000), 60)
    origin = cell.copy()
    p = table[cell].copy()
    recent = (np.datetime64("2026-10", "M") - rows_month.astype("datetime64[M]")).astype(int) <= 12
    p[recent & (cell == 0), 1] *= 2.0      # 0 -> 1 doubles in the last year
    p[recent & (cell == 0), 0] = 1 - p[recent & (cell == 0), 1:].sum(axis=1)
    u = rng.random(len(cell))
    dest = (u[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    factors, moved = transition_factors(origin, dest, cell, rows_month, table, ref, n_live=2)
    assert factors[0, 1] == pytest.approx(2.0, rel=0.12)
    others = [factors[o, d] for o in range(2) for d in range(n_states) if d != o and (o, d) != (0, 1)]
    assert np.allclose(others, 1.0, atol=0.08)
    assert (0, 1) in moved
    new = apply_transition_factors(table, np.array([0, 1]), factors)
    assert np.allclose(new.sum(axis=1), 1.0) and (new >= 0).all()
    assert new[0, 1] == pytest.approx(table[0, 1] * factors[0, 1])
    assert new[0, 0] < table[0, 0]     # staying put gave way


def test_moves_scaled_beyond_certainty_are_capped_not_negative():
    table = np.array([[0.3, 0.5, 0.2]])
    factors = np.array([[1.0, 4.0, 4.0], [1, 1, 1], [1, 1, 1]])
    new = apply_transition_factors(table, np.array([0]), factors)
    assert (new >= 0).all() and np.isclose(new.sum(), 1.0)
