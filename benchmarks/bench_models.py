"""Segments and transition models on a built warehouse: the issue's speed target and figures.

Target (issue #4): training and evaluation of all models at scale 1.0 under 5 minutes on the
2-core machine. Measured here, each step timed on its own, in one process with MLflow in a
temporary home: the ml feature marts (dbt run of the two ml models), the segmentation (choice
of k with bootstrap stability, the final fit, profiles and pathways), training and evaluation
of the three registered models (next state, next need level, 12-month outlooks; with drivers
and MLflow logging), the gate, the probability tables and the outlooks.

    .venv/bin/python benchmarks/bench_models.py --home PATH   # an LLIF_HOME with warehouse.duckdb (+ truth/)

The warehouse is copied first (the original is never written). Figures go to
``results/models.json`` under the warehouse's scale.

Recorded 2026-11-22 on the 2-core development VM with other engineers' jobs sharing it (load
average 2-3), scale 0.2 only: no scale-1.0 warehouse was available. See results/models.json
for the figures and docs/transition_models.md for how they extrapolate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "models.json"
DBT = Path(sys.executable).parent / "dbt"


def _dbt_ml(warehouse: Path, work: Path) -> float:
    started = time.perf_counter()
    cmd = [str(DBT), "run", "--select", "ml_person_months", "ml_person_features", "--project-dir", str(ROOT / "dbt_project"),
           "--profiles-dir", str(ROOT / "dbt_project"), "--target-path", str(work / "target"),
           "--log-path", str(work / "logs"), "--no-version-check"]
    env = {**os.environ, "LLIF_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    import duckdb

    from models_ml import outlooks as O
    from models_ml import probability_table as PT
    from models_ml import segments as S
    from models_ml import tracking as T
    from models_ml.transitions.gate import gate_and_promote
    from models_ml.transitions.training import train_transition_models
    from truth_validation import segments as V

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, help="an LLIF_HOME holding warehouse.duckdb (copied, not changed)")
    args = parser.parse_args(argv)
    source = Path(args.home)
    meta = json.loads((source / "truth" / "meta.json").read_text()) if (source / "truth" / "meta.json").exists() else {}
    out: dict = {"scale": meta.get("scale"), "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        warehouse = home / "warehouse.duckdb"
        shutil.copy(source / "warehouse.duckdb", warehouse)
        out["dbt_ml_marts_seconds"] = round(_dbt_ml(warehouse, Path(tmp) / "dbt"), 1)
        tracking = T.Tracking.for_home(home)
        tags = T.run_tags("benchmark", "bench_models")
        with duckdb.connect(str(warehouse)) as con:
            out["rows_ml_person_months"] = con.execute("select count(*) from ml.ml_person_months").fetchone()[0]
            out["people"] = con.execute("select count(*) from ml.ml_person_features").fetchone()[0]
            truth = V.true_segments(con, source / "truth") if (source / "truth").exists() else None
            t = time.perf_counter()
            seg = S.build_segments(con, previous=None, truth=truth)
            S.write_segments(con, seg)
            out["segments"] = {"seconds": round(time.perf_counter() - t, 1), **{k: v for k, v in seg.metadata().items()}}
            out["segments"]["evidence"] = seg.evidence.round(4).to_dict(orient="records")
            t = time.perf_counter()
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            res = train_transition_models(con, tracking, tags)
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            out["training"] = {
                "seconds_all_models_with_mlflow": round(time.perf_counter() - t, 1),
                "cpu_seconds": round((cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime), 1),
                "fit_and_evaluate_seconds": {k: round(v, 1) for k, v in res.seconds.items()},
                "rows": res.rows, "windows": res.windows,
                "heldout": {name: {k: round(float(v), 5) for k, v in m.items()
                                   if k.startswith(("heldout_", "baseline_heldout_")) or k == "best_iteration"}
                            for name, m in res.metrics.items()},
            }
            t = time.perf_counter()
            gate = gate_and_promote(con, tracking)
            out["gate"] = {"seconds": round(time.perf_counter() - t, 1),
                           "promoted": {k: d.promoted for k, d in gate.decisions.items()}}
            t = time.perf_counter()
            tables = PT.build_probability_tables(con, tracking, tags)
            out["probability_tables"] = {"seconds": round(time.perf_counter() - t, 1), **tables.metadata()}
            t = time.perf_counter()
            ol = O.build_outlooks(con, tracking)
            out["outlooks"] = {"seconds": round(time.perf_counter() - t, 1), **ol.metadata()}
        out["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)
    print(json.dumps(out, indent=2, default=str))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[f"scale_{out['scale']}"] = out
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return out


if __name__ == "__main__":  # pragma: no cover
    main()
