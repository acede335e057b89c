"""``make ui``: the Dagster UI (lineage, runs, reruns), the MLflow UI (model versions) and the
explorer (planners: forecasts and what-ifs), side by side.

All run on localhost only; Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from llif.settings import PROJECT_ROOT, paths

DAGSTER_PORT = 3000
MLFLOW_PORT = 5000
EXPLORER_PORT = 8501


def mlflow_tracking_uri(home: Path | None = None) -> str:
    return f"sqlite:///{paths(home).mlflow_db}"


def commands(dagster_port: int = DAGSTER_PORT, mlflow_port: int = MLFLOW_PORT,
             explorer_port: int = EXPLORER_PORT) -> dict[str, list[str]]:
    p = paths()
    bin_dir = Path(sys.executable).parent
    return {
        "dagster": [
            str(bin_dir / "dagster"), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
            "-h", "127.0.0.1", "-p", str(dagster_port),
        ],
        "mlflow": [
            str(bin_dir / "mlflow"), "ui", "--backend-store-uri", mlflow_tracking_uri(),
            "--default-artifact-root", p.mlartifacts.as_uri(), "--host", "127.0.0.1", "--port", str(mlflow_port),
        ],
        "explorer": [
            str(bin_dir / "streamlit"), "run", str(PROJECT_ROOT / "explorer" / "app.py"),
            "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(explorer_port),
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer", "--theme.primaryColor", "#0072B2",
        ],
    }


DAGSTER_YAML = """\
# Written by llif: DuckDB has one writer, so every asset that writes it shares one pool of size 1.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME under LLIF_HOME, with the instance settings llif needs."""
    home = paths().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    return home


def environment() -> dict[str, str]:
    from llif.dbt_manifest import ensure

    ensure()  # the code location loads the manifest, never parses dbt itself
    p = paths()
    prepare_dagster_home()
    p.mlartifacts.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(p.dagster_home)
    env["LLIF_HOME"] = str(p.home)
    return env


def start(dagster_port: int = DAGSTER_PORT, mlflow_port: int = MLFLOW_PORT,
          explorer_port: int = EXPLORER_PORT) -> dict[str, subprocess.Popen]:
    env = environment()
    procs = {}
    for name, cmd in commands(dagster_port, mlflow_port, explorer_port).items():
        procs[name] = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, start_new_session=True)
    return procs


def stop(procs: dict[str, subprocess.Popen]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def run(dagster_port: int = DAGSTER_PORT, mlflow_port: int = MLFLOW_PORT, explorer_port: int = EXPLORER_PORT) -> int:
    procs = start(dagster_port, mlflow_port, explorer_port)
    print(f"llif: Dagster UI  http://127.0.0.1:{dagster_port}  (lineage, runs, rerun assets)")
    print(f"llif: MLflow UI   http://127.0.0.1:{mlflow_port}  (compare model versions)")
    print(f"llif: explorer    http://127.0.0.1:{explorer_port}  (planners: forecasts, what-ifs, report)")
    print("llif: Ctrl-C stops them all", flush=True)
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(1)
        failed = [n for n, p in procs.items() if p.poll() is not None]
        print(f"llif: error: the {', '.join(failed)} UI stopped; see its output above", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(procs)
