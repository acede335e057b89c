"""Replications: seeds, common random numbers, parameter uncertainty, parallel processes.

Why this shape:
- A root ``SeedSequence`` from the run date and the configuration hash; replication r's named
  streams (arrivals, transitions, rationing, parameters) are fixed descendants of it
  (``engine.stream_seeds``), so a replication's numbers do not depend on which process runs it
  or on how many replications there are: 1 or 8 processes, or a Dask or Ray cluster
  (``simulation.dispatch``), give the same arrays bit for bit.
- Common random numbers: one task runs *every* scenario of a replication, with the same
  parameter draw, the same arrivals' uniforms and the same per-slot streams; a scenario's
  difference from the baseline is then the policy, not noise (a scenario that changes nothing
  differs by exactly zero).
- "Needed" is the unconstrained run (capacity unlimited, no rationing). Capacity, cost and
  rationing do not change demand, so scenarios that differ only in those share one
  unconstrained run (``Scenario.demand_key``).
- Breakdowns (by area, segment and age band, ``simulation/breakdowns.py``) come with the
  constrained runs' values from the same model, so they are as independent of what runs them as
  the values are; kept as float32 (200 replications x 8 scenarios x ~1,800 series x 60
  months is about 0.7 GB, half what float64 would take).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from simulation import kernel
from simulation.breakdowns import Layout, layout_of
from simulation.dispatch import Dispatch, from_settings, run_batches
from simulation.forecast_model import KPIS, arrival_caps, draw_params, run_one, stream_seeds
from simulation.inputs import SimulationInputs
from simulation.scenarios import RunPlan, Scenario, baseline, build_plan

ENGINE_VERSION = "2.0"   # 2.0: slots keyed for randomness, recency, register, long-stay days


@dataclass
class ForecastResults:
    scenarios: list[Scenario]
    month_dates: np.ndarray
    values: dict[str, np.ndarray]          # scenario name -> (replications, kpis, months)
    unconstrained: dict[str, np.ndarray]   # demand key -> (replications, kpis, months)
    kpis: tuple[str, ...] = KPIS
    metadata: dict = field(default_factory=dict)
    costs: dict[str, dict] = field(default_factory=dict)   # scenario name -> the unit costs it priced with
    # scenario name -> (replications, series, months), rows as ``breakdown_layout.series``:
    # the KPIs by area, segment and age band (empty when the run was asked for none)
    breakdown: dict[str, np.ndarray] = field(default_factory=dict)
    breakdown_layout: Layout | None = None

    @property
    def baseline_name(self) -> str:
        return self.scenarios[0].name

    def years(self) -> list[tuple[int, int, int]]:
        """The forecast years as (year, first month index, end month index): year y is months
        12(y-1)+1 .. 12y of the horizon; a last, shorter year is kept."""
        n_m = len(self.month_dates)
        return [(y + 1, y * 12, min((y + 1) * 12, n_m)) for y in range((n_m + 11) // 12)]

    def needed(self, scenario: str) -> np.ndarray | None:
        sc = next(s for s in self.scenarios if s.name == scenario)
        return self.unconstrained.get(sc.demand_key)


def config_hash(inputs: SimulationInputs, months: int, parameter_uncertainty: bool) -> str:
    """What seeds the run besides the date: the inputs' content and the engine's version - not
    the scenarios (adding a scenario leaves the others' numbers alone) and not the horizon (a
    24-month what-if's baseline is the first 24 months of the nightly's)."""
    h = hashlib.sha256()
    h.update(inputs.fingerprint().encode())
    h.update(json.dumps({"engine": ENGINE_VERSION, "uncertainty": parameter_uncertainty}).encode())
    return h.hexdigest()[:16]


def default_run_date(inputs: SimulationInputs) -> str:
    """The run date when none is given: the first day after the census month, a fact of the
    data (never the wall clock), so the same census always draws the same numbers. The nightly
    forecast passes the night's logical date instead (``orchestration.night``)."""
    return str((np.datetime64(inputs.reference_month, "M") + 1).astype("datetime64[D]"))


def root_seed(run_date, chash: str) -> np.random.SeedSequence:
    d = date.fromisoformat(str(run_date)[:10])
    return np.random.SeedSequence([int(d.strftime("%Y%m%d")), int(chash, 16)])


# ---- worker side: module-level so spawned processes and cluster workers can import them

_STATE: dict = {}


def _state(inputs, plans, caps, root_entropy, months, uncertainty, breakdowns=False, walk=False) -> dict:
    return {"inputs": inputs, "plans": plans, "caps": caps, "root": np.random.SeedSequence(root_entropy),
            "months": months, "uncertainty": uncertainty, "breakdowns": breakdowns, "walk": walk}


def _init_worker(*init):
    _STATE.update(_state(*init))


def _run_reps(reps: list[int], s: dict | None = None) -> tuple[list[int], np.ndarray, np.ndarray | None]:
    """Every plan of each replication in ``reps``: (reps, (reps, plans, kpis, months), and the
    constrained plans' breakdowns (reps, constrained plans, series, months) or None)."""
    s = _STATE if s is None else s
    plans = s["plans"]
    out = np.zeros((len(reps), len(plans), len(KPIS), s["months"]))
    split = [j for j, p in enumerate(plans) if p.constrained] if s.get("breakdowns") else []
    groups = (np.zeros((len(reps), len(split), layout_of(s["inputs"]).n_series, s["months"]), dtype=np.float32)
              if split else None)
    for i, r in enumerate(reps):
        params = draw_params(s["inputs"], stream_seeds(s["root"], r), s["months"], s["caps"], rep=r,
                             parameter_uncertainty=s["uncertainty"], walk=s.get("walk", False))
        for j, plan in enumerate(plans):
            if j in split:
                out[i, j], groups[i, split.index(j)] = run_one(s["inputs"], plan, params, breakdown=True)
            else:
                out[i, j] = run_one(s["inputs"], plan, params)
    return reps, out, groups


def run_reps(init: tuple, reps: list[int]) -> tuple[list[int], np.ndarray, np.ndarray | None]:
    """A batch from the run's shared inputs alone (what Dask and Ray workers are sent)."""
    return _run_reps(reps, _state(*init))


def run_forecast(inputs: SimulationInputs, scenarios: list[Scenario] | None = None, *, replications: int = 200,
                 months: int = 60, run_date=None, processes: int = 1, parameter_uncertainty: bool = True,
                 needed: bool = True, progress=None, chunk: int | None = None,
                 mp_context: str | None = None, dispatch: Dispatch | None = None,
                 breakdowns: bool = True, population=None, walk: bool = False) -> ForecastResults:
    """Run the baseline and every scenario, ``replications`` times each.

    The first scenario is the baseline (one is added if none of them is). ``progress`` is a
    callable taking the number of replications just finished (a tqdm bar's ``update``).
    ``dispatch`` says what runs the replications (``simulation.dispatch``; default the setting,
    ``LLIF_DISPATCH``, else the local pool of ``processes``); the results are the same whatever
    runs them. ``breakdowns`` adds every scenario's KPIs by area, segment and age band
    (``ForecastResults.breakdown``); the goal seeks and the backtest, which read only totals,
    leave them out. ``population`` (``simulation.population.PopulationProjection``) scales
    arrivals with the projected population of their area and age band, by each scenario's
    ``demography``; ``walk`` makes the rates' year-to-year wander a random walk (long runs,
    ``simulation.long_range``). Neither changes the seeds: with both off the arrays are the
    nightly's, and a scenario with ``demography: 0`` is the run without a projection bit for bit.
    """
    started = time.perf_counter()
    scenarios = list(scenarios or [baseline()])
    if not scenarios[0].is_baseline:
        base = [s for s in scenarios if s.is_baseline]
        scenarios = (base[:1] or [baseline()]) + [s for s in scenarios if s not in base[:1]]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must be unique: {names}")
    plans: list[RunPlan] = [build_plan(inputs, s, months, constrained=True, population=population) for s in scenarios]
    demand_keys: list[str] = []
    if needed:
        for s in scenarios:
            if s.demand_key not in demand_keys:
                demand_keys.append(s.demand_key)
                plans.append(build_plan(inputs, s, months, constrained=False, population=population))
    caps = arrival_caps(inputs, plans, months, walk=walk)
    run_date = str(run_date)[:10] if run_date is not None else default_run_date(inputs)
    chash = config_hash(inputs, months, parameter_uncertainty)
    root = root_seed(run_date, chash)
    init = (inputs, plans, caps, root.entropy, months, parameter_uncertainty, breakdowns, walk)
    reps = list(range(replications))
    chunk = chunk or max(1, min(8, replications // max(4 * processes, 1) or 1))
    batches = [reps[i:i + chunk] for i in range(0, replications, chunk)]
    allout = np.zeros((replications, len(plans), len(KPIS), months))
    layout = layout_of(inputs) if breakdowns else None
    allgroups = (np.zeros((replications, len(scenarios), layout.n_series, months), dtype=np.float32)
                 if breakdowns else None)
    dispatch = dispatch or from_settings()
    if processes > 1 and dispatch.address is None:
        warm_kernel(inputs, scenarios[0])
    for got, arr, groups in run_batches(dispatch, run_reps, init, batches, processes, initializer=_init_worker,
                                        local_work=_run_reps, mp_context=mp_context):
        allout[got] = arr
        if groups is not None:
            allgroups[got] = groups
        if progress:
            progress(len(got))
    values = {s.name: allout[:, j] for j, s in enumerate(scenarios)}
    unconstrained = {k: allout[:, len(scenarios) + i] for i, k in enumerate(demand_keys)}
    meta = {
        "run_date": run_date,
        "config_hash": chash,
        "root_entropy": [int(x) for x in np.atleast_1d(root.entropy)],
        "replications": replications,
        "months": months,
        "processes": processes,
        "dispatch": dispatch.backend,
        "parameter_uncertainty": parameter_uncertainty,
        "breakdowns": breakdowns,
        "walk": walk,
        "population": population.source if population is not None else None,
        "engine_version": ENGINE_VERSION,
        "inputs_fingerprint": inputs.fingerprint(),
        "inputs_provenance": inputs.provenance,
        "reference_month": str(inputs.reference_month),
        "scenarios": {s.name: {"hash": s.content_hash, "demand_key": s.demand_key, "source": s.source,
                               "description": s.description} for s in scenarios},
        "seconds": round(time.perf_counter() - started, 2),
        "packages": package_versions(),
    }
    breakdown = {s.name: allgroups[:, j] for j, s in enumerate(scenarios)} if breakdowns else {}
    return ForecastResults(scenarios=scenarios, month_dates=plans[0].month_dates, values=values,
                           unconstrained=unconstrained, metadata=meta, breakdown=breakdown,
                           breakdown_layout=layout,
                           costs={s.name: dict(plans[j].costs) for j, s in enumerate(scenarios)})


def warm_kernel(inputs: SimulationInputs, scenario: Scenario) -> None:
    """Compile (or load) the month kernel in this process before the workers start.

    Why: numba compiles a function on its first call. Left to the workers, each of a fresh
    install's forked workers compiled the whole kernel itself (16-27 s of CPU each, all at once);
    run here first, forked workers inherit the compiled code and spawned or local-cluster workers
    load the cache this run just wrote. Two months of one replication, constrained (with its
    breakdowns) and not, touch every kernel the night's runs call; the replication's numbers are thrown away (they are
    drawn from a stream no forecast uses), so nothing a forecast returns depends on it."""
    if kernel.selected() is None:
        return
    plans = [build_plan(inputs, scenario, 2, constrained=c) for c in (True, False)]
    caps = arrival_caps(inputs, plans, 2)
    params = draw_params(inputs, stream_seeds(np.random.SeedSequence(0), 0), 2, caps, rep=0,
                         parameter_uncertainty=False)
    for plan in plans:   # the constrained run counts its breakdowns too (their compiled loops)
        run_one(inputs, plan, params, breakdown=plan.constrained)


def package_versions() -> dict:
    import mesa
    import numpy
    import scipy

    versions = {"numpy": numpy.__version__, "scipy": scipy.__version__, "mesa": mesa.__version__}
    try:
        import pandas
        versions["pandas"] = pandas.__version__
    except ImportError:  # pragma: no cover
        pass
    return versions
