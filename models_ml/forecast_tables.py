"""Probability tables as of a past census: the backtest's production path (issue 11, item 4).

The backtest must check the forecast planners read, so its tables come from models trained
the way tonight's are - evaluation fit, then the production refit with the evaluation's rounds
and calibration (``models_ml.transitions``, decision 28) - but on rows whose label month is at
most the cut-off, and are built over the lattice by the same function as the nightly table
(``probability_table.tables_from_models``, donors from the 24 months up to the cut-off). The
segmentation is refit on people as of the cut-off with tonight's number of segments and
labels (``segments.fit_segment_model_as_of``), so nothing after the cut-off reaches the
table except the number of segments and their names.

Training twice per cut-off takes minutes at scale 1, so results are cached on disk under
``cache_dir/<cutoff YYYY-MM>/<fingerprint>/``; the fingerprint covers every row and column
the models and the table read up to the cut-off, the configuration and tonight's
segmentation's shape. ``retrain=True`` (the weekly Sunday run) trains unless an entry with the
same fingerprint exists (training is deterministic: it would give the same tables);
``retrain=False`` (other nights) takes the newest entry for the cut-off even if late
corrections have since changed the fingerprint (``info["stale"]`` says so), and trains only
when the cut-off has no entry at all. Recalibrating rates to recent counts is not done here:
``simulation.recency`` applies it to whatever tables the forecast gets.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from models_ml import features as F
from models_ml import probability_table as PT
from models_ml import segments as S
from models_ml.transitions.config import NEED, NEXT_STATE, TrainConfig
from models_ml.transitions.data import HISTORY_COLUMNS
from models_ml.transitions.training import fit_all
from simulation.lattice import Lattice
from simulation.probability_tables import ProbabilityTables

CACHE_FORMAT = 1  # bump when what a cache entry holds, or how it is built, changes
TRANSITION_FILE = "transition_probabilities.parquet"
NEED_FILE = "need_probabilities.parquet"
SEGMENTS_FILE = "segment_profiles.parquet"
INFO_FILE = "info.json"
DEFAULT_CONFIG = TrainConfig()  # the nightly configuration


def data_fingerprint(con, cutoff: pd.Timestamp) -> str:
    """A digest of what training and the table read up to the cut-off: every ml_person_months
    row to the cut-off month, with its features and history, and the next-month labels of the
    rows before it (those labelled by the cut-off). Nothing after the cut-off enters, so late
    data about later months leaves the key alone; ``segment``/``segment_name`` (tonight's
    labels) are left out."""
    cols = list(dict.fromkeys(["person_month_id", "person_key", "month_start",
                               *[c for c in F.FEATURES if c != "segment"], *HISTORY_COLUMNS]))
    labels = [f"case when month_start < $1 then {c} end" for c in ("has_next_month", "next_state", "next_need_level")]
    h = f"hash({', '.join(cols + labels)})"
    row = con.execute(f"select count(*), bit_xor({h}), sum({h} % 2147483647) from {F.PERSON_MONTHS} "
                      "where month_start <= $1", [cutoff.date()]).fetchone()
    return hashlib.sha256(json.dumps([str(v) for v in row]).encode()).hexdigest()


def cache_key(con, cutoff: pd.Timestamp, cfg: TrainConfig, like: S.SegmentModel | None, table_args: dict) -> str:
    """The entry's fingerprint: the data digest, the configuration, the table's settings and
    tonight's segmentation's shape (number and names: what the cut-off segmentation keeps)."""
    parts = {"format": CACHE_FORMAT, "cutoff": f"{cutoff:%Y-%m}", "data": data_fingerprint(con, cutoff),
             "cfg": cfg.__dict__, "table": table_args, "features": list(F.FEATURES),
             "segments": None if like is None else [like.k, list(like.names)]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _read_entry(folder: Path) -> tuple[ProbabilityTables, dict]:
    info = json.loads((folder / INFO_FILE).read_text())
    transition = pd.read_parquet(folder / TRANSITION_FILE)
    need = pd.read_parquet(folder / NEED_FILE)
    seg_model = S.SegmentModel.from_frame(pd.read_parquet(folder / SEGMENTS_FILE)) \
        if (folder / SEGMENTS_FILE).exists() else None
    lattice = Lattice(seg_model.k if seg_model is not None else 0)
    tables = ProbabilityTables(lattice, transition, need, {"table_version": info["table_version"]})
    info["segment_model"] = seg_model
    info["cache_path"] = str(folder)
    return tables, info


def _entries(cutoff_dir: Path) -> list[Path]:
    """Complete entries of a cut-off, newest first (by their recorded creation time)."""
    out = []
    for folder in cutoff_dir.iterdir() if cutoff_dir.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith(".") and (folder / INFO_FILE).exists():
            created = json.loads((folder / INFO_FILE).read_text()).get("created_utc", "")
            out.append((created, folder.name, folder))
    return [f for _, _, f in sorted(out, reverse=True)]


def train_cutoff_tables(con, cutoff: pd.Timestamp, cfg: TrainConfig = DEFAULT_CONFIG,
                        like: S.SegmentModel | None = None, donors_per_cell: int = 12, min_donors: int = 8,
                        seed: int = 20261031) -> tuple[Lattice, pd.DataFrame, pd.DataFrame, S.SegmentModel | None, dict]:
    """Segments as of the cut-off, the next-state and need models (evaluation fit and refit)
    on rows labelled up to it, and the tables from the refits. No cache, no MLflow."""
    started = time.perf_counter()
    seg_model = S.fit_segment_model_as_of(con, cutoff, like, seed=cfg.seed) if like is not None else None
    fitted, _ = fit_all(con, cfg, only=(NEXT_STATE, NEED), latest=cutoff, segment_model=seg_model)
    lattice, transition, need = PT.tables_from_models(con, fitted[NEXT_STATE].production, fitted[NEED].production,
                                                      seg_model, cutoff, donors_per_cell, min_donors, seed)
    w = fitted[NEXT_STATE].windows
    summary = {
        "evaluation_windows": w.as_dict(), "refit_window": w.refit_dict(),
        "rounds": {n: fm.production.best_iterations[0] for n, fm in fitted.items()},
        "evaluation_heldout_log_loss": {n: round(float(fm.metrics["heldout_log_loss"]), 6) for n, fm in fitted.items()},
        "refit_rows": {n: fm.refit_rows for n, fm in fitted.items()},
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    return lattice, transition, need, seg_model, summary


def cutoff_tables(con, cutoff_month, cache_dir, retrain: bool, *, cfg: TrainConfig = DEFAULT_CONFIG,
                  donors_per_cell: int = 12, min_donors: int = 8, seed: int = 20261031) -> tuple[ProbabilityTables, dict]:
    """The probability tables of models trained only on rows whose label month is at most
    ``cutoff_month`` (a census month: the backtest's cut-off), cached under ``cache_dir``.

    Returns ``(tables, info)``; ``info`` holds ``cutoff`` ("YYYY-MM"), ``fingerprint``,
    ``trained`` (this call trained), ``stale`` (reused an entry whose fingerprint is not
    tonight's), ``cache_path``, ``table_version``, ``segment_model`` (the
    ``segments.SegmentModel`` as of the cut-off, or None without segments: pass
    ``segments.segments_as_of(con, info["segment_model"], cutoff)`` to the forecast's inputs),
    the evaluation and refit windows, rounds, the evaluation fits' held-out log loss and
    ``seconds``.
    """
    started = time.perf_counter()
    cutoff = pd.Timestamp(cutoff_month).to_period("M").to_timestamp()
    latest = F.latest_complete_month(con)
    if cutoff > latest:
        raise ValueError(f"cut-off {cutoff:%Y-%m} is after the latest complete month {latest:%Y-%m}")
    like = S.read_segment_model(con)
    table_args = {"donors_per_cell": donors_per_cell, "min_donors": min_donors, "seed": seed}
    key = cache_key(con, cutoff, cfg, like, table_args)
    cutoff_dir = Path(cache_dir) / f"{cutoff:%Y-%m}"
    entries = _entries(cutoff_dir)
    exact = cutoff_dir / key
    chosen = exact if exact in entries else (entries[0] if entries and not retrain else None)
    if chosen is not None:
        tables, info = _read_entry(chosen)
        info.update(trained=False, stale=chosen.name != key, seconds=round(time.perf_counter() - started, 1))
        return tables, info

    lattice, transition, need, seg_model, summary = train_cutoff_tables(con, cutoff, cfg, like, donors_per_cell,
                                                                         min_donors, seed)
    version = f"cutoff-{cutoff:%Y-%m}-{key}"
    transition["table_version"] = version
    need["table_version"] = version
    info = {"cutoff": f"{cutoff:%Y-%m}", "fingerprint": key, "table_version": version,
            "created_utc": datetime.now(UTC).isoformat(timespec="microseconds"), **summary}
    cutoff_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cutoff_dir))
    try:
        transition.to_parquet(tmp / TRANSITION_FILE, index=False)
        need.to_parquet(tmp / NEED_FILE, index=False)
        if seg_model is not None:
            seg_model.to_frame().to_parquet(tmp / SEGMENTS_FILE, index=False)
        (tmp / INFO_FILE).write_text(json.dumps(info, indent=2, default=str))
        if exact.exists():  # another run wrote the same entry meanwhile: same key, same tables
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, exact)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tables = ProbabilityTables(lattice, transition, need, {"table_version": version})
    info.update(trained=True, stale=False, segment_model=seg_model, cache_path=str(exact),
                seconds=round(time.perf_counter() - started, 1))
    return tables, info


def production_tables(cache_dir, retrain: bool = False, **table_args):
    """What ``simulation.backtest.run_backtests(tables_for=...)`` takes: for a census month, the
    tables of models trained only up to it (``cutoff_tables``) and the people's segments as of
    then, so the backtest runs the path tonight's forecast runs. ``info`` comes back without
    the segment model (it is not data for a report)."""

    def tables_for(con, census_month):
        tables, info = cutoff_tables(con, census_month, cache_dir, retrain, **table_args)
        model = info.get("segment_model")
        segments = S.segments_as_of(con, model, census_month) if model is not None else None
        return tables, segments, {k: v for k, v in info.items() if k != "segment_model"}

    return tables_for
