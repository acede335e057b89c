"""The long-range forecast: 20-year baseline x 200 replications (issue 12's target: <= 60 s).

    .venv/bin/python benchmarks/bench_long_range.py [--people N] [--segments K] [--replications N]
        [--years N] [--processes N] [--parts split,baseline,needed] [--decomposition] [--quick] [--out PATH]

0. ``split``: one replication of the baseline in one process, with the walk and without it
   (level), CPU seconds each: what the walk's extra month tables cost;

then, on 2 processes (``--processes``) with the shipped population projection and the
rates' walk on, as ``llif forecast long-range`` runs them:

1. ``baseline``: the baseline alone, constrained, no unconstrained run (the target's shape);
2. ``baseline_with_needed``: the same with its unconstrained ("needed") run, which the
   decomposition reads demand from;
3. with ``--decomposition``: the whole ``run_long_range`` (baseline and the baseline without
   demographic change, each with its needed run; yearly summary and decomposition).

``--parts`` chooses which to run; the figures are merged into the JSON already there (so a
part can be re-measured alone). Each with wall and CPU seconds (the machine is shared: CPU is the steadier figure), month
tables built a replication, and the load averages. The census is ``toy_inputs`` resized to
``--people`` (34,500 ~ scale 1.0) with ``--segments`` segments; the toy's rates do not wander
from year to year, so they get the scale-1.0 provider's wander (docs/forecast_engine.md:
deaths 8%, sheltered 16%, moved out 5%, hospital 4%; arrivals 10%), without which the walk
would build no extra month tables and the figure would flatter. ``--quick``: 2,000 people, 10
replications, 5 years (a smoke run, not recorded unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "long_range.json"


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the worker processes)."""
    import resource

    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def census(people: int, segments: int):
    from simulation.inputs import DIED, HOSPITAL, MOVED_OUT, SHELTERED
    from simulation.testing import scale_inputs, toy_inputs

    base = toy_inputs(2000, seed=1, n_segments=segments)
    inputs = scale_inputs(base, people / base.n_people) if people != base.n_people else base
    sd = np.zeros(11)
    sd[[DIED, SHELTERED, MOVED_OUT, HOSPITAL]] = (0.08, 0.16, 0.05, 0.04)
    a = inputs.arrivals
    return replace(inputs, rate_drift_sd=sd, arrivals=replace(a, drift_sd=np.full(len(a.base_rate), 0.10)))


def timed(label: str, fn) -> tuple[dict, object]:
    load_before, wall, cpu = _load(), time.perf_counter(), _cpu()
    out = fn()
    fig = {"seconds": round(time.perf_counter() - wall, 2), "cpu_seconds": round(_cpu() - cpu, 2),
           "load_average": {"before": load_before, "after": _load()}}
    print(f"{label}: {json.dumps(fig)}", flush=True)
    return fig, out


def split(inputs, population, months: int, rounds: int = 3) -> dict:
    """One replication, one process: CPU seconds with the walk and with one level, in turns."""
    from simulation.long_range import long_range_scenarios
    from simulation.replications import run_forecast

    kw = dict(replications=1, months=months, run_date="2026-11-01", breakdowns=False, needed=False,
              population=population)
    cpu = {"walk": [], "level": []}
    for _ in range(rounds):
        for walk in (True, False):
            c = _cpu()
            run_forecast(inputs, long_range_scenarios()[:1], walk=walk, **kw)
            cpu["walk" if walk else "level"].append(_cpu() - c)
    fig = {k: round(float(np.median(v)), 3) for k, v in cpu.items()}
    fig["rounds"] = rounds
    fig["load_average"] = _load()
    print(f"split: {json.dumps(fig)}", flush=True)
    return fig


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=34500)
    ap.add_argument("--segments", type=int, default=6)
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--parts", default="split,baseline,needed")
    ap.add_argument("--decomposition", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.quick:
        args.people, args.replications, args.years = 2000, 10, 5
    from simulation.forecast_model import TRANSITION_WALK_YEARS
    from simulation.long_range import long_range_scenarios, run_long_range
    from simulation.population import default_projection
    from simulation.replications import run_forecast, warm_kernel

    inputs = census(args.people, args.segments)
    population = default_projection()
    months = 12 * args.years
    warm_kernel(inputs, long_range_scenarios()[0])
    baseline = long_range_scenarios()[:1]
    kw = dict(replications=args.replications, months=months, processes=args.processes, run_date="2026-11-01",
              breakdowns=False, population=population, walk=True)
    at_start = _load()
    parts = {}
    which = set(args.parts.split(","))
    if "split" in which:
        parts["one_replication_cpu_seconds"] = split(inputs, population, months)
    if "baseline" in which:
        parts["baseline"], _ = timed("baseline", lambda: run_forecast(inputs, baseline, needed=False, **kw))
    if "needed" in which:
        parts["baseline_with_needed"], _ = timed("baseline with needed", lambda: run_forecast(inputs, baseline, **kw))
    if args.decomposition:
        parts["long_range_decomposition"], _ = timed("run_long_range", lambda: run_long_range(
            inputs, years=args.years, population=population, replications=args.replications,
            processes=args.processes, run_date="2026-11-01"))
    steps = (args.years - 1) // TRANSITION_WALK_YEARS + 1
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
        "census": f"toy_inputs resized to {inputs.n_people} people, {args.segments} segments "
                  "(no real scale-1.0 inputs on this machine), the scale-1.0 rates' year-to-year wander",
        "lattice_cells": int(inputs.lattice.size),
        "replications": args.replications, "years": args.years, "months": months, "processes": args.processes,
        "population": str(population.source), "walk": True,
        "month_tables_per_replication": 12 * steps if inputs.rate_drift_sd.any() else 12,
        "target": "20-year baseline x 200 replications <= 60 s (issue 12)",
        "load_average_at_start": at_start, "load_average_at_end": _load(),
        **parts,
    }
    out = Path(args.out) if args.out else (None if args.quick else RESULTS)
    if out is not None and out.exists():   # keep the parts not measured this time
        result = {**json.loads(out.read_text()), **result}   # each part carries its own load averages
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
