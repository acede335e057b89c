"""The one dbt project and its resource.

The manifest is never parsed at import: ``llif.dbt_manifest.ensure()`` (run by `make`, `llif
demo`, `llif ui` and the tests) writes it, and loading the code location without it is an error
that says so.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from contracts.settings import PACKAGED_DBT_PROJECT, dbt_project_dir, paths
from contracts.sources import dbt_source_systems

DBT_DIR = dbt_project_dir()

# dagster-dbt's packaging convention: `dagster-dbt project prepare-and-package` (llif/package.py)
# copies the project and its manifest into orchestration/dbt-project for the wheel
project = DbtProject(project_dir=DBT_DIR, packaged_project_dir=PACKAGED_DBT_PROJECT, target="duckdb")


def dbt_environment() -> dict[str, str]:
    """What dbt reads: where the warehouse is, and where dbt's own run files go: under LLIF_HOME,
    never into the project (an installed wheel's folder may be read-only, and a checkout is code)."""
    p = paths()
    return {"LLIF_WAREHOUSE": str(p.warehouse), "LLIF_HOME": str(p.home),
            "DBT_TARGET_PATH": str(p.home / "dbt" / "target"), "DBT_LOG_PATH": str(p.home / "dbt" / "logs"),
            # every source contract's systems, a provider's own included (macros/source_systems.sql)
            "LLIF_SOURCE_SYSTEMS": json.dumps(dbt_source_systems(), sort_keys=True)}


def dbt_resource() -> DbtCliResource:
    os.environ.update(dbt_environment())
    # the venv's dbt, whether or not the venv is on PATH (make runs it without activating), by way
    # of llif-dbt, which makes dbt die with the run's process (orchestration/dbt_child.py); a venv
    # installed before llif-dbt existed runs dbt directly
    bin_dir = Path(sys.executable).parent
    wrapper = bin_dir / "llif-dbt"
    executable = str(wrapper if wrapper.exists() else bin_dir / "dbt")
    return DbtCliResource(project_dir=project, profiles_dir=str(project.profiles_dir), target="duckdb",
                          dbt_executable=executable)


def manifest_path():
    path = project.manifest_path
    if not path.exists():
        raise FileNotFoundError(
            f"dbt manifest missing at {path}; run `.venv/bin/python -m llif.dbt_manifest` "
            "(make demo, make ui and make test do this for you)"
        )
    return path


KEEP_RUN_TARGETS = 3   # each dbt invocation's own target folder (manifest, run results, compiled SQL)


def prune_run_targets(target_path: Path, keep: int = KEEP_RUN_TARGETS) -> list[Path]:
    """Remove all but the newest ``keep`` target folders of the asset that wrote ``target_path``.

    Why: dagster-dbt gives every invocation a folder of its own (``<asset>-<run>-<id>``), about
    47 MB a night at scale 1.0, and never removes one, so a year of nights fills the disk. The
    newest few are kept for whoever is debugging a night; the current one is never removed."""
    target_path = Path(target_path)
    prefix = target_path.name.split("-")[0]
    folders = [p for p in target_path.parent.glob(f"{prefix}-*") if p.is_dir() and p != target_path]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = folders[max(keep - 1, 0):]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed

