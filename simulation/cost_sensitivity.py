"""How much each unit cost moves the forecast's cost, per payer: the tornado chart's figures.

Why from the replications and not by running the forecast again: costs do not change what people
do (no part of the engine reads a price), and cost is linear in the month's activity
(``simulation.costs``), so pricing the same replications' activity with one unit cost at the low
or the high end of the domain's range (``contracts.vocabulary.costs``, docs/domain.md "Unit
costs") gives exactly the forecast that a run with that price would give. The same formula as
the engine prices every variant, so the default's row equals the forecast's own cost.

One row per scenario, forecast year, payer and unit cost whose range is not a single value: the
mean over replications of the year's cost with that price at its low end, at the price the
forecast used (the domain's default unless the scenario sets its own) and at its high end, every
other price at the forecast's; and the swing (high minus low), which orders the bars. A price that
does not reach a payer (home care is not the NHS's) has no row for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.vocabulary.costs import UNIT_COSTS
from simulation.costs import COST_INPUTS, PAYERS, cost_by_payer
from simulation.inputs import days_in_months
from simulation.replications import ForecastResults

COLUMNS = ("scenario", "year", "year_start", "year_end", "months_in_year", "payer", "unit_cost", "value_low",
           "value_forecast", "value_high", "cost_low", "cost_forecast", "cost_high", "swing", "n_replications")


def cost_sensitivity(results: ForecastResults) -> pd.DataFrame:
    """The tornado's rows for every scenario of ``results`` (see the module's docstring)."""
    months = pd.to_datetime(results.month_dates)
    days = days_in_months(results.month_dates)
    years = results.years()
    k = {name: i for i, name in enumerate(results.kpis)}
    varied = [c for c in UNIT_COSTS if c.low != c.high]
    rows = []
    for sc in results.scenarios:
        arr = results.values[sc.name]
        if sc.name not in results.costs:
            raise KeyError(f"llif: the forecast has no unit costs for scenario {sc.name!r} (run_forecast records them)")
        own = results.costs[sc.name]
        activity = {name: arr[:, k[name]] for name in COST_INPUTS}   # (reps, months) each

        def yearly(costs: dict) -> dict[str, np.ndarray]:
            """payer -> (years,): the mean over replications of each year's cost."""
            per_month = cost_by_payer(activity, costs, days)
            return {p: np.array([per_month[p][:, a:b].sum(axis=1).mean() for _, a, b in years]) for p in PAYERS}

        used = yearly(own)
        for c in varied:
            low, high = yearly({**own, c.key: c.low}), yearly({**own, c.key: c.high})
            for p in PAYERS:
                for i, (y, a, b) in enumerate(years):
                    swing = high[p][i] - low[p][i]
                    if swing != 0:
                        rows.append((sc.name, y, months[a], months[b - 1], b - a, p, c.key, c.low, own[c.key], c.high,
                                     low[p][i], used[p][i], high[p][i], swing, arr.shape[0]))
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("year", "months_in_year", "n_replications"):
        df[col] = df[col].astype("int64")
    return df
