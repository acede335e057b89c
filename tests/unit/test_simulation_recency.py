"""Recent change reaches the forecast (simulation.recency): a flow that shifted in the last year
is followed, a stable one is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.recency import apply_transition_factors, credibility, transition_factors


def test_a_stable_flow_keeps_the_tables_level_whatever_the_last_year_drew():
    rng = np.random.default_rng(1)
    factors, p_change = [], []
    for _ in range(400):
        expected = np.full(5, 400.0)
        observed = rng.poisson(expected)
        c = credibility(observed, expected)
        factors.append(c.factor)
        p_change.append(c.p_change)
        # the latest year is pooled with the four before it, so the factor strays less than it
    factors = np.array(factors)
    # chance alone moves a year's count by 5%; the factor moves about half as much (the five
    # years pooled), on average not at all, and a change is rarely believed
    assert abs(factors.mean() - 1.0) < 0.005
    assert np.std(factors) < 0.03
    assert np.median(p_change) < 0.02 and np.mean(np.array(p_change) > 0.5) < 0.05


def test_a_flow_that_doubled_last_year_is_followed():
    expected = np.full(5, 300.0)
    observed = np.array([600.0, 310, 295, 305, 290])   # year 0 is the latest
    c = credibility(observed, expected)
    assert c.factor == pytest.approx(2.0, rel=0.01)
    assert c.p_change > 0.99 and c.weight > 0.98
    assert c.ratio_before == pytest.approx(1.0, abs=0.02)


def test_a_well_evidenced_step_reaches_the_new_level_within_a_few_percent():
    """Across Poisson draws of a flow that rose by half in the latest year (about 300 moves a
    year before it), the factor lands within a few percent of the new level on average and in
    most draws; the earlier rule (decision 25) also averaged the jump into the years' ratio."""
    rng = np.random.default_rng(7)
    expected = np.full(5, 300.0)
    truth = np.array([1.5, 1.0, 1.0, 1.0, 1.0])
    factors = np.array([credibility(rng.poisson(expected * truth), expected).factor for _ in range(300)])
    assert abs(factors.mean() / 1.5 - 1.0) < 0.02
    assert np.mean(np.abs(factors / 1.5 - 1.0) < 0.1) > 0.9


def test_a_step_that_began_part_way_through_the_year_before_is_read_from_the_latest_year():
    """The change began 16 months before the census: year 0 is wholly at the new level, year 1
    a third of the way (4 months of 12). The new level is still the latest year's: year 1 only
    raises the earlier years' ratio and wander a little."""
    expected = np.full(5, 200.0)
    truth = np.array([2.0, 1.0 + 4 / 12, 1.0, 1.0, 1.0])
    c = credibility(expected * truth, expected)
    assert c.ratio_before > 1.02          # year 1's part of the step raised the years before
    assert c.factor == pytest.approx(2.0, rel=0.02)
    rng = np.random.default_rng(11)
    factors = np.array([credibility(rng.poisson(expected * truth), expected).factor for _ in range(300)])
    assert abs(factors.mean() / 2.0 - 1.0) < 0.02


def test_a_small_flow_is_shrunk_towards_its_years():
    c = credibility(np.array([3.0, 1, 1, 1, 1]), np.full(5, 1.0))
    assert 1.0 < c.factor < 1.5           # three moves where one was expected: hardly evidence
    assert c.p_change < 0.3
    rng = np.random.default_rng(5)
    # a small stable flow: the factor strays far less than the latest year's own ratio
    e = np.full(5, 10.0)
    draws = [credibility(rng.poisson(e), e) for _ in range(500)]
    assert np.std([d.factor for d in draws]) < 0.5 * np.std([d.ratio_latest for d in draws])


def test_a_flow_never_seen_before_stays_at_the_tables_level():
    assert credibility(np.array([0.0, 0, 0, 0, 0]), np.full(5, 0.5)).factor == 1.0   # under one expected
    c = credibility(np.array([0.0, 0, 0, 0, 0]), np.full(5, 2.0))
    assert 0.5 < c.factor < 1.0           # none seen in ten expected: lower, but not to nothing


def test_the_backoff_replicates_keep_the_within_month_recalibration():
    """The bootstrap re-estimates events from counts of five years; the recency factors on
    them must be applied again, as the transitions' are, or the replicates forget them."""
    from dataclasses import replace

    from simulation.testing import toy_inputs

    toy = toy_inputs(800, seed=3)
    state_of_cell = toy.lattice.decode(np.arange(toy.lattice.size))[0]
    factors = np.ones((11, 2))
    factors[0, 0] = 2.0                    # general needs: within-month hospital twice as likely
    plain = np.mean([toy.replicate_tables(np.random.default_rng(i))[2] for i in range(5)], axis=0)
    moved = replace(toy, event_recency=factors)
    doubled = np.mean([moved.replicate_tables(np.random.default_rng(i))[2] for i in range(5)], axis=0)
    gn = (state_of_cell == 0) & (plain[:, 0] > 0) & (plain[:, 0] < 0.4)
    assert np.allclose(doubled[gn, 0], 2 * plain[gn, 0])
    assert np.allclose(doubled[state_of_cell != 0], plain[state_of_cell != 0])


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
    factors, moved, _ = transition_factors(origin, dest, cell, rows_month, table, ref, n_live=2)
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


def test_within_month_admissions_are_a_rate_among_person_months_not_ending_away():
    """Ten residents' months in one cell: two end in hospital (those admissions are the moves)
    and one in a hospice; four of the seven others have an admission inside the month. The
    engine draws within-month admissions for the seven only, so the rate it needs is 4/7 (the
    old count gave 5/10: the hospice month's admission too, over every month)."""
    from simulation.inputs import HOSPICE, HOSPITAL, RESIDENTIAL, within_month_counts

    to = np.array([HOSPITAL, HOSPITAL] + [RESIDENTIAL] * 7 + [HOSPICE])
    hosp = np.array([True, False, True, True, True, True, False, False, False, True]) & (to != HOSPITAL)
    hospice = np.zeros(10, bool)
    ev, not_away, counts = within_month_counts(np.zeros(10, np.int64), to, hosp, hospice, 1)
    assert not_away.sum() == 7 and counts.sum() == 7           # the two into hospital and the one into a hospice are out
    assert counts[0, 0] / counts[0].sum() == pytest.approx(4 / 7)
    assert (ev[~not_away] == 2).all()                           # the hospice month's admission is not a within-month one


def _into_one_destination(factor_by_origin, n_per_origin, p_move, seed, share_of_year_1=1 / 3):
    """Sixty months of person-months of several origins that can move to one absorbing state
    (the last), each origin's rate times its factor from part-way through the year before the
    census (the share of year 1 given), against a table at the old rate."""
    rng = np.random.default_rng(seed)
    n_live = len(factor_by_origin)
    dest_state = n_live
    table = np.zeros((n_live, n_live + 1))
    table[np.arange(n_live), np.arange(n_live)] = 1 - p_move
    table[:, dest_state] = p_move
    months = (np.datetime64("2026-10", "M") - 1 - np.arange(60)).astype("datetime64[D]")
    rows_month = np.repeat(months, n_per_origin * n_live)
    cell = np.tile(np.repeat(np.arange(n_live), n_per_origin), 60)
    back = (np.datetime64("2026-10", "M") - 1 - rows_month.astype("datetime64[M]")).astype(int)  # 0: latest
    changed = back < 12 + round(12 * share_of_year_1)
    p = np.where(changed, p_move * np.asarray(factor_by_origin)[cell], p_move)
    dest = np.where(rng.random(len(cell)) < p, dest_state, cell)
    return cell.copy(), dest, cell, rows_month, table, np.datetime64("2026-10-01"), n_live


def test_a_large_change_into_a_destination_from_every_origin_lands_near_the_new_level():
    # eight origins, each small (about 12 moves a year before, 30 after), all 2.5-fold: alone
    # a flow's change is doubtful, pooled the destination has plainly changed
    origin, dest, cell, month, table, ref, n_live = _into_one_destination([2.5] * 8, 100, 0.01, seed=1)
    factors, _, into = transition_factors(origin, dest, cell, month, table, ref, n_live=n_live)
    assert into[n_live][1] > 0.9                     # the pool's own probability of a change
    latest = (np.datetime64("2026-10", "M") - 1 - month.astype("datetime64[M]")).astype(int) < 12
    observed = ((dest == n_live) & latest).sum()
    expected_after = (table[cell[latest], n_live] * factors[cell[latest], n_live]).sum()
    assert expected_after == pytest.approx(observed, rel=0.06)


def test_a_change_confined_to_one_origin_does_not_move_the_others():
    # one origin's moves 2.5-fold, two stable ones as large: the pool says the destination
    # changed, and each stable flow follows its own latest year (here 44 moves for 36 expected,
    # by chance: the price of the pooled prior), not the changed flow's or the pool's level
    origin, dest, cell, month, table, ref, n_live = _into_one_destination([2.5, 1.0, 1.0], 300, 0.01, seed=2)
    factors, _, into = transition_factors(origin, dest, cell, month, table, ref, n_live=n_live)
    assert into[n_live][0] > 0.5
    assert factors[0, n_live] == pytest.approx(2.5, rel=0.12)
    latest = (np.datetime64("2026-10", "M") - 1 - month.astype("datetime64[M]")).astype(int) < 12
    for o in (1, 2):
        own = ((dest == n_live) & latest & (origin == o)).sum() / (table[o, n_live] * (latest & (origin == o)).sum())
        assert 1.0 <= factors[o, n_live] <= own + 0.02
    assert factors[1:n_live, n_live].max() < 1.3


def test_a_destination_that_did_not_change_keeps_the_flows_own_prior():
    origin, dest, cell, month, table, ref, n_live = _into_one_destination([1.0] * 8, 300, 0.01, seed=3)
    factors, _, into = transition_factors(origin, dest, cell, month, table, ref, n_live=n_live)
    assert into[n_live][0] == pytest.approx(0.1, abs=0.01)   # CHANGE_PRIOR: the flows' own rule
    assert np.allclose(factors[:n_live, n_live], 1.0, atol=0.15)
