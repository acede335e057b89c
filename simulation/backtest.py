"""Backtest: the nightly forecast's own path, started 12 or 24 months ago, against what happened.

Why: bands are only worth showing if they hold the truth about as often as they claim, and a
backtest proves that only for the path it runs. So this runs exactly what the nightly runs -
``forecast_inputs.build_forecast_inputs`` with the probability tables of models trained only on
data before the cut-off (same configuration and refit rule, built by ``models_ml`` and passed
in), the segments as of then, the same engine and replications - and compares every key series
with what the warehouse recorded afterwards. The reference in the field (witan.send) under-
predicts its own backtest by 1.6-7.3% over one to three years, and its 95% bands hold the actual
in 61-77% of states (docs/forecast_engine.md).

The actual series come from the same warehouse and mean what the engine's KPIs mean (known
hospital admissions, days beyond the 21st of a stay as delayed bed days, people on the register
as waiting lists, cost priced with the forecast's own unit costs by ``simulation.costs``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.vocabulary.states import CARE_HOME_STATES, HOME_STATES, HOUSING_STATES
from simulation.breakdowns import UNKNOWN
from simulation.costs import cost_by_payer
from simulation.forecast_inputs import build_forecast_inputs
from simulation.forecast_model import KPIS
from simulation.inputs import DEFAULT_COSTS, month_add, reference_month_of
from simulation.lattice import LIVE_STATES
from simulation.register import WANTS
from simulation.replications import run_forecast
from simulation.scenarios import baseline
from simulation.stays import stay_months

WAITING_SERIES = tuple(f"waiting_{s}" for s in HOUSING_STATES)
# per area: the series the breakdown counts person by person and the timeline records by area
AREA_SERIES = (*(f"people_{s}" for s in LIVE_STATES), "people_total", "deaths", "hospital_admissions",
               "care_home_admissions", "home_care_hours")
KEY_SERIES = (*(f"people_{s}" for s in LIVE_STATES), "people_total", "deaths", "hospital_admissions",
              "care_home_admissions", "arrivals", *WAITING_SERIES, "home_care_hours", "delayed_bed_days",
              "cost_total")


def _sql_list(values) -> str:
    """A tuple of state names as an SQL ``in`` list: ('a', 'b')."""
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


HOME_STATES_SQL = _sql_list(HOME_STATES)
CARE_HOME_STATES_SQL = _sql_list(CARE_HOME_STATES)


def _months(start, months: int) -> pd.DatetimeIndex:
    first = pd.Timestamp(month_add(start, 1))
    return pd.date_range(first, periods=months, freq="MS")


def actual_series(con, start, months: int, costs: dict | None = None) -> pd.DataFrame:
    """What the warehouse recorded for the months after ``start``: one row per month, one column
    per KPI of ``KEY_SERIES`` (and the activity cost is priced from)."""
    index = _months(start, months)
    first, last = index[0].date(), index[-1].date()
    states = ", ".join(f"count(*) filter (where state = '{s}') as people_{s}" for s in LIVE_STATES)
    live = _sql_list(LIVE_STATES)
    df = con.execute(f"""
        select month_start, {states},
               count(*) filter (where state in {live}) as people_total,
               count(*) filter (where state = 'died') as deaths,
               sum(is_hospital_admission) as hospital_admissions,
               count(*) filter (where is_care_home_admission = 1
                                and state in {CARE_HOME_STATES_SQL}) as care_home_admissions,
               count(*) filter (where is_first_month = 1 and state in {live}) as arrivals,
               sum(case when state in {HOME_STATES_SQL} then coalesce(weekly_care_hours, 0) else 0 end)
                   as weekly_hours,
               sum(is_hospice_admission) as hospice_admissions
        from marts.fct_person_month
        where month_start between ? and ?
        group by month_start order by month_start""", [first, last]).df()
    df["month_start"] = pd.to_datetime(df["month_start"])
    df = df.set_index("month_start").reindex(index).fillna(0.0)
    days = index.days_in_month.to_numpy(float)
    df["home_care_hours"] = df.pop("weekly_hours").to_numpy(float) * days / 7.0
    df["delayed_bed_days"], df["hospice_bed_days"] = _stay_days(con, index)
    for name, values in _waiting(con, index).items():
        df[name] = values
    df["voids"] = _voids(con, index)
    priced = cost_by_payer(df, costs or DEFAULT_COSTS, days)
    for name, values in priced.items():
        df[name] = values
    return df


def _stay_days(con, index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Per month: hospital days beyond the 21st of a stay (the warehouse's measure of delay) and
    hospice bed days (the hospice's stays, or 15 days an admission where none are kept)."""
    first, end = index[0].date(), (index[-1] + pd.offsets.MonthEnd(0)).date()
    spells = con.execute(
        """select admission_date, discharge_date from marts.fct_hospital_spells
           where admission_date <= ? and (discharge_date is null or discharge_date >= ?)
           order by hospital_spell_id""", [end, first]).df()
    long_days = np.zeros(len(index))
    if len(spells):
        cut = stay_months(spells["admission_date"], spells["discharge_date"], until=end)
        by = cut.groupby("month")["long_days"].sum()
        long_days = by.reindex(index).fillna(0.0).to_numpy(float)
    hospice = np.zeros(len(index))
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'intermediate' "
                         "and table_name = 'int_away_spells_unioned'").fetchone()[0]
    if exists:
        stays = con.execute(
            """select start_date, end_date from intermediate.int_away_spells_unioned
               where setting = 'hospice' and is_duplicate = 0 and start_date <= ?
                 and (end_date is null or end_date >= ?)
               order by 1, 2""", [end, first]).df()
        if len(stays):
            cut = stay_months(stays["start_date"], stays["end_date"], until=end)
            hospice = cut.groupby("month")["days"].sum().reindex(index).fillna(0.0).to_numpy(float)
    return long_days, hospice


def _waiting(con, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """People on the register at each month end by what they wait for, as the forecast counts
    them (simulation.register): a homeless household already in temporary accommodation waits
    for a settled home; an applicant already where they applied to be is not waiting."""
    out = {name: np.zeros(len(index)) for name in WAITING_SERIES}
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'marts' "
                         "and table_name = 'fct_register_applications'").fetchone()[0]
    if not exists:
        return out
    end = (index[-1] + pd.offsets.MonthEnd(0)).date()
    apps = con.execute(
        """select a.application_id, a.need_type, coalesce(a.household_size, 1) as size,
                  m.month_start as month, f.state
           from marts.fct_register_applications a
           cross join (select distinct month_start from marts.dim_month where month_start between ? and ?) m
           left join marts.fct_person_month f on f.person_key = a.person_key and f.month_start = m.month_start
           where a.is_end_before_start = 0 and a.need_type in ('general', 'homeless', 'sheltered', 'extra_care')
             and a.applied_date <= last_day(m.month_start)
             and (a.status_date is null or a.status_date > last_day(m.month_start))
           order by a.application_id, m.month_start""", [index[0].date(), end]).df()
    if apps.empty:
        return out
    apps["month"] = pd.to_datetime(apps["month"])
    want = apps["need_type"].map({k: LIVE_STATES[v] for k, v in WANTS.items()})
    here = apps["state"].astype(object)
    moving_on = (here == want) & (want == "temporary")
    want = want.where(~moving_on, "general_needs")
    keep = ~((here == want) & ~moving_on)
    counted = apps.loc[keep].assign(want=want[keep])
    table = counted.groupby(["month", "want"])["size"].sum().astype(float).unstack(fill_value=0.0)
    for name in WAITING_SERIES:
        state = name.removeprefix("waiting_")
        if state in table.columns:
            out[name] = table[state].reindex(index).fillna(0.0).to_numpy(float)
    return out


def _voids(con, index: pd.DatetimeIndex) -> np.ndarray:
    """Void units of the provider's housing at each month end (the provider's lost rent)."""
    df = con.execute(
        """select month_start, sum(void_units_end) as voids from marts.fct_occupancy_monthly
           where scheme_type in ('general_needs', 'sheltered', 'extra_care', 'temporary')
             and month_start between ? and ?
           group by month_start order by month_start""", [index[0].date(), index[-1].date()]).df()
    df["month_start"] = pd.to_datetime(df["month_start"])
    return df.set_index("month_start")["voids"].reindex(index).fillna(0.0).to_numpy(float)


def actual_area_series(con, start, months: int) -> dict[str, pd.DataFrame]:
    """Per area (the timeline's ``area_code``; ``unknown`` where it has none, as the breakdown
    labels it): ``AREA_SERIES`` for the months after ``start``, one row per month."""
    index = _months(start, months)
    states = ", ".join(f"count(*) filter (where state = '{s}') as people_{s}" for s in LIVE_STATES)
    live = _sql_list(LIVE_STATES)
    df = con.execute(f"""
        select coalesce(area_code, '{UNKNOWN}') as area, month_start, {states},
               count(*) filter (where state in {live}) as people_total,
               count(*) filter (where state = 'died') as deaths,
               sum(is_hospital_admission) as hospital_admissions,
               count(*) filter (where is_care_home_admission = 1
                                and state in {CARE_HOME_STATES_SQL}) as care_home_admissions,
               sum(case when state in {HOME_STATES_SQL} then coalesce(weekly_care_hours, 0) else 0 end)
                   as weekly_hours
        from marts.fct_person_month
        where month_start between ? and ?
        group by all order by 1, 2""", [index[0].date(), index[-1].date()]).df()
    df["month_start"] = pd.to_datetime(df["month_start"])
    days = index.days_in_month.to_numpy(float)
    out = {}
    for area, part in df.groupby("area", sort=True):
        part = part.drop(columns="area").set_index("month_start").reindex(index).fillna(0.0)
        part["home_care_hours"] = part.pop("weekly_hours").to_numpy(float) * days / 7.0
        out[str(area)] = part
    return out


def _scored(series: str, x: np.ndarray, a: np.ndarray) -> dict:
    """One series' error and band coverage: ``x`` (replications, months) against ``a`` (months)."""
    lo80, hi80, lo95, hi95 = np.quantile(x, [0.1, 0.9, 0.025, 0.975], axis=0)
    mean = x.mean(axis=0)
    stock = series.startswith(("people_", "waiting_"))
    total_f = mean[-1] if stock else mean.sum()
    total_a = a[-1] if stock else a.sum()
    scale = np.maximum(np.abs(mean), 1.0)
    return {
        "series": series, "kind": "stock at horizon" if stock else "total over horizon",
        "forecast": float(total_f), "actual": float(total_a),
        "pct_error": float((total_f - total_a) / total_a * 100) if total_a else np.nan,
        "mape_monthly": float(np.mean(np.abs(mean - a) / np.maximum(a, 1)) * 100),
        "coverage80": float(np.mean((a >= lo80) & (a <= hi80))),
        "coverage95": float(np.mean((a >= lo95) & (a <= hi95))),
        # how wide the bands are, as a share of the forecast: coverage bought with bands
        # that say nothing is no coverage (reported beside it)
        "width80_pct": float(np.mean((hi80 - lo80) / scale) * 100),
        "width95_pct": float(np.mean((hi95 - lo95) / scale) * 100),
    }


def compare_areas(results, actual: dict[str, pd.DataFrame], series=AREA_SERIES) -> pd.DataFrame:
    """``compare``'s scores per area of the forecast's breakdown (each area's own replications,
    counted person by person) against what the timeline recorded in that area."""
    lay = results.breakdown_layout
    if lay is None or results.baseline_name not in results.breakdown:
        return pd.DataFrame()
    arr = results.breakdown[results.baseline_name]
    rows_of = {(s[0], s[3]): i for i, s in enumerate(lay.series) if s[1] is None and s[2] is None and s[0] is not None}
    months = arr.shape[2]
    rows = []
    for area in lay.area_labels:
        seen = actual.get(area)
        for s in series:
            x = arr[:, rows_of[(area, s)], :].astype(float)
            a = seen[s].to_numpy(float)[:months] if seen is not None else np.zeros(months)
            if not x.any() and not a.any():
                continue   # nobody in this area (an "unknown" the census has none of)
            rows.append({"area": area, **_scored(s, x[:, :len(a)], a)})
    return pd.DataFrame(rows)


def compare(results, actual: pd.DataFrame, series=KEY_SERIES) -> dict:
    """Errors, band coverage and band width of the baseline against the actual series."""
    arr = results.values[results.baseline_name]
    k = {name: i for i, name in enumerate(KPIS)}
    months = min(arr.shape[2], len(actual))
    rows = [_scored(s, arr[:, k[s], :months], actual[s].to_numpy(float)[:months]) for s in series]
    table = pd.DataFrame(rows)
    return {
        "months": months,
        "total_pct_error": float(table.loc[table.series == "people_total", "pct_error"].iloc[0]),
        "coverage80": float(table.coverage80.mean()),
        "coverage95": float(table.coverage95.mean()),
        "min_coverage95": float(table.coverage95.min()),
        "series": table,
    }


def run_backtest(con, cutoff_months: int = 12, *, tables=None, segments=None, replications: int = 50,
                 processes: int = 1, run_date=None, progress=None) -> dict:
    """Forecast ``cutoff_months`` ahead from the census ``cutoff_months`` before the warehouse's
    latest complete month, and compare with what happened.

    ``tables``/``segments``: the probability tables of models trained only on data up to the
    cut-off and the segments as of then (``models_ml.forecast_tables.cutoff_tables``), which is
    the nightly's path; None runs on the engine's own back-off tables (analysts' comparison).
    """
    ref = reference_month_of(con)
    cut = month_add(ref, -cutoff_months)
    inputs = build_forecast_inputs(con, as_of=cut, tables=tables, segments=segments)
    results = run_forecast(inputs, [baseline()], replications=replications, months=cutoff_months,
                           run_date=run_date, processes=processes, needed=False, progress=progress)
    actual = actual_series(con, cut, cutoff_months, inputs.costs)
    out = compare(results, actual)
    out["areas"] = compare_areas(results, actual_area_series(con, cut, cutoff_months))
    out.update({"cutoff": str(cut), "reference_month": str(ref), "replications": replications,
                "census_people": inputs.n_people, "tables": inputs.provenance.get("tables"),
                "model_versions": inputs.provenance.get("model_versions", {}),
                "recency": inputs.provenance.get("recency", {})})
    return out


def run_backtests(con, cutoffs=(12, 24), *, tables_for=None, replications: int = 50, processes: int = 1,
                  run_date=None, progress=None) -> dict[int, dict]:
    """Every cut-off's backtest, each on the tables ``tables_for`` gives for its census month.

    ``tables_for(con, census_month) -> (tables, segments, info)`` is how the production path
    comes in without the engine importing the models: the nightly asset and ``llif forecast
    backtest`` pass ``models_ml.forecast_tables.production_tables(...)`` (models trained only up
    to the cut-off, the same configuration and refit rule as tonight's champion, segments as of
    then). None runs every cut-off on the engine's own back-off tables (an analyst's comparison).
    ``info`` is kept in each result under ``"models"``.
    """
    ref = reference_month_of(con)
    out = {}
    for cutoff in cutoffs:
        tables = segments = None
        info = {}
        if tables_for is not None:
            tables, segments, info = tables_for(con, month_add(ref, -int(cutoff)))
        out[int(cutoff)] = run_backtest(con, int(cutoff), tables=tables, segments=segments, replications=replications,
                                        processes=processes, run_date=run_date, progress=progress)
        out[int(cutoff)]["models"] = info
    return out


BACKTEST_TABLE = "backtest_series"
AREA_TABLE = "backtest_areas"


def backtest_frame(results: dict[int, dict], run_id: str, night, part: str = "series") -> pd.DataFrame:
    """Every cut-off's key series (``part="series"``) or per-area series (``"areas"``) in one long
    frame: what the warehouse keeps of a backtest."""
    parts = []
    for cutoff, r in results.items():
        if part not in r or not len(r[part]):
            continue
        t = r[part].copy()
        t.insert(0, "cutoff_months", int(cutoff))
        t.insert(0, "census_month", pd.Timestamp(r["cutoff"]))
        parts.append(t)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out.insert(0, "created_at", pd.Timestamp.now(tz="UTC").tz_localize(None))   # a rerun is told apart
    out.insert(0, "run_date", pd.Timestamp(str(night)[:10]))
    out.insert(0, "run_id", run_id)
    return out


def write_backtest(con, results: dict[int, dict], run_id: str, night) -> int:
    """Keep the night's backtest in ``forecast.backtest_series`` and, by area,
    ``forecast.backtest_areas`` (a rerun replaces its rows), so the explorer's data-quality page
    can show how the forecast fared; the rows written to the first."""
    rows = _write(con, backtest_frame(results, run_id, night), BACKTEST_TABLE, run_id)
    areas = backtest_frame(results, run_id, night, part="areas")
    if len(areas):
        _write(con, areas, AREA_TABLE, run_id)
    return rows


def _write(con, frame: pd.DataFrame, table: str, run_id: str) -> int:
    con.execute("create schema if not exists forecast")
    con.register("_llif_backtest", frame)
    try:
        exists = con.execute("select count(*) from information_schema.tables where table_schema = 'forecast' "
                             "and table_name = ?", [table]).fetchone()[0]
        if exists:
            con.execute(f"delete from forecast.{table} where run_id = ?", [run_id])
            con.execute(f"insert into forecast.{table} by name select * from _llif_backtest")
        else:
            con.execute(f"create table forecast.{table} as select * from _llif_backtest")
    finally:
        con.unregister("_llif_backtest")
    return len(frame)
