"""How long the night's last step takes: publishing the readers' copy (warehouse/published.py).

    .venv/bin/python -m benchmarks.bench_publish [WAREHOUSE]    # default: LLIF_HOME's

Opens the warehouse read-only and publishes into a temporary folder (the home's own published
nights are left alone); prints seconds, tables, rows and the copy's size, and records them in
benchmarks/results/publish.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from contracts.settings import paths
from warehouse.published import publish

RESULTS = Path(__file__).resolve().parent / "results" / "publish.json"


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    warehouse = Path(argv[0]) if argv else paths().warehouse
    with tempfile.TemporaryDirectory(prefix="llif-bench-publish-") as tmp:
        started = time.perf_counter()
        done = publish(warehouse, Path(tmp))
        seconds = time.perf_counter() - started
        figures = {"warehouse": str(warehouse), "warehouse_mb": round(warehouse.stat().st_size / 2**20),
                   "published_mb": round(done.path.stat().st_size / 2**20), "tables": done.tables,
                   "rows": done.rows, "seconds": round(seconds, 1), "measured_at": time.strftime("%Y-%m-%d %H:%M")}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
