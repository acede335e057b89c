"""Forecasts for the baseline and every shipped scenario, their backtest, and the nightly report.

Thin: the engine is ``simulation`` (no Dagster, no MLflow there); this module reads its inputs
from the warehouse and the champion probability tables, runs it, writes the ``forecast`` schema
and publishes what planners and analysts look at first as metadata. The backtest is logged to
MLflow here, since the engine may not import it.
"""


import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.assets.ml import PERSON_MONTHS, PROBABILITY_TABLES, SEGMENTS
from orchestration.night import is_weekly_run, night_of
from orchestration.resources import LlifHome
from orchestration.tracking import run_tags_of, tracking_of

TIMELINE = dg.AssetKey(["marts", "fct_person_month"])
REGISTER = dg.AssetKey(["marts", "fct_register_applications"])   # tonight's waiting lists
BASELINE = dg.AssetKey(["forecast", "baseline"])
SCENARIO_FORECASTS = dg.AssetKey(["forecast", "scenario_forecasts"])
BACKTEST = dg.AssetKey(["forecast", "backtest"])
REPORT = dg.AssetKey(["reports", "nightly_report"])


class ForecastConfig(dg.Config):
    replications: int = 200
    months: int = 60
    processes: int = 2
    run_date: str | None = None   # YYYY-MM-DD; default the night's logical date (orchestration.night)


class BacktestConfig(dg.Config):
    replications: int = 50
    cutoffs: list[int] = [12, 24]
    processes: int = 2
    run_date: str | None = None


@dg.multi_asset(
    name="forecast__scenario_forecasts",
    specs=[
        dg.AssetSpec(BASELINE, deps=[TIMELINE, REGISTER, SEGMENTS, PROBABILITY_TABLES], group_name="forecast",
                     kinds={"mesa"},
                     description="Tonight's census carried forward five years on the champion models' rates, "
                                 "today's capacity and costs: demand, occupancy, waits, delays and cost with "
                                 "50/80/95% bands, and where the system is likely to block."),
        dg.AssetSpec(SCENARIO_FORECASTS, deps=[TIMELINE, REGISTER, SEGMENTS, PROBABILITY_TABLES], group_name="forecast",
                     kinds={"mesa", "duckdb"},
                     description="Every scenario in scenarios/ beside the baseline on common random numbers "
                                 "(paired differences with intervals), with unconstrained demand; the forecast "
                                 "schema the planning marts and the explorer read."),
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,   # one run: the scenarios' differences from the baseline need its random numbers
)
def scenario_forecasts(context: AssetExecutionContext, llif: LlifHome, config: ForecastConfig):
    from contracts.settings import paths
    from explorer.scenario_store import nightly_scenarios
    from simulation.forecast_inputs import build_forecast_inputs
    from simulation.inputs import save_inputs
    from simulation.outputs import write_forecast
    from simulation.replications import run_forecast
    from warehouse import duck

    run_date = night_of(context, config.run_date)
    with duck.open_reader(llif.warehouse) as con:
        inputs = build_forecast_inputs(con)
    model_versions = inputs.provenance.get("model_versions", {})
    save_inputs(inputs, paths(llif.root).forecasts)  # the explorer's what-ifs start from these
    scenarios = nightly_scenarios(llif.root)  # the shipped ones and the planners' saved what-ifs
    for skipped in scenarios.skipped:
        context.log.warning("saved scenario left out tonight: %s", skipped)
    total = len(scenarios) * config.replications

    def progress(done: int) -> None:
        if done % max(1, total // 10) == 0:
            context.log.info("forecast: %d of %d scenario runs", done, total)

    results = run_forecast(inputs, scenarios, replications=config.replications, months=config.months,
                           run_date=run_date, processes=config.processes, progress=progress, needed=True)
    run_id = context.run.run_id
    with duck.open_writer(llif.warehouse) as con:
        rows = write_forecast(con, results, run_metadata={"run_id": run_id, "model_versions": model_versions})
        baseline = results.baseline_name
        statements = con.execute("select statement from forecast.statements where run_id = ? and scenario = ? "
                                 "order by 1 limit 8", [run_id, baseline]).fetchall()
        blocks = con.execute("select description, first_month, probability from forecast.bottlenecks "
                             "where run_id = ? and scenario = ? order by first_month, resource",
                             [run_id, baseline]).fetchall()
        compared = con.execute(
            "select statement from forecast.statements where run_id = ? and scenario <> ? order by scenario, 1",
            [run_id, baseline]).fetchall()
    common = {k: v for k, v in results.metadata.items() if isinstance(v, (int, float, str))}
    yield dg.MaterializeResult(asset_key=BASELINE, metadata={
        **common, "replications": config.replications, "months": config.months, "people": inputs.n_people,
        "statements": dg.MetadataValue.md("\n".join(f"- {s[0]}" for s in statements) or "(none)"),
        "bottlenecks": dg.MetadataValue.md(
            "\n".join(f"- {d} from {str(m)[:7]} ({p:.0%} of runs)" for d, m, p in blocks) or "(none)"),
    })
    yield dg.MaterializeResult(asset_key=SCENARIO_FORECASTS, metadata={
        **common, "scenarios": ", ".join(s.name for s in scenarios),
        "replications": config.replications, "months": config.months, "rows_written": rows,
        "against_the_baseline": dg.MetadataValue.md("\n".join(f"- {s[0]}" for s in compared[:20]) or "(none)"),
    })


@dg.asset(key=BACKTEST, deps=[TIMELINE, REGISTER, SEGMENTS, PERSON_MONTHS], group_name="forecast", pool=WAREHOUSE_POOL,
          kinds={"mesa", "mlflow"},
          description="The nightly forecast's own path started from the census 12 and 24 months ago, on models "
                      "trained only before then, against what happened: every key series' error, 80% and 95% "
                      "band coverage and width, for the provider and for each area; in forecast.backtest_series, "
                      "forecast.backtest_areas and MLflow.")
def backtest(context: AssetExecutionContext, llif: LlifHome, config: BacktestConfig) -> dg.MaterializeResult:
    import mlflow

    from contracts.settings import paths
    from models_ml.forecast_tables import production_tables
    from simulation.backtest import run_backtests, write_backtest
    from warehouse import duck

    night = night_of(context, config.run_date)
    # the cut-off models are trained on the weekly (Sunday) run and reused on the other nights
    retrain = is_weekly_run(context.run.tags)
    tables_for = production_tables(paths(llif.root).backtest_models, retrain=retrain)
    with duck.open_reader(llif.warehouse) as con:
        results = run_backtests(con, config.cutoffs, tables_for=tables_for, replications=config.replications,
                                processes=config.processes, run_date=night)
    figures = {f"{name}_{cutoff}m": round(float(r[name]), 4) for cutoff, r in results.items()
               for name in ("total_pct_error", "coverage80", "coverage95", "min_coverage95")}
    models = {f"models_{cutoff}m": f"{r['models'].get('table_version')} "
                                   f"({'trained tonight' if r['models'].get('trained') else 'cached'})"
              for cutoff, r in results.items()}
    with duck.open_writer(llif.warehouse) as con:
        rows = write_backtest(con, results, context.run.run_id, night)
    tracking = tracking_of(llif)
    tracking.activate()
    mlflow.set_experiment("llif-backtest")
    with mlflow.start_run(run_name=f"backtest {night}", tags=run_tags_of(context)) as run:
        mlflow.log_params({"replications": config.replications, "cutoffs": ",".join(map(str, config.cutoffs)),
                           "run_date": str(night), "retrained": retrain, **models})
        mlflow.log_metrics(figures)
        for cutoff, r in results.items():   # the key series' errors, coverage and widths, as a table
            mlflow.log_table(r["series"], artifact_file=f"backtest_series_{cutoff}m.json")
            if len(r.get("areas", [])):
                mlflow.log_table(r["areas"], artifact_file=f"backtest_areas_{cutoff}m.json")
    per_series = {f"series_{cutoff}m": dg.MetadataValue.md(_series_markdown(r["series"])) for cutoff, r in results.items()}
    per_series.update({f"areas_{cutoff}m": dg.MetadataValue.md(_areas_markdown(r["areas"]))
                       for cutoff, r in results.items() if len(r.get("areas", []))})
    return dg.MaterializeResult(metadata={**figures, **per_series, **models, "rows_written": rows, "run_date": str(night),
                                          "mlflow_run_id": run.info.run_id})


def _series_markdown(table) -> str:
    cols = ["series", "kind", "forecast", "actual", "pct_error", "coverage80", "coverage95", "width95_pct"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table[cols].itertuples(index=False):
        lines.append(f"| {row.series} | {row.kind} | {row.forecast:,.1f} | {row.actual:,.0f} | {row.pct_error:+.1f}% "
                     f"| {row.coverage80:.0%} | {row.coverage95:.0%} | {row.width95_pct:.0f}% |")
    return "\n".join(lines)


def _areas_markdown(table) -> str:
    """Per area: the error in its people at the horizon, and its worst series' 95% coverage."""
    lines = ["| area | people error | 80% coverage (mean) | 95% coverage (worst series) |", "|---|---|---|---|"]
    for area, part in table.groupby("area", sort=True):
        total = part[part["series"] == "people_total"]
        error = f"{total['pct_error'].iloc[0]:+.1f}%" if len(total) else "-"
        lines.append(f"| {area} | {error} | {part['coverage80'].mean():.0%} | {part['coverage95'].min():.0%} |")
    return "\n".join(lines)


@dg.asset(key=REPORT, deps=[SCENARIO_FORECASTS], group_name="reports", pool=WAREHOUSE_POOL, kinds={"html", "pdf"},
          description="Tonight's printable report: HTML (interactive charts) and the same printed to PDF by "
                      "headless Chromium: the overview, the main charts and the scenario comparison.")
def nightly_report(context: AssetExecutionContext, llif: LlifHome) -> dg.MaterializeResult:
    from contracts.settings import paths
    from explorer.report import PdfUnavailable, build_report, print_pdf

    out = build_report(llif.warehouse, paths(llif.root).reports)
    metadata = {"path": dg.MetadataValue.path(str(out)), "size_kb": round(out.stat().st_size / 1024)}
    try:
        pdf = print_pdf(out)
        metadata["pdf"] = dg.MetadataValue.path(str(pdf))
    except PdfUnavailable as exc:  # the HTML stands; say plainly why there is no PDF tonight
        context.log.warning(str(exc))
        metadata["pdf"] = f"not printed: {exc}"
    return dg.MaterializeResult(metadata=metadata)


forecast_assets = [scenario_forecasts, backtest, nightly_report]
