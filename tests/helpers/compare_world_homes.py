"""Compare two generated world homes, file by file; exit 1 on any difference.

Used to prove a refactor of the synthetic world left it bit-identical: generate a world before
and after with the same arguments, e.g.

    .venv/bin/python -c "from synthetic_sources import api; api.generate(home='/tmp/world_before',
        scale=0.05, seed=11, until='2026-10-31')"
    .venv/bin/python tests/helpers/compare_world_homes.py /tmp/world_before /tmp/world_after

Every file is compared as bytes (truth parquet, world.pkl, CSV exports, manifests); every SQLite
database is also compared table by table, row by row, so a difference says which table moved.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path


def _files(home: Path) -> set[Path]:
    return {p.relative_to(home) for p in home.rglob("*") if p.is_file()}


def _sqlite_differences(a: Path, b: Path) -> tuple[list[str], int, int]:
    """Tables whose rows differ (or that only one side has), tables compared, rows compared."""
    ca, cb = sqlite3.connect(a), sqlite3.connect(b)
    names = "select name from sqlite_master where type='table' order by name"
    ta = [r[0] for r in ca.execute(names)]
    tb = [r[0] for r in cb.execute(names)]
    out = [f"tables only on one side: {sorted(set(ta) ^ set(tb))}"] if ta != tb else []
    rows = 0
    for t in sorted(set(ta) & set(tb)):
        ra = ca.execute(f'select * from "{t}"').fetchall()
        rb = cb.execute(f'select * from "{t}"').fetchall()
        rows += len(ra)
        if ra != rb:
            out.append(f"table {t}: rows differ ({len(ra)} vs {len(rb)})")
    ca.close()
    cb.close()
    return out, len(set(ta) & set(tb)), rows


def compare(a: Path, b: Path) -> list[str]:
    fa, fb = _files(a), _files(b)
    problems = [f"only in {a}: {p}" for p in sorted(fa - fb)] + [f"only in {b}: {p}" for p in sorted(fb - fa)]
    same = tables = rows = 0
    for rel in sorted(fa & fb):
        x, y = (a / rel).read_bytes(), (b / rel).read_bytes()
        if rel.suffix == ".sqlite":
            diffs, n_tables, n_rows = _sqlite_differences(a / rel, b / rel)
            problems += [f"{rel}: {d}" for d in diffs]
            tables += n_tables
            rows += n_rows
        if x == y:
            same += 1
        elif rel.suffix != ".sqlite":
            problems.append(f"{rel}: bytes differ ({hashlib.sha256(x).hexdigest()[:12]} vs "
                            f"{hashlib.sha256(y).hexdigest()[:12]})")
    print(f"files: {len(fa & fb)} in both, {same} byte-identical; SQLite tables compared row by row: "
          f"{tables} ({rows} rows); differences: {len(problems)}")
    return problems


if __name__ == "__main__":
    found = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    for line in found:
        print(line)
    sys.exit(1 if found else 0)
