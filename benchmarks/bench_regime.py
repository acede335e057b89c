"""A change the pipeline is not told about: does tonight's forecast follow it?

Issue 11.5. Two worlds from one seed: one as shipped, one whose generator makes a flow happen
``--factor`` times as often from ``--start`` (12-18 months before the census; the models can
see it only in what happens: no new column, no flag). Each gets the real nightly pipeline (the
Dagster ``nightly_refresh`` job up to the champion probability tables, in its own process),
then the forecast planners read (``build_forecast_inputs`` + ``run_forecast``, the asset's own
two calls) for 12 months. The forecast's first-year rate of the flow must land within 10% of
the new level (the last 12 months the warehouse recorded) and nearer it than the old (the 12
months before the change); the unaltered world must not move (its forecast within 10% of its
own last year, its recalibration factor for the flow - the forecast with recency over the
forecast without it, ``recency_effect`` - within 5% of 1). The same forecast without the
recalibration (``recency=False``) is recorded beside it, and the forecast with it but without
parameter uncertainty (the engine's process alone, to tell its shortfall from the draws').

    .venv/bin/python benchmarks/bench_regime.py [--scale 0.3] [--flow hospital_admissions]
        [--factor 1.8] [--start 2025-07] [--replications 50]

Figures go to ``results/regime.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "regime.json"

sys.path.insert(0, str(ROOT))
from benchmarks.bench_refresh import NIGHT_MARK, night_report  # noqa: E402  (how a night child reports)

UNTIL = "2026-10-31"

# which forecast KPI and which warehouse count measure each flow
FLOWS = {
    "hospital_admissions": ("hospital_admissions", "sum(is_hospital_admission)"),
    "care_home_from_home": ("care_home_admissions",
                            "count(*) filter (where is_care_home_admission = 1 and state in ('residential_care', 'nursing_care'))"),
}

_NIGHT = """
import json, sys
import dagster as dg
from llif.dbt_manifest import ensure
ensure()
from orchestration.definitions import defs
graph = defs.resolve_asset_graph()
# the night up to the champion tables and the marts, without the synthetic systems (already
# written), the forecast (the benchmark runs it, with and without recency) and what stands on it
after = ("source", "forecast", "planning", "reports", "published", "dbt_docs")
keep = [k for k in graph.get_all_asset_keys()
        if k.path[0] not in after and not k.path[-1].startswith("stg_forecast__")]
result = defs.resolve_job_def("nightly_refresh").execute_in_process(
    instance=dg.DagsterInstance.ephemeral(), asset_selection=keep, tags={"llif/run_date": "2026-11-01"})
print(NIGHT_MARK + json.dumps({"success": result.success}))
""".replace("NIGHT_MARK", repr(NIGHT_MARK))


def _env(home: Path) -> dict:
    return {**os.environ, "LLIF_HOME": str(home), "LLIF_PSEUDONYM_KEY": "bench-regime-key-0123456789abcdef"}


def _world(home: Path, scale: float, seed: int, changes: list[dict]) -> float:
    started = time.perf_counter()
    code = ("import json, sys; from synthetic_sources import api; "
            f"api.generate(scale={scale}, seed={seed}, until='{UNTIL}', changes={changes!r})")
    subprocess.run([sys.executable, "-c", code], env=_env(home), check=True, cwd=ROOT)
    return time.perf_counter() - started


def _night(home: Path) -> float:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _NIGHT], env=_env(home), cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0 or NIGHT_MARK not in out.stdout or not night_report(out.stdout).get("success"):
        tail = "\n".join((out.stderr or "").splitlines()[-40:])
        raise SystemExit(f"the nightly pipeline failed in {home}:\n{tail}")
    return time.perf_counter() - started


def measure(home: Path, flow: str, start: str, replications: int) -> dict:
    """The flow's old level, new level and the forecast's first year, with and without recency."""
    import duckdb
    import numpy as np

    from simulation.forecast_inputs import build_forecast_inputs
    from simulation.replications import run_forecast
    from simulation.scenarios import baseline

    kpi, count_sql = FLOWS[flow]
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        def observed(first: str, last: str) -> float:
            return float(con.execute(f"select {count_sql} from marts.fct_person_month where month_start between ? and ?",
                                     [first, last]).fetchone()[0])

        import pandas as pd

        change = pd.Timestamp(start)
        old = observed(str((change - pd.DateOffset(months=12)).date()), str((change - pd.DateOffset(days=1)).date()))
        new = observed("2025-11-01", "2026-10-01")   # the 12 months to the census (2026-10)
        out = {"old_level": old, "new_level": new}
        # the third run separates the engine's process from the pull of its parameter draws (one
        # mean-one factor per destination for the horizon, as wide as the years wandered beyond a
        # step: bounded probabilities cut the upper draws of a wide one)
        for label, recency, uncertainty in (("forecast", True, True), ("forecast_without_recency", False, True),
                                            ("forecast_without_parameter_uncertainty", True, False)):
            inputs = build_forecast_inputs(con, recency=recency)
            res = run_forecast(inputs, [baseline()], replications=replications, months=12, run_date="2026-11-01",
                               processes=2, needed=False, parameter_uncertainty=uncertainty)
            x = res.values["baseline"][:, res.kpis.index(kpi), :].sum(axis=1)
            out[label] = float(x.mean())
            out[f"{label}_p10_p90"] = [float(v) for v in np.quantile(x, [0.1, 0.9])]
            if recency and uncertainty:
                out["recency"] = inputs.provenance.get("recency", {})
                out["tables"] = inputs.provenance.get("tables")
        out["error_vs_new_pct"] = (out["forecast"] - new) / new * 100
        out["error_vs_new_without_recency_pct"] = (out["forecast_without_recency"] - new) / new * 100
        out["error_vs_new_without_parameter_uncertainty_pct"] = (
            (out["forecast_without_parameter_uncertainty"] - new) / new * 100)
        out["nearer_new_than_old"] = abs(out["forecast"] - new) < abs(out["forecast"] - old)
        # the recalibration's own effect on the flow (its factor for the flow as a whole): the
        # unaltered world's must stay within 5% of 1
        out["recency_effect"] = out["forecast"] / out["forecast_without_recency"]
        return out
    finally:
        con.close()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=20261031)
    parser.add_argument("--flow", default="hospital_admissions", choices=sorted(FLOWS))
    parser.add_argument("--factor", type=float, default=1.8)
    parser.add_argument("--start", default="2025-07", help="the month the change begins (12-18 months before 2026-10)")
    parser.add_argument("--replications", type=int, default=50)
    parser.add_argument("--keep", default=None, help="keep the two homes under this folder")
    args = parser.parse_args(argv)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="llif-regime-"))
    report = {"scale": args.scale, "flow": args.flow, "factor": args.factor, "start": args.start,
              "census": "2026-10", "replications": args.replications, "machine": platform.platform(),
              "cpus": os.cpu_count(), "recorded": time.strftime("%Y-%m-%d %H:%M")}
    for name, changes in (("unaltered", []), ("altered", [{"flow": args.flow, "factor": args.factor,
                                                            "start": args.start}])):
        home = base / name
        if not (home / "night.ok").exists():
            # a world already written (an earlier try whose night failed) is used again
            world_s = None if any((home / "sources").glob("*")) else _world(home, args.scale, args.seed, changes)
            night_s = _night(home)
            (home / "night.ok").write_text(f"{night_s:.0f} s\n")
        else:
            world_s = night_s = None
        got = measure(home, args.flow, args.start, args.replications)
        got.update({"world_seconds": world_s, "night_seconds": night_s})
        report[name] = got
        print(name, json.dumps({k: v for k, v in got.items() if k != "recency"}), flush=True)
    a, u = report["altered"], report["unaltered"]
    report["passed"] = bool(abs(a["error_vs_new_pct"]) <= 10 and a["nearer_new_than_old"]
                            and abs(u["error_vs_new_pct"]) <= 10 and abs(u["recency_effect"] - 1) <= 0.05)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, default=str))
    print(f"regime: {'passed' if report['passed'] else 'FAILED'}; written to {RESULTS}")
    return report


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
