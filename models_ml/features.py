"""Reading the ml feature marts and turning them into model inputs.

The SQL (dbt_project/models/ml) decides *what* a feature means and guarantees it looks only
backwards; this module decides how the models see it: which columns each model uses, how the
segmentation's history columns become a clustering space, and which months are the latest
complete one. Keeping those choices in one place is what lets the probability table, the
outlooks and training agree column for column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PERSON_MONTHS = "ml.ml_person_months"
PERSON_FEATURES = "ml.ml_person_features"

# The clustering space: every axis is a share or a 0-1 indicator, so each planted difference
# (older or not, leads or household members, temporary housing, support need, the route into
# care) counts about equally. Standardising instead let the many near-constant binary columns
# outvote age and made k-means flip between local optima night to night (docs).
SEGMENT_AXES: tuple[str, ...] = (
    "older", "not_lead", "temporary", "long_temporary", "support_need", "homeless_entry",
    "care_home", "care_from_hospital", "care_from_home", "community", "sheltered",
    "need", "hospital_rate",
)

# The history columns the axes are built from: present in both ml_person_features (at the
# person's latest month) and ml_person_months (at every month), so one fitted segmentation
# applies to either.
SEGMENT_SOURCE_COLUMNS: tuple[str, ...] = (
    "age", "age_at_entry", "entry_route", "months_known", "share_lead_tenant", "share_temporary",
    "has_support_need_to_date", "share_care_home", "n_care_entries_from_hospital_to_date",
    "n_care_entries_from_home_to_date", "share_community", "share_sheltered", "share_extra_care",
    "max_need_level_to_date", "n_hospital_admissions_to_date",
)

# Next-month and outlook models. previous_state and weekly_care_hours are left out on purpose:
# both are nearly determined by lattice keys (months in state, need level) and would contradict
# them when the probability table overwrites those keys on real rows (docs).
CATEGORICAL: tuple[str, ...] = ("state", "sex", "area_code", "tenancy_type", "let_route", "segment")
NUMERIC: tuple[str, ...] = (
    "months_in_state", "need_level", "age", "household_size", "arrears_band", "wellbeing_score",
    "has_support_need", "is_lead_tenant", "is_hospital_observed", "is_home_care_observed",
    "n_hospital_admissions_last_3_months", "n_hospital_admissions_last_12_months",
    "n_care_home_admissions_last_12_months", "n_state_changes_last_12_months", "month_of_year",
    "months_since_entry",
)
FEATURES: tuple[str, ...] = CATEGORICAL + NUMERIC

LABELS: tuple[str, ...] = (
    "next_state", "next_need_level", "has_next_month", "is_outlook_horizon_complete",
    "has_care_home_admission_next_12_months", "has_hospital_admission_next_12_months",
    "has_need_rise_next_12_months", "has_tenancy_end_next_12_months",
)


def segment_axes(frame: pd.DataFrame) -> pd.DataFrame:
    """The clustering space from the history columns (see SEGMENT_AXES)."""
    f = frame
    months = f["months_known"].astype(float).clip(lower=1)
    age = f["age_at_entry"].astype(float).fillna(f["age"].astype(float)).fillna(60.0)
    entry = f["entry_route"].astype(str)
    out = pd.DataFrame(index=f.index)
    # a soft "55 or over at entry": the planted older segments enter from 55, working-age ones to 58
    out["older"] = 1.0 / (1.0 + np.exp(-(age - 57.0) / 4.0))
    out["not_lead"] = 1.0 - f["share_lead_tenant"].astype(float).fillna(0.0)
    temporary = f["share_temporary"].astype(float).fillna(0.0)
    out["temporary"] = temporary
    out["long_temporary"] = np.minimum(temporary * months / 24.0, 1.0)
    out["support_need"] = f["has_support_need_to_date"].astype(float).fillna(0.0)
    out["homeless_entry"] = (entry == "homeless").astype(float)
    out["care_home"] = f["share_care_home"].astype(float).fillna(0.0)
    out["care_from_hospital"] = np.minimum(
        f["n_care_entries_from_hospital_to_date"].astype(float).fillna(0.0)
        + (entry == "care_home_from_hospital"), 1.0)
    out["care_from_home"] = np.minimum(
        f["n_care_entries_from_home_to_date"].astype(float).fillna(0.0) + (entry == "care_home_from_home"), 1.0)
    out["community"] = f["share_community"].astype(float).fillna(0.0)
    out["sheltered"] = f["share_sheltered"].astype(float).fillna(0.0) + f["share_extra_care"].astype(float).fillna(0.0)
    out["need"] = f["max_need_level_to_date"].astype(float).fillna(0.0) / 3.0
    out["hospital_rate"] = np.minimum(12.0 * f["n_hospital_admissions_to_date"].astype(float).fillna(0.0) / months, 1.0)
    return out[list(SEGMENT_AXES)]


def latest_complete_month(con) -> pd.Timestamp:
    """The last month whose data the warehouse holds to its last day: the census month."""
    value = con.execute("select max(month_start) from marts.dim_month where is_complete = 1").fetchone()[0]
    if value is None:
        raise ValueError("marts.dim_month has no complete month: build the marts first")
    return pd.Timestamp(value)


def months_before(month: pd.Timestamp, n: int) -> pd.Timestamp:
    return (pd.Timestamp(month) - pd.DateOffset(months=n)).normalize()


def load_person_features(con) -> pd.DataFrame:
    return con.execute(f"select * from {PERSON_FEATURES} order by person_key").df()


def load_person_months(con, since: pd.Timestamp | str | None = None, until: pd.Timestamp | str | None = None,
                       columns: tuple[str, ...] | None = None, where: str | None = None) -> pd.DataFrame:
    """Person-month rows in a window of months (inclusive), ordered for determinism."""
    cols = ", ".join(columns) if columns else "*"
    clauses = []
    params: list = []
    if since is not None:
        clauses.append("month_start >= ?")
        params.append(pd.Timestamp(since).date())
    if until is not None:
        clauses.append("month_start <= ?")
        params.append(pd.Timestamp(until).date())
    if where:
        clauses.append(f"({where})")
    sql = f"select {cols} from {PERSON_MONTHS}"
    if clauses:
        sql += " where " + " and ".join(clauses)
    sql += " order by person_key, month_start"
    df = con.execute(sql, params).df()
    if "month_start" in df:
        df["month_start"] = pd.to_datetime(df["month_start"])
    return df


def table_exists(con, schema: str, name: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name]).fetchone()[0] > 0


def write_table(con, schema: str, name: str, frame: pd.DataFrame) -> int:
    """Replace a warehouse table with a DataFrame, in one transaction (readers never see it half
    written)."""
    con.execute(f"create schema if not exists {schema}")
    con.register("_llif_frame", frame)
    try:
        con.execute("begin transaction")
        con.execute(f"create or replace table {schema}.{name} as select * from _llif_frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_llif_frame")
    return len(frame)
