"""The one dbt project and its resource.

The manifest is never parsed at import: ``llif.dbt_manifest.ensure()`` (run by `make`, `llif
demo`, `llif ui` and the tests) writes it, and loading the code location without it is an error
that says so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from llif.settings import PROJECT_ROOT, paths

DBT_DIR = PROJECT_ROOT / "dbt_project"

project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target="duckdb")


def dbt_environment() -> dict[str, str]:
    """What dbt reads: where the warehouse is (nothing else in the project reads the environment)."""
    return {"LLIF_WAREHOUSE": str(paths().warehouse), "LLIF_HOME": str(paths().home)}


def dbt_resource() -> DbtCliResource:
    os.environ.update(dbt_environment())
    # the venv's dbt, whether or not the venv is on PATH (make runs it without activating)
    executable = str(Path(sys.executable).parent / "dbt")
    return DbtCliResource(project_dir=project, profiles_dir=str(DBT_DIR), target="duckdb", dbt_executable=executable)


def manifest_path():
    path = project.manifest_path
    if not path.exists():
        raise FileNotFoundError(
            f"dbt manifest missing at {path}; run `.venv/bin/python -m llif.dbt_manifest` "
            "(make demo, make ui and make test do this for you)"
        )
    return path
