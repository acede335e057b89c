"""How cost grows with the provider's size: the forecast and the night at scales 0.25, 0.5, 1, 2.

    .venv/bin/python benchmarks/bench_scaling.py [--parts forecast,night] [--scales 0.25,0.5,1,2]
        [--inputs FORECASTS_DIR] [--replications N]

Issue 14, item 4: growth is measured, not assumed. Expect linear in the number of people; the
JSON's ``growth`` says, for each measure, the ratio of cost to the ratio of scale between
consecutive scales (1.0 is linear, above 1 is worse than linear).

Two parts, each step in its own process so its time and peak memory are its own (``os.wait4``
returns one child's resource use, its descendants included, where ``RUSAGE_CHILDREN`` would
give the largest child so far):

- ``forecast``: the nightly workload (baseline + 7 shipped scenarios and their unconstrained
  runs, ``--replications`` x 60 months, 2 processes) on a census of the given scale. The census
  is a nightly run's inputs (``--inputs``, resampled to the scale with ``scale_inputs``), else
  the synthetic provider ``toy_inputs`` sized like the scale-1.0 world (34,482 people at 1.0).
- ``night``: at each scale a world generated into a temporary home, the first full refresh, one
  day's ``advance`` and the nightly refresh (the real Dagster job, as ``bench_refresh`` runs
  it, with its per-step times).

Figures are written to ``results/scaling.json`` after every step, so a long run that is
stopped keeps what it measured. The machine is shared: CPU seconds are given beside wall
seconds, and the load average at each step's start.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "scaling.json"
PEOPLE_AT_SCALE_1 = 34482   # the scale-1.0 world's forecast census (results/forecast.json)

sys.path.insert(0, str(ROOT))
# the night as bench_refresh runs it (one script, one way to read its result)
from benchmarks.bench_refresh import _CHILD as _NIGHT_CHILD  # noqa: E402
from benchmarks.bench_refresh import night_report  # noqa: E402

_FORECAST_CHILD = f"""
import json, sys, time
from pathlib import Path
from simulation.replications import run_forecast
from simulation.scenarios import shipped_scenarios
from simulation.testing import scale_inputs, toy_inputs
scale, inputs_dir, replications = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
t0 = time.perf_counter()
if inputs_dir:
    from simulation.inputs import load_inputs
    base = load_inputs(Path(inputs_dir))
    base_scale = json.loads((Path(inputs_dir).parent / "sources" / "manifest.json").read_text())["scale"]
    inputs = scale_inputs(base, scale / base_scale)
else:
    inputs = toy_inputs(int(round({PEOPLE_AT_SCALE_1} * scale)), seed=0)
setup = time.perf_counter() - t0
t1 = time.perf_counter()
res = run_forecast(inputs, shipped_scenarios(), replications=replications, months=60,
                   run_date="2026-11-22", processes=2)
pm = float(sum(v[:, res.kpis.index("people_total")].sum() for v in [*res.values.values(), *res.unconstrained.values()]))
print(json.dumps({{"people": int(inputs.n_people), "setup_seconds": round(setup, 1),
                  "simulate_seconds": round(time.perf_counter() - t1, 1),
                  "runs_per_replication": len(res.values) + len(res.unconstrained), "person_months": pm}}))
"""



def run_child(args: list[str], home: Path | None = None) -> tuple[dict, str]:
    """One step in its own process: wall and CPU seconds and the peak resident memory of the
    largest process in its tree (Linux folds waited-for descendants' peaks into wait4's)."""
    env = dict(os.environ)
    if home is not None:
        env["LLIF_HOME"] = str(home)
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, env=env, cwd=ROOT, text=True, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)   # reaped here, so Popen never sees it
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise SystemExit(f"{' '.join(args[:4])} ... failed with exit code {proc.returncode}:\n{tail}")
    return {"seconds": round(seconds, 1), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_gb": round(usage.ru_maxrss / 1024**2, 2), "load_average_at_start": round(load, 2)}, stdout


def growth(rows: list[dict], key: str) -> list[dict]:
    """(cost ratio) / (scale ratio) between consecutive scales: 1.0 is linear, above is worse."""
    out = []
    for a, b in itertools.pairwise(rows):
        if a.get(key) and b.get(key):
            out.append({"from": a["scale"], "to": b["scale"], "cost_ratio_over_scale_ratio":
                        round((b[key] / a[key]) / (b["scale"] / a["scale"]), 2)})
    return out


def _measures(part: str, row: dict) -> dict:
    if part == "forecast":
        return {m: row.get(m) for m in ("seconds", "cpu_seconds", "peak_rss_gb", "simulate_seconds")}
    flat = {}
    for step in ("generate", "first_full_refresh", "nightly_refresh"):
        for m in ("seconds", "cpu_seconds", "peak_rss_gb"):
            flat[f"{step}_{m}"] = row.get(step, {}).get(m)
    return flat


def _save(result: dict) -> None:
    result["growth"] = {}
    for part in ("forecast", "night"):
        rows = result.setdefault(part, [])
        rows.sort(key=lambda r: r["scale"])  # in place: the parts append to these very lists
        flat = [{"scale": r["scale"], **_measures(part, r)} for r in rows]
        names = [k for k in (flat[0] if flat else {}) if k != "scale"]
        result["growth"][part] = {m: growth(flat, m) for m in names}
    result["recorded"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, check=False,
                                      text=True).stdout.strip() or None
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


def forecast_part(scales: list[float], inputs: str | None, replications: int, result: dict) -> None:
    rows = result.setdefault("forecast", [])
    for scale in scales:
        timing, out = run_child([sys.executable, "-c", _FORECAST_CHILD, str(scale), inputs or "", str(replications)])
        row = {"scale": scale, **timing, **json.loads(out.strip().splitlines()[-1]), "replications": replications}
        row["person_months_per_second_wall"] = round(row["person_months"] / row["simulate_seconds"])
        rows.append(row)
        print("forecast:", json.dumps(row), flush=True)
        _save(result)


def night_part(scales: list[float], result: dict, keep: Path | None) -> None:
    from benchmarks.bench_refresh import _slowest_dbt_nodes

    rows = result.setdefault("night", [])
    for scale in scales:
        with tempfile.TemporaryDirectory() as tmp:
            home = (keep / f"scale-{scale}") if keep else Path(tmp) / "home"
            if home.exists():
                shutil.rmtree(home)
            row: dict = {"scale": scale}
            row["generate"], _ = run_child([sys.executable, "-m", "llif", "sources", "generate", "--scale", str(scale)], home)
            for name in ("first_full_refresh", "advance_1_day", "nightly_refresh"):
                if name == "advance_1_day":
                    row[name], _ = run_child([sys.executable, "-m", "llif", "sources", "advance", "--days", "1"], home)
                else:
                    timing, out = run_child([sys.executable, "-c", _NIGHT_CHILD], home)
                    report = night_report(out)
                    if not report["success"]:
                        raise SystemExit(f"the {name} at scale {scale} failed")
                    row[name] = {**timing, "steps": report["steps"], "slowest_dbt_nodes": _slowest_dbt_nodes(8)}
                print(f"night, scale {scale}, {name}:", json.dumps(row[name]), flush=True)
                row["warehouse_mb"] = round((home / "warehouse.duckdb").stat().st_size / 1024**2) \
                    if (home / "warehouse.duckdb").exists() else None
                # a partial row is kept too: a long run stopped mid-scale still says how far it got
                result["night"] = [r for r in rows if r["scale"] != scale] + [row]
                _save(result)
            rows = result["night"]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="forecast,night")
    parser.add_argument("--scales", default="0.25,0.5,1,2")
    parser.add_argument("--inputs", help="a forecasts/ folder holding a nightly run's inputs.pkl (else toy_inputs)")
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--keep", help="keep each scale's home under this folder (else a temporary one)")
    args = parser.parse_args(argv)
    scales = sorted(float(s) for s in args.scales.split(","))
    parts = args.parts.split(",")
    unknown = set(parts) - {"forecast", "night"}
    if unknown:
        parser.error(f"--parts: unknown {sorted(unknown)}; use forecast and/or night")
    result = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    result.update({"machine": f"{platform.machine()}, {os.cpu_count()} cores",
                   "census": ("a nightly run's inputs, resampled: " + args.inputs) if args.inputs
                   else f"synthetic (simulation.testing.toy_inputs), {PEOPLE_AT_SCALE_1} people at scale 1.0"})
    for part in parts:  # this run's scales replace those scales' earlier figures, others are kept
        result[part] = [r for r in result.get(part, []) if r["scale"] not in scales]
    if "forecast" in parts:
        forecast_part(scales, args.inputs, args.replications, result)
    if "night" in parts:
        night_part(scales, result, Path(args.keep) if args.keep else None)
    _save(result)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
