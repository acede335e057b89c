"""From replications to what planners read: bands, paired differences, bottlenecks, sentences.

Why long tidy frames (scenario, month or year, kpi, statistics): the warehouse's ``forecast`` schema,
the explorer and the report all filter by scenario and KPI; one shape serves all three and
adding a KPI adds rows, not columns.

Why paired differences: replication r of a scenario and replication r of the baseline share
their random numbers (replications.py), so the difference per replication isolates the
scenario's effect; its interval is much narrower than the difference of two bands.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from contracts import forecast as forecast_contract
from contracts.forecast import LATEST_RUN_SQL, STATS
from contracts.settings import contact_hours_per_carer_week, spot_spare_share
from contracts.vocabulary import kpis as catalogue
from contracts.vocabulary.states import PLACES
from simulation.block_spot import MEASURES, block_spot_years
from simulation.breakdowns import BKPIS, DIMENSIONS, UNKNOWN
from simulation.cost_sensitivity import cost_sensitivity
from simulation.forecast_model import KPIS
from simulation.replications import ForecastResults
from simulation.staffing import carers_needed, team_hours

_Q = np.array([0.5, 0.025, 0.10, 0.25, 0.75, 0.90, 0.975])
# each pool's KPI stem -> (its waiting KPI, its plain name), from the vocabulary's places
RESOURCES = {p.resource: (f"waiting_{p.state}", p.name) for p in PLACES}
# what the unconstrained run adds (the catalogue's "needed" rows, in the order of RESOURCES)
NEEDED_KPIS = catalogue.NEEDED_KPIS
# KPIs that count what happens in a month (admissions, bed days, hours, lets, cost): a year's
# value is the sum of its months (the catalogue's aggregation "sum"). The others are month-end
# stocks (people, waiting, capacity) or averages.
FLOW_KPIS = catalogue.FLOW_KPIS


def _band_stats(arr: np.ndarray) -> np.ndarray:
    """(reps, kpis, months) -> (len(STATS), kpis, months)."""
    n = arr.shape[0]
    mean = arr.mean(axis=0)
    q = np.quantile(arr, _Q, axis=0)
    sd = arr.std(axis=0, ddof=1) if n > 1 else np.zeros_like(mean)
    half = stats.t.ppf(0.975, max(n - 1, 1)) * sd / math.sqrt(max(n, 1))
    return np.stack([mean, q[0], q[1], q[2], q[3], q[4], q[5], q[6], mean - half, mean + half])


def _nan_band_stats(arr: np.ndarray) -> np.ndarray:
    """``_band_stats`` over the replications that have a value (NaN where none has)."""
    n = np.isfinite(arr).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN cells stay NaN
        mean = np.nanmean(arr, axis=0)
        q = np.nanquantile(arr, _Q, axis=0)
        sd = np.where(n > 1, np.nanstd(arr, axis=0, ddof=1), 0.0)
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
    return np.stack([mean, q[0], q[1], q[2], q[3], q[4], q[5], q[6], mean - half, mean + half])


def _long(block: np.ndarray, names: list[str], kpis, months, scenario: str, stat_names=STATS) -> pd.DataFrame:
    n_k, n_m = block.shape[1], block.shape[2]
    frame = {
        "scenario": np.repeat(scenario, n_k * n_m),
        "month": np.tile(months, n_k),
        "month_index": np.tile(np.arange(1, n_m + 1), n_k),
        "kpi": np.repeat(np.asarray(kpis, dtype=object), n_m),
    }
    for i, s in enumerate(stat_names):
        frame[s] = block[i].reshape(-1)
    return pd.DataFrame(frame)


def _with_needed(results: ForecastResults, name: str) -> tuple[np.ndarray, list[str]]:
    arr = results.values[name]
    kpis = list(results.kpis)
    need = results.needed(name)
    if need is None:
        return arr, kpis
    idx = [results.kpis.index(f"occupied_{r}") for r in RESOURCES] + [results.kpis.index("home_care_hours")]
    return np.concatenate([arr, need[:, idx]], axis=1), kpis + list(NEEDED_KPIS)


def kpi_summary(results: ForecastResults) -> pd.DataFrame:
    """Per scenario, month and KPI: mean, median, 50/80/95% bands, CI of the mean. Includes
    ``needed_*`` (occupancy in the unconstrained run) beside ``occupied_*``."""
    months = pd.to_datetime(results.month_dates).values
    parts = []
    for sc in results.scenarios:
        arr, kpis = _with_needed(results, sc.name)
        parts.append(_long(_band_stats(arr), kpis, kpis, months, sc.name))
    df = pd.concat(parts, ignore_index=True)
    df["n_replications"] = next(iter(results.values.values())).shape[0]
    return df


BREAKDOWN_COLUMNS = forecast_contract.TABLES["kpi_breakdown"][1:]


def _present_series(results: ForecastResults) -> np.ndarray:
    """Which rows of the breakdown to write: all of them, except the 'unknown' group of a
    dimension (area, segment or age band) when nobody was ever in it - in any scenario,
    replication, month or KPI - so a census with every area known shows only its areas."""
    series = results.breakdown_layout.series
    keep = np.ones(len(series), dtype=bool)
    for j in range(len(DIMENSIONS)):
        rows = np.array([i for i, s in enumerate(series) if s[j] == UNKNOWN], dtype=np.int64)
        if len(rows) and all(not np.any(arr[:, rows]) for arr in results.breakdown.values()):
            keep[rows] = False
    return keep


def kpi_breakdown(results: ForecastResults) -> pd.DataFrame:
    """Per scenario, month and breakdown KPI (``breakdowns.BKPIS``): the statistics by area,
    by segment, by age band and by area x segment (``MAIN_KPIS``), with the provider's total as
    its own rows (every dimension NULL). Long, with a column per dimension: NULL where a row
    is not broken down by it.

    Why from the replications' own arrays: a group's bands are the bands of the group's own
    count in each replication (never a share of the total's bands), and the bands of a sum are
    not the sum of the bands. An empty frame when the run kept no breakdowns."""
    cols = list(BREAKDOWN_COLUMNS)
    lay = results.breakdown_layout
    if lay is None or not results.breakdown:
        return pd.DataFrame(columns=cols)
    months = pd.to_datetime(results.month_dates).values
    n_m = len(months)
    keep = _present_series(results)
    series = [s for s, k in zip(lay.series, keep) if k]
    total_rows = [KPIS.index(k) for k in BKPIS]
    labels = {d: np.repeat(np.array([None] * len(BKPIS) + [s[j] for s in series], dtype=object), n_m)
              for j, d in enumerate(DIMENSIONS)}
    kpis = list(BKPIS) + [s[3] for s in series]
    parts = []
    for sc in results.scenarios:
        total = _band_stats(results.values[sc.name][:, total_rows])
        groups = _band_stats(results.breakdown[sc.name][:, keep].astype(float))
        df = _long(np.concatenate([total, groups], axis=1), kpis, kpis, months, sc.name)
        for d in DIMENSIONS:
            df[d] = labels[d]
        df["n_replications"] = results.breakdown[sc.name].shape[0]
        parts.append(df[cols])
    return pd.concat(parts, ignore_index=True)


def home_care_staffing(results: ForecastResults) -> pd.DataFrame:
    """Per scenario, month and home-care team (then "area not recorded" and "all"): the hours
    delivered and the full-time carers they take (``simulation/staffing.py``), each summarised
    from the replications' own team totals."""
    cols = list(forecast_contract.TABLES["home_care_staffing"][1:])
    contact = contact_hours_per_carer_week()
    months = pd.to_datetime(results.month_dates).values
    parts = []
    for sc in results.scenarios:
        labels, hours = team_hours(results, sc.name)
        if not labels:
            continue
        block = np.concatenate([hours, carers_needed(hours, results.month_dates, contact)], axis=1)
        names = [f"hours:{t}" for t in labels] + [f"carers:{t}" for t in labels]
        df = _long(_band_stats(block), names, names, months, sc.name)
        df["measure"], df["team"] = df["kpi"].str.split(":", n=1).str[0], df["kpi"].str.split(":", n=1).str[1]
        df["measure"] = df["measure"].map({"hours": "home_care_hours", "carers": "carers_needed"})
        df["contact_hours_per_carer_week"] = contact
        df["n_replications"] = hours.shape[0]
        parts.append(df[cols])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def block_spot(results: ForecastResults) -> pd.DataFrame:
    """Per scenario, forecast year, care-home type, area (then "area not recorded" and "all")
    and block size: places needed, block beds used and unused, spot and out-of-area placements,
    how far, and the cost of buying them that way (``simulation/block_spot.py``), summarised
    from each replication's own year."""
    cols = list(forecast_contract.TABLES["block_spot"][1:])
    months = pd.to_datetime(results.month_dates)
    years = results.years()
    spare = spot_spare_share()
    parts = []
    for sc in results.scenarios:
        if results.breakdown_layout is None or sc.name not in results.breakdown:
            continue
        got = block_spot_years(results, sc.name, spare)
        for care_type, by_share in got.values.items():
            for share, arr in by_share.items():
                r, a, k, n_y = arr.shape
                band = _nan_band_stats(arr.reshape(r, a * k, n_y))               # (STATS, a*k, years)
                frame = {"scenario": sc.name, "year": np.tile([y for y, _, _ in years], a * k),
                         "year_start": np.tile([months[lo] for _, lo, _ in years], a * k),
                         "year_end": np.tile([months[hi - 1] for _, _, hi in years], a * k),
                         "months_in_year": np.tile([hi - lo for _, lo, hi in years], a * k),
                         "care_type": care_type, "area": np.repeat(got.areas[care_type], k * n_y),
                         "block_share": share, "block_beds": np.repeat(got.block_beds[care_type][share], k * n_y),
                         "measure": np.tile(np.repeat(MEASURES, n_y), a)}
                for i, s in enumerate(STATS):
                    frame[s] = band[i].reshape(-1)
                frame["n_replications"] = r
                parts.append(pd.DataFrame(frame)[cols])
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    for col in ("year", "months_in_year", "n_replications"):
        out[col] = out[col].astype("int64")
    return out


def kpi_annual(results: ForecastResults) -> pd.DataFrame:
    """Per scenario, forecast year and flow KPI (``FLOW_KPIS``): the year's total, summed over
    its months within each replication, then summarised like ``kpi_summary``.

    Why from the replications: a band of a sum is not the sum of the monthly bands (the months
    of one replication move together), so yearly bands can only come from the arrays. Year y is
    months 12(y-1)+1 .. 12y of the horizon; a last, shorter year is kept with its
    ``months_in_year``."""
    months = pd.to_datetime(results.month_dates)
    years = results.years()
    cols = ["scenario", "year", "year_start", "year_end", "months_in_year", "kpi", *STATS, "n_replications"]
    parts = []
    for sc in results.scenarios:
        arr, kpis = _with_needed(results, sc.name)
        idx = [i for i, k in enumerate(kpis) if k in FLOW_KPIS]
        if not idx or not years:
            continue
        totals = np.stack([arr[:, idx, a:b].sum(axis=2) for _, a, b in years], axis=2)  # (reps, kpis, years)
        df = _long(_band_stats(totals), [kpis[i] for i in idx], [kpis[i] for i in idx],
                   np.array([y for y, _, _ in years]), sc.name)
        df = df.rename(columns={"month": "year"}).drop(columns="month_index")
        bounds = {y: (months[a], months[b - 1], b - a) for y, a, b in years}
        df["year_start"] = df["year"].map(lambda y: bounds[y][0])
        df["year_end"] = df["year"].map(lambda y: bounds[y][1])
        df["months_in_year"] = df["year"].map(lambda y: bounds[y][2])
        df["n_replications"] = arr.shape[0]
        parts.append(df[cols])
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].astype("int64")
    out["months_in_year"] = out["months_in_year"].astype("int64")
    return out


def scenario_differences(results: ForecastResults) -> pd.DataFrame:
    """Paired differences from the baseline, per replication, summarised with intervals and the
    probability that the scenario is higher."""
    months = pd.to_datetime(results.month_dates).values
    base_arr, kpis = _with_needed(results, results.baseline_name)
    parts = []
    for sc in results.scenarios[1:]:
        arr, _ = _with_needed(results, sc.name)
        d = arr - base_arr
        block = _band_stats(d)
        p_up = (d > 0).mean(axis=0)[None]
        p_down = (d < 0).mean(axis=0)[None]
        df = _long(np.concatenate([block, p_up, p_down]), kpis, kpis, months, sc.name,
                   STATS + ("p_higher", "p_lower"))
        df.insert(1, "baseline", results.baseline_name)
        parts.append(df)
    if not parts:
        return pd.DataFrame(columns=["scenario", "baseline", "month", "month_index", "kpi", *STATS, "p_higher", "p_lower"])
    return pd.concat(parts, ignore_index=True)


def bottlenecks(results: ForecastResults, utilisation: float = 0.95, most: float = 0.5) -> pd.DataFrame:
    """Resources at or above ``utilisation`` (median over replications) and queues that grow in
    most replications (the last year's waiting list above the first year's in > ``most``)."""
    rows = []
    k = {name: i for i, name in enumerate(results.kpis)}
    for sc in results.scenarios:
        arr = results.values[sc.name]
        for res, (wait_kpi, plain) in RESOURCES.items():
            occ = arr[:, k[f"occupied_{res}"]]
            cap = arr[:, k[f"capacity_{res}"]]
            with np.errstate(divide="ignore", invalid="ignore"):
                util = np.where(cap > 0, occ / cap, np.nan)
            if np.isnan(util).all():
                continue
            med = np.nanmedian(util, axis=0)
            p_full = np.nanmean(util >= utilisation, axis=0)
            hot = np.flatnonzero(med >= utilisation)
            if len(hot):
                rows.append({"scenario": sc.name, "resource": res, "kind": "utilisation",
                             "first_month": results.month_dates[hot[0]], "share_of_months": len(hot) / util.shape[1],
                             "probability": float(p_full[hot[0]]), "value": float(np.nanmax(med)),
                             "description": f"{plain} at least {utilisation:.0%} full"})
            q = arr[:, k[wait_kpi]]
            m = q.shape[1]
            first, last = q[:, : max(m // 5, 1)].mean(axis=1), q[:, m - max(m // 5, 1):].mean(axis=1)
            growing = (last > first + 0.5)
            if growing.mean() > most:
                rows.append({"scenario": sc.name, "resource": res, "kind": "queue_growing",
                             "first_month": results.month_dates[0], "share_of_months": 1.0,
                             "probability": float(growing.mean()), "value": float(np.median(q[:, -1])),
                             "description": f"the waiting list for {plain} grows"})
        dd = arr[:, k["delayed_discharges"]]
        m = dd.shape[1]
        growing = dd[:, m - max(m // 5, 1):].mean(axis=1) > dd[:, : max(m // 5, 1)].mean(axis=1) + 0.5
        if growing.mean() > most:
            rows.append({"scenario": sc.name, "resource": "hospital", "kind": "queue_growing",
                         "first_month": results.month_dates[0], "share_of_months": 1.0,
                         "probability": float(growing.mean()), "value": float(np.median(dd[:, -1])),
                         "description": "delayed discharges from hospital grow"})
    cols = ["scenario", "resource", "kind", "first_month", "share_of_months", "probability", "value", "description"]
    return pd.DataFrame(rows, columns=cols)


def nice_floor(x: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above x (a number people say)."""
    if x <= 0:
        return 0.0
    p = 10 ** math.floor(math.log10(x))
    for m in (5, 2, 1):
        if m * p <= x:
            return float(m * p)
    return float(p)


def likelihood(p: float) -> str:
    if p >= 0.95:
        return "very likely"
    if p >= 0.8:
        return "likely"
    if p >= 0.5:
        return "more likely than not"
    return "unlikely"


def _month_text(m) -> str:
    return pd.Timestamp(m).strftime("%B %Y")


WAITING_TEXT = {
    "waiting_extra_care": "the extra-care waiting list",
    "waiting_residential_care": "the residential care-home waiting list",
    "waiting_nursing_care": "the nursing care-home waiting list",
    "waiting_temporary": "the waiting list for temporary accommodation",
    "waiting_sheltered": "the sheltered housing waiting list",
    "waiting_general_needs": "the general-needs waiting list",
    "delayed_discharges": "delayed discharges from hospital",
    "home_care_waiting": "the number waiting for home care",
}


def statements(results: ForecastResults, level: float = 0.8) -> pd.DataFrame:
    """Plain sentences: "the extra-care waiting list is likely (80%) to exceed 40 by March 2027".

    For each queue: the threshold is a round number at most the queue's (1 - level) quantile
    at the horizon, and the month is the first in which the queue is above it in at least
    ``level`` of the replications. Also each bottleneck and, for scenarios, the main paired
    differences in cost and delayed discharges."""
    rows = []
    k = {name: i for i, name in enumerate(results.kpis)}
    months = results.month_dates
    for sc in results.scenarios:
        arr = results.values[sc.name]
        for kpi, text in WAITING_TEXT.items():
            x = arr[:, k[kpi]]
            thr = nice_floor(float(np.quantile(x[:, -1], 1 - level)))
            if thr < 2:       # "likely to exceed 1" says nothing a planner can use
                continue
            p = (x > thr).mean(axis=0)
            ok = np.flatnonzero(p >= level)
            if not len(ok):
                continue
            t = ok[0]
            verb = "exceed"
            rows.append({"scenario": sc.name, "kpi": kpi, "month": months[t], "probability": float(p[t]),
                         "threshold": thr,
                         "statement": f"{text} is {likelihood(p[t])} ({p[t]:.0%}) to {verb} {thr:g} by {_month_text(months[t])}"})
        year = min(12, arr.shape[2])
        cost = arr[:, k["cost_total"], :year].sum(axis=1)
        lo, hi = np.quantile(cost, [0.1, 0.9])
        rows.append({"scenario": sc.name, "kpi": "cost_total", "month": months[year - 1], "probability": 0.8,
                     "threshold": float(hi),
                     "statement": f"the cost of the next {year} months is likely (80%) to be between "
                                  f"£{lo / 1e6:,.1f}m and £{hi / 1e6:,.1f}m"})
    bn = bottlenecks(results)
    for r in bn.itertuples(index=False):
        if r.kind == "utilisation":
            s = f"{r.description} from {_month_text(r.first_month)} ({likelihood(r.probability)}, {r.probability:.0%})"
        else:
            s = f"{r.description} in {r.probability:.0%} of replications"
        rows.append({"scenario": r.scenario, "kpi": f"bottleneck_{r.resource}", "month": r.first_month,
                     "probability": r.probability, "threshold": r.value, "statement": s})
    base = results.values[results.baseline_name]
    for sc in results.scenarios[1:]:
        d = results.values[sc.name] - base
        for kpi, what, unit in (("cost_total", "the total cost over the horizon", "£"),
                                ("delayed_bed_days", "delayed-discharge bed days over the horizon", ""),
                                ("waiting_extra_care", "the extra-care waiting list at the end", ""),
                                ("waiting_nursing_care", "the nursing care-home waiting list at the end", "")):
            x = d[:, k[kpi]].sum(axis=1) if "over the horizon" in what else d[:, k[kpi], -1]
            if np.allclose(x, 0):
                continue
            mean = x.mean()
            half = stats.t.ppf(0.975, max(len(x) - 1, 1)) * x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else 0
            fmt = (lambda v: f"£{v / 1e6 + 0.0:,.2f}m") if unit == "£" else (lambda v: f"{round(v) + 0:,.0f}")
            direction = "raises" if mean > 0 else "lowers"
            rows.append({"scenario": sc.name, "kpi": f"difference_{kpi}", "month": months[-1],
                         "probability": float((x > 0).mean() if mean > 0 else (x < 0).mean()), "threshold": float(mean),
                         "statement": f"compared with the baseline, {sc.name} {direction} {what} by {fmt(abs(mean))} "
                                      f"(95% CI {fmt(mean - half)} to {fmt(mean + half)})"})
    return pd.DataFrame(rows, columns=["scenario", "kpi", "month", "probability", "threshold", "statement"])


def summarise(results: ForecastResults) -> dict[str, pd.DataFrame]:
    return {"kpi_summary": kpi_summary(results), "kpi_breakdown": kpi_breakdown(results),
            "kpi_annual": kpi_annual(results),
            "scenario_differences": scenario_differences(results),
            "bottlenecks": bottlenecks(results), "statements": statements(results),
            "cost_sensitivity": cost_sensitivity(results), "home_care_staffing": home_care_staffing(results),
            "block_spot": block_spot(results)}


def run_id(results: ForecastResults) -> str:
    m = results.metadata
    return f"{m.get('run_date', '')}:{m.get('config_hash', '')}"


def write_forecast(con, results: ForecastResults, run_metadata: dict | None = None) -> dict[str, int]:
    """Write the run into the ``forecast`` schema of a DuckDB connection (one writer: the
    caller owns the connection). A rerun with the same run id replaces its rows. Returns rows
    written per table."""
    meta = {**results.metadata, **(run_metadata or {})}
    rid = meta.get("run_id") or run_id(results)
    frames = summarise(results)
    frames["runs"] = pd.DataFrame([{
        "run_id": rid, "run_date": meta.get("run_date"), "reference_month": meta.get("reference_month"),
        "config_hash": meta.get("config_hash"), "replications": meta.get("replications"), "months": meta.get("months"),
        "seeds": json.dumps({"root_entropy": meta.get("root_entropy"), "streams": ["arrivals", "transitions",
                                                                                  "rationing", "parameters"]}),
        "package_versions": json.dumps(meta.get("packages", {})),
        "model_versions": json.dumps(meta.get("model_versions", {"tables": meta.get("inputs_provenance", {}).get("tables")})),
        "scenario_hashes": json.dumps({n: v["hash"] for n, v in meta.get("scenarios", {}).items()}),
        "metadata": json.dumps(meta, default=str),
        # two runs of one day (a rerun, a test) are told apart by when they were written
        "created_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
    }])
    con.execute("create schema if not exists forecast")
    written = {}
    for name, df in frames.items():
        df = df.copy()
        if "run_id" not in df.columns:
            df.insert(0, "run_id", rid)
        for c in df.columns:
            if df[c].dtype == object and c in ("month", "first_month"):
                df[c] = pd.to_datetime(df[c])
        if tuple(df.columns) != forecast_contract.TABLES[name]:  # readers rely on exactly these
            raise ValueError(f"llif: forecast.{name} would be written with columns {list(df.columns)}, "
                             f"not the declared {list(forecast_contract.TABLES[name])} (contracts/forecast.py)")
        view = f"_llif_forecast_{name}"
        con.register(view, df)
        try:
            exists = con.execute("select count(*) from information_schema.tables where table_schema = 'forecast' "
                                 "and table_name = ?", [name]).fetchone()[0]
            if exists:
                con.execute(f"delete from forecast.{name} where run_id = ?", [rid])
                con.execute(f"insert into forecast.{name} by name select * from {view}")
            else:
                con.execute(f"create table forecast.{name} as select * from {view}")
        finally:
            con.unregister(view)
        written[name] = len(df)
    return written


def latest_run(con) -> tuple[str, str] | None:
    """(run_id, run_date) of the forecast written last, the one planners read (the planning
    marts take the same: docs/decisions.md 14); None before any forecast."""
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'forecast' "
                         "and table_name = 'runs'").fetchone()[0]
    if not exists:
        return None
    row = con.execute(LATEST_RUN_SQL).fetchone()
    return (str(row[0]), str(row[1])[:10]) if row is not None else None


def latest_run_date(con) -> str | None:
    """The night (run date) of the forecast written last; None before any forecast."""
    got = latest_run(con)
    return got[1] if got is not None else None
