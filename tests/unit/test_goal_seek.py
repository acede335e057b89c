"""Goal seek (simulation/goal_seek.py): the smallest addition of places meeting a goal.

Each answer is checked against forecasts run independently of the search: the addition found
meets the goal, one place fewer does not (both with the same run date, so the same random
numbers as the search's own trials).
"""

from __future__ import annotations

import pytest

from llif import forecast_cli
from llif.cli import main
from simulation.goal_seek import Goal, goal_seek
from simulation.replications import run_forecast
from simulation.scenarios import validate
from simulation.testing import toy_inputs

RUN = {"replications": 4, "months": 12, "run_date": "2026-11-01"}


@pytest.fixture(scope="module")
def full():
    return toy_inputs(1500, seed=7, occupancy=1.0)


def _share(inputs, lever, change, goal):
    spec = validate({"name": "x", "capacity": [{**lever, "delta": change}]}) if change else validate({"name": "baseline"})
    res = run_forecast(inputs, [validate({"name": "baseline"}), spec] if change else [spec], needed=False, **RUN)
    return goal.share_met(res.values[spec.name][:, res.kpis.index(goal.kpi)])


def test_the_smallest_addition_meets_the_goal_and_one_fewer_does_not(full):
    lever = {"unit_type": "care_home", "beds": "residential"}
    goal = Goal("waiting_residential_care", below=1, level=0.75)
    found = goal_seek(full, lever, goal, max_change=80, **RUN)
    assert found.change is not None and found.change > 0 and found.monotone
    assert found.share == found.tried[found.change] >= 0.75
    assert all(v < 0.75 for c, v in found.tried.items() if c < found.change)
    assert _share(full, lever, found.change, goal) >= 0.75 > _share(full, lever, found.change - 1, goal)
    assert f"{found.change} more care home residential places keep" in found.sentence()


def test_a_goal_above_a_level_is_found_exactly(full):
    """Capacity is deterministic, so the answer is known: the toy's 20 residential beds (14 in
    Cardiff, 6 in Rhondda) need 6 more in Rhondda to be above 25 - the search must land on 6, not 5
    or 7, from the doubling's 5 and 10."""
    lever = {"unit_type": "care_home", "beds": "residential", "area": "RCT"}
    found = goal_seek(full, lever, Goal("capacity_residential_beds", above=25, level=1.0), max_change=60, **RUN)
    assert found.change == 6 and found.tried == {0: 0.0, 5: 0.0, 6: 1.0, 7: 1.0, 10: 1.0}
    assert "residential places in RCT" in found.sentence()


def test_a_goal_out_of_reach_says_so(full):
    found = goal_seek(full, {"unit_type": "care_home", "beds": "nursing"}, Goal("people_total", below=1),
                      max_change=10, **RUN)
    assert found.change is None and max(found.tried) == 10
    assert found.sentence().startswith("no addition of up to 10")


@pytest.mark.parametrize("lever, goal, message", [
    ({"unit_type": "castle"}, {"kpi": "delayed_discharges", "below": 1}, "needs a unit_type"),
    ({"unit_type": "care_home", "delta": 5}, {"kpi": "delayed_discharges", "below": 1}, "leave it out"),
    ({"unit_type": "care_home", "beds": "luxury"}, {"kpi": "delayed_discharges", "below": 1}, "beds"),
])
def test_a_bad_lever_is_refused_with_the_field(full, lever, goal, message):
    with pytest.raises(ValueError, match=message):
        goal_seek(full, lever, Goal(**goal), **RUN)


@pytest.mark.parametrize("goal, message", [
    ({"kpi": "happiness", "below": 1}, "unknown measure"),
    ({"kpi": "delayed_discharges"}, "exactly one of below or above"),
    ({"kpi": "delayed_discharges", "below": 1, "above": 0}, "exactly one of below or above"),
    ({"kpi": "delayed_discharges", "below": 1, "level": 1.5}, "level"),
])
def test_a_bad_goal_is_refused(goal, message):
    with pytest.raises(ValueError, match=message):
        Goal(**goal)


def test_the_command_line_answers_in_a_sentence(capsys):
    code = main(["forecast", "goal-seek", "--toy", "1200", "--add", "care_home:residential",
                              "--kpi", "waiting_residential_care", "--below", "1", "--level", "0.75",
                              "--replications", "4", "--months", "12", "--processes", "1", "--max-change", "40"])
    out = capsys.readouterr().out
    assert code == 0 and "goal seek, 4 runs a trial" in out and "tried (places added" in out
    assert "more care home residential places keep" in out or "the goal is met as things are" in out or "no addition" in out


def test_the_lever_is_read_from_the_command_line():
    assert forecast_cli.lever_of("care_home:nursing:CDF", "2027-04") == {
        "unit_type": "care_home", "beds": "nursing", "area": "CDF", "start": "2027-04"}
    assert forecast_cli.lever_of("extra_care::SWA", "3") == {"unit_type": "extra_care", "area": "SWA", "start": 3}

