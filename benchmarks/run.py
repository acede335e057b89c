"""``make bench``: every benchmark, each recording its figures under benchmarks/results/.

Speed is a feature, proven here and never by timed tests. Each benchmark states its targets
beside its figures; this prints them side by side and says which are met.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks import bench_sources


def main() -> int:
    print("benchmark: the world and its sources at scale 1.0 (a few minutes)", flush=True)
    r = bench_sources.main(1.0)
    t = r["targets"]
    checks = [
        ("generate seconds", r["generate"]["seconds"], t["generate_seconds"]),
        ("generate peak GB", r["generate"]["peak_rss_gb"], t["generate_peak_rss_gb"]),
        ("advance --days 1 seconds", r["advance_1_day"]["seconds"], t["advance_seconds"]),
    ]
    for name, value, target in checks:
        print(f"  {name:<26} {value:>8} (target < {target}) {'ok' if value < target else 'MISSED'}")
    print("benchmark: storage writers (SQLite)", flush=True)
    subprocess.run([sys.executable, "benchmarks/bench_writers.py", "--rows", "2000000"], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
