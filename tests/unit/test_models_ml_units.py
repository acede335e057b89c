"""Units of models_ml that need no warehouse: label matching, the gate's rule, calibration,
metrics and the probability-table lookup. Seconds in all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml import segments as S
from models_ml.lgbm_model import softmax
from models_ml.probability_table import ProbabilityTables
from models_ml.transitions.baseline import MarkovBaseline
from models_ml.transitions.calibration import fit_temperature
from models_ml.transitions.gate import no_worse
from models_ml.transitions.metrics import log_loss
from simulation.lattice import NEED_COLUMNS, TRANSITION_COLUMNS, Lattice


def test_matcher_recovers_permuted_labels_from_previous_members():
    rng = np.random.default_rng(0)
    k = 5
    keys = pd.Series([f"P{i:05d}" for i in range(2000)])
    tonight = rng.integers(0, k, len(keys))
    perm = rng.permutation(k)  # last night numbered the same clusters differently
    previous = pd.DataFrame({"person_key": keys, "segment": perm[tonight]})
    # a few people changed segment overnight, and some are new
    previous.loc[:40, "segment"] = (previous.loc[:40, "segment"] + 1) % k
    previous = previous.iloc[100:]
    got, how = S.match_to_previous(tonight, k, keys, previous)
    assert how == "previous_members"
    assert np.array_equal(got, perm)


def test_matcher_on_centroids_and_when_segments_are_fewer():
    rng = np.random.default_rng(1)
    old = rng.random((6, 4))
    order = np.array([3, 0, 2, 1, 5, 4])
    new = old[order] + 0.01
    perm, how = S.match_to_previous(np.zeros(10, dtype=int), 6, centroids=new, previous_centroids=old)
    assert how == "previous_centroids" and np.array_equal(perm, order)
    # tonight one segment fewer: labels stay 0..k-1 (the lattice needs them contiguous)
    perm, _ = S.match_to_previous(np.zeros(10, dtype=int), 5, centroids=old[:5] + 0.01, previous_centroids=old)
    assert sorted(perm) == list(range(5))
    # no previous: largest first, deterministic
    labels = np.array([2, 2, 2, 0, 1, 1])
    perm, how = S.match_to_previous(labels, 3)
    assert how == "size" and perm[2] == 0 and perm[1] == 1 and perm[0] == 2


def test_gate_rule_has_a_stated_tolerance():
    assert no_worse(0.1005, 0.1000, 0.01)
    assert no_worse(0.0900, 0.1000, 0.01)
    assert not no_worse(0.1020, 0.1000, 0.01)


def test_temperature_scaling_fixes_an_overconfident_model():
    rng = np.random.default_rng(2)
    n, k = 20000, 4
    true = rng.dirichlet(np.ones(k) * 2, n)
    y = np.array([rng.choice(k, p=p) for p in true])
    over = softmax(3.0 * np.log(true))  # too sharp
    w = np.ones(n)
    c = fit_temperature(over, y, w)
    fixed = softmax(c["temperature"] * np.log(over) + np.asarray(c["bias"]))
    assert log_loss(y, fixed) < log_loss(y, over) - 0.05
    assert c["temperature"] == pytest.approx(1 / 3, abs=0.05)


def test_markov_baseline_reproduces_cell_rates_and_backs_off():
    frame = pd.DataFrame({"state": ["general_needs"] * 100 + ["hospital"] * 100,
                          "age": [70.0] * 200, "need_level": [0] * 100 + [2] * 100})
    y = np.r_[np.zeros(90, int), np.ones(10, int), np.zeros(50, int), np.ones(50, int)]
    base = MarkovBaseline([0, 1], alpha=0.0).fit(frame, y, np.ones(200))
    p = base.predict_proba(frame.iloc[[0, 150]])
    assert p[0, 1] == pytest.approx(0.1) and p[1, 1] == pytest.approx(0.5)
    unseen = base.predict_proba(pd.DataFrame({"state": ["hospital"], "age": [20.0], "need_level": [0]}))
    assert unseen[0, 1] == pytest.approx(0.5)  # the state's rate


def test_sampling_weights_keep_rates_unbiased():
    """Rows without a change kept at 10% and weighted 10 give the population's rate."""
    rng = np.random.default_rng(3)
    change = rng.random(200000) < 0.03
    kept = change | (rng.random(len(change)) < 0.1)
    w = np.where(change, 1.0, 10.0)[kept]
    assert (change[kept] * w).sum() / w.sum() == pytest.approx(change.mean(), rel=0.05)


def test_probability_tables_validate_and_look_up_by_cell():
    lat = Lattice(2)
    grid = lat.frame()
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(len(TRANSITION_COLUMNS)), lat.size)
    q = rng.dirichlet(np.ones(len(NEED_COLUMNS)), lat.size)
    trans = grid.assign(**{c: p[:, j] for j, c in enumerate(TRANSITION_COLUMNS)})
    need = grid.assign(**{c: q[:, j] for j, c in enumerate(NEED_COLUMNS)})
    tables = ProbabilityTables(lat, trans.sample(frac=1.0, random_state=0), need)
    cells = tables.cells(state=["sheltered", "hospital"], need_level=[0, 3], age=[70.0, np.nan], sex=["F", None],
                         segment=[1, -1], months_in_state=[0, 100])
    rows = grid.set_index("cell").loc[cells]
    assert list(rows["state"]) == ["sheltered", "hospital"] and list(rows["age_band"]) == ["65-74", "unknown"]
    assert list(rows["sex"]) == ["F", "U"] and list(rows["months_in_state_band"]) == ["0-2", "60+"]
    got, _ = tables.lookup(state=["sheltered"], need_level=[0], age=[70.0], sex=["F"], segment=[1], months_in_state=[0])
    assert np.allclose(got[0], p[cells[0]])
    with pytest.raises(ValueError):
        tables.cells(state=["died"], need_level=[0], age=[1.0], sex=["F"], segment=[0], months_in_state=[0])
