"""The tornado's figures (simulation/cost_sensitivity.py) are the forecast's own costs repriced.

Costs change nothing people do, so a scenario that only sets a price has the baseline's activity
in every replication (common random numbers): pricing the baseline's replications at that price
must give that scenario's forecast cost exactly, which is what the tornado claims to show.
"""

from __future__ import annotations

import numpy as np
import pytest

from contracts.vocabulary.costs import UNIT_COST
from simulation.cost_sensitivity import cost_sensitivity
from simulation.replications import run_forecast
from simulation.scenarios import validate
from simulation.testing import toy_inputs


@pytest.fixture(scope="module")
def forecast():
    low = UNIT_COST["home_care_hour"].low
    return run_forecast(toy_inputs(1500, seed=3), [validate({"name": "baseline"}),
                                                   validate({"name": "cheap_care", "costs": {"home_care_hour": low}})],
                        replications=6, months=18, run_date="2026-11-01", needed=False)


def _year_mean(res, scenario, kpi, a, b):
    return res.values[scenario][:, res.kpis.index(kpi), a:b].sum(axis=1).mean()


def test_the_forecasts_price_gives_the_forecasts_own_cost(forecast):
    t = cost_sensitivity(forecast)
    base = t[t["scenario"] == "baseline"]
    assert set(base["year"]) == {1, 2} and (base.loc[base["year"] == 2, "months_in_year"] == 6).all()
    for (payer, year), g in base.groupby(["payer", "year"]):
        a, b = forecast.years()[year - 1][1:]
        assert np.allclose(g["cost_forecast"], _year_mean(forecast, "baseline", payer, a, b), rtol=1e-12)
    assert (base["cost_low"] < base["cost_forecast"]).all() and (base["cost_forecast"] < base["cost_high"]).all()
    assert np.allclose(base["swing"], base["cost_high"] - base["cost_low"])


def test_a_price_reaches_only_the_payers_who_pay_it(forecast):
    t = cost_sensitivity(forecast)
    home_care = t[(t["scenario"] == "baseline") & (t["unit_cost"] == "home_care_hour")]
    assert set(home_care["payer"]) == {"cost_local_authority", "cost_total"}
    assert "nursing_nhs_week" not in set(t["unit_cost"])   # an assumption with no range has no bar


def test_the_low_price_is_what_a_run_at_that_price_forecasts(forecast):
    t = cost_sensitivity(forecast)
    row = t[(t["scenario"] == "baseline") & (t["unit_cost"] == "home_care_hour") & (t["payer"] == "cost_total")
            & (t["year"] == 1)].iloc[0]
    a, b = forecast.years()[0][1:]
    assert row["cost_low"] == pytest.approx(_year_mean(forecast, "cheap_care", "cost_total", a, b), rel=1e-12)
    cheap = t[(t["scenario"] == "cheap_care") & (t["unit_cost"] == "home_care_hour")]
    assert (cheap["value_forecast"] == UNIT_COST["home_care_hour"].low).all()
    assert np.allclose(cheap["cost_forecast"], cheap["cost_low"])
