"""The probability tables over the forecast lattice, and the lookup the forecast engine uses.

Reading a table (``load_probability_tables``, ``ProbabilityTables.lookup``) is the engine's
side of the contract, in ``simulation/probability_tables.py`` (numpy and pandas only); this
module builds the tables (LightGBM and MLflow are imported inside ``build_probability_tables``).

How a cell gets its probabilities: the champion models are evaluated on real person-months of
the last two years whose keys are overwritten with the cell's keys, and the predictions are
averaged. The features the lattice does not hold (area, arrears, wellbeing, household size,
tenancy type, recent hospital stays, the calendar month ...) thereby keep their real joint
distribution *given the cell*, instead of a modal value no real person has. Donor rows come from
the cell itself when it holds at least ``min_donors`` rows, else from the nearest coarser group
(state, need, age band and segment; then state, need and age band; then state and need; then
the state; finally any state), so empty cells borrow the mix of people most like them. Age and
months in state, continuous in the models, are kept where the donor is already in the cell's
band and otherwise set to the band's representative value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.lattice import (
    LIVE_STATES,
    NEED_COLUMNS,
    SEXES,
    TRANSITION_COLUMNS,
    Lattice,
    age_band_index,
    months_in_state_band_index,
)

# the reading side (the engine's contract) lives with the engine; re-exported for callers here
from simulation.probability_tables import (  # noqa: F401
    NEED_TABLE,
    TRANSITION_TABLE,
    ProbabilityTables,
    load_probability_table_files,
    load_probability_tables,
)

REFERENCE_MONTHS = 24
AGE_REPRESENTATIVE = (10, 30, 47, 60, 70, 80, 89, 97, np.nan)  # one per AGE_BANDS entry
MONTHS_IN_STATE_REPRESENTATIVE = (1, 6, 30, 90)  # one per MONTHS_IN_STATE_BANDS entry
# back-off levels: the key codes (positions in lattice.KEYS) each level matches on
LEVELS: tuple[tuple[int, ...], ...] = ((0, 1, 2, 3, 4, 5), (0, 1, 2, 4), (0, 1, 2), (0, 1), (0,), ())


# ---------------------------------------------------------------------------------------------
# building (imports the models lazily)


def reference_rows(con, segment_model, months: int = REFERENCE_MONTHS, latest=None) -> pd.DataFrame:
    """Real person-months of the last ``months`` complete months up to ``latest`` (default the
    latest complete month; a cut-off for the backtest), with their as-of segment and lattice key
    codes."""
    from models_ml import features as F
    from models_ml.transitions.data import HISTORY_COLUMNS

    latest = F.latest_complete_month(con) if latest is None else pd.Timestamp(latest)
    since = F.months_before(latest, months - 1)
    cols = ", ".join(dict.fromkeys(["person_key", "month_start", *[c for c in F.FEATURES if c != "segment"], *HISTORY_COLUMNS]))
    df = con.execute(f"select {cols} from {F.PERSON_MONTHS} where month_start between ? and ? "
                     "order by person_key, month_start", [since.date(), latest.date()]).df()
    df["segment"] = segment_model.predict(df) if segment_model is not None and len(df) else -1
    df["sex"] = df["sex"].fillna("U")
    df["_k0"] = df["state"].map({s: i for i, s in enumerate(LIVE_STATES)}).astype(np.int64)
    df["_k1"] = df["need_level"].astype(np.int64)
    df["_k2"] = age_band_index(df["age"].to_numpy(dtype=float, na_value=np.nan))
    df["_k3"] = df["sex"].map({s: i for i, s in enumerate(SEXES)}).fillna(SEXES.index("U")).astype(np.int64)
    df["_k4"] = df["segment"].astype(np.int64)
    df["_k5"] = months_in_state_band_index(df["months_in_state"].to_numpy())
    return df


def cell_donors(reference: pd.DataFrame, lattice: Lattice, donors_per_cell: int = 12, min_donors: int = 8,
                seed: int = 20261031) -> pd.DataFrame:
    """For every cell, up to ``donors_per_cell`` real rows with the cell's keys written over
    theirs (see the module docstring): the frame the models are evaluated on. Columns: the
    model features, ``cell`` and ``donor_level`` (0 = the cell's own rows)."""
    grid = lattice.frame()
    codes = np.column_stack(lattice.decode(grid["cell"].to_numpy()))  # state, need, age, sex, seg, mis
    rng = np.random.default_rng(seed)
    ref = reference.iloc[rng.permutation(len(reference))].reset_index(drop=True)
    keycols = [f"_k{i}" for i in range(6)]
    chosen = np.full(len(grid), -1, dtype=np.int64)
    level_of = np.full(len(grid), -1, dtype=np.int64)
    pools: dict[int, tuple[pd.Series, np.ndarray]] = {}
    for lv, keys in enumerate(LEVELS):
        cols = [keycols[k] for k in keys]
        if cols:
            gid = ref.groupby(cols, sort=True).ngroup().to_numpy()
            sizes = np.bincount(gid)
            lookup = ref[cols].assign(_g=gid).drop_duplicates(cols).set_index(cols)["_g"]
            cell_keys = pd.MultiIndex.from_arrays([codes[:, k] for k in keys]) if len(keys) > 1 \
                else pd.Index(codes[:, keys[0]])
            g = lookup.reindex(cell_keys).to_numpy()
        else:
            gid = np.zeros(len(ref), dtype=np.int64)
            sizes = np.array([len(ref)])
            g = np.zeros(len(grid))
        ok = ~np.isnan(g.astype(float)) & (chosen < 0)
        g_int = np.where(np.isnan(g.astype(float)), 0, g).astype(np.int64)
        enough = ok & ((sizes[g_int] >= min_donors) | (lv == len(LEVELS) - 1))
        chosen[enough] = g_int[enough]
        level_of[enough] = lv
        pools[lv] = (gid, sizes)
    # the first donors_per_cell rows of each chosen group (rows are in a seeded random order)
    parts = []
    for lv in np.unique(level_of):
        gid, _ = pools[int(lv)]
        order = np.argsort(gid, kind="stable")
        starts = np.searchsorted(gid[order], np.arange(gid.max() + 2))
        cells_here = np.flatnonzero(level_of == lv)
        groups = chosen[cells_here]
        take = np.minimum(starts[groups + 1] - starts[groups], donors_per_cell)
        rows = np.concatenate([order[starts[g]:starts[g] + t] for g, t in zip(groups, take)]) if len(groups) else np.array([], int)
        cell_rep = np.repeat(cells_here, take)
        parts.append(pd.DataFrame({"_row": rows, "_cellpos": cell_rep, "donor_level": lv}))
    idx = pd.concat(parts, ignore_index=True).sort_values(["_cellpos", "_row"]).reset_index(drop=True)
    donors = ref.iloc[idx["_row"].to_numpy()].reset_index(drop=True)
    c = codes[idx["_cellpos"].to_numpy()]
    donors["cell"] = grid["cell"].to_numpy()[idx["_cellpos"].to_numpy()]
    donors["donor_level"] = idx["donor_level"].to_numpy()
    donors["state"] = np.asarray(LIVE_STATES, dtype=object)[c[:, 0]]
    donors["need_level"] = c[:, 1]
    donors["sex"] = np.asarray(SEXES, dtype=object)[c[:, 3]]
    donors["segment"] = c[:, 4]
    same_age = donors["_k2"].to_numpy() == c[:, 2]
    donors["age"] = np.where(same_age, donors["age"].to_numpy(dtype=float, na_value=np.nan),
                             np.asarray(AGE_REPRESENTATIVE, dtype=float)[c[:, 2]])
    same_mis = donors["_k5"].to_numpy() == c[:, 5]
    donors["months_in_state"] = np.where(same_mis, donors["months_in_state"].to_numpy(),
                                         np.asarray(MONTHS_IN_STATE_REPRESENTATIVE)[c[:, 5]])
    return donors


def average_by_cell(donors: pd.DataFrame, probs: np.ndarray, columns: tuple[str, ...], lattice: Lattice) -> pd.DataFrame:
    """The mean prediction of each cell's donors, renormalised, joined to the cell's keys."""
    cells = donors["cell"].to_numpy()
    sums = np.zeros((lattice.size, probs.shape[1]))
    np.add.at(sums, cells, probs)
    counts = np.bincount(cells, minlength=lattice.size).astype(float)
    mean = sums / np.maximum(counts, 1.0)[:, None]
    mean = mean / mean.sum(axis=1, keepdims=True)
    out = lattice.frame().sort_values("cell").reset_index(drop=True)
    for j, col in enumerate(columns):
        out[col] = mean[out["cell"].to_numpy(), j]
    level = donors.groupby("cell")["donor_level"].first()
    out["donor_level"] = level.reindex(out["cell"]).to_numpy()
    out["n_donors"] = counts[out["cell"].to_numpy()].astype(np.int64)
    return out


@dataclass
class TableResult:
    tables: ProbabilityTables
    run_id: str | None
    model_versions: dict[str, str]
    seconds: float
    rows_written: dict[str, int]

    def metadata(self) -> dict:
        t = self.tables.transition
        return {"cells": int(self.tables.lattice.size), "n_segments": int(self.tables.lattice.n_segments),
                "mlflow_run_id": self.run_id, "champion_versions": self.model_versions,
                "cells_from_own_rows": int((t["donor_level"] == 0).sum()),
                "seconds": round(self.seconds, 1), "rows_written": self.rows_written}


def evaluate_tables(next_state_model, need_model, donors: pd.DataFrame, lattice: Lattice) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables from the donor frame: the models' calibrated predictions averaged per cell.
    The need model's classes are need_0..3, its table's p_need_0..3."""
    transition = average_by_cell(donors, next_state_model.predict_proba(donors), TRANSITION_COLUMNS, lattice)
    need = average_by_cell(donors, need_model.predict_proba(donors), NEED_COLUMNS, lattice)
    return transition, need


def tables_from_models(con, next_state_model, need_model, segment_model, latest=None, donors_per_cell: int = 12,
                       min_donors: int = 8, seed: int = 20261031) -> tuple[Lattice, pd.DataFrame, pd.DataFrame]:
    """The lattice and both tables from two models: donors from the ``REFERENCE_MONTHS`` up to
    ``latest``, segmented by ``segment_model``. The nightly build and the backtest's cut-off
    tables (``models_ml.forecast_tables``) both come through here, so they differ only in
    the models and the months."""
    lattice = Lattice(segment_model.k if segment_model is not None else 0)
    donors = cell_donors(reference_rows(con, segment_model, latest=latest), lattice, donors_per_cell, min_donors, seed)
    transition, need = evaluate_tables(next_state_model, need_model, donors, lattice)
    return lattice, transition, need


def build_probability_tables(con, tracking, tags: dict[str, str] | None = None, donors_per_cell: int = 12,
                             min_donors: int = 8, seed: int = 20261031, write: bool = True) -> TableResult:
    """Evaluate the champions (production refits) over the lattice once; store the tables in MLflow (an artifact of
    a run tagged with the champion versions: the table's version) and in the warehouse."""
    import tempfile
    import time
    from pathlib import Path

    import mlflow

    from models_ml import segments as S
    from models_ml import tracking as T
    from models_ml.features import write_table
    from models_ml.transitions.config import NEED, NEXT_STATE

    started = time.perf_counter()
    seg_model = S.read_segment_model(con)
    next_state = T.load_champion(tracking, NEXT_STATE)  # the production refits (decision 28)
    need = T.load_champion(tracking, NEED)
    versions = {name: T.alias_version(tracking, name, T.CHAMPION) for name in (NEXT_STATE, NEED)}
    lattice, transition, need_table = tables_from_models(con, next_state, need, seg_model, None, donors_per_cell,
                                                         min_donors, seed)
    tags = tags or T.run_tags()
    with mlflow.start_run(run_name="probability tables", tags={**tags, "model": "probability_tables"}) as run:
        mlflow.log_params({f"champion_{k}": v for k, v in versions.items()})
        mlflow.log_params({"donors_per_cell": donors_per_cell, "min_donors": min_donors, "n_segments": lattice.n_segments,
                           "reference_months": REFERENCE_MONTHS})
        mlflow.log_metric("cells_from_own_rows", float((transition["donor_level"] == 0).sum()))
        version = run.info.run_id
        transition["table_version"] = version
        need_table["table_version"] = version
        with tempfile.TemporaryDirectory() as tmp:
            transition.to_parquet(Path(tmp) / "transition_probabilities.parquet", index=False)
            need_table.to_parquet(Path(tmp) / "need_probabilities.parquet", index=False)
            mlflow.log_artifacts(tmp, artifact_path="probability_tables")
    written = {}
    if write:
        written["ml.transition_probabilities"] = write_table(con, *TRANSITION_TABLE, transition)
        written["ml.need_probabilities"] = write_table(con, *NEED_TABLE, need_table)
    tables = ProbabilityTables(lattice, transition, need_table, {"table_version": version, **versions})
    return TableResult(tables, version, versions, time.perf_counter() - started, written)
