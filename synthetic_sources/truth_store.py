"""The world's ground truth on disk: one Parquet file per table plus ``meta.json``.

Only tests, validation, the calibration report and benchmarks read this; pipeline code never
does. See ``docs/truth_store.md`` for every table and column.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

TABLES = (
    "people",
    "households",
    "schemes",
    "units",
    "tenancies",
    "applications",
    "voids",
    "person_months",
    "care_stays",
    "hospital_spells",
    "hospice_stays",
    "care_packages",
    "queues",
    "source_records",
)


class TruthStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def exists(self) -> bool:
        return (self.root / "meta.json").exists()

    def save(self, tables: dict[str, pd.DataFrame], meta: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            if name not in TABLES:
                raise ValueError(f"unknown truth table {name!r}; known: {', '.join(TABLES)}")
            frame.to_parquet(self.root / f"{name}.parquet", index=False)
        (self.root / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))

    def load(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        path = self.root / f"{name}.parquet"
        if not path.exists():
            raise FileNotFoundError(
                f"truth table {name!r} not found at {path}; run `llif sources generate` first"
            )
        return pd.read_parquet(path, columns=columns)

    def load_all(self) -> dict[str, pd.DataFrame]:
        return {n: self.load(n) for n in TABLES if (self.root / f"{n}.parquet").exists()}

    def meta(self) -> dict:
        return json.loads((self.root / "meta.json").read_text())
