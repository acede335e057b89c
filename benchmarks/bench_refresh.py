"""The nightly refresh at scale 1.0: the first full refresh, then one night's incremental one.

Targets (issue #3): the first full refresh (ingest, identity, ``dbt build`` with its tests)
under 10 minutes on the 2-core machine; the nightly refresh after one day of new data under 3
minutes. Each refresh is the real Dagster ``nightly_refresh`` job, run in its own process as
``llif demo`` runs it; its step times come from Dagster's events and its slowest dbt nodes from
dbt's run_results.json.

    .venv/bin/python benchmarks/bench_refresh.py --home PATH

``--home`` is an LLIF_HOME holding a generated scale-1.0 world; its sources and truth are
copied (the night's ``advance`` must not touch yours). Figures go to ``results/refresh.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "refresh.json"

sys.path.insert(0, str(ROOT))
from benchmarks.bench_ingest import _timed  # noqa: E402  (one way to time a child process)

NIGHT_MARK = "LLIF_NIGHT "   # starts the line a night child prints its result on

_CHILD = """
import json, sys
import dagster as dg
from llif.dbt_manifest import ensure
ensure()
from orchestration.definitions import defs
result = defs.resolve_job_def("nightly_refresh").execute_in_process(instance=dg.DagsterInstance.ephemeral())
steps = {}
for event in result.all_events:
    if event.event_type_value == "STEP_SUCCESS":
        steps[event.step_key] = round(event.event_specific_data.duration_ms / 1000, 1)
print(NIGHT_MARK + json.dumps({"success": result.success, "steps": steps}))
""".replace("NIGHT_MARK", repr(NIGHT_MARK))


def night_report(stdout: str) -> dict:
    """The night child's own result line: Dagster and dbt print to stdout too, so the last
    line is not always the child's, and a log line left without its newline can run into the
    front of it (the regime benchmark's altered night was once misread so): the result is
    what follows the last mark on its line."""
    lines = [line[line.rindex(NIGHT_MARK) + len(NIGHT_MARK):] for line in stdout.splitlines() if NIGHT_MARK in line]
    if not lines:
        raise RuntimeError("the night's process printed no result line; see its output above")
    return json.loads(lines[-1])


def _slowest_dbt_nodes(n: int = 12) -> list[list]:
    """The slowest nodes of the latest main dbt build (dagster-dbt keeps each run's target in
    ``<op>-<run>-<hash>``; the planning build after the forecast is not the warehouse's)."""
    runs = sorted((ROOT / "dbt_project" / "target").glob("llif_dbt-*/run_results.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        return []
    results = json.loads(runs[-1].read_text())["results"]
    slow = sorted(results, key=lambda r: -r["execution_time"])[:n]
    return [[r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 1)] for r in slow]


def _refresh(home: Path) -> dict:
    timing, out = _timed([sys.executable, "-c", _CHILD], home, capture=True)
    report = night_report(out)
    if not report["success"]:
        raise SystemExit("the nightly refresh failed")
    return {**timing, "steps": report["steps"], "slowest_dbt_nodes": _slowest_dbt_nodes()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, help="an LLIF_HOME holding a generated world (copied, not changed)")
    args = parser.parse_args(argv)
    source = Path(args.home)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(source / "sources", home / "sources")
        shutil.copytree(source / "truth", home / "truth")
        scale = json.loads((home / "sources" / "manifest.json").read_text())["scale"]
        first = _refresh(home)
        print("first full refresh:", json.dumps(first), flush=True)
        advance, _ = _timed([sys.executable, "-m", "llif", "sources", "advance", "--days", "1"], home)
        print("advance --days 1:", json.dumps(advance), flush=True)
        night = _refresh(home)
        print("nightly refresh:", json.dumps(night), flush=True)
        size_mb = (home / "warehouse.duckdb").stat().st_size / 1024**2
    result = {
        "scale": scale,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "first_full_refresh": first,
        "advance_1_day": advance,
        "nightly_refresh": night,
        "warehouse_mb": round(size_mb),
        "targets": {"first_full_refresh_seconds": 600, "nightly_refresh_seconds": 180},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
