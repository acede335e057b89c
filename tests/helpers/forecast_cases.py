"""Scenarios and a register that exercise every path of the forecast engine, for the tests that
compare two ways of running it (the numba kernel against numpy, the breakdowns against the
provider's totals): capacity added and cut (a closure), transition and arrival multipliers, a
home-care cap with the waiting-for-care hospital multiplier, and tonight's register's queues."""

from __future__ import annotations

import numpy as np

from simulation.inputs import GENERAL_NEEDS, N_STATES
from simulation.register import Register

SCENARIOS = (
    {"name": "baseline"},
    {"name": "closure", "capacity": [{"unit_type": "care_home", "start": 3, "absolute": 1}]},
    {"name": "more_nursing", "capacity": [{"unit_type": "care_home", "beds": "nursing", "start": 2, "delta": 25}]},
    {"name": "winter", "transitions": [{"from": ["community", "general_needs"], "to": "hospital", "multiply": 1.6,
                                        "months_of_year": [12, 1, 2]},
                                       {"from": "hospital", "to": ["residential_care", "nursing_care"],
                                        "multiply": 0.7}]},
    {"name": "arrivals", "arrivals": [{"state": "temporary", "multiply": 1.5, "annual_growth": 0.2}]},
    {"name": "home_care", "rationing": {"home_care": {"weekly_hours_cap_fraction": 0.85,
                                                      "max_hours_per_package": 20,
                                                      "waiting_hospital_multiplier": 1.3}}},
)


def small_register(toy) -> Register:
    """40 general-needs applications: 25 households from outside, 15 tenants of the census."""
    rng = np.random.default_rng(4)
    inside = np.flatnonzero(toy.state == GENERAL_NEEDS)[:15]
    n_out, n = 25, 40
    withdraw = np.zeros(N_STATES)
    withdraw[GENERAL_NEEDS] = 0.02
    return Register(want=np.full(n, GENERAL_NEEDS), band=rng.integers(0, 4, n), months_waiting=rng.integers(0, 40, n),
                    size=np.r_[rng.integers(1, 3, n_out), np.ones(len(inside), dtype=np.int64)],
                    area=np.r_[np.zeros(n_out, dtype=np.int64), toy.area[inside]],
                    person=np.r_[np.full(n_out, -1), inside], withdraw=withdraw)
