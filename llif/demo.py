"""``make demo``: from nothing to a generated world and a nightly refresh, with what to look at next.

The first run generates the default world; a later run lets the world live one more day, so
every ``make demo`` is a new night. The refresh runs in-process on the embedded default: every
stage of the pipeline that exists is part of Dagster's nightly job.
"""

from __future__ import annotations

import time

from contracts.settings import paths


def run(scale: float = 1.0, seed: int | None = None, replications: int | None = None) -> int:
    from synthetic_sources import api
    from synthetic_sources.calibration import evaluate

    p = paths()
    started = time.perf_counter()
    if (p.sources / api.MANIFEST).exists():
        manifest = api.read_manifest(p)
        print(f"llif: a world is already in {p.home} (sources at {manifest['as_of']}); one more night passes")
        result = api.advance(days=1, progress=True)
    else:
        print(f"llif: generating the world (scale {scale}) into {p.home}")
        result = api.generate(scale=scale, seed=seed, progress=True)
    print(f"llif: sources stand at {result.as_of.date()}")

    refreshed = _nightly_refresh(replications)

    truth = api.load_truth(p.home)
    results = evaluate(truth, result.as_of, wide=1.0 if scale >= 1.0 else 3.0)
    ok = sum(r.within_tolerance for r in results)
    print(f"llif: calibration: {ok} of {len(results)} targets within tolerance (`llif sources report` for the table)")
    groups = sorted({r.split("/")[0] for r in refreshed})
    print(f"llif: done in {time.perf_counter() - started:.0f}s; {len(refreshed)} tables and files refreshed "
          f"({', '.join(groups) or 'source systems only'})")
    _print_bottlenecks(p.warehouse)
    _print_next(p)
    return 0


def _print_next(p) -> None:
    """What to open next: the report first (no server needed), then the services of `make ui`."""
    reports = sorted(p.reports.glob("*.html"), key=lambda f: f.stat().st_mtime)
    pdfs = sorted(p.reports.glob("*.pdf"), key=lambda f: f.stat().st_mtime)
    print("llif: look next:")
    if reports:
        print(f"  report     {reports[-1]}" + (f" (and {pdfs[-1].name})" if pdfs else ""))
    print("  explorer   `make ui`, then http://127.0.0.1:8501 (first `llif accounts add NAME --role planner`)")
    print("  Dagster    http://127.0.0.1:3000 (lineage, runs, asset checks); MLflow http://127.0.0.1:5000")
    print("  dbt docs   http://127.0.0.1:8580 (every model and column)")
    logs = sorted(p.logs.glob("nightly-*.log")) if p.logs.exists() else []
    if logs:
        print(f"  full log   {logs[-1]}")


def _night_tags() -> dict[str, str]:
    """The night is the morning after the day the sources stand at, as the 02:00 schedule's would
    be: it seeds the forecast (orchestration.night), so a rerun gives the same numbers."""
    from datetime import date, timedelta

    from orchestration.night import RUN_DATE_TAG
    from synthetic_sources import api

    as_of = date.fromisoformat(api.read_manifest(paths())["as_of"])
    return {RUN_DATE_TAG: (as_of + timedelta(days=1)).isoformat()}


def _print_bottlenecks(warehouse, top: int = 6) -> None:
    """The baseline forecast's bottlenecks in plain words: what a planner should read first."""
    from simulation.outputs import latest_run
    from warehouse import duck

    with duck.open_reader(warehouse) as con:
        latest = latest_run(con)
        if latest is None:
            return
        rows = con.execute(
            "select description, first_month, probability from forecast.bottlenecks "
            "where run_id = ? and scenario = 'baseline' order by probability desc, first_month limit ?",
            [latest[0], top]).fetchall()
    print("llif: the baseline forecast's main bottlenecks:" if rows else "llif: the baseline forecast finds no bottleneck")
    for description, first_month, probability in rows:
        print(f"  - {description} from {str(first_month)[:7]} ({probability:.0%} of runs)")


def _nightly_refresh(replications: int | None = None) -> list[str]:
    """Materialise every asset Dagster can make; the source systems are external and only read.
    ``replications`` overrides the forecast's (fewer for a quick look at a small world).

    The terminal gets one line per step; Dagster's full log (and anything libraries or worker
    processes print) goes to ``LLIF_HOME/logs/nightly-<time>.log``, named before the run starts.
    """
    from contracts.shutdown import sigterm_interrupts
    from llif.dbt_manifest import ensure
    from llif.progress import StageLines, log_file, progress_logger, quiet_run
    from llif.services import open_instance

    sigterm_interrupts()  # SIGTERM stops the night as Ctrl-C does: steps end, dbt and workers with them
    from orchestration.stop_watch import watch_interrupts

    watch_interrupts()    # and a night still waiting for the warehouse slot stops too
    ensure()
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly_refresh")
    path = log_file(paths().logs, "nightly")
    print(f"llif: running the nightly refresh in-process; Dagster's full log: {path}", flush=True)
    run_config: dict = {"loggers": {"llif_progress": {}}}
    if replications:
        run_config["ops"] = {"forecast__scenario_forecasts": {"config": {"replications": replications}},
                             "forecast__backtest": {"config": {"replications": replications}}}
    # the run is kept in LLIF_HOME's Dagster instance, so `make ui` shows it afterwards
    with open_instance() as instance, quiet_run(path) as (terminal, log):
        from orchestration.recovery import release_dead_runs

        for freed in release_dead_runs(instance):  # a night killed earlier must not block this one
            print(f"llif: freed the warehouse slot of run {freed.run_id}: {freed.reason}", file=terminal, flush=True)
        lines = StageLines(out=terminal, total=len(job.graph.nodes))
        quiet = job.with_logger_defs({"llif_progress": progress_logger(lines, log)})
        result = quiet.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False,
                                      tags=_night_tags())
    if not result.success:
        failed = ", ".join(lines.failed) or "the run"
        raise RuntimeError(f"the nightly refresh failed ({failed}); the full log is {path}, and `make ui` "
                           "shows the failed run in Dagster")
    done = [e.asset_key for e in result.get_asset_materialization_events()]
    return sorted({"/".join(k.path[:2]) for k in done if k is not None})
