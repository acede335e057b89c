"""The engine and the one-agent-per-person reference model give the same distributions.

Two-sample Kolmogorov-Smirnov tests on per-replication totals of several KPIs, Bonferroni
alpha 0.01 overall. Seeds are fixed, so the test is deterministic; the second test shows it has
the power to see a rule difference (deaths twice as likely in the reference)."""

import numpy as np
import pytest
from scipy import stats

from simulation.forecast_model import K, arrival_caps, draw_params, run_one, stream_seeds
from simulation.reference import Person, ReferenceModel, run_reference
from simulation.scenarios import build_plan, validate
from simulation.testing import toy_inputs

MONTHS, REPS = 12, 50
KPIS_TESTED = ("people_total", "deaths", "hospital_admissions", "care_home_admissions", "people_need_3",
               "people_temporary", "home_care_hours", "waiting_temporary")
ALPHA = 0.01 / len(KPIS_TESTED)


@pytest.fixture(scope="module")
def setup():
    toy = toy_inputs(300, seed=3, occupancy=0.97)
    plan = build_plan(toy, None, MONTHS)
    caps = arrival_caps(toy, [plan], MONTHS)
    root = np.random.SeedSequence(99)

    def params(r):
        return draw_params(toy, stream_seeds(root, r), MONTHS, caps, parameter_uncertainty=False)

    engine = np.array([run_one(toy, plan, params(r)) for r in range(REPS)])
    return toy, plan, params, engine


def _pvalues(a, b):
    return {k: stats.ks_2samp(a[:, K[k]].sum(axis=1), b[:, K[k]].sum(axis=1)).pvalue for k in KPIS_TESTED}


def test_engine_matches_reference_distributions(setup):
    toy, plan, params, engine = setup
    ref = np.array([run_reference(toy, plan, params(1000 + r), seed=r) for r in range(REPS)])
    p = _pvalues(engine, ref)
    assert min(p.values()) > ALPHA, p
    # and the means are close in absolute terms too
    for k in ("people_total", "deaths", "hospital_admissions"):
        e, r = engine[:, K[k]].sum(axis=1), ref[:, K[k]].sum(axis=1)
        assert abs(e.mean() - r.mean()) < 4 * np.sqrt(e.var() / REPS + r.var() / REPS) + 1e-9


def test_the_comparison_detects_a_rule_difference(setup):
    toy, plan, params, engine = setup
    deadlier = build_plan(toy, validate({"name": "deadlier", "transitions": [
        {"from": ["general_needs", "sheltered", "extra_care", "temporary", "community", "residential_care",
                  "nursing_care", "hospital", "hospice"], "to": "died", "multiply": 2.0}]}), MONTHS)
    ref = np.array([run_reference(toy, deadlier, params(2000 + r), seed=r) for r in range(REPS)])
    p = _pvalues(engine, ref)
    assert p["deaths"] < ALPHA, p


def test_reference_people_are_mesa_agents(setup):
    toy, plan, params, _ = setup
    m = ReferenceModel(toy, plan, params(0), seed=1)
    assert sum(isinstance(a, Person) for a in m.agents) == toy.n_people
