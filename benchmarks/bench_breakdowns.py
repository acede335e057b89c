"""The forecast with and without its breakdowns by area, segment and age band, side by side.

    .venv/bin/python benchmarks/bench_breakdowns.py [--people N] [--segments K] [--runs N]
        [--replications N] [--processes N] [--rounds N] [--out PATH]

Issue 12's target: the nightly forecast with the breakdowns (baseline + 7 scenarios x 200
replications x 60 months, 2 cores) in at most 120 s at scale 1.0, where it took 94 s without
(docs/forecast_engine.md, "Speed"). Measured in one run, on the same inputs and replications,
with the breakdowns on and off in turns so the machine's other work weighs on both alike:

1. one process, 60 months, ``--runs`` replications of the baseline: CPU seconds and
   person-months a second each way, and the counting's share of a month;
2. the nightly shape (the shipped scenarios and their unconstrained runs, 2 processes) at
   ``--replications``: wall and CPU seconds each way, ``summarise`` (which now writes
   ``kpi_breakdown``) and the breakdown arrays' size, extrapolated to 200 replications;
3. the load averages before and after each part (the machine is shared).

The census is ``toy_inputs`` sized like scale 1.0 with ``--segments`` segments (the nightly
segmentation chooses 4-8), the numba kernel (the default). The JSON says which.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "breakdowns.json"


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _cpu() -> float:
    """CPU seconds of this process and its finished children."""
    import resource

    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def one_process(inputs, months: int, runs: int, rounds: int = 3) -> dict:
    from simulation.forecast_model import K, arrival_caps, draw_params, run_one, stream_seeds
    from simulation.scenarios import build_plan

    plan = build_plan(inputs, None, months)
    caps = arrival_caps(inputs, [plan], months)
    root = np.random.SeedSequence(2)
    params = [draw_params(inputs, stream_seeds(root, r), months, caps, rep=r) for r in range(runs)]
    for p in params:   # month tables and the kernel warm, as every later scenario finds them
        run_one(inputs, plan, p, breakdown=True)
    load_before = _load()
    cpu = {False: 0.0, True: 0.0}
    pm = 0.0
    for _ in range(rounds):
        for on in (False, True):
            c0 = time.process_time()
            outs = [run_one(inputs, plan, p, breakdown=on) for p in params]
            cpu[on] += time.process_time() - c0
            if not on:
                pm += float(sum(o[K["people_total"]].sum() for o in outs))
    pm /= rounds
    out = {"runs": runs, "months": months, "rounds": rounds, "person_months_per_round": pm}
    for on, label in ((False, "without"), (True, "with")):
        out[label] = {"cpu_seconds": round(cpu[on], 2), "person_months_per_second_cpu": round(rounds * pm / cpu[on]),
                      "ms_per_month_cpu": round(1000 * cpu[on] / (rounds * runs * months), 3)}
    out["overhead_cpu"] = round(cpu[True] / cpu[False] - 1, 3)
    out["load_average"] = {"before": load_before, "after": _load()}
    return out


def nightly_shape(inputs, replications: int, months: int, processes: int, rounds: int = 1) -> dict:
    from simulation.outputs import kpi_breakdown, summarise
    from simulation.replications import run_forecast
    from simulation.scenarios import shipped_scenarios

    scenarios = shipped_scenarios()
    load_before = _load()
    got: dict = {False: [0.0, 0.0], True: [0.0, 0.0]}
    res_on = None
    for _ in range(rounds):
        for on in (False, True):
            c0, w0 = _cpu(), time.perf_counter()
            res = run_forecast(inputs, scenarios, replications=replications, months=months, run_date="2026-11-22",
                               processes=processes, needed=True, breakdowns=on)
            got[on][0] += time.perf_counter() - w0
            got[on][1] += _cpu() - c0
            if on:
                res_on = res
    w0 = time.perf_counter()
    summarise(res_on)
    s_wall = time.perf_counter() - w0
    w0 = time.perf_counter()
    rows = len(kpi_breakdown(res_on))
    b_wall = time.perf_counter() - w0
    size = sum(a.nbytes for a in res_on.breakdown.values())
    out = {"scenarios": len(scenarios), "unconstrained_runs": len(res_on.unconstrained), "replications": replications,
           "months": months, "processes": processes, "rounds": rounds,
           "series_per_run": res_on.breakdown_layout.n_series}
    for on, label in ((False, "without"), (True, "with")):
        wall, cpu = got[on]
        out[label] = {"seconds": round(wall / rounds, 1), "cpu_seconds": round(cpu / rounds, 1)}
    out["overhead_wall"] = round(got[True][0] / got[False][0] - 1, 3)
    out["overhead_cpu"] = round(got[True][1] / got[False][1] - 1, 3)
    out["summarise_seconds_with_breakdown"] = round(s_wall, 1)
    out["kpi_breakdown_seconds"] = round(b_wall, 1)
    out["kpi_breakdown_rows"] = rows
    out["breakdown_arrays_gb"] = round(size / 1e9, 3)
    out["breakdown_arrays_gb_at_200_replications"] = round(size / 1e9 * 200 / replications, 2)
    out["load_average"] = {"before": load_before, "after": _load()}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=34500)
    parser.add_argument("--segments", type=int, default=6)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="nightly-shape runs each way, in turns")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    from simulation import kernel
    from simulation.testing import toy_inputs

    load_at_start = _load()
    inputs = toy_inputs(args.people, seed=0, n_segments=args.segments)
    print(f"census: {inputs.n_people} people, {args.segments} segments, kernel {kernel.name()}", flush=True)
    one = one_process(inputs, 60, args.runs)
    print("one process:", json.dumps(one), flush=True)
    night = nightly_shape(inputs, args.replications, 60, args.processes, rounds=args.rounds)
    print("nightly shape:", json.dumps(night), flush=True)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "census": "synthetic (simulation.testing.toy_inputs), sized like scale 1.0",
        "people": inputs.n_people, "segments": args.segments, "kernel": kernel.name(),
        "load_average_at_start": load_at_start, "load_average_at_end": _load(),
        "one_process": one, "nightly_shape": night,
        "target": "nightly (8 scenarios x 200 x 60, 2 cores, scale 1.0) with breakdowns <= 120 s; 94.3 s without "
                  "(benchmarks/results/forecast.json, 2026-11-22)",
        "recorded": time.strftime("%Y-%m-%d"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
