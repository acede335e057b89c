"""Write the dbt manifest (`dbt parse`) so the Dagster code location can load without parsing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from contracts.settings import IN_CHECKOUT, dbt_project_dir, paths
from contracts.sources import contract_folders, dbt_source_systems

DBT_DIR = dbt_project_dir()


def ensure(force: bool = False) -> Path:
    manifest = DBT_DIR / "target" / "manifest.json"
    # the source contracts too: a system added by contract adds its models to the shared unions
    inputs = [*DBT_DIR.rglob("*"), *(p for folder in contract_folders() for p in folder.glob("*.yaml"))]
    sources = sorted(p.stat().st_mtime for p in inputs if p.suffix in {".sql", ".yml", ".yaml"} and "target" not in p.parts)
    if manifest.exists() and not force and (not IN_CHECKOUT or (sources and manifest.stat().st_mtime >= sources[-1])):
        return manifest  # up to date, or a wheel's (parsed when it was built; its folder may be read-only)
    env = {"LLIF_WAREHOUSE": str(paths().warehouse), "LLIF_HOME": str(paths().home),
           "LLIF_SOURCE_SYSTEMS": json.dumps(dbt_source_systems(), sort_keys=True)}
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "parse", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target", "duckdb", "--quiet",
         "--target-path", str(DBT_DIR / "target")],
        env={**os.environ, **env}, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return manifest


if __name__ == "__main__":
    print(ensure(force=True))
