"""Running dbt on the project as the tests do: its own target and log folders under a work
folder, dbt's own output in the failure message, and the run's results read back."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers.paths import DBT, DBT_PROJECT, ROOT


def run_dbt(args: list[str], work: Path, env: dict[str, str] | None = None, check: bool = True,
            project: Path = DBT_PROJECT):
    """`dbt <args>` on ``project``, target/ and logs/ under ``work``; fails with dbt's last lines."""
    work.mkdir(parents=True, exist_ok=True)
    cmd = [str(DBT), *args, "--project-dir", str(project), "--profiles-dir", str(project),
           "--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--no-version-check"]
    full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false", **(env or {})}
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=1800)
    if check and proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
        pytest.fail(f"`dbt {' '.join(args)}` failed (exit {proc.returncode}):\n{tail}")
    return proc


def run_results(work: Path) -> list[dict]:
    """The nodes of the last run in ``work`` with their status and message."""
    return json.loads((work / "target" / "run_results.json").read_text())["results"]


def assert_all_passed(work: Path) -> list[dict]:
    """Every node passed (a warning passes); else name each one that did not."""
    results = run_results(work)
    bad = [f"{r['unique_id']}: {r['status']} {r.get('message') or ''}" for r in results
           if r["status"] not in ("success", "pass", "warn")]
    assert not bad, "dbt nodes that did not pass:\n" + "\n".join(bad)
    return results


def manifest(work: Path) -> dict:
    """The manifest dbt wrote in ``work``."""
    return json.loads((work / "target" / "manifest.json").read_text())
