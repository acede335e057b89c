"""Generating the world at scale 1.0, and one night's advance: time and peak memory.

Targets (issue: foundation): generate under 3 minutes with peak memory under 4 GB on the
2-core machine; ``advance --days 1`` under 10 seconds. Each step runs in its own process so
its peak resident memory is its own.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "sources.json"


def _run(args: list[str], home: Path) -> dict:
    env = dict(os.environ, LLIF_HOME=str(home))
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-m", "llif", *args], env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"command": "llif " + " ".join(args), "seconds": round(seconds, 1),
            "peak_rss_gb": round(max(peak_kb, before) / 1024**2, 2)}


def main(scale: float = 1.0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        generate = _run(["sources", "generate", "--scale", str(scale)], home)
        # ru_maxrss of children is the largest child so far: run advance in a fresh process tree
        advance = json.loads(subprocess.run(
            [sys.executable, "-c", (
                "import json,sys; from benchmarks.bench_sources import _run; from pathlib import Path;"
                f"print(json.dumps(_run(['sources','advance','--days','1'], Path({str(home)!r}))))"
            )], check=True, capture_output=True, text=True, cwd=Path(__file__).parent.parent,
        ).stdout)
        size_mb = sum(f.stat().st_size for f in (home / "sources").rglob("*") if f.is_file()) / 1024**2
    result = {
        "scale": scale,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "generate": generate,
        "advance_1_day": advance,
        "sources_mb": round(size_mb),
        "targets": {"generate_seconds": 180, "generate_peak_rss_gb": 4, "advance_seconds": 10},
        "recorded": time.strftime("%Y-%m-%d"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0), indent=2))
