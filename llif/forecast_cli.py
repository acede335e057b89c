"""``llif forecast``: the forecast engine for analysts on the command line.

    llif forecast run --scenario scenarios/reablement.yaml [--replications 200] [--months 60]
    llif forecast backtest [--cutoff 12] [--replications 200] [--tables production|estimated] [--retrain]
    llif forecast goal-seek --add care_home:nursing[:AREA] --kpi delayed_discharges --below 10 [--level 0.8]
    llif forecast nursing-beds [--below 10]      (the goal seek above, provider-wide)
    llif forecast long-range [--years 20] [--demography 1.0] [--scenario FILE] [--population FILE] [--out DIR]

Hooked into ``llif/cli.py`` by ``add_forecast_commands(sub)``; ``run_forecast_command(args)``
handles the parsed arguments. Reads the warehouse read-only (``--warehouse``, default the one
in LLIF_HOME); ``--toy N`` runs on a synthetic provider of N people instead (no warehouse).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def add_forecast_commands(subparsers) -> argparse.ArgumentParser:
    """Add ``forecast`` and its actions to the ``llif`` subparsers."""
    fc = subparsers.add_parser("forecast", help="simulate the months ahead: scenarios, backtest, capacity search")
    fsub = fc.add_subparsers(dest="action", required=True)

    def common(p):
        p.add_argument("--warehouse", default=None, help="the DuckDB warehouse (default: LLIF_HOME's), opened read-only")
        p.add_argument("--toy", type=_positive_int, default=None, metavar="N",
                       help="use a synthetic provider of N people instead of the warehouse")
        p.add_argument("--replications", type=_positive_int, default=200,
                       help="runs per scenario (default 200; nursing-beds uses at most 40 a trial)")
        p.add_argument("--processes", type=_positive_int, default=2, help="worker processes (default 2)")
        p.add_argument("--run-date", default=None,
                       help="seeds the run, YYYY-MM-DD (default: the night the warehouse last forecast, "
                            "else the day after the census month)")

    run = fsub.add_parser("run", help="the baseline and one or more scenario files")
    common(run)
    run.add_argument("--scenario", action="append", default=[], metavar="FILE",
                     help="a scenario YAML file (repeatable); 'all' for every shipped scenario")
    run.add_argument("--months", type=_positive_int, default=60, help="months ahead (default 60)")
    run.add_argument("--out", default=None, help="write the summary tables as CSV files into this folder")

    bt = fsub.add_parser("backtest", help="forecast from 12 or 24 months ago and compare with what happened")
    common(bt)
    bt.add_argument("--cutoff", type=_positive_int, default=12, help="months before the reference month")
    bt.add_argument("--tables", choices=("production", "estimated"), default="production",
                    help="production: models trained only up to the cut-off, as tonight's (default); "
                         "estimated: the engine's own back-off tables")
    bt.add_argument("--retrain", action="store_true",
                    help="train the cut-off models again even if the weekly run cached them")

    gs = fsub.add_parser("goal-seek", help="the fewest places of one kind keeping a measure below (or above) a level")
    common(gs)
    gs.add_argument("--add", required=True, metavar="TYPE[:BEDS][:AREA]",
                    help="the places to add: a unit type (care_home, extra_care, sheltered, ...), for care homes "
                         "the beds (nursing, residential, all), and an area code, e.g. care_home:nursing:CDF or extra_care::SWA")
    gs.add_argument("--kpi", required=True, help="the forecast measure, e.g. delayed_discharges, waiting_extra_care")
    side = gs.add_mutually_exclusive_group(required=True)
    side.add_argument("--below", type=float, help="the level the measure must stay below every month")
    side.add_argument("--above", type=float, help="the level the measure must stay above every month")
    gs.add_argument("--level", type=float, default=0.8, help="the share of runs that must meet it (default 0.8)")
    gs.add_argument("--from-month", type=_positive_int, default=1, help="the goal holds from this forecast month on")
    gs.add_argument("--start", default=None, help="when the places open (YYYY-MM or a forecast month; default the first)")
    gs.add_argument("--months", type=_positive_int, default=24, help="months ahead (default 24)")
    gs.add_argument("--max-change", type=_positive_int, default=400, help="the most places to try (default 400)")

    nb = fsub.add_parser("nursing-beds", help="the fewest extra nursing beds keeping delayed discharges under a level")
    common(nb)
    nb.add_argument("--below", type=float, default=10.0, help="delayed discharges a month to stay under")
    nb.add_argument("--months", type=_positive_int, default=24, help="months ahead (default 24)")
    lr = fsub.add_parser("long-range", help="up to 20 years with demographic change: yearly bands and where the "
                                            "change in demand comes from")
    common(lr)
    lr.add_argument("--years", type=_positive_int, default=20, help="years ahead (1 to 20, default 20)")
    lr.add_argument("--demography", type=float, default=1.0,
                    help="share of the projected population change applied (default 1; 0: none)")
    lr.add_argument("--scenario", default=None, metavar="FILE", help="a scenario YAML file to decompose beside the baseline")
    lr.add_argument("--population", default=None, metavar="FILE",
                    help="a population projection CSV (default LLIF_POPULATION_PROJECTION, else the shipped assumption)")
    lr.add_argument("--out", default=None,
                    help="folder for the CSV tables (default LLIF_HOME/forecasts/long_range/<run date>_<years>y)")
    fc.set_defaults(handler=run_forecast_command)
    return fc


def _inputs(args):
    if args.toy:
        from simulation.testing import toy_inputs

        return toy_inputs(args.toy, seed=0), None
    import duckdb

    path = Path(args.warehouse) if args.warehouse else None
    if path is None:
        from contracts.settings import paths

        path = paths().warehouse
    if not path.exists():
        raise SystemExit(f"llif: error: no warehouse at {path} (build one, pass --warehouse, or use --toy N)")
    con = duckdb.connect(str(path), read_only=True)
    from simulation.forecast_inputs import build_forecast_inputs

    # the nightly forecast's own inputs: tonight's census, the champion models' tables and segments
    return build_forecast_inputs(con), con


def _run_date(args, inputs, con) -> str:
    """``--run-date``, else the night the warehouse last forecast (so `llif forecast run`
    reproduces tonight's baseline), else the day after the census month; never the clock."""
    if args.run_date:
        return args.run_date
    if con is not None:
        from simulation.outputs import latest_run_date

        night = latest_run_date(con)
        if night is not None:
            return night
    from simulation.replications import default_run_date

    return default_run_date(inputs)


def run_forecast_command(args) -> int:
    from tqdm import tqdm

    from simulation.scenarios import ScenarioError, baseline, load_scenario, shipped_scenarios

    try:
        if args.action == "run":
            files = args.scenario
            if "all" in files:
                scenarios = shipped_scenarios()
            else:
                scenarios = [baseline()] + [load_scenario(f) for f in files]
        inputs, con = _inputs(args)
    except ScenarioError as exc:
        print(f"llif: error: {exc}", file=sys.stderr)
        return 2
    args.run_date = _run_date(args, inputs, con)
    if args.action == "run":
        return _run(args, inputs, scenarios)
    if args.action == "long-range":
        return _long_range(args, inputs)
    if args.action == "backtest":
        from simulation.backtest import run_backtests

        if con is None:
            print("llif: error: the backtest needs a warehouse (not --toy)", file=sys.stderr)
            return 2
        tables_for = None
        if args.tables == "production":
            from contracts.settings import paths
            from models_ml.forecast_tables import production_tables

            tables_for = production_tables(paths().backtest_models, retrain=args.retrain)
        with tqdm(total=args.replications, desc=f"backtest {args.cutoff} months", unit="rep") as bar:
            out = run_backtests(con, [args.cutoff], tables_for=tables_for, replications=args.replications,
                                processes=args.processes, run_date=args.run_date, progress=bar.update)[args.cutoff]
        if out["models"]:
            m = out["models"]
            print(f"models trained up to {m.get('cutoff')} ({'trained now' if m.get('trained') else 'cached'}; "
                  f"tables {m.get('table_version')})")
        print(f"census {out['cutoff']} ({out['census_people']} people), {out['months']} months, "
              f"{out['replications']} replications")
        print(f"  total people error {out['total_pct_error']:+.2f}%, 80% bands hold {out['coverage80']:.0%}, "
              f"95% bands hold {out['coverage95']:.0%} of series-months")
        print(out["series"].to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
        return 0
    return _goal_seek(args, inputs)


def lever_of(text: str, start=None) -> dict:
    """``care_home:nursing:CDF`` -> the capacity change the goal seek varies (its delta left out)."""
    parts = (text.split(":") + ["", ""])[:3]
    lever = {"unit_type": parts[0]}
    if parts[1]:
        lever["beds"] = parts[1]
    if parts[2]:
        lever["area"] = parts[2]
    if start is not None:
        lever["start"] = int(start) if str(start).isdigit() else str(start)
    return lever


def _goal_seek(args, inputs) -> int:
    from simulation.goal_seek import Goal, goal_seek

    if args.action == "nursing-beds":
        lever, goal, cap = {"unit_type": "care_home", "beds": "nursing"}, Goal("delayed_discharges", below=args.below), 400
    else:
        lever = lever_of(args.add, args.start)
        try:
            goal = Goal(args.kpi, below=args.below, above=args.above, level=args.level, from_month=args.from_month)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        cap = args.max_change
    reps = min(args.replications, 40)
    print(f"llif: goal seek, {reps} runs a trial, {args.months} months: {goal.text()}", flush=True)
    try:
        found = goal_seek(inputs, lever, goal, replications=reps, months=args.months, run_date=args.run_date,
                          max_change=cap, processes=args.processes,
                          progress=lambda n: print(f"  tried {n} more", flush=True))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(found.sentence())
    print("  tried (places added: share of runs meeting the goal): "
          + ", ".join(f"{c}: {v:.0%}" for c, v in found.tried.items()))
    if not found.monotone:
        print("  note: more places did not always help in these runs; try more replications (--replications)")
    return 0


def _run(args, inputs, scenarios) -> int:
    from tqdm import tqdm

    from simulation.outputs import summarise
    from simulation.replications import run_forecast

    with tqdm(total=args.replications, desc=f"{len(scenarios)} scenario(s)", unit="rep") as bar:
        results = run_forecast(inputs, scenarios, replications=args.replications, months=args.months,
                               run_date=args.run_date, processes=args.processes, progress=bar.update)
    tables = summarise(results)
    s = tables["kpi_summary"]
    last = s[s.month_index == s.month_index.max()]
    print(f"llif: {len(scenarios)} scenario(s) x {args.replications} replications x {args.months} months "
          f"from the census of {inputs.reference_month} ({inputs.n_people} people) in {results.metadata['seconds']:.0f}s")
    show = ["people_total", "people_residential_care", "people_nursing_care", "people_extra_care",
            "waiting_extra_care", "delayed_discharges", "home_care_hours", "cost_total"]
    view = last[last.kpi.isin(show)].pivot(index="kpi", columns="scenario", values="mean").reindex(show)
    print(f"\nmeans in {str(last.month.iloc[0])[:7]}:")
    print(view.to_string(float_format=lambda v: f"{v:,.0f}"))
    print()
    for row in tables["statements"].head(16).itertuples(index=False):
        print(f"  - [{row.scenario}] {row.statement}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            df.to_csv(out / f"{name}.csv", index=False)
        print(f"\ntables written to {out}")
    return 0


def _long_range(args, inputs) -> int:
    """Run the long range, print the decomposition with progress lines, write the tables as CSV
    (the explorer's Long range page reads the newest; not a ``forecast``-schema table: it is not nightly)."""

    from simulation.long_range import run_long_range, write_long_range
    from simulation.population import ProjectionError, default_projection, load_projection
    from simulation.scenarios import ScenarioError, load_scenario

    if args.demography < 0:
        print("llif: error: --demography must be 0 or more", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario) if args.scenario else None
        population = load_projection(args.population) if args.population else default_projection()
    except (ScenarioError, ProjectionError, ValueError) as exc:
        print(f"llif: error: {exc}", file=sys.stderr)
        return 2
    runs = 3 if scenario else 2
    print(f"llif: long range, {args.years} years x {args.replications} replications x {runs} runs "
          f"(demography {args.demography:g}, population {population.source})", flush=True)
    done = [0]

    def progress(n):
        done[0] += n
        print(f"  {done[0]}/{args.replications} replications", flush=True)

    try:
        lr = run_long_range(inputs, years=args.years, demography=args.demography, scenario=scenario,
                            population=population, replications=args.replications, processes=args.processes,
                            run_date=args.run_date, progress=progress)
    except (ProjectionError, ValueError) as exc:
        print(f"llif: error: {exc}", file=sys.stderr)
        return 2
    d = lr.decomposition
    print(f"llif: done in {lr.results.metadata['seconds']:.0f}s; change from the first forecast year "
          f"(means; p10-p90 per part in the CSV):")
    view = d[d.component != "end"].pivot_table(index=["kpi", "year"], columns="component", values="mean")
    print(view[["start", "rates", "demography", "scenario", "total"]].to_string(float_format=lambda v: f"{v:,.1f}"))
    if args.out:
        out = Path(args.out)
    else:
        from contracts.settings import paths

        out = paths().forecasts / "long_range" / f"{args.run_date}_{args.years}y"
    write_long_range(lr, out, args.demography)
    print(f"tables written to {out} (the explorer's Long range page shows the newest)")
    return 0


def main(argv=None) -> int:
    """Stand-alone entry (``python -m llif.forecast_cli forecast run ...``): the same commands as
    ``llif forecast``, which ``llif/cli.py`` adds with ``add_forecast_commands``."""
    parser = argparse.ArgumentParser(prog="llif")
    add_forecast_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
