"""Everything the explorer reads from the warehouse: short read-only visits, pre-aggregated in SQL.

Why short visits: DuckDB has one writer, the nightly run. A reader that keeps the file open
stops the writer from taking its lock, so every loader opens the file read-only, runs its few
queries and closes it at once; pages cache the results (keyed on the file's modification time,
see ``stamp``) and never hold a connection. If the writer holds the file, we wait a little and
try again, then say so in plain words rather than fail.

Why pre-aggregate: at scale 1.0 the timeline holds about 11 million person-months. Pages only
ever draw counts and rates, so the grouping happens in DuckDB and the app receives small frames.

Why a guard against ``identity``: that schema holds the pseudonymisation keys' inputs
(architecture convention 8). The explorer never needs it; ``_check_sql`` refuses any query that
names it, so a future edit cannot quietly start reading it.

The forecast and ML schemas are written by other parts of the pipeline (simulation, models_ml)
and may be absent (no forecast yet) or change shape; ``forecast_*`` loaders normalise the column
names they find to the few this app uses (``SUMMARY_COLUMNS``).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

# the warehouse's errors are the ones every layer raises (contracts/errors.py); the ones this
# module raises carry a message fit for a planner
from contracts.errors import WarehouseBusy, WarehouseMissing, WarehouseUnavailable
from contracts.forecast import BANDS, LATEST_RUN_SQL, SCHEMA, TABLES, qualified
from contracts.vocabulary.states import PLACES
from warehouse.health_checks import STANDING_REFUSALS, freshness_verdict

SUMMARY_COLUMNS = ("scenario", "month", "kpi", "measure", "service", "area", "mean", "median",
                   "lo50", "hi50", "lo80", "hi80", "lo95", "hi95", "mean_lo", "mean_hi")

# what DuckDB raises when the file or the connection goes while a query runs
_LOST = (duckdb.IOException, duckdb.ConnectionException, duckdb.InterruptException)
_LOCK_WORDS = ("lock", "being used by another process", "conflicting", "resource temporarily unavailable")


def stamp(path: Path | str) -> int:
    """A number that changes whenever the warehouse changes: the cache key of every loader.

    The write-ahead file counts too: DuckDB appends there first and folds it into the main
    file at checkpoints, so either may move on its own.
    """
    path = Path(path)
    total = 0
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            total += p.stat().st_mtime_ns
        except FileNotFoundError:
            pass
    return total


@contextmanager
def connect(path: Path | str, retries: int = 4, wait: float = 0.5):
    path = Path(path)
    if not path.exists():
        raise WarehouseMissing(
            f"There is no warehouse at {path} yet. Run the nightly refresh (`make demo` on a new "
            "machine) to build it, then reload this page.")
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            con = duckdb.connect(str(path), read_only=True)
            break
        except duckdb.Error as exc:
            last = exc
            if not any(w in str(exc).lower() for w in _LOCK_WORDS):
                raise WarehouseUnavailable(
                    f"The warehouse at {path} could not be opened ({type(exc).__name__}). It may be damaged "
                    "or from another version: rerun the nightly refresh.") from exc
            if attempt < retries:
                time.sleep(wait * (2 ** attempt))
    else:
        raise WarehouseBusy(
            "The nightly run is updating the warehouse right now, so it cannot be read. "
            "Please try again in a few minutes (the page will pick up the new figures).") from last
    try:
        con.execute("SET threads TO 2")
        yield con
    finally:
        con.close()


# the schema named as a qualifier, quoted or not ("identity".x, [identity].x, main.identity.x),
# made the default (USE identity, SET schema / search_path), or read through its staging views
_IDENTITY = re.compile(
    r"""["`\[]?\bidentity\b["`\]]?\s*\.|\buse\s+["`\[]?identity\b|\b(schema|search_path)\b[^;]*\bidentity\b|stg_identity""",
    re.IGNORECASE)


def _check_sql(sql: str) -> None:
    if _IDENTITY.search(sql):
        raise PermissionError("the explorer never reads the restricted identity schema")


def read(path: Path | str, queries: dict[str, tuple[str, list] | str]) -> dict[str, pd.DataFrame]:
    """Run several queries in one short read-only visit."""
    out = {}
    with connect(path) as con:
        for name, q in queries.items():
            sql, params = (q, []) if isinstance(q, str) else q
            _check_sql(sql)
            try:
                out[name] = con.execute(sql, params).df()
            except _LOST as exc:  # the file went or changed under the read: say so, not a traceback
                raise WarehouseUnavailable(
                    f"The connection to the warehouse was lost while this page was reading it "
                    f"({type(exc).__name__}). Reload the page; if it happens again, the nightly refresh "
                    "may be replacing the warehouse: try again in a few minutes.") from exc
    return out


_MEMO: dict = {}


def _per_version(fn):
    """Remember a small answer (tables, columns, the newest run) until the warehouse changes:
    each answer would otherwise cost a visit of its own."""
    def wrapper(path, *args):
        key = (fn.__name__, str(path), stamp(path), args)
        if key not in _MEMO:
            if len(_MEMO) > 512:
                _MEMO.clear()
            _MEMO[key] = fn(path, *args)
        return _MEMO[key]
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


@_per_version
def catalogue(path: Path | str) -> set[str]:
    """Tables and views the explorer may read, as ``schema.table`` (never identity)."""
    rows = read(path, {"t": "select table_schema, table_name from information_schema.tables "
                            "where table_schema <> 'identity'"})["t"]
    return {f"{s}.{t}" for s, t in zip(rows["table_schema"], rows["table_name"])}


@_per_version
def columns(path: Path | str, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = read(path, {"c": ("select column_name from information_schema.columns where table_schema = ? "
                             "and table_name = ? order by ordinal_position", [schema, name])})["c"]
    return rows["column_name"].tolist()


# --------------------------------------------------------------------------------------------
# the timeline's calendar


def latest_complete_month(path) -> pd.Timestamp | None:
    d = read(path, {"m": "select max(month_start) as m from marts.dim_month where is_complete = 1"})["m"]
    v = d["m"].iloc[0]
    return None if pd.isna(v) else pd.Timestamp(v)


# --------------------------------------------------------------------------------------------
# forecasts (schema `forecast`, written by simulation/outputs.py)

# The bands under the names the pages use (lo80, hi80...), from the forecast contract's column
# names (contracts/forecast.py), which the engine writes and nothing here guesses.
_BAND_NAMES = {column: band for band, column in BANDS.items()}


def _rename_bands(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns=_BAND_NAMES)


# The engine's measure names (simulation/forecast_model.py KPIS) are words joined by underscores, e.g.
# occupied_extra_care_flats, waiting_residential_care, cost_local_authority; places are named
# by their kind of unit. This maps them to (measure, service); ``measure:service[:area]`` is
# accepted too, for area-level figures.
PLACE_SERVICES = {p.resource: p.state for p in PLACES}
_PREFIXES = ("mean_wait_months", "people_need", "occupied", "capacity", "needed", "waiting", "admissions", "people", "cost")


def split_kpi(kpi: str) -> tuple[str, str | None, str | None]:
    """A forecast measure's name as (measure, service, area)."""
    kpi = str(kpi)
    if re.search(r"[:/]", kpi):
        parts = re.split(r"[:/]", kpi, maxsplit=2)
        parts += [None] * (3 - len(parts))
        return parts[0], parts[1], parts[2]
    for prefix in _PREFIXES:
        if kpi.startswith(prefix + "_"):
            rest = kpi[len(prefix) + 1:]
            return prefix, PLACE_SERVICES.get(rest, rest), None
    return kpi, None, None


def normalise_summary(df: pd.DataFrame) -> pd.DataFrame:
    df = _rename_bands(df.copy())
    if "kpi" in df.columns:
        parts = df["kpi"].map(split_kpi)
        for i, col in enumerate(("measure", "service", "area")):
            if col not in df.columns:
                df[col] = parts.map(lambda p, i=i: p[i])
    for col in SUMMARY_COLUMNS:
        if col not in df.columns:
            df[col] = None
    df["month"] = pd.to_datetime(df["month"])
    if "median" in df.columns and df["median"].isna().all():
        df["median"] = df["mean"]
    return df


def forecast_tables(path) -> set[str]:
    return {t for t in catalogue(path) if t.startswith(("forecast.", "ml."))}


@_per_version
def latest_run(path) -> str | None:
    """The run id of the forecast written last, by the forecast contract's one rule
    (``LATEST_RUN_SQL``, which the engine and the planning marts use too)."""
    if qualified("runs") not in catalogue(path):
        return None
    rows = read(path, {"r": LATEST_RUN_SQL})["r"]
    return None if rows.empty else str(rows["run_id"].iloc[0])


def _run_filter(path, table: str) -> tuple[str, list]:
    """``where run_id = ?`` for the newest run, when the table keeps runs."""
    run = latest_run(path)
    name = table.removeprefix(f"{SCHEMA}.")
    keeps_runs = "run_id" in TABLES[name] if name in TABLES else "run_id" in columns(path, table)
    if run is None or not keeps_runs:
        return "", []
    return "run_id = ?", [run]


def forecast_summary(path, scenarios: tuple[str, ...] | None = None, measures: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per scenario, month and measure of the newest run: the median and likely ranges; empty if no forecast."""
    if "forecast.kpi_summary" not in catalogue(path):
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    clause, params = _run_filter(path, "forecast.kpi_summary")
    where = [clause] if clause else []
    if scenarios:
        where.append(f"scenario in ({', '.join('?' * len(scenarios))})")
        params = params + list(scenarios)
    sql = "select * from forecast.kpi_summary" + (f" where {' and '.join(where)}" if where else "")
    df = normalise_summary(read(path, {"s": (sql, params)})["s"])
    if measures:
        df = df[df["measure"].isin(measures)]
    return df.reset_index(drop=True)


def forecast_catalogue(path) -> pd.DataFrame:
    """Which scenarios, measures, services and areas the forecast holds (for the pickers)."""
    if "forecast.kpi_summary" not in catalogue(path):
        return pd.DataFrame(columns=["scenario", "kpi", "measure", "service", "area"])
    clause, params = _run_filter(path, "forecast.kpi_summary")
    df = read(path, {"k": (f"select distinct scenario, kpi from forecast.kpi_summary{' where ' + clause if clause else ''}",
                           params)})["k"]
    parts = df["kpi"].map(split_kpi)
    df["measure"], df["service"], df["area"] = parts.map(lambda p: p[0]), parts.map(lambda p: p[1]), parts.map(lambda p: p[2])
    return df


def forecast_table(path, name: str) -> pd.DataFrame | None:
    """A forecast or ML table as it is, or None when the pipeline has not written it yet."""
    if name not in catalogue(path):
        return None
    clause, params = _run_filter(path, name) if name.startswith("forecast.") and name != "forecast.runs" else ("", [])
    df = read(path, {"t": (f"select * from {name}{' where ' + clause if clause else ''}", params)})["t"]
    if name.startswith("forecast."):
        df = _rename_bands(df)
    return df


def differences(path, scenarios: tuple[str, ...] = ()) -> pd.DataFrame:
    """Paired differences from the baseline, with their intervals, normalised like the summary."""
    df = forecast_table(path, "forecast.scenario_differences")
    if df is None:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    df = normalise_summary(df)
    if scenarios:
        df = df[df["scenario"].isin(scenarios)]
    return df.reset_index(drop=True)


def forecast_groups(path, scenarios: tuple[str, ...] = ("baseline",), area: str | None = None,
                    segment: str | None = None) -> pd.DataFrame:
    """The newest run's forecast for one area and/or one segment (``forecast.kpi_breakdown``:
    counted person by person in every run, never a share of the total), normalised like
    ``forecast_summary``; ``area`` is the area's code, ``segment`` the segment's number as text.
    Empty when the run kept no breakdowns or when neither is given."""
    table = "forecast.kpi_breakdown"
    if table not in catalogue(path) or (area is None and segment is None):
        return pd.DataFrame(columns=[*SUMMARY_COLUMNS, "segment"])
    clause, params = _run_filter(path, table)
    where = [clause] if clause else []
    where.append(f"scenario in ({', '.join('?' * len(scenarios))})")
    params = params + list(scenarios)
    for col, value in (("area", area), ("segment", segment)):
        if value is None:
            where.append(f"{col} is null")
        else:
            where.append(f"{col} = ?")
            params.append(value)
    where.append("age_band is null")
    df = read(path, {"g": (f"select * from {table} where {' and '.join(where)}", params)})["g"]
    return normalise_summary(df).reset_index(drop=True)


def forecast_by_area(path, kpi: str, scenario: str = "baseline") -> pd.DataFrame:
    """One measure's forecast in every area (``forecast.kpi_breakdown``), for the newest run."""
    table = "forecast.kpi_breakdown"
    if table not in catalogue(path):
        return pd.DataFrame(columns=[*SUMMARY_COLUMNS, "segment"])
    clause, params = _run_filter(path, table)
    where = ([clause] if clause else []) + ["scenario = ?", "kpi = ?", "area is not null", "area <> 'unknown'",
                                            "segment is null", "age_band is null"]
    df = read(path, {"g": (f"select * from {table} where {' and '.join(where)}", params + [scenario, kpi])})["g"]
    return normalise_summary(df).reset_index(drop=True)


def forecast_group_options(path) -> dict[str, dict[str, str]]:
    """The areas (code -> name) and segments (number -> name) the newest forecast is broken down
    by; empty dicts before a forecast with breakdowns."""
    table = "forecast.kpi_breakdown"
    if table not in catalogue(path):
        return {"areas": {}, "segments": {}}
    clause, params = _run_filter(path, table)
    cond = f" and {clause}" if clause else ""
    q = {"a": (f"select distinct area from {table} where area is not null and area <> 'unknown'{cond}", params),
         "s": (f"select distinct segment from {table} where segment is not null and segment <> 'unknown'{cond}", params)}
    if "ml.segments" in catalogue(path):
        q["n"] = "select distinct cast(segment as varchar) as segment, segment_name from ml.segments"
    got = read(path, q)
    names = dict(zip(got["n"]["segment"], got["n"]["segment_name"])) if "n" in got else {}
    from contracts.vocabulary.areas import AREA_NAME

    return {"areas": {a: AREA_NAME.get(a, a) for a in sorted(got["a"]["area"], key=lambda a: AREA_NAME.get(a, a))},
            "segments": {s: names.get(s, f"Group {s}") for s in sorted(got["s"]["segment"], key=int)}}


def people_history(path, area: str | None = None, segment: str | None = None, years: int = 5) -> pd.DataFrame:
    """People by state and month in one area and/or segment (its number as text), from the
    timeline: what happened, beside a group's forecast (which counts people, not places)."""
    where, params, join = ["state not in ('moved_out', 'died')"], [], ""
    if area is not None:
        where.append("p.area_code = ?")
        params.append(area)
    if segment is not None:
        join = ("join (select person_key, max(segment) as segment from ml.segments group by person_key) g "
                "using (person_key)")
        where.append("cast(g.segment as varchar) = ?")
        params.append(segment)
    return read(path, {"h": (f"""
        select p.month_start as month, p.state, count(*) as people
        from marts.fct_person_month p {join}
        where {' and '.join(where)}
          and p.month_start >= (select max(month_start) from marts.fct_person_month) - interval {int(years)} year
        group by all order by 1""", params)})["h"]


def home_care_staffing(path) -> dict[str, pd.DataFrame | None]:
    """Carers needed per team from the newest forecast (``forecast.home_care_staffing``), and the
    carers each team had in its last complete months (``marts.fct_home_care_staffing_monthly``)."""
    out: dict[str, pd.DataFrame | None] = {"forecast": forecast_table(path, "forecast.home_care_staffing"),
                                           "observed": None}
    if "marts.fct_home_care_staffing_monthly" in catalogue(path):
        out["observed"] = read(path, {"o": """
            select month_start as month, team, n_carers_active, contact_hours, contact_hours_per_carer_week
            from marts.fct_home_care_staffing_monthly
            where is_complete = 1
              and month_start > (select max(month_start) from marts.fct_home_care_staffing_monthly
                                 where is_complete = 1) - interval 12 month
            order by month_start, team"""})["o"]
    return out


LONG_RANGE_FILES = ("yearly.csv", "decomposition.csv", "metadata.json")


def long_range(path) -> dict | None:
    """The newest long-range outlook (``llif forecast long-range``, which writes CSV under
    ``LLIF_HOME/forecasts/long_range/<run>/``): its yearly bands (``yearly``), where the change
    comes from (``decomposition``) and what it ran on (``metadata``); None before any.

    Looked for beside the warehouse read (the published night carries the forecasts folder it
    was published with) and in LLIF_HOME's own, so an outlook run this morning shows at once."""
    import json

    from contracts.settings import paths

    places = [Path(path).parent / "forecasts" / "long_range", paths().forecasts / "long_range"]
    runs = [d for f in places if f.is_dir() for d in f.iterdir()
            if all((d / name).exists() for name in LONG_RANGE_FILES)]
    if not runs:
        return None
    newest = max(runs, key=lambda d: ((d / "decomposition.csv").stat().st_mtime_ns, d.name))
    return {"yearly": _rename_bands(pd.read_csv(newest / "yearly.csv")),
            "decomposition": pd.read_csv(newest / "decomposition.csv"),
            "metadata": json.loads((newest / "metadata.json").read_text()), "folder": newest}


def block_spot(path) -> pd.DataFrame | None:
    """The newest run's care-home places bought as block, spot or out of area under each block
    size (``forecast.block_spot``), None before any."""
    return forecast_table(path, "forecast.block_spot")


def cost_sensitivity(path) -> pd.DataFrame | None:
    """The newest run's tornado figures (``forecast.cost_sensitivity``), None before any."""
    return forecast_table(path, "forecast.cost_sensitivity")


# --------------------------------------------------------------------------------------------
# page loaders: each one short visit, returning small frames


def overview(path) -> dict[str, pd.DataFrame]:
    cat = catalogue(path)
    q = {
        "month": "select max(month_start) as month_start from marts.dim_month where is_complete = 1",
        "occupancy": """
            with m as (select max(month_start) as m from marts.fct_occupancy_monthly o
                       join marts.dim_month d using (month_start) where d.is_complete = 1)
            select scheme_type, sum(capacity) as capacity, sum(occupied_end) as occupied,
                   sum(occupied_end) / nullif(sum(capacity), 0) as occupancy_rate
            from marts.fct_occupancy_monthly, m where month_start = m.m and is_observed = 1
            group by scheme_type order by scheme_type""",
        "delays": """select * from marts.fct_delays_monthly
                     where month_start in (select month_start from marts.dim_month where is_complete = 1)
                     order by month_start desc limit 13""",
    }
    out = read(path, q)
    if "forecast.statements" in cat:
        out["statements"] = normalise_statements(forecast_table(path, "forecast.statements"))
    if "forecast.runs" in cat:
        runs = forecast_table(path, "forecast.runs")
        run = latest_run(path)
        out["runs"] = runs[runs["run_id"].astype(str) == run] if run is not None and "run_id" in runs.columns else runs
    if "forecast.kpi_summary" in cat:
        s = forecast_summary(path, ("baseline",), ("cost",))
        out["cost"] = s[s["service"].isin([None, "total", "all"]) | s["service"].isna()]
    return out


_PLAIN = ((r"\bin (\d+%) of replications\b", r"in \1 of the runs"), (r"\breplications\b", "runs"),
          (r"\breplication\b", "run"), (r"\(95% CI ", "(likely between "), (r"\b95% CI\b", "likely range"),
          (r"\bCI\b", "likely range"), (r"\bKPIs?\b", "measure"))


def plain(text: str, scenarios=()) -> str:
    """An engine sentence in planners' words: no statistics jargon, scenario names as titles."""
    from explorer import words

    text = str(text)
    for pattern, repl in _PLAIN:
        text = re.sub(pattern, repl, text)
    text = re.sub(r"likely between ([^)]*?) to ", r"likely between \1 and ", text)
    for name in sorted(set(scenarios), key=len, reverse=True):
        if name and name != "baseline":
            text = re.sub(rf"\b{re.escape(name)}\b", f"'{words.scenario(name)}'", text)
    return text[:1].upper() + text[1:]


def topic_of_kpi(kpi: str) -> str:
    k = str(kpi)
    if k.startswith("bottleneck_"):
        return "bottleneck"
    if k.startswith("difference_"):
        return "difference"
    if "delayed" in k:
        return "delay"
    if k.startswith(("waiting", "home_care_waiting")):
        return "waiting"
    if k.startswith("cost"):
        return "cost"
    return "other"


def normalise_statements(df: pd.DataFrame) -> pd.DataFrame:
    """Statements with a topic (from their measure), a probability and plain wording."""
    df = df.copy()
    for target, aliases in (("statement", ("text", "sentence", "message")),
                            ("probability", ("chance", "prob", "likelihood"))):
        if target not in df.columns:
            for a in aliases:
                if a in df.columns:
                    df = df.rename(columns={a: target})
                    break
    if "scenario" not in df.columns:
        df["scenario"] = "baseline"
    if "topic" not in df.columns:
        df["topic"] = df["kpi"].map(topic_of_kpi) if "kpi" in df.columns else "other"
    if "probability" not in df.columns:
        df["probability"] = float("nan")
    names = set(df["scenario"].astype(str))
    df["statement"] = df["statement"].map(lambda t: plain(t, names))
    return df


def demand_history(path, years: int = 5) -> pd.DataFrame:
    """Places occupied and available by month, service and area, from the marts.

    Services are the forecast's: the housing scheme types, and care homes split into
    residential and nursing beds (and both together as ``care_home``).
    """
    h = read(path, {"h": f"""
        select o.month_start as month, o.scheme_type, s.area_code, s.area_name as area,
               sum(o.capacity) as capacity, sum(o.occupied_end) as occupied,
               sum(o.residential_beds) as res_capacity, sum(o.residential_occupied_end) as res_occupied,
               sum(o.nursing_beds) as nur_capacity, sum(o.nursing_occupied_end) as nur_occupied
        from marts.fct_occupancy_monthly o join marts.dim_scheme s using (scheme_id)
        where o.is_observed = 1
          and o.month_start >= (select max(month_start) from marts.fct_occupancy_monthly) - interval {int(years)} year
        group by all order by 1"""})["h"]
    base = h[["month", "area_code", "area", "capacity", "occupied"]].assign(service=h["scheme_type"])
    homes = h[h["scheme_type"] == "care_home"]
    res = homes[["month", "area_code", "area"]].assign(service="residential_care", capacity=homes["res_capacity"],
                                                       occupied=homes["res_occupied"])
    nur = homes[["month", "area_code", "area"]].assign(service="nursing_care", capacity=homes["nur_capacity"],
                                                       occupied=homes["nur_occupied"])
    out = pd.concat([base, res, nur], ignore_index=True)
    out["month"] = pd.to_datetime(out["month"])
    return out


def state_stock_history(path, years: int = 5) -> pd.DataFrame:
    return read(path, {"h": f"""
        select month_start as month, state, sum(n_people) as people
        from marts.fct_case_mix_monthly
        where month_start >= (select max(month_start) from marts.fct_case_mix_monthly) - interval {int(years)} year
          and state not in ('moved_out', 'died')
        group by all order by 1"""})["h"]


def flow_options(path) -> dict:
    cat = catalogue(path)
    q = {"months": "select min(month_start) as first, max(month_start) as last from marts.dim_month where is_complete = 1",
         "areas": "select distinct area_name from marts.dim_scheme where area_name is not null order by 1"}
    if "ml.segments" in cat:
        q["segments"] = "select distinct segment_name from ml.segments where segment_name is not null order by 1"
    out = read(path, q)
    return {
        "first": pd.Timestamp(out["months"]["first"].iloc[0]),
        "last": pd.Timestamp(out["months"]["last"].iloc[0]),
        "areas": out["areas"]["area_name"].tolist(),
        "segments": out["segments"]["segment_name"].tolist() if "segments" in out else None,
    }


def flows(path, start, end, segment: str | None = None, area: str | None = None,
          include_stayers: bool = False) -> pd.DataFrame:
    """Moves between states (previous month's state to this month's) in [start, end]."""
    where = ["p.month_start between ? and ?", "p.previous_state is not null"]
    params: list = [pd.Timestamp(start).date(), pd.Timestamp(end).date()]
    join = ""
    if not include_stayers:
        where.append("p.previous_state <> p.state")
    if segment:
        join = "join (select person_key, max(segment_name) as segment_name from ml.segments group by person_key) g using (person_key)"
        where.append("g.segment_name = ?")
        params.append(segment)
    if area:
        where.append("p.area_name = ?")
        params.append(area)
    sql = f"""select p.previous_state as source, p.state as target, count(*) as people
              from marts.fct_person_month p {join} where {' and '.join(where)}
              group by all order by people desc"""
    return read(path, {"f": (sql, params)})["f"]


def bottlenecks(path, months: int = 36) -> dict[str, pd.DataFrame]:
    cat = catalogue(path)
    q = {
        "heat": f"""
            select o.month_start as month, o.scheme_id, s.scheme_name, o.scheme_type, s.area_name,
                   o.capacity, o.occupied_end as occupied, o.occupancy_rate
            from marts.fct_occupancy_monthly o join marts.dim_scheme s using (scheme_id)
            where o.month_start > (select max(month_start) from marts.fct_occupancy_monthly) - interval {int(months)} month
            order by o.scheme_type, s.scheme_name, o.month_start""",
        "delays": f"""
            select month_start as month, n_hospital_discharges_known, n_long_stays, long_stay_excess_days,
                   n_in_hospital_end, n_care_home_admissions_from_hospital, mean_hospital_days_before_care_home,
                   n_extra_care_waiting_end, mean_days_extra_care_waiting_end, is_observed
            from marts.fct_delays_monthly
            where month_start > (select max(month_start) from marts.fct_delays_monthly) - interval {int(months)} month
            order by 1""",
        "waiting": f"""
            select month_start as month, need_type, n_waiting_end, mean_days_waiting_end, n_waiting_over_a_year_end
            from marts.fct_register_waiting_monthly
            where month_start > (select max(month_start) from marts.fct_register_waiting_monthly) - interval {int(months)} month
            order by 1""",
        "times": f"""
            select month_start as month, measure, sum(n_cases) as cases,
                   sum(mean_days * n_cases) / sum(n_cases) as mean_days
            from marts.fct_processing_times_monthly
            where month_start > (select max(month_start) from marts.fct_processing_times_monthly) - interval {int(months)} month
            group by all order by 1""",
    }
    out = read(path, q)
    if "forecast.bottlenecks" in cat:
        out["forecast"] = forecast_table(path, "forecast.bottlenecks")
    return out


def case_mix(path) -> dict[str, pd.DataFrame]:
    cat = catalogue(path)
    q = {
        "latest": """
            select * from marts.fct_case_mix_monthly
            where month_start = (select max(month_start) from marts.dim_month where is_complete = 1)""",
        "trend": """
            select month_start as month, state, sum(n_people) as people,
                   sum(n_need_none) as need_none, sum(n_need_low) as need_low,
                   sum(n_need_medium) as need_medium, sum(n_need_high) as need_high,
                   sum(total_weekly_care_hours) as weekly_care_hours
            from marts.fct_case_mix_monthly
            where month_start >= (select max(month_start) from marts.fct_case_mix_monthly) - interval 10 year
              and state not in ('moved_out', 'died')
            group by all order by 1""",
    }
    if "ml.segments" in cat:
        q["segments"] = """
            with seg as (select person_key, max(segment_name) as segment_name from ml.segments group by person_key),
                 m as (select max(month_start) as m from marts.dim_month where is_complete = 1)
            select seg.segment_name, p.state, p.need_level,
                   count(*) as people, avg(p.age) as mean_age, sum(p.weekly_care_hours) as weekly_care_hours,
                   sum(case when d.sex = 'F' then 1 else 0 end) as women
            from marts.fct_person_month p join seg using (person_key)
                 join marts.dim_person d using (person_key), m
            where p.month_start = m.m and p.state not in ('moved_out', 'died')
            group by all"""
    if "ml.person_outlooks" in cat:
        q["outlooks"] = "select * from ml.person_outlooks"
    out = read(path, q)
    if "outlooks" in out:
        out["outlooks"] = out["outlooks"].drop(columns=[c for c in out["outlooks"].columns if c == "person_key"])
    return out


def data_quality(path) -> dict[str, pd.DataFrame]:
    cat = catalogue(path)
    q = {
        "people": """
            select count(*) as people,
                   avg(has_ni_token) as share_with_ni,
                   avg(case when has_crm_record + has_care_a_record + has_care_b_record + has_domcare_record > 1 then 1 else 0 end) as share_in_several,
                   avg(case when n_crm_records > 1 then 1 else 0 end) as share_duplicate_crm,
                   avg(is_in_timeline) as share_in_timeline
            from marts.dim_person""",
        "by_system": """
            select 'crm' as system, count(*) as people, avg(has_ni_token) as share_with_ni,
                   avg(case when has_care_a_record + has_care_b_record + has_domcare_record > 0 then 1 else 0 end) as share_linked_elsewhere
            from marts.dim_person where has_crm_record = 1
            union all
            select 'care_a', count(*), avg(has_ni_token), avg(has_crm_record) from marts.dim_person where has_care_a_record = 1
            union all
            select 'care_b', count(*), avg(has_ni_token), avg(has_crm_record) from marts.dim_person where has_care_b_record = 1
            union all
            select 'domcare', count(*), avg(has_ni_token), avg(has_crm_record) from marts.dim_person where has_domcare_record = 1""",
        "observed": """
            select state_source_system, count(*) as person_months, avg(is_observed) as share_observed
            from marts.fct_person_month
            where month_start = (select max(month_start) from marts.dim_month where is_complete = 1)
            group by all order by 2 desc""",
    }
    if "raw._load_audit" in cat:
        q["freshness"] = """
            select system, source_table, max(finished_at) as last_loaded, max(high_water_mark) as newest_change,
                   max(finished_at) filter (where rows_loaded > 0) as last_new_rows, min(started_at) as first_load,
                   sum(rows_loaded) as rows_loaded, sum(rows_rejected) as rows_rejected, count(*) as loads
            from raw._load_audit group by all order by system, source_table"""
    if "raw._load_refusals" in cat:  # sources not loaded at their latest read, and why (decision 46)
        q["refusals"] = STANDING_REFUSALS + " order by r.system, r.refused_at"
    if "raw._quarantine" in cat:
        q["quarantine"] = """
            select system, source_table, field, reason, count(*) as rows, max(load_id) as latest_load
            from raw._quarantine group by all order by rows desc"""
    if "forecast.backtest_series" in cat:
        # the latest night's backtest: how the forecast fared from 12 and 24 months ago
        q["backtest"] = """
            select * from forecast.backtest_series
            where run_id = (select run_id from forecast.backtest_series order by created_at desc, run_id desc limit 1)
            order by cutoff_months, series"""
    if "forecast.backtest_areas" in cat:
        q["backtest_areas"] = """
            select * from forecast.backtest_areas
            where run_id = (select run_id from forecast.backtest_areas order by created_at desc, run_id desc limit 1)
            order by cutoff_months, area, series"""
    out = read(path, q)
    out["now"] = pd.DataFrame({"now": [dt.datetime.now()]})
    return out


def source_status(row, now, refused: bool = False) -> str:
    """A source system's freshness in plain words, by the same rules as the Dagster checks
    (``source_loaded``; ``warehouse.health_checks.freshness_verdict``): not loaded at its latest
    read (refused: missing, empty, damaged or drifted); not read lately; read, but with nothing
    new for longer than its contract expects (an empty or unchanged extract); or fine."""
    if refused:
        return "Not loaded at the latest read: the figures use its last good load (see below)"
    hours = (pd.Timestamp(now) - pd.Timestamp(row.last_loaded)).total_seconds() / 3600
    if hours > 30:
        return f"Not read for {hours / 24:.0f} days"
    verdict = freshness_verdict(row.system, row.last_new_rows, row.first_load, now)
    if not verdict.passed:
        return (f"Read, but nothing new for {verdict.figures['days_since']:.0f} days (expected within "
                f"{verdict.figures['limit_days']}): check the source's extract")
    return "Read in the last day"


# --------------------------------------------------------------------------------------------
# individual outlooks (care managers only; every person shown is audited, explorer/audit.py)


def outlook_columns(path) -> list[str]:
    """The chance columns of ``ml.person_outlooks`` (``p_...``), in the table's order."""
    if "ml.person_outlooks" not in catalogue(path):
        return []
    return [c for c in columns(path, "ml.person_outlooks") if c.startswith("p_")]


def person_outlooks(path, order_by: str, segment: str | None = None, top: int = 25) -> pd.DataFrame:
    """The ``top`` people most at risk by ``order_by``, with their segment; empty without outlooks."""
    cols = outlook_columns(path)
    if order_by not in cols:
        raise ValueError(f"no outlook {order_by!r} (have: {', '.join(cols)})")
    have = columns(path, "ml.person_outlooks")
    where, params = "", []
    if segment and "segment_name" in have:
        where, params = "where segment_name = ?", [segment]
    picked = ", ".join(f'"{c}"' for c in ["person_key"] + (["segment_name"] if "segment_name" in have else []) + cols)
    sql = f'select {picked} from ml.person_outlooks {where} order by "{order_by}" desc, person_key limit ?'
    return read(path, {"o": (sql, params + [int(top)])})["o"]


def person_detail(path, person_key: str) -> dict[str, pd.DataFrame]:
    """One person's outlook row and their latest months in the timeline (pseudonymous key only)."""
    q = {"outlook": ("select * from ml.person_outlooks where person_key = ?", [person_key]),
         "months": ("""select month_start, state, previous_state, need_level, age, area_name, weekly_care_hours
                       from marts.fct_person_month where person_key = ? order by month_start desc limit 12""",
                    [person_key])}
    have = set(columns(path, "marts.fct_person_month"))
    wanted = ["month_start", "state", "previous_state", "need_level", "age", "area_name", "weekly_care_hours"]
    picked = ", ".join(c for c in wanted if c in have) or "month_start"
    q["months"] = (f"select {picked} from marts.fct_person_month where person_key = ? "
                   "order by month_start desc limit 12", [person_key])
    return read(path, q)
