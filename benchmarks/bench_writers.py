"""Throughput of the storage writers on a home-care-visits-sized table.

At full scale the domiciliary-care visits table holds several million rows, and the writers
must put it into SQLite at more than 300,000 rows a second. This prints rows/s for a fresh
create and for a nightly upsert (1% of rows changed, 1% new); it asserts nothing, speed is
recorded, not tested.

    .venv/bin/python benchmarks/bench_writers.py [--rows 2000000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--mariadb mysql+pymysql://root@127.0.0.1:3306/test --mariadb-rows 200000]

Server runs write to a throwaway schema / database ``llif_bench_<random>`` and drop it.

Recorded 2026-11-22 on the 2-core development VM, while other test suites were running (wall
times there vary by up to 2x between runs; the CPU time of this process is the steadier
figure). 10 columns: 2 int, 1 int, 1 float, 6 text; integer key; text change marker indexed.

    sqlite create           2,000,000 rows   7.7 s   260,000 rows/s   CPU 6.1 s (330,000 rows per CPU-s)
    sqlite upsert (2%)      2,020,000 rows   6.3 s   323,000 rows/s   CPU 5.0 s
    postgres create (COPY)  2,000,000 rows  10.1 s   198,000 rows/s   CPU 3.9 s
    postgres upsert (2%)    2,020,000 rows  14.8 s   137,000 rows/s   CPU 3.7 s
    mariadb create            200,000 rows   3.7 s    55,000 rows/s   CPU 2.0 s
    mariadb upsert (2%)       202,000 rows   6.7 s    30,000 rows/s   CPU 2.1 s

Of the SQLite create's CPU, about 2.6 s is sqlite3's executemany (parameter binding), 1.4 s
building the change-marker index, 1.3 s turning pandas columns into Python values.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic_sources.systems.base import SystemExtract, TableSpec  # noqa: E402
from synthetic_sources.writers import write_embedded, write_server  # noqa: E402


def visits(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 10 * 365 * 24 * 4, n) * 15, "min")
    minutes = rng.choice([15, 30, 45, 60], n)
    actual = start + pd.to_timedelta(rng.integers(-10, 20, n), "min")
    missing = rng.random(n) < 0.03
    fmt = "%Y-%m-%d %H:%M"
    actual_start = pd.Series(actual.strftime(fmt), dtype="str").where(~missing)
    actual_end = pd.Series((actual + pd.to_timedelta(minutes, "min")).strftime(fmt), dtype="str").where(~missing)
    return pd.DataFrame(
        {
            "visit_id": np.arange(1, n + 1, dtype=np.int64),
            "package_id": rng.integers(1, 40_000, n),
            "carer_code": pd.Series(np.char.add("C", rng.integers(10_000, 99_999, n).astype(str)), dtype="str"),
            "planned_start": pd.Series(start.strftime(fmt), dtype="str"),
            "planned_minutes": minutes.astype(np.int64),
            "actual_start": actual_start,
            "actual_end": actual_end,
            "mileage": np.round(rng.gamma(2.0, 1.5, n), 1),
            "tasks": pd.Series(rng.choice(["personal care", "meal", "medication", "personal care;meal"], n), dtype="str"),
            "updated_at": pd.Series(start.strftime("%Y-%m-%d %H:%M:%S"), dtype="str"),
        }
    )


def nightly_change(frame: pd.DataFrame, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(frame)
    changed = frame.copy()
    idx = rng.choice(n, n // 100, replace=False)
    changed.loc[idx, "mileage"] = changed.loc[idx, "mileage"] + 1.0
    new = visits(n // 100, seed=seed).assign(visit_id=np.arange(n + 1, n + 1 + n // 100, dtype=np.int64))
    return pd.concat([changed, new], ignore_index=True)


def extract(frame: pd.DataFrame, database: str) -> SystemExtract:
    spec = TableSpec(frame, ["visit_id"], "updated_at")
    return SystemExtract("domcare", {database: {"visits": spec}}, pd.DataFrame())


def timed(label: str, rows: int, fn) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    changed = sum(r.changed or 0 for r in result)
    print(
        f"{label:<28} {rows:>10,} rows  {seconds:7.2f} s  {rows / seconds:>10,.0f} rows/s"
        f"  (this process's CPU {cpu:6.2f} s; changed {changed:,})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--postgres", help="also time PostgreSQL at this URL")
    parser.add_argument("--mariadb", help="also time MariaDB at this URL")
    parser.add_argument("--mariadb-rows", type=int, default=200_000)
    args = parser.parse_args()

    frame = visits(args.rows)
    night2 = nightly_change(frame)
    with tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp)
        timed("sqlite create", len(frame), lambda: write_embedded(
            extract(frame, "domcare"), sources, pd.Timestamp("2025-01-01"), "create"))
        print(f"{'':<28} file size {(sources / 'domcare.sqlite').stat().st_size / 1e6:,.0f} MB")
        timed("sqlite upsert (2% changed)", len(night2), lambda: write_embedded(
            extract(night2, "domcare"), sources, pd.Timestamp("2025-01-02"), "upsert"))

    for url, rows in ((args.postgres, args.rows), (args.mariadb, args.mariadb_rows)):
        if not url:
            continue
        import sqlalchemy as sa

        db = f"llif_bench_{secrets.token_hex(4)}"
        small, small2 = frame.head(rows), nightly_change(frame.head(rows))
        kind = "postgres" if url.startswith("postgres") else "mariadb"
        try:
            timed(f"{kind} create", len(small), lambda: write_server(extract(small, db), url, "create"))
            timed(f"{kind} upsert (2% changed)", len(small2), lambda: write_server(extract(small2, db), url, "upsert"))
        finally:
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
            with engine.begin() as con:
                con.exec_driver_sql(f"DROP SCHEMA IF EXISTS {db} CASCADE" if kind == "postgres"
                                    else f"DROP DATABASE IF EXISTS {db}")
            engine.dispose()


if __name__ == "__main__":
    main()
