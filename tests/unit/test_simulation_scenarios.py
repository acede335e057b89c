"""Scenario files: validation names the field; shipped scenarios load and compile."""

import numpy as np
import pytest

from simulation.forecast_model import K
from simulation.scenarios import ScenarioError, build_plan, load_scenario, shipped_scenarios, validate
from simulation.testing import toy_inputs


@pytest.fixture(scope="module")
def toy():
    return toy_inputs(600, seed=4)


@pytest.mark.parametrize("spec, message", [
    ({"description": "x"}, "x.yaml: name: must be a non-empty text"),
    ({"name": "a", "capacity": [{"unit_type": "extra_care", "delta": "many"}]}, "x.yaml: capacity[0].delta: must be a number"),
    ({"name": "a", "capacity": [{"unit_type": "castle", "delta": 1}]}, "x.yaml: capacity[0].unit_type: unknown unit type 'castle'"),
    ({"name": "a", "capacity": [{"unit_type": "care_home", "delta": 1, "absolute": 2}]}, "x.yaml: capacity[0]: needs exactly one of delta or absolute"),
    ({"name": "a", "capacity": [{"unit_type": "care_home", "delta": 1, "start": "next spring"}]}, "x.yaml: capacity[0].start: must be a month"),
    ({"name": "a", "transitions": [{"from": "community", "to": ["mars"], "multiply": 1}]}, "x.yaml: transitions[0].to[0]: unknown state 'mars'"),
    ({"name": "a", "transitions": [{"from": "community", "to": "died"}]}, "x.yaml: transitions[0].multiply: is required"),
    ({"name": "a", "transitions": [{"from": "community", "to": "died", "multiply": 1, "months_of_year": [13]}]},
     "x.yaml: transitions[0].months_of_year[0]: must be 1..12"),
    ({"name": "a", "arrivals": [{"state": "temporary", "annual_growth": "10%"}]}, "x.yaml: arrivals[0].annual_growth: must be a number"),
    ({"name": "a", "costs": {"caviar_week": 3}}, "x.yaml: costs.caviar_week: unknown field"),
    ({"name": "a", "rationing": {"home_care": {"weekly_hours_cap": -1}}}, "x.yaml: rationing.home_care.weekly_hours_cap: must be at least 0"),
    ({"name": "a", "colour": "red"}, "x.yaml: colour: unknown field"),
])
def test_bad_scenarios_name_the_field(spec, message):
    with pytest.raises(ScenarioError) as err:
        validate(spec, "scenarios/x.yaml")
    assert message in str(err.value)


def test_bad_yaml_file_names_the_file(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="broken.yaml: not valid YAML"):
        load_scenario(f)


def test_shipped_scenarios_load_with_baseline_first(toy):
    scen = shipped_scenarios()
    assert scen[0].name == "baseline" and scen[0].is_baseline
    assert len(scen) == 8
    assert len({s.content_hash for s in scen}) == 8
    for s in scen:
        plan = build_plan(toy, s, 24)
        assert plan.cap_units.shape[1] == 24


def test_capacity_changes_compile(toy):
    s = validate({"name": "new", "capacity": [
        {"unit_type": "extra_care", "area": "CDF", "new_unit": "New EC", "start": 3, "delta": 60},
        {"unit_type": "care_home", "beds": "nursing", "start": "2027-01", "delta": 10},
        {"unit_type": "care_home", "pick": {"capacity_near": 40}, "start": "2027-06", "absolute": 0}]})
    base = build_plan(toy, None, 12)
    plan = build_plan(toy, s, 12)
    assert len(plan.pools) == len(base.pools) + 1
    assert plan.cap_units[-1, :2].sum() == 0 and plan.cap_units[-1, 2] == 60
    nursing = [i for i, p in enumerate(base.pools) if p.state == 6]
    jan = 2  # 2026-11, 2026-12, 2027-01
    assert plan.cap_units[nursing, jan:].sum(axis=0)[0] >= base.cap_units[nursing, jan].sum() + 10 - 1e-9 \
        or plan.cap_units[nursing, -1].sum() == 0  # the picked home may be the one adding beds
    closed = [i for i, p in enumerate(plan.pools) if plan.cap_units[i, -1] == 0 and p.kind == "care_home"]
    assert closed


def test_transition_rules_respect_window_and_filters(toy):
    s = validate({"name": "winter", "transitions": [
        {"from": ["community"], "to": "hospital", "multiply": 2.0, "months_of_year": [12, 1, 2], "age_min": 65}]})
    plan = build_plan(toy, s, 12)
    rule = plan.rules[0]
    assert rule.active.sum() == 3
    codes = toy.lattice.decode(rule.cells)
    assert set(codes[0]) == {4} and codes[2].min() >= 4 and 8 not in set(codes[2])


def test_arrival_growth_compounds(toy):
    s = validate({"name": "grow", "arrivals": [{"state": "temporary", "annual_growth": 0.1}]})
    plan = build_plan(toy, s, 24)
    i = list(toy.arrivals.entry_states).index(3)
    assert plan.arrival_mult[11, i] == pytest.approx(1.1)
    assert plan.arrival_mult[23, i] == pytest.approx(1.21)
    assert np.all(np.delete(plan.arrival_mult, i, axis=1) == 1)
    assert K  # the KPI index is importable alongside
