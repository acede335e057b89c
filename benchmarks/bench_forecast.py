"""The forecast engine at scale 1.0, measured side by side in one run.

    .venv/bin/python benchmarks/bench_forecast.py [--warehouse PATH] [--people N] [--replications N]

Four figures (docs/forecast_engine.md, issue #5):

1. engine vs reference model (one Mesa agent per person) on the same census and months:
   the engine must be at least 100 times faster;
2. person-months a second of the engine in one process (target 10 million);
3. the baseline and the seven shipped scenarios, 200 replications each, 60 months, on 2
   processes, under 2 minutes - measured alone (``scenarios_only``) and as the nightly run
   does it, with the unconstrained ("needed") runs the scenarios share (``nightly``);
4. peak memory.

The census: by default the inputs a real scale-1.0 nightly forecast ran on (``--inputs``, the
``forecasts/`` folder of its LLIF_HOME: tonight's census of about 34,500 people with the
champion models' probability table, exactly what the nightly asset simulates); else a
warehouse's (``--warehouse``) estimated with ``estimate_inputs`` and resampled to ``--people``
with capacity and arrivals scaled alike; else the synthetic ``toy_inputs`` provider of that
size. The JSON says which.
CPU seconds are given beside wall seconds: the machine is shared, and CPU time is the
steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "forecast.json"
DEV = Path("/work/devdata/home02/warehouse.duckdb")
DEV_INPUTS = Path("/work/devdata/home10/forecasts")


def _inputs(warehouse: Path | None, people: int, nightly_inputs: Path | None = None):
    from simulation.testing import scale_inputs, toy_inputs

    if nightly_inputs is not None:
        from simulation.inputs import load_inputs

        inputs = load_inputs(nightly_inputs)
        if inputs is None:
            raise SystemExit(f"no readable inputs.pkl in {nightly_inputs}: run the nightly forecast there first")
        return inputs, {"census": "a scale-1.0 nightly forecast's inputs (real census, champion tables)",
                        "inputs": str(nightly_inputs), "tables": inputs.provenance.get("tables")}

    if warehouse and warehouse.exists():
        import duckdb

        from simulation.inputs import estimate_inputs

        con = duckdb.connect(str(warehouse), read_only=True)
        base = estimate_inputs(con)
        con.close()
        inputs = scale_inputs(base, people / base.n_people)
        return inputs, {"census": "warehouse, resampled", "warehouse": str(warehouse),
                        "warehouse_people": base.n_people, "scaled_by": round(people / base.n_people, 3)}
    return toy_inputs(people, seed=0), {"census": "synthetic (simulation.testing.toy_inputs)"}


def _timed(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def engine_vs_reference(inputs, months: int) -> dict:
    from simulation.forecast_model import K, arrival_caps, draw_params, run_one, stream_seeds
    from simulation.reference import run_reference
    from simulation.scenarios import build_plan

    plan = build_plan(inputs, None, months)
    caps = arrival_caps(inputs, [plan], months)
    params = draw_params(inputs, stream_seeds(np.random.SeedSequence(1), 0), months, caps)
    run_one(inputs, plan, params)  # warm the month tables, as every later scenario of a replication finds them
    e_out, e_wall, e_cpu = _timed(lambda: run_one(inputs, plan, params))
    r_out, r_wall, r_cpu = _timed(lambda: run_reference(inputs, plan, params, seed=1))
    pm = float(e_out[K["people_total"]].sum())
    return {"people": inputs.n_people, "months": months, "person_months": pm,
            "engine_seconds": round(e_wall, 3), "engine_cpu_seconds": round(e_cpu, 3),
            "reference_seconds": round(r_wall, 2), "reference_cpu_seconds": round(r_cpu, 2),
            "speedup_cpu": round(r_cpu / e_cpu, 1), "speedup_wall": round(r_wall / e_wall, 1),
            "reference_person_months_per_second": round(float(r_out[K["people_total"]].sum()) / r_cpu)}


def one_process_rate(inputs, months: int, runs: int) -> dict:
    from simulation.forecast_model import K, arrival_caps, draw_params, run_one, stream_seeds
    from simulation.scenarios import build_plan

    plan = build_plan(inputs, None, months)
    caps = arrival_caps(inputs, [plan], months)
    root = np.random.SeedSequence(2)
    params = [draw_params(inputs, stream_seeds(root, r), months, caps, rep=r) for r in range(runs)]
    for p in params:   # month tables are built once per replication and shared by its scenarios
        run_one(inputs, plan, p)
    outs, wall, cpu = _timed(lambda: [run_one(inputs, plan, p) for p in params])
    pm = float(sum(o[K["people_total"]].sum() for o in outs))
    _, pwall, pcpu = _timed(lambda: [draw_params(inputs, stream_seeds(root, r), months, caps, rep=r)
                                     for r in range(runs)])
    return {"runs": runs, "months": months, "person_months": pm, "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2), "person_months_per_second_cpu": round(pm / cpu),
            "person_months_per_second_wall": round(pm / wall),
            "per_replication_setup_cpu_seconds": round(pcpu / runs, 4)}


def nightly(inputs, replications: int, months: int, processes: int, needed: bool = True) -> dict:
    from simulation.outputs import summarise
    from simulation.replications import run_forecast
    from simulation.scenarios import shipped_scenarios

    scenarios = shipped_scenarios()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res, wall, cpu_self = _timed(lambda: run_forecast(inputs, scenarios, replications=replications, months=months,
                                                      run_date="2026-11-22", processes=processes, needed=needed))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_children = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    _, s_wall, _ = _timed(lambda: summarise(res))
    runs = len(res.values) + len(res.unconstrained)
    pm = float(sum(v[:, res.kpis.index("people_total")].sum() for v in [*res.values.values(), *res.unconstrained.values()]))
    return {"scenarios": len(scenarios), "unconstrained_runs": len(res.unconstrained), "runs_per_replication": runs,
            "replications": replications, "months": months, "processes": processes,
            "seconds": round(wall, 1), "cpu_seconds": round(cpu_self + cpu_children, 1),
            "person_months": pm, "person_months_per_second_wall": round(pm / wall),
            "summarise_seconds": round(s_wall, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", default=str(DEV_INPUTS) if (DEV_INPUTS / "inputs.pkl").exists() else None,
                        help="a forecasts/ folder holding a nightly run's inputs.pkl")
    parser.add_argument("--warehouse", default=str(DEV) if DEV.exists() else None)
    parser.add_argument("--people", type=int, default=18000)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--reference-months", type=int, default=12)
    args = parser.parse_args(argv)
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    inputs, source = _inputs(Path(args.warehouse) if args.warehouse else None, args.people,
                             Path(args.inputs) if args.inputs else None)
    print(f"census: {inputs.n_people} people ({source['census']})", flush=True)
    side = engine_vs_reference(inputs, args.reference_months)
    print("engine vs reference:", json.dumps(side), flush=True)
    rate = one_process_rate(inputs, 60, 10)
    print("one process:", json.dumps(rate), flush=True)
    bare = nightly(inputs, args.replications, 60, args.processes, needed=False)
    print("8 scenarios x 200 x 60 (no unconstrained runs):", json.dumps(bare), flush=True)
    night = nightly(inputs, args.replications, 60, args.processes)
    print("nightly workload (with the unconstrained runs):", json.dumps(night), flush=True)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_at_start": round(load_at_start, 2) if load_at_start is not None else None,
        "load_average_at_end": round(load, 2) if load is not None else None,
        **source,
        "people": inputs.n_people,
        "engine_vs_reference": side,
        "one_process": rate,
        "scenarios_only": bare,
        "nightly": night,
        "peak_rss_gb": {"main": round(peak_self, 2), "largest_worker": round(peak_child, 2)},
        "targets": {"speedup": 100, "person_months_per_second": 10_000_000, "nightly_seconds": 120},
        "recorded": time.strftime("%Y-%m-%d"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
