"""Long-range forecasts: up to 20 years, yearly outputs, and where the change in demand comes from.

Why a mode of its own: capital planning (a new extra-care scheme takes 3-5 years to build)
needs 20 years, and over 20 years two things the nightly 60 months can ignore dominate:

- **who there is.** Arrivals from outside scale with the projected population of their own
  area and age band (``simulation.population``; the engine weighs each recent arrival it copies
  by that factor, ``ForecastModel._template_weights``), by the scenario knob ``demography``;
- **how far rates can wander.** One level of the rates drawn for the whole horizon gives bands
  that stop widening after the first years; here the year-to-year wander is a random walk
  (``draw_params(walk=True)``: arrivals every year, moves between states every
  ``TRANSITION_WALK_YEARS``), so the bands keep widening with the horizon.

Outputs are yearly, per replication (``yearly``: flows summed over the year, stocks at its
end, averages its mean - the KPI catalogue's aggregation), and bands are computed from those
per-replication years, never by adding monthly bands. ``decompose`` splits the change in a KPI
into rates, demography and the scenario with three runs on common random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts.forecast import STATS
from contracts.vocabulary.kpis import END_OF_PERIOD, KPI, MEAN, SUM
from simulation.outputs import _band_stats, _with_needed
from simulation.replications import ForecastResults, run_forecast
from simulation.scenarios import Scenario, validate

MAX_YEARS = 20
BASELINE = "baseline"
NO_DEMOGRAPHY = "baseline_no_demography"
# what the decomposition reports by default: demand (the unconstrained run's places and hours,
# which capacity does not cap) and the queue the schemes cannot take
DECOMPOSITION_KPIS: tuple[str, ...] = ("needed_residential_beds", "needed_nursing_beds", "needed_extra_care_flats",
                                       "needed_home_care_hours", "waiting_extra_care")
COMPONENTS = ("start", "rates", "demography", "scenario", "total", "end")


def yearly(values: np.ndarray, kpis) -> np.ndarray:
    """(reps, kpis, months) -> (reps, kpis, years), within each replication: a flow's year is
    the sum of its months, a stock's its last month, an average's the mean of its months (the
    catalogue's aggregation). Year y is months 12(y-1)+1 .. 12y; a last, shorter year is kept."""
    n_m = values.shape[2]
    bounds = [(a, min(a + 12, n_m)) for a in range(0, n_m, 12)]
    out = np.empty(values.shape[:2] + (len(bounds),))
    how = np.array([KPI[k].aggregation for k in kpis])
    for y, (a, b) in enumerate(bounds):
        block = values[:, :, a:b]
        out[:, how == SUM, y] = block[:, how == SUM].sum(axis=2)
        out[:, how == END_OF_PERIOD, y] = block[:, how == END_OF_PERIOD, -1]
        out[:, how == MEAN, y] = block[:, how == MEAN].mean(axis=2)
    return out


def scenario_years(results: ForecastResults, scenario: str) -> tuple[np.ndarray, list[str]]:
    """A scenario's yearly values per replication, its unconstrained ("needed") KPIs included."""
    arr, kpis = _with_needed(results, scenario)
    return yearly(arr, kpis), kpis


def yearly_summary(results: ForecastResults) -> pd.DataFrame:
    """Per scenario, forecast year and KPI: the bands of the yearly values (``contracts.forecast.
    STATS``), each from the per-replication years."""
    parts = []
    for sc in results.scenarios:
        yr, kpis = scenario_years(results, sc.name)
        stats = _band_stats(yr)                      # (stats, kpis, years)
        n_k, n_y = yr.shape[1], yr.shape[2]
        frame = {"scenario": sc.name, "year": np.tile(np.arange(1, n_y + 1), n_k),
                 "kpi": np.repeat(np.asarray(kpis, dtype=object), n_y),
                 "aggregation": np.repeat([KPI[k].aggregation for k in kpis], n_y)}
        for i, s in enumerate(STATS):
            frame[s] = stats[i].reshape(-1)
        frame["n_replications"] = yr.shape[0]
        parts.append(pd.DataFrame(frame))
    return pd.concat(parts, ignore_index=True)


def decompose(results: ForecastResults, kpis=DECOMPOSITION_KPIS, years=(5, 10, 20), *,
              with_demography: str = BASELINE, without_demography: str = NO_DEMOGRAPHY,
              scenario: str | None = None) -> pd.DataFrame:
    """Where the change in each KPI comes from, per replication, then summarised.

    With A the run with demographic change, B the same without it and C a scenario with it (all
    three on the same random numbers), in year y of replication r:

    - ``start``: B in the first forecast year (the engine reports no census month, and a flow
      has no census-year value; the first year is the nearest like-for-like level);
    - ``rates``: B(y) - start, the change today's rates, trends and their wander bring alone;
    - ``demography``: A(y) - B(y), what the projected population adds;
    - ``scenario``: C(y) - A(y) (0 without a scenario);
    - ``total`` = rates + demography + scenario, and ``end`` = start + total = C(y) (or A(y)).

    The parts add up to the total in every replication, so their means add up exactly; their
    bands are each part's own (a band of a sum is not the sum of bands)."""
    a, names = scenario_years(results, with_demography)
    b, _ = scenario_years(results, without_demography)
    c = scenario_years(results, scenario)[0] if scenario else a
    n_y = a.shape[2]
    want = [y for y in years if 1 <= y <= n_y]
    rows = []
    for k in kpis:
        if k not in names:
            raise ValueError(f"decompose: unknown KPI {k!r} (not in this run's results)")
        i = names.index(k)
        start = b[:, i, 0]
        for y in want:
            parts = {"start": start, "rates": b[:, i, y - 1] - start, "demography": a[:, i, y - 1] - b[:, i, y - 1],
                     "scenario": c[:, i, y - 1] - a[:, i, y - 1]}
            parts["total"] = parts["rates"] + parts["demography"] + parts["scenario"]
            parts["end"] = start + parts["total"]
            for comp in COMPONENTS:
                v = parts[comp]
                rows.append({"kpi": k, "year": y, "component": comp, "mean": float(v.mean()),
                             "p10": float(np.quantile(v, 0.10)), "p50": float(np.quantile(v, 0.5)),
                             "p90": float(np.quantile(v, 0.90)), "n_replications": len(v),
                             "scenario": scenario or with_demography})
    return pd.DataFrame(rows)


@dataclass
class LongRange:
    results: ForecastResults
    yearly: pd.DataFrame
    decomposition: pd.DataFrame


def long_range_scenarios(demography: float = 1.0, scenario: Scenario | None = None) -> list[Scenario]:
    """The runs a decomposition needs: the baseline with ``demography``, the baseline without
    demographic change, and the scenario (if any) with ``demography``."""
    runs = [validate({"name": BASELINE, "description": "Tonight's rates and capacity, the projected population.",
                      "demography": float(demography)}),
            validate({"name": NO_DEMOGRAPHY, "description": "Tonight's rates and capacity, the census's population.",
                      "demography": 0.0})]
    if scenario is not None:
        runs.append(validate({**scenario.spec, "demography": float(scenario.spec.get("demography", demography))},
                             scenario.source))
    return runs


def run_long_range(inputs, *, years: int = MAX_YEARS, demography: float = 1.0, scenario: Scenario | None = None,
                   population=None, replications: int = 200, processes: int = 1, run_date=None, progress=None,
                   decomposition_kpis=DECOMPOSITION_KPIS) -> LongRange:
    """A long-range forecast of ``years`` (at most 20) with its yearly bands and decomposition.
    ``population`` defaults to the setting's projection (``simulation.population``)."""
    if not 1 <= years <= MAX_YEARS:
        raise ValueError(f"long range: years must be 1 to {MAX_YEARS}, got {years}")
    if population is None:
        from simulation.population import default_projection

        population = default_projection()
    runs = long_range_scenarios(demography, scenario)
    results = run_forecast(inputs, runs, replications=replications, months=12 * years, run_date=run_date,
                           processes=processes, progress=progress, breakdowns=False, population=population,
                           walk=True)
    marks = tuple(sorted({y for y in (1, 5, 10, 15, 20, years) if y <= years}))
    table = decompose(results, decomposition_kpis, marks, scenario=runs[2].name if scenario is not None else None)
    return LongRange(results=results, yearly=yearly_summary(results), decomposition=table)


def write_long_range(lr: LongRange, out, demography: float):
    """Keep a long-range outlook as the explorer's Long range page reads it (``explorer.data.
    long_range``): ``yearly.csv``, ``decomposition.csv`` and ``metadata.json`` in ``out``."""
    import json
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lr.yearly.to_csv(out / "yearly.csv", index=False)
    lr.decomposition.to_csv(out / "decomposition.csv", index=False)
    meta = {k: v for k, v in lr.results.metadata.items() if k != "inputs_provenance"}
    (out / "metadata.json").write_text(json.dumps({**meta, "demography": demography}, indent=2, default=str))
    return out
