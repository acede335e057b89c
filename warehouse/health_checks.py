"""The night's health checks: plain functions the Dagster asset checks call (``orchestration/checks.py``).

Each returns a ``Finding`` (passed or not, a sentence saying why, the figures) so a failure reads
the same in the Dagster UI, in the alert e-mail and in a test. What each watches:

- **quarantine share**: of the rows a table's latest load read, the share set aside (a source
  sending garbage shows here before it shows in the marts);
- **undeclared columns**: a source table's latest load had columns nobody has declared; they
  are held back from raw (``raw._held_columns``) until someone decides what they are;
- **freshness**: the last load of a system that found new or changed rows, against a number of
  days per system (an extract that stopped arriving loads nothing, quietly);
- **linkage match rate**: the share of person records linked to another record, against last
  night's (a change in a source's identifiers splits people silently);
- **row counts**: a mart's rows against last night's (a broken join or a truncated source).

"Last night" is ``LLIF_HOME/checks/history.json``, written by the checks themselves after each
evaluation: checks must not write the warehouse, and the file survives a rebuilt warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from contracts.sources import source_systems

QUARANTINE_MAX_SHARE = 0.05       # of a table's rows read in its latest load
LINKAGE_MAX_DROP = 0.02           # absolute fall in the match rate from last night
ROW_COUNT_MAX_DROP = 0.10         # relative fall in a mart's rows from last night
WATCHED_MARTS = ("dim_person", "fct_person_month", "fct_tenancy_spells", "fct_care_episodes",
                 "fct_hospital_spells", "fct_occupancy_monthly")


@dataclass(frozen=True)
class Finding:
    passed: bool
    message: str
    figures: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------- history


def _history_file(home: Path) -> Path:
    return Path(home) / "checks" / "history.json"


def read_history(home: Path) -> dict:
    try:
        return json.loads(_history_file(home).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def remember(home: Path, key: str, value) -> None:
    path = _history_file(home)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = read_history(home)
    data[key] = value
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


# ------------------------------------------------------------------------------- checks


def quarantine_shares(con: duckdb.DuckDBPyConnection, system: str) -> dict[str, tuple[int, int]]:
    """(rows read, rows set aside) of each source table's latest load of ``system``."""
    rows = con.execute("""
        with latest as (
            select source_table, max(started_at) as started_at from raw._load_audit
            where system = ? and rows_read > 0 group by source_table)
        select a.source_table, sum(a.rows_read), sum(a.rows_rejected)
        from raw._load_audit a join latest l using (source_table, started_at)
        where a.system = ? group by a.source_table order by 1""", [system, system]).fetchall()
    return {t.lower(): (int(r), int(q)) for t, r, q in rows}


def quarantine_share(con, system: str, table: str, limit: float = QUARANTINE_MAX_SHARE) -> Finding:
    read, rejected = quarantine_shares(con, system).get(table.lower(), (0, 0))
    share = rejected / read if read else 0.0
    figures = {"rows_read": read, "rows_set_aside": rejected, "share": round(share, 4), "limit": limit}
    if share > limit:
        return Finding(False, f"{system}.{table}: {rejected:,} of {read:,} rows read in the latest load were set aside "
                              f"({share:.1%}, more than {limit:.0%}); see raw._quarantine for the reasons", figures)
    return Finding(True, f"{system}.{table}: {share:.1%} of the rows read were set aside", figures)


def _has_raw_table(con, name: str) -> bool:
    """Whether ingest has created the bookkeeping table raw.<name> yet (a first load creates them)."""
    return con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = ?",
                       [name]).fetchone()[0] > 0


def held_columns(con, system: str, table: str) -> Finding:
    """Fails while the table's latest load found columns the declaration lacks: ingest holds
    them back from raw (they may identify people; its source contract (contracts/sources/systems/)), so their data is
    not in the warehouse until someone declares them."""
    if not _has_raw_table(con, "_held_columns"):
        return Finding(True, f"{system}.{table}: no undeclared columns", {"held": 0})
    rows = con.execute("""
        with latest as (
            select load_id from raw._load_audit
            where system = ? and lower(source_table) = ? and rows_read > 0
            qualify started_at = max(started_at) over ())
        select distinct source, column_name from raw._held_columns
        where system = ? and lower(source_table) = ? and load_id in (select load_id from latest)
        order by 1, 2""", [system, table.lower(), system, table.lower()]).fetchall()
    if rows:
        columns = sorted({c for _, c in rows})
        return Finding(False, f"{system}.{table}: the source has column(s) {columns} that "
                              f"its source contract (contracts/sources/systems/) does not declare (in {rows[0][0]}); they are held back "
                              "from raw until declared (as data, or as identifiers for identity)",
                       {"held": len(columns), "columns": ", ".join(columns)})
    return Finding(True, f"{system}.{table}: no undeclared columns", {"held": 0})


# A refusal stands until a later load of the same system (or, for a per-site system's file, of
# that site: raw._load_audit's source is the site's file name)
STANDING_REFUSALS = """
    select r.system, r.source, r.refused_at, r.error, r.message from raw._load_refusals r
    where not exists (
        select 1 from raw._load_audit a
        where a.system = r.system and a.finished_at > r.refused_at and (r.source = '' or a.source = r.source))"""


def load_refused(con, system: str) -> Finding:
    """Fails when the system's latest load was refused (its source missing, empty, damaged or
    drifted: warehouse.ingest.REFUSALS): raw still holds its last good load, and the message
    names the file and what to do."""
    if _has_raw_table(con, "_load_refusals"):
        row = con.execute(STANDING_REFUSALS + " and r.system = ? order by r.refused_at desc limit 1",
                          [system]).fetchone()
        if row is not None:
            _, _, at, error, message = row
            return Finding(False, f"{system}: not loaded at {at:%Y-%m-%d %H:%M} UTC ({error}): {message}",
                           {"refused_at": str(at), "error": error})
    return Finding(True, f"{system}: its latest load was not refused", {})


def freshness(con, system: str, now: dt.datetime | None = None, days: int | None = None) -> Finding:
    last, first = con.execute(
        "select max(finished_at) filter (where rows_loaded > 0), min(started_at) from raw._load_audit where system = ?",
        [system]).fetchone()
    return freshness_verdict(system, last, first, now or dt.datetime.now(), days)


def freshness_verdict(system: str, last_new_rows, first_load, now, days: int | None = None) -> Finding:
    """Is the source still sending? Its last load that found new or changed rows against its
    contract's ``stale_after_days``. The one rule behind the Dagster check and the explorer's
    data-quality page: a source read every night whose files are empty or unchanged is stale,
    however recently it was read."""
    days = days if days is not None else _stale_after(system)
    if first_load is None:
        return Finding(False, f"{system}: never loaded; check that the source is reachable", {"days": days})
    since = last_new_rows if last_new_rows is not None and not pd.isna(last_new_rows) else first_load
    age = (pd.Timestamp(now) - pd.Timestamp(since)).total_seconds() / 86400
    figures = {"last_new_rows": str(since), "days_since": round(age, 2), "limit_days": days}
    if age > days:
        return Finding(False, f"{system}: no new or changed rows for {age:.1f} days (more than {days}); "
                              "the source's extract may have stopped", figures)
    return Finding(True, f"{system}: new rows {age:.1f} days ago", figures)


def _stale_after(system: str) -> int:
    spec = source_systems().get(system)
    return spec.stale_after_days if spec is not None else 3


def linkage_match_rate(con) -> float:
    """The share of person records that are linked to at least one other record."""
    value = con.execute("""
        select avg(case when n > 1 then 1.0 else 0.0 end)
        from (select count(*) over (partition by person_key) as n from identity.person_xref)""").fetchone()[0]
    return float(value or 0.0)


def linkage_check(con, home: Path, max_drop: float = LINKAGE_MAX_DROP) -> Finding:
    rate = linkage_match_rate(con)
    previous = read_history(home).get("linkage_match_rate")
    remember(home, "linkage_match_rate", rate)
    figures = {"match_rate": round(rate, 4), "last_night": previous, "max_drop": max_drop}
    if previous is not None and previous - rate > max_drop:
        return Finding(False, f"linkage: {rate:.1%} of person records are linked, down from {previous:.1%} last "
                              f"night (more than {max_drop:.0%} points); a source's identifiers may have changed",
                       figures)
    return Finding(True, f"linkage: {rate:.1%} of person records are linked"
                         + (f" ({previous:.1%} last night)" if previous is not None else ""), figures)


def row_count_check(con, home: Path, table: str, schema: str = "marts",
                    max_drop: float = ROW_COUNT_MAX_DROP) -> Finding:
    rows = int(con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0])
    counts = read_history(home).get("row_counts", {})
    previous = counts.get(f"{schema}.{table}")
    remember(home, "row_counts", {**counts, f"{schema}.{table}": rows})
    figures = {"rows": rows, "last_night": previous, "max_drop": max_drop}
    if previous and (previous - rows) / previous > max_drop:
        return Finding(False, f"{schema}.{table}: {rows:,} rows, down from {previous:,} last night "
                              f"({(previous - rows) / previous:.0%}, more than {max_drop:.0%})", figures)
    return Finding(True, f"{schema}.{table}: {rows:,} rows", figures)
