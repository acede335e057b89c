"""The one way to build a forecast's inputs: census, tables, segments, arrivals, capacity.

Why one function: the nightly forecast, ``llif forecast run``, the explorer's what-if and the
backtest used to assemble their inputs each in its own way (estimated tables here, the
champion's there, a pickle elsewhere), so the same warehouse gave three baselines and the
backtest checked a forecast nobody reads. Now all of them call ``build_forecast_inputs``:
same warehouse + same census month + same tables + same seed gives the same forecast.

What it takes by default is what the nightly forecast uses: the champion models' probability
tables and the segments they were built with, from the warehouse's ``ml`` schema, with the
census and the rest estimated from the timeline (``simulation.inputs``). The backtest passes
tables built by models trained only before its cut-off, and the segments as of then.
"""

from __future__ import annotations

import pandas as pd

from simulation.inputs import SimulationInputs, estimate_inputs, reference_month_of
from simulation.probability_tables import ProbabilityTables, load_probability_tables

WAREHOUSE = "warehouse"   # take the tables (or segments) tonight's models wrote to the warehouse


def _table_exists(con, schema: str, name: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, name]).fetchone()[0] > 0


def warehouse_tables(con) -> ProbabilityTables | None:
    """Tonight's champion tables from ``ml.transition_probabilities``, or None before any model."""
    if not (_table_exists(con, "ml", "transition_probabilities") and _table_exists(con, "ml", "need_probabilities")):
        return None
    return load_probability_tables(con)


def warehouse_segments(con) -> pd.DataFrame | None:
    if not _table_exists(con, "ml", "segments"):
        return None
    return con.execute("select person_key, segment from ml.segments order by person_key").df()


def build_forecast_inputs(con, *, as_of=None, tables=WAREHOUSE, segments=WAREHOUSE,
                          recency: bool = True) -> SimulationInputs:
    """The engine's inputs from the warehouse (a DuckDB connection; read-only is enough).

    ``as_of``: the census month (default the latest complete month). ``tables``: a
    ``ProbabilityTables``, None for the engine's own back-off estimate, or ``WAREHOUSE`` for
    tonight's champion tables (only for tonight's census: a census in the past must use tables
    from models that had not seen what came after it). ``segments``: person_key -> segment
    (a DataFrame), None, or ``WAREHOUSE`` (``ml.segments``); ignored without tables.
    """
    latest = reference_month_of(con)
    census = reference_month_of(con, as_of)
    if isinstance(tables, str):
        if tables != WAREHOUSE:
            raise ValueError(f"tables: expected ProbabilityTables, None or {WAREHOUSE!r}; got {tables!r}")
        if census < latest:
            raise ValueError(f"tonight's models have seen the months after the census {str(census)[:7]}: "
                             "pass tables from models trained before it (models_ml cutoff tables) or tables=None")
        tables = warehouse_tables(con)
    if tables is None:
        inputs = estimate_inputs(con, as_of=census, recency=recency)
        inputs.provenance["model_versions"] = {}
        return inputs
    if isinstance(segments, str):
        segments = warehouse_segments(con) if segments == WAREHOUSE else None
    n_segments = tables.lattice.n_segments if segments is not None else 0
    if segments is None and tables.lattice.n_segments:
        raise ValueError(f"the probability tables are by {tables.lattice.n_segments} segments: pass the people's "
                         "segments (ml.segments) with them")
    inputs = estimate_inputs(con, as_of=census, n_segments=n_segments, segments=segments, tables=tables,
                             recency=recency)
    inputs.provenance["model_versions"] = dict(tables.version)
    return inputs
