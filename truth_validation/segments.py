"""Reading the synthetic world's truth for validation: never part of the nightly fit.

The pipeline never reads the truth store (docs/truth_store.md). The segmentation publishes how
well it recovers the six planted segments, so the Dagster asset (or a test) passes the truth in
through this module; nothing here changes what is fitted.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def true_segments(con, truth_dir: Path) -> pd.DataFrame:
    """person_key -> true_segment (1-6; 0 for household members, whom the world does not
    segment), via identity.person_xref and the truth's source records (truth_validation.reconcile's
    rule: a key belongs to the true person behind most of its records)."""
    from synthetic_sources.truth_store import TruthStore
    from truth_validation.reconcile import person_map

    store = TruthStore(Path(truth_dir))
    people = store.load("people", ["person_id", "segment"])
    records = store.load("source_records")
    xref = con.execute("select system, source_table, record_key, person_key from identity.person_xref").df()
    pairs = person_map(xref, records)
    pairs = pairs.loc[pairs["person_id"] == pairs["key_person_id"], ["person_key", "person_id"]]
    out = pairs.merge(people, on="person_id").drop_duplicates("person_key")
    return out.rename(columns={"segment": "true_segment"})[["person_key", "true_segment"]].astype(
        {"true_segment": "int64"}).reset_index(drop=True)
