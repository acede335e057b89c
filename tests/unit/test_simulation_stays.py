"""Hospital stays cut into months (simulation.stays) and priced (simulation.costs): the engine's
expectations and the backtest's actuals come from these, so they are checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.costs import COST_INPUTS, cost_by_payer
from simulation.inputs import DEFAULT_COSTS
from simulation.stays import expected_days, stay_months


def test_a_stay_is_cut_into_its_months_with_the_days_beyond_the_21st():
    admitted = pd.Series(pd.to_datetime(["2025-01-10", "2025-01-25", "2025-01-05"]))
    left = pd.Series(pd.to_datetime(["2025-01-15", "2025-03-10", None]))
    m = stay_months(admitted, left, until="2025-02-28")
    one = m[m.stay == 0]
    assert one.kind.tolist() == ["within"] and one.days.tolist() == [5.0] and one.long_days.tolist() == [0.0]
    two = m[m.stay == 1]   # 25 Jan - 10 Mar: 7 nights, 28, 9; the 22nd night is 15 Feb
    assert two.kind.tolist() == ["enter", "stay", "exit"]
    assert two.days.tolist() == [7.0, 28.0, 9.0] and two.long_days.tolist() == [0.0, 14.0, 9.0]
    three = m[m.stay == 2]  # still there at the end of February: whole months from the 26th of January
    assert three.kind.tolist() == ["enter", "stay"] and three.long_days.tolist() == [6.0, 28.0]
    # without `until`, an open stay is left out
    assert set(stay_months(admitted, left).stay) == {0, 1}
    e = expected_days(m)
    assert e["long_stay"] == 21.0 and e["days_within"] == 5.0


def test_costs_are_the_engines_own_formula():
    from simulation.forecast_model import KPIS
    from simulation.replications import run_forecast
    from simulation.scenarios import baseline
    from simulation.testing import toy_inputs

    res = run_forecast(toy_inputs(800, seed=1), [baseline()], replications=1, months=6, run_date="2026-11-01",
                       needed=False)
    out = res.values["baseline"][0]
    k = {name: i for i, name in enumerate(KPIS)}
    days = pd.date_range("2026-11-01", periods=6, freq="MS").days_in_month.to_numpy(float)
    priced = cost_by_payer({name: out[k[name]] for name in COST_INPUTS}, DEFAULT_COSTS, days)
    for payer, series in priced.items():
        assert np.allclose(series, out[k[payer]]), payer
    assert (out[k["cost_total"]] > 0).all()
