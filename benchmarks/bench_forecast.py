"""The forecast engine at scale 1.0, measured side by side in one run.

    .venv/bin/python benchmarks/bench_forecast.py [--warehouse PATH] [--people N] [--replications N]
        [--kernels numba,numpy] [--nightly-kernels numba,numpy] [--out PATH]

Each figure is taken for every month kernel asked for (``--kernels``: the compiled numba kernel
and the numpy path, ``simulation/kernel.py``), beside the per-person reference, in one run
(docs/forecast_engine.md, issues #5 and #14):

1. engine vs reference model (one Mesa agent per person) on the same census and months:
   the engine must be at least 100 times faster; the kernels' arrays must be equal;
2. person-months a second of the engine in one process (target 50 million a core for the
   compiled kernel, issue 14), the kernels run in turns so a busy machine weighs on both alike;
3. the baseline and the seven shipped scenarios, 200 replications each, 60 months, on 2
   processes - measured alone (``scenarios_only``) and as the nightly run does it, with the
   unconstrained ("needed") runs the scenarios share (``nightly``), per kernel
   (``--nightly-kernels``);
4. the kernel's compile time in a fresh process with an empty numba cache, and with it filled;
5. peak memory, and the load averages before and after each part (the machine is shared).

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


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _use(kernel: str) -> None:
    """Run the engine (and the workers this process starts) on ``kernel``."""
    from simulation import kernel as choice

    os.environ["LLIF_FORECAST_KERNEL"] = kernel
    if choice.name() != kernel:
        raise SystemExit(f"kernel {kernel} asked for, {choice.name()} running")


def engine_vs_reference(inputs, months: int, kernels: list[str]) -> dict:
    from simulation.forecast_model import K, arrival_caps, draw_params, run_one, stream_seeds
    from simulation.reference import run_reference
    from simulation.scenarios import build_plan

    plan = build_plan(inputs, None, months)
    caps = arrival_caps(inputs, [plan], months)
    params = draw_params(inputs, stream_seeds(np.random.SeedSequence(1), 0), months, caps)
    load_before = _load()
    out = {"people": inputs.n_people, "months": months}
    engine = {}
    for k in kernels:
        _use(k)
        run_one(inputs, plan, params)  # warm the month tables (and the kernel), as every later scenario finds them
        e_out, e_wall, e_cpu = _timed(lambda: run_one(inputs, plan, params))
        engine[k] = (e_out, e_wall, e_cpu)
        out["person_months"] = float(e_out[K["people_total"]].sum())
    r_out, r_wall, r_cpu = _timed(lambda: run_reference(inputs, plan, params, seed=1))
    out.update({"reference_seconds": round(r_wall, 2), "reference_cpu_seconds": round(r_cpu, 2),
                "reference_person_months_per_second": round(float(r_out[K["people_total"]].sum()) / r_cpu)})
    for k, (e_out, e_wall, e_cpu) in engine.items():
        out[k] = {"engine_seconds": round(e_wall, 4), "engine_cpu_seconds": round(e_cpu, 4),
                  "speedup_cpu": round(r_cpu / e_cpu, 1), "speedup_wall": round(r_wall / e_wall, 1)}
    if len(engine) > 1:
        first = next(iter(engine.values()))[0]
        out["kernels_identical"] = all(np.array_equal(first, e[0]) for e in engine.values())
    out["load_average"] = {"before": load_before, "after": _load()}
    return out


def one_process_rate(inputs, months: int, runs: int, kernels: list[str], rounds: int = 3) -> dict:
    """Person-months a second in this process, each kernel on the same replications; the kernels
    take turns (``rounds`` times) so the machine's other work weighs on each alike."""
    from simulation.forecast_model import K, arrival_caps, draw_params, run_one, stream_seeds
    from simulation.scenarios import build_plan

    plan = build_plan(inputs, None, months)
    caps = arrival_caps(inputs, [plan], months)
    root = np.random.SeedSequence(2)
    params = [draw_params(inputs, stream_seeds(root, r), months, caps, rep=r) for r in range(runs)]
    load_before = _load()
    for k in kernels:   # month tables are built once per replication and shared by its scenarios
        _use(k)
        for p in params:
            run_one(inputs, plan, p)
    totals = {k: [0.0, 0.0, 0.0] for k in kernels}   # person-months, wall, cpu
    first = {}
    for _ in range(rounds):
        for k in kernels:
            _use(k)
            outs, wall, cpu = _timed(lambda: [run_one(inputs, plan, p) for p in params])
            first.setdefault(k, outs)
            t = totals[k]
            t[0] += float(sum(o[K["people_total"]].sum() for o in outs))
            t[1] += wall
            t[2] += cpu
    _, pwall, pcpu = _timed(lambda: [draw_params(inputs, stream_seeds(root, r), months, caps, rep=r)
                                     for r in range(runs)])
    out = {"runs": runs, "months": months, "rounds": rounds, "person_months_per_round": totals[kernels[0]][0] / rounds,
           "per_replication_setup_cpu_seconds": round(pcpu / runs, 4)}
    for k, (pm, wall, cpu) in totals.items():
        out[k] = {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                  "person_months_per_second_cpu": round(pm / cpu), "person_months_per_second_wall": round(pm / wall),
                  "ms_per_month_cpu": round(1000 * cpu / (rounds * runs * months), 3)}
    if len(kernels) > 1:
        a = first[kernels[0]]
        out["kernels_identical"] = all(np.array_equal(x, y) for k in kernels[1:] for x, y in zip(a, first[k]))
    if "numba" in totals and "numpy" in totals:
        out["numba_speedup_cpu"] = round(totals["numpy"][2] / totals["numba"][2], 2)
    out["load_average"] = {"before": load_before, "after": _load()}
    return out


def compile_time() -> dict:
    """The kernel's first use in a fresh process: with an empty numba cache (a fresh clone, a
    new LLIF_HOME) and with the cache it left (every later process)."""
    import subprocess
    import tempfile

    code = ("import time; t = time.perf_counter(); from simulation.testing import toy_inputs; "
            "from simulation.replications import run_forecast; i = toy_inputs(300, seed=1); "
            "t0 = time.perf_counter(); run_forecast(i, replications=1, months=3, run_date='2026-11-01'); "
            "print(time.perf_counter() - t0)")
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "LLIF_FORECAST_KERNEL": "numba"}
        for label in ("cold_cache_seconds", "warm_cache_seconds"):
            done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                                  check=True)
            out[label] = round(float(done.stdout.split()[-1]), 2)
        env["LLIF_FORECAST_KERNEL"] = "numpy"
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        out["numpy_path_seconds"] = round(float(done.stdout.split()[-1]), 2)
    out["what"] = "one replication, 3 months, 300 people, run_forecast in a fresh process (compile or cache load included)"
    # a fresh install's first pooled forecast: the parent compiles once before the pool forks
    # (replications.warm_kernel), against every worker compiling for itself (the warm-up off)
    pooled = ("import resource, time; import simulation.replications as R; from simulation.testing import toy_inputs; "
              "{off}i = toy_inputs(3000, seed=1); t0 = time.perf_counter(); "
              "R.run_forecast(i, replications=8, months=12, processes=2, run_date='2026-11-01'); "
              "c = resource.getrusage(resource.RUSAGE_SELF); k = resource.getrusage(resource.RUSAGE_CHILDREN); "
              "print(time.perf_counter() - t0, c.ru_utime + c.ru_stime + k.ru_utime + k.ru_stime)")
    for label, off in (("pool_cold_warmed", ""), ("pool_cold_each_worker_compiles", "R.warm_kernel = lambda *a: None; ")):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache, "LLIF_FORECAST_KERNEL": "numba"}
            done = subprocess.run([sys.executable, "-c", pooled.format(off=off)], cwd=ROOT, env=env,
                                  capture_output=True, text=True, check=True)
            wall, cpu = (float(x) for x in done.stdout.split()[-2:])
            out[label] = {"wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2)}
    out["pool_what"] = "8 replications x 12 months, 3,000 people, 2 forked workers, empty numba cache"
    return out


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
    cpu = cpu_self + cpu_children
    return {"scenarios": len(scenarios), "unconstrained_runs": len(res.unconstrained), "runs_per_replication": runs,
            "replications": replications, "months": months, "processes": processes,
            "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "person_months": pm, "person_months_per_second_wall": round(pm / wall),
            "person_months_per_second_cpu": round(pm / cpu), "summarise_seconds": round(s_wall, 1),
            "load_average_after": _load()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", default=str(DEV_INPUTS) if (DEV_INPUTS / "inputs.pkl").exists() else None,
                        help="a forecasts/ folder holding a nightly run's inputs.pkl")
    parser.add_argument("--warehouse", default=str(DEV) if DEV.exists() else None)
    parser.add_argument("--people", type=int, default=18000)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--reference-months", type=int, default=12)
    parser.add_argument("--kernels", default="numba,numpy", help="month kernels measured side by side")
    parser.add_argument("--nightly-kernels", default="numba,numpy",
                        help="kernels the 8 scenarios x 200 x 60 runs are measured on ('' for none)")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    kernels = [k for k in args.kernels.split(",") if k]
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    inputs, source = _inputs(Path(args.warehouse) if args.warehouse else None, args.people,
                             Path(args.inputs) if args.inputs else None)
    print(f"census: {inputs.n_people} people ({source['census']})", flush=True)
    compiled = compile_time() if "numba" in kernels else None
    print("kernel compile:", json.dumps(compiled), flush=True)
    side = engine_vs_reference(inputs, args.reference_months, kernels)
    print("engine vs reference:", json.dumps(side), flush=True)
    rate = one_process_rate(inputs, 60, 10, kernels)
    print("one process:", json.dumps(rate), flush=True)
    bare, night = {}, {}
    for k in [k for k in args.nightly_kernels.split(",") if k]:
        _use(k)
        bare[k] = nightly(inputs, args.replications, 60, args.processes, needed=False)
        print(f"{k}: 8 scenarios x {args.replications} x 60 (no unconstrained runs):", json.dumps(bare[k]), flush=True)
        night[k] = nightly(inputs, args.replications, 60, args.processes)
        print(f"{k}: nightly workload (with the unconstrained runs):", json.dumps(night[k]), flush=True)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    import numba

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_at_start": round(load_at_start, 2) if load_at_start is not None else None,
        "load_average_at_end": round(load, 2) if load is not None else None,
        **source,
        "people": inputs.n_people,
        "kernels": kernels,
        "numba": numba.__version__, "numpy": np.__version__,
        "kernel_compile": compiled,
        "engine_vs_reference": side,
        "one_process": rate,
        "scenarios_only": bare,
        "nightly": night,
        "peak_rss_gb": {"main": round(peak_self, 2), "largest_worker": round(peak_child, 2)},
        "targets": {"speedup": 100, "person_months_per_second_numba": 50_000_000,
                    "person_months_per_second_numpy": 10_000_000, "nightly_seconds": 60},
        "recorded": time.strftime("%Y-%m-%d"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
