"""Backtest: forecast from the census of 12 or 24 months ago with inputs estimated only from
data before then, and compare with what happened.

Why: bands are only worth showing if they hold the truth about as often as they claim. The
reference in the field (witan.send) under-predicts its own backtest by 1.6-7.3% over one to
three years, and its 95% bands hold the actual in 61-77% of states (simulation.md).

The actual series come from the same warehouse, so the comparison is like for like: the
engine forecasts what the timeline will record (e.g. *known* hospital admissions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.engine import KPIS
from simulation.inputs import estimate_inputs, month_add, reference_month_of
from simulation.lattice import LIVE_STATES
from simulation.replications import run_forecast
from simulation.scenarios import baseline

KEY_SERIES = (*(f"people_{s}" for s in LIVE_STATES), "people_total", "deaths", "hospital_admissions",
              "care_home_admissions", "arrivals")


def actual_series(con, start, months: int) -> pd.DataFrame:
    """What the warehouse recorded for the months after ``start``: one row per month, one column
    per KPI of ``KEY_SERIES``."""
    first = pd.Timestamp(month_add(start, 1)).date()
    last = pd.Timestamp(month_add(start, months)).date()
    states = ", ".join(f"count(*) filter (where state = '{s}') as people_{s}" for s in LIVE_STATES)
    live = ", ".join(f"'{s}'" for s in LIVE_STATES)
    df = con.execute(f"""
        select month_start, {states},
               count(*) filter (where state in ({live})) as people_total,
               count(*) filter (where state = 'died') as deaths,
               sum(is_hospital_admission) as hospital_admissions,
               count(*) filter (where is_care_home_admission = 1
                                and state in ('residential_care', 'nursing_care')) as care_home_admissions,
               count(*) filter (where is_first_month = 1 and state in ({live})) as arrivals
        from marts.fct_person_month
        where month_start between ? and ?
        group by month_start order by month_start""", [first, last]).df()
    return df.set_index("month_start")


def compare(results, actual: pd.DataFrame, series=KEY_SERIES) -> dict:
    """Errors and band coverage of the baseline against the actual series."""
    arr = results.values[results.baseline_name]
    k = {name: i for i, name in enumerate(KPIS)}
    months = min(arr.shape[2], len(actual))
    rows = []
    for s in series:
        x = arr[:, k[s], :months]
        a = actual[s].to_numpy(float)[:months]
        lo80, hi80, lo95, hi95 = np.quantile(x, [0.1, 0.9, 0.025, 0.975], axis=0)
        mean = x.mean(axis=0)
        stock = s.startswith("people_")
        total_f = mean[-1] if stock else mean.sum()
        total_a = a[-1] if stock else a.sum()
        rows.append({
            "series": s, "kind": "stock at horizon" if stock else "total over horizon",
            "forecast": float(total_f), "actual": float(total_a),
            "pct_error": float((total_f - total_a) / total_a * 100) if total_a else np.nan,
            "mape_monthly": float(np.mean(np.abs(mean - a) / np.maximum(a, 1)) * 100),
            "coverage80": float(np.mean((a >= lo80) & (a <= hi80))),
            "coverage95": float(np.mean((a >= lo95) & (a <= hi95))),
        })
    table = pd.DataFrame(rows)
    return {
        "months": months,
        "total_pct_error": float(table.loc[table.series == "people_total", "pct_error"].iloc[0]),
        "coverage80": float(table.coverage80.mean()),
        "coverage95": float(table.coverage95.mean()),
        "series": table,
    }


def run_backtest(con, cutoff_months: int = 12, *, replications: int = 50, processes: int = 1, run_date=None,
                 n_segments: int = 0, segments=None, progress=None, **estimate_kwargs) -> dict:
    """Estimate inputs from data up to ``cutoff_months`` before the warehouse's reference
    month, forecast ``cutoff_months`` ahead from that census and compare with what happened."""
    ref = reference_month_of(con)
    cut = month_add(ref, -cutoff_months)
    inputs = estimate_inputs(con, as_of=cut, n_segments=n_segments, segments=segments, **estimate_kwargs)
    results = run_forecast(inputs, [baseline()], replications=replications, months=cutoff_months,
                           run_date=run_date or str(cut), processes=processes, needed=False, progress=progress)
    actual = actual_series(con, cut, cutoff_months)
    out = compare(results, actual)
    out.update({"cutoff": str(cut), "reference_month": str(ref), "replications": replications,
                "census_people": inputs.n_people})
    return out
