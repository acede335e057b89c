"""The explorer's pages and a what-if, timed: every page under 3 s at scale 1.0, a what-if under 15 s.

Each page is run with Streamlit's test harness (AppTest: the whole script, every query and
every figure, but not the browser's drawing) twice: cold (caches emptied, as the first visit
after the nightly run) and warm (a page switch). The what-if is timed through
``explorer.forecasting.run_what_if`` with the real engine: cold includes estimating the
engine's inputs from the warehouse (done once per warehouse version, in the background while
the planner fills in the form), warm is the runs alone (10 runs of 24 months, as the page's
default).

    .venv/bin/python benchmarks/bench_explorer.py [--warehouse PATH] [--scale-up K] [--no-what-if]

The warehouse is copied to a temporary folder first (never read while its writer may run).
``--scale-up K`` makes the copy K times bigger: every person (timeline, people, case mix) is
repeated K times under new keys and every scheme's capacity and occupancy multiplied by K; from
the scale-0.2 development warehouse, K = 5 stands in for scale 1.0 when no scale-1.0 warehouse
has been built (11 million person-months). Figures go to ``results/explorer.json``.

Recorded 2026-11-22 on the 2-core development VM while the test suite ran beside it, on a
real scale-1.0 warehouse after a full nightly run (11.4 million person-months, forecasts for
eight scenarios, segments and outlooks): every page's first load 0.60-1.86 s, revisits
0.38-0.86 s; a what-if 1.4 s with its inputs ready, 23.8 s when it must estimate them (the copy
has no saved inputs; the nightly forecast keeps them, so in use they load in about a second);
the report 1.7 s. Figures in results/explorer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "explorer.json"
DEV = Path("/work/devdata/home02/warehouse.duckdb")


def scale_up(path: Path, k: int) -> dict:
    """Repeat every person k times under new keys, and multiply capacity and occupancy by k."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute(f"""create or replace table marts.fct_person_month as
            select * replace (person_key || '.' || r.k as person_key, person_month_id || '.' || r.k as person_month_id,
                              unit_id || '.' || r.k as unit_id)
            from marts.fct_person_month, (select range as k from range({k})) r""")
        con.execute(f"""create or replace table marts.dim_person as
            select * replace (person_key || '.' || r.k as person_key)
            from marts.dim_person, (select range as k from range({k})) r""")
        n_cols = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'fct_case_mix_monthly' and (column_name like 'n\\_%' escape '\\' or column_name = 'total_weekly_care_hours')").fetchall()]
        con.execute("create or replace table marts.fct_case_mix_monthly as select * replace ("
                    + ", ".join(f"{c} * {k} as {c}" for c in n_cols) + ") from marts.fct_case_mix_monthly")
        occ = ["capacity", "residential_beds", "nursing_beds", "occupied_end", "residential_occupied_end",
               "nursing_occupied_end", "void_units_end", "spare_capacity_end"]
        con.execute("create or replace table marts.fct_occupancy_monthly as select * replace ("
                    + ", ".join(f"{c} * {k} as {c}" for c in occ) + ") from marts.fct_occupancy_monthly")
        con.execute("create or replace table marts.dim_scheme as select * replace ("
                    + ", ".join(f"{c} * {k} as {c}" for c in ("capacity", "residential_beds", "nursing_beds", "n_units"))
                    + ") from marts.dim_scheme")
        con.execute("checkpoint")
        rows = con.execute("select count(*) from marts.fct_person_month").fetchone()[0]
    finally:
        con.close()
    return {"person_months": int(rows)}


def time_pages(path: Path) -> dict:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from explorer import data
    from explorer.app import PAGES
    from explorer.auth import PLANNER, User

    out = {}
    for page, title, _ in PAGES:
        timings = {}
        for label in ("cold", "warm"):
            if label == "cold":
                st.cache_data.clear()
                data._MEMO.clear()
            at = AppTest.from_file(str(ROOT / "explorer" / "views" / page), default_timeout=120)
            at.session_state["warehouse_path"] = str(path)
            at.session_state["llif_user"] = User("bench", PLANNER, "local")  # logged in, as a planner is
            started = time.perf_counter()
            at.run()
            timings[label] = round(time.perf_counter() - started, 2)
            if at.exception:
                timings["error"] = str(at.exception[0].value)[:300]
        timings["charts"] = len(at.get("plotly_chart"))
        out[title] = timings
        print(f"  {title:<24} cold {timings['cold']:>6.2f} s   warm {timings['warm']:>6.2f} s   charts {timings['charts']}",
              flush=True)
    return out


def time_what_if(path: Path) -> dict:
    from explorer import forecasting, whatif

    status = forecasting.engine_status()
    if status:
        return {"skipped": status}
    spec, errors = whatif.build(whatif.WhatIf(name="Bench extra care", capacity_service="extra_care", capacity_change=60,
                                              care_home_moves_pct=-15))
    assert not errors, errors
    started = time.perf_counter()
    forecasting.run_what_if(path, spec, runs=10, months=24, run_date="2026-11-01")
    cold = time.perf_counter() - started
    started = time.perf_counter()
    forecasting.run_what_if(path, spec, runs=10, months=24, run_date="2026-11-01")
    warm = time.perf_counter() - started
    res = {"runs": 10, "months": 24, "cold_seconds_with_inputs": round(cold, 1), "warm_seconds": round(warm, 1)}
    print(f"  what-if: cold (estimating inputs too) {res['cold_seconds_with_inputs']} s, warm {res['warm_seconds']} s", flush=True)
    return res


def time_report(path: Path, tmp: Path) -> dict:
    from explorer.report import build_report

    started = time.perf_counter()
    out = build_report(path, tmp / "reports")
    return {"seconds": round(time.perf_counter() - started, 1), "mb": round(out.stat().st_size / 1024**2, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", help="a built warehouse (default: LLIF_HOME's, else the development one)")
    parser.add_argument("--scale-up", type=int, default=1, help="repeat every person K times (see the docstring)")
    parser.add_argument("--no-what-if", action="store_true")
    args = parser.parse_args(argv)
    from contracts.settings import paths

    source = Path(args.warehouse) if args.warehouse else (paths().warehouse if paths().warehouse.exists() else DEV)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "warehouse.duckdb"
        shutil.copy(source, path)
        size = {}
        if args.scale_up > 1:
            print(f"scaling {source} up {args.scale_up} times", flush=True)
            size = scale_up(path, args.scale_up)
        import duckdb

        con = duckdb.connect(str(path), read_only=True)
        size["person_months"] = con.execute("select count(*) from marts.fct_person_month").fetchone()[0]
        size["forecast"] = con.execute("select count(*) from information_schema.tables where table_schema = 'forecast'").fetchone()[0] > 0
        con.close()
        print(f"pages ({size['person_months']:,} person-months)", flush=True)
        pages = time_pages(path)
        what_if = {} if args.no_what_if else time_what_if(path)
        report = time_report(path, tmp)
        print(f"  report: {report}", flush=True)
    result = {
        "warehouse": str(source), "scale_up": args.scale_up, **size,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "pages": pages, "what_if": what_if, "report": report,
        "targets": {"page_seconds": 3.0, "what_if_seconds": 15.0},
        "slowest_cold_page_seconds": max(p["cold"] for p in pages.values()),
        "recorded": time.strftime("%Y-%m-%d"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
