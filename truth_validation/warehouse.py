"""How well the warehouse recovers the synthetic world: linkage and timeline against the truth.

Real data has no truth store, so this never runs on it: the validation asset calls
``validate_against_truth``, which returns None when ``LLIF_HOME`` holds no synthetic truth, and
the asset then reports that and materialises nothing. With a synthetic world it publishes the
figures the warehouse issue promises (pairwise linkage precision and recall; timeline state
agreement where the sources hold the truth) and keeps them in ``validation.truth_agreement`` so
the explorer's data-quality page can show them without reading the restricted identity schema.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from truth_validation.reconcile import TIMELINE, XREF, compare
from warehouse.identity import evaluate_linkage

TABLE = "validation.truth_agreement"


@dataclass
class ValidationResult:
    linkage: dict
    timeline_agreement: float
    timeline_change_agreement: float
    timeline_coverage: float
    held_person_months: int
    seconds: float

    def figures(self) -> dict[str, float]:
        return {
            "linkage_precision": float(self.linkage["precision"]),
            "linkage_recall": float(self.linkage["recall"]),
            "linkage_f1": float(self.linkage["f1"]),
            "timeline_state_agreement": float(self.timeline_agreement),
            "timeline_change_agreement": float(self.timeline_change_agreement),
            "timeline_coverage": float(self.timeline_coverage),
        }

    def metadata(self) -> dict:
        return {
            **{name: round(value, 5) for name, value in self.figures().items()},
            "linkage_records": int(self.linkage["records"]),
            "linkage_true_pairs": int(self.linkage["true_pairs"]),
            "held_person_months": int(self.held_person_months),
            "seconds": round(self.seconds, 1),
        }


def has_truth(home: Path) -> bool:
    """The same test ``synthetic_sources.api.load_truth`` makes before reading."""
    from contracts.settings import paths
    from synthetic_sources.truth_store import TruthStore

    return TruthStore(paths(Path(home)).truth).exists()


def validate_against_truth(con, home: Path) -> ValidationResult | None:
    """Compare tonight's linkage and timeline (``con``: a writable DuckDB connection to the
    warehouse) with the truth in ``home``; None when there is no truth to compare with."""
    if not has_truth(home):
        return None
    from synthetic_sources import api

    started = time.perf_counter()
    truth = api.load_truth(Path(home))
    xref = con.execute(f"SELECT system, source_table, record_key, person_key FROM {XREF}").df()
    timeline = con.execute(f"SELECT person_key, month_start, state FROM {TIMELINE}").df()
    linkage = evaluate_linkage(xref, truth["source_records"])
    rec = compare(timeline, xref, truth)
    result = ValidationResult(
        linkage=linkage, timeline_agreement=rec.agreement, timeline_change_agreement=rec.change_agreement,
        timeline_coverage=rec.coverage, held_person_months=rec.held_person_months,
        seconds=time.perf_counter() - started)
    _record(con, result)
    return result


def _record(con, result: ValidationResult) -> None:
    frame = pd.DataFrame({"metric": list(result.figures()), "value": list(result.figures().values())})
    frame["measured_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)
    con.execute("CREATE SCHEMA IF NOT EXISTS validation")
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT * FROM frame")
