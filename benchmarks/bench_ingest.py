"""Ingest at scale 1.0: the first full load of every system, then one night's incremental load.

The first full refresh (ingest + identity + dbt) must stay under 10 minutes on the 2-core
machine, so ingest should be a small part of it (aim: under about 3 minutes for all five
systems, most of it the ten million home-care visits). Each load runs in its own process;
CPU time includes the worker processes that read big tables in parallel.

    .venv/bin/python benchmarks/bench_ingest.py [--home PATH]

Without ``--home`` it copies ``LLIF_HOME`` if that holds a generated world (the night's
``advance`` must not touch yours), else generates a scale-1.0 world into a temporary home
(about 4 minutes). Figures go to ``results/ingest.json``.

Recorded 2026-11-22 on the 2-core development VM, scale 1.0 (11.0 million visits, 1.3
million CRM rows, 12.4 million rows in all), with other engineers' jobs sharing the machine
(load average about 2; wall times there vary by up to 2x, CPU time is the steadier figure):

    first full load     12,448,077 rows   59.5 s   CPU 84.6 s   peak RSS 3.05 GB
        domcare 50.0 s (visits read by two processes), crm 7.4 s, assets 0.4 s,
        care_a 0.8 s (5 homes), care_b 0.2 s
    rerun, same night            0 rows    2.1 s   CPU  1.7 s
    (llif sources advance --days 1: 7.4 s; not ingest)
    incremental load         2,729 rows    1.9 s   CPU  2.1 s
    warehouse.duckdb after both: 498 MB

Of the first load's CPU, about two thirds is turning SQLite rows into Python values and then
Arrow (spread over the worker processes), most of the rest DuckDB compressing the visits into
the warehouse file (about 20 s).
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
RESULTS = ROOT / "benchmarks" / "results" / "ingest.json"

_CHILD = """
import json, sys, time
from pathlib import Path
from warehouse.ingest import ingest_system, systems_with_sources
from contracts.settings import paths
p = paths()
out = {}
for system in systems_with_sources(p.sources):
    load = ingest_system(system, p.warehouse)
    out[system] = {"rows_loaded": load.rows_loaded, "rows_rejected": load.rows_rejected,
                   "seconds": round(load.seconds, 1)}
print(json.dumps(out))
"""


def _timed(args: list[str], home: Path, capture: bool = False) -> tuple[dict, str]:
    env = dict(os.environ, LLIF_HOME=str(home))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(args, env=env, check=True, cwd=ROOT, text=True,
                          stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    timing = {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1)}
    if after.ru_maxrss > before.ru_maxrss:  # the largest child so far: only a new peak is this one's
        timing["peak_rss_gb"] = round(after.ru_maxrss / 1024**2, 2)
    return timing, proc.stdout or ""


def _ingest(home: Path) -> dict:
    timing, out = _timed([sys.executable, "-c", _CHILD], home, capture=True)
    systems = json.loads(out.strip().splitlines()[-1])
    return {**timing, "rows_loaded": sum(s["rows_loaded"] for s in systems.values()), "systems": systems}


def _world(home_arg: str | None, tmp: Path) -> Path:
    home = tmp / "home"
    source = Path(home_arg) if home_arg else Path(os.environ.get("LLIF_HOME", ROOT / ".llif"))
    if (source / "sources" / "manifest.json").exists() and (source / "truth").exists():
        print(f"copying the world in {source} (advance must not change it)", flush=True)
        shutil.copytree(source / "sources", home / "sources")
        shutil.copytree(source / "truth", home / "truth")
    else:
        print("generating a scale-1.0 world (about 4 minutes)", flush=True)
        _timed([sys.executable, "-m", "llif", "sources", "generate", "--scale", "1.0"], home)
    return home


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="an LLIF_HOME holding a generated world (copied, not changed)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = _world(args.home, Path(tmp))
        scale = json.loads((home / "sources" / "manifest.json").read_text())["scale"]
        first = _ingest(home)
        print("first full load:", json.dumps(first), flush=True)
        again = _ingest(home)
        print("rerun the same night:", json.dumps(again), flush=True)
        advance, _ = _timed([sys.executable, "-m", "llif", "sources", "advance", "--days", "1"], home)
        print("advance --days 1:", json.dumps(advance), flush=True)
        night = _ingest(home)
        print("incremental load:", json.dumps(night), flush=True)
        size_mb = (home / "warehouse.duckdb").stat().st_size / 1024**2
    result = {
        "scale": scale,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "first_full_load": first,
        "rerun_same_night": again,
        "advance_1_day": advance,
        "incremental_load": night,
        "warehouse_mb": round(size_mb),
        "targets": {"first_full_load_seconds": 180},
        "recorded": time.strftime("%Y-%m-%d"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
