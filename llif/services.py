"""The long-lived services of an installation: ``llif serve`` (and ``make ui``) and the systemd units.

Five services, each its own process so a service manager can start, stop and restart it alone
(``deploy/*.service`` run ``llif serve --only NAME``, which becomes that one process):

- ``dagster-webserver``: the Dagster UI (lineage, runs, reruns, asset checks);
- ``dagster-daemon``: schedules, sensors (the run-failure alert) and the run queue: the nightly
  schedule fires with no UI open;
- ``mlflow``: the MLflow tracking server (model versions);
- ``explorer``: the planners' Streamlit app (login required, ``explorer/auth.py``);
- ``dbt-docs``: the dbt docs site the nightly run builds (a static folder).

Why ``dagster.yaml`` is written once: it is the operator's file (storage, run queue, retention,
pools); llif writes a working one when there is none and never touches it again. Its storage is
SQLite under ``DAGSTER_HOME`` unless ``LLIF_DAGSTER_STORAGE_URL`` names a PostgreSQL database
when it is first written; the file then refers to that variable, so the password stays in the
environment (systemd's ``EnvironmentFile``), never in the file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from contracts.settings import PROJECT_ROOT, paths, service_settings

SERVICES = ("dagster-webserver", "dagster-daemon", "mlflow", "explorer", "dbt-docs")

DAGSTER_YAML = """\
# Written once by llif when DAGSTER_HOME had no dagster.yaml; it is yours from now on: llif never
# rewrites it (delete it to get llif's default again). Reference:
# https://docs.dagster.io/deployment/oss/dagster-yaml
{storage}
# The daemon takes runs off this queue.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  # one run at a time: a night and a rerun never write the warehouse together
  runs:
    max_concurrent_runs: 1
  # DuckDB has one writer: every asset that writes it is in the `warehouse` pool, limited to 1.
  pools:
    default_limit: 1
# A run that ends gives its pool slots back; one killed hard (kill -9, power loss) is found by the
# sensor llif_release_crashed_runs (orchestration/recovery.py), marked failed and its slot freed.
# Dagster's own monitoring frees a finished run's slots a minute after its end as a second guard.
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
  free_slots_after_run_end_seconds: 60
telemetry:
  enabled: false
"""

SQLITE_STORAGE = """\
storage:
  sqlite:
    base_dir: {base_dir}"""

POSTGRES_STORAGE = """\
# Run, event and schedule storage in PostgreSQL; the URL (with its password) is read from the
# environment variable below when Dagster starts.
storage:
  postgres:
    postgres_url:
      env: LLIF_DAGSTER_STORAGE_URL"""


def dagster_storage_url(url: str) -> str:
    """The URL as dagster-postgres needs it: its SQL is written for psycopg2, and SQLAlchemy 2.1
    takes a bare ``postgresql://`` to mean psycopg 3, whose server-side parameters break
    Dagster's ``NOTIFY``; so the driver is named."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    raise ValueError(f"LLIF_DAGSTER_STORAGE_URL must be a postgresql:// URL, got one for {url.split('@')[-1]!r}")


def dagster_yaml_text(home: Path, storage_url: str | None) -> str:
    if storage_url:
        dagster_storage_url(storage_url)  # refuses anything but PostgreSQL, naming the host only
        storage = POSTGRES_STORAGE
    else:
        storage = SQLITE_STORAGE.format(base_dir=home / "storage")
    return DAGSTER_YAML.format(storage=storage)


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME under LLIF_HOME, with a ``dagster.yaml`` written if (and only if) it has none."""
    home = paths().dagster_home
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(dagster_yaml_text(home, service_settings().dagster_storage_url))
    return home


def open_instance():
    """LLIF_HOME's Dagster instance in this process (``make demo`` keeps its runs there, so the UI
    shows them), with the storage URL in the form dagster-postgres needs."""
    import dagster as dg

    url = os.environ.get("LLIF_DAGSTER_STORAGE_URL")
    if url:
        os.environ["LLIF_DAGSTER_STORAGE_URL"] = dagster_storage_url(url)
    return dg.DagsterInstance.from_config(str(prepare_dagster_home()))


def create_dagster_storage() -> None:
    """Create (or migrate) the instance's storage once, before any service opens it.

    Why: the webserver and the daemon each create SQLite's tables when they find none, and two
    doing it at the same moment fail with "table ... already exists" (the daemon then exits).
    A lock file makes this safe when systemd starts the services side by side too."""
    import fcntl

    home = prepare_dagster_home()
    with open(home / ".storage.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = open_instance()
        try:
            instance.run_storage.has_run("llif-storage-check")  # each store builds its tables when first touched
            instance.event_log_storage.get_asset_keys()
            if instance.schedule_storage is not None:
                instance.schedule_storage.all_instigator_state()
        finally:
            instance.dispose()


def workspace_file() -> Path:
    """The workspace Dagster loads (the code location ``orchestration.definitions``): the
    checkout's, or the copy an installed wheel carries."""
    for candidate in (PROJECT_ROOT / "workspace.yaml", Path(__file__).resolve().parent / "workspace.yaml"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no workspace.yaml beside {PROJECT_ROOT} or in the llif package")


@dataclass(frozen=True)
class Ports:
    dagster: int = 3000
    mlflow: int = 5000
    explorer: int = 8501
    docs: int = 8580


def commands(host: str | None = None, ports: Ports = Ports()) -> dict[str, list[str]]:
    """Each service's command line; ``host`` is the listen address (default from the settings)."""
    s = service_settings()
    host = host or s.listen_address
    p = paths()
    bin_dir = Path(sys.executable).parent
    workspace = str(workspace_file())
    import explorer
    from explorer.auth import oidc_config_file

    explorer_app = Path(explorer.__file__).resolve().parent / "app.py"
    oidc = oidc_config_file()  # OIDC login when the operator has configured it (docs/deploy.md)
    secrets = ["--secrets.files", str(oidc)] if oidc.exists() else []
    return {
        "dagster-webserver": [str(bin_dir / "dagster-webserver"), "-w", workspace, "-h", host, "-p", str(ports.dagster)],
        "dagster-daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", workspace],
        "mlflow": [
            str(bin_dir / "mlflow"), "server", "--backend-store-uri", s.mlflow_tracking_uri(p),
            "--default-artifact-root", p.mlartifacts.as_uri(), "--host", host, "--port", str(ports.mlflow),
            "--workers", "1",
        ],
        "explorer": [
            str(bin_dir / "streamlit"), "run", str(explorer_app),
            "--server.headless", "true", "--server.address", host, "--server.port", str(ports.explorer),
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer", "--theme.primaryColor", "#0072B2",
            *secrets,
        ],
        "dbt-docs": [sys.executable, "-m", "http.server", str(ports.docs), "--bind", host, "--directory", str(p.dbt_docs)],
    }


def environment() -> dict[str, str]:
    """The environment every service runs in: DAGSTER_HOME prepared, LLIF_HOME absolute."""
    from llif.dbt_manifest import ensure

    ensure()  # the code location loads the manifest, never parses dbt itself
    p = paths()
    home = prepare_dagster_home()
    p.mlartifacts.mkdir(parents=True, exist_ok=True)
    p.dbt_docs.mkdir(parents=True, exist_ok=True)
    if not (p.dbt_docs / "index.html").exists():
        (p.dbt_docs / "index.html").write_text(
            "<!doctype html><title>dbt docs</title><p>The dbt docs site is built by the nightly run "
            "(asset <code>dbt_docs</code>); it appears here after the first night.</p>")
    env = dict(os.environ)
    if env.get("LLIF_DAGSTER_STORAGE_URL"):
        env["LLIF_DAGSTER_STORAGE_URL"] = dagster_storage_url(env["LLIF_DAGSTER_STORAGE_URL"])
    env["DAGSTER_HOME"] = str(home)
    env["LLIF_HOME"] = str(p.home)
    return env


def start(only: list[str] | None = None, host: str | None = None, ports: Ports = Ports()) -> dict[str, subprocess.Popen]:
    env = environment()
    if not only or {"dagster-webserver", "dagster-daemon"} & set(only):
        create_dagster_storage()
    procs = {}
    for name, cmd in commands(host, ports).items():
        if only and name not in only:
            continue
        procs[name] = subprocess.Popen(cmd, env=env, cwd=paths().home, start_new_session=True)
    return procs


def stop(procs: dict[str, subprocess.Popen], timeout: float = 25) -> None:
    """SIGTERM to every service's process group, then SIGKILL to what is left after ``timeout``."""
    for proc in procs.values():
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs.values():  # the group too: a service's own children (code servers, workers)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def exec_one(name: str, host: str | None = None, ports: Ports = Ports()) -> None:
    """Become one service's process (for systemd: it signals and watches that very PID)."""
    if name not in SERVICES:
        raise SystemExit(f"llif: error: --only {name!r}: choose from {', '.join(SERVICES)}")
    env = environment()
    if name.startswith("dagster"):
        create_dagster_storage()
    cmd = commands(host, ports)[name]
    os.chdir(paths().home)
    os.execve(cmd[0], cmd, env)


def run(only: list[str] | None = None, host: str | None = None, ports: Ports = Ports()) -> int:
    if only and len(only) == 1:
        exec_one(only[0], host, ports)
    procs = start(only, host, ports)
    shown = host or service_settings().listen_address
    urls = {"dagster-webserver": (ports.dagster, "Dagster UI (lineage, runs, asset checks)"),
            "mlflow": (ports.mlflow, "MLflow (model versions)"),
            "explorer": (ports.explorer, "explorer (planners: forecasts, what-ifs; login required)"),
            "dbt-docs": (ports.docs, "dbt docs (every model and column)")}
    for name in procs:
        if name in urls:
            port, what = urls[name]
            print(f"llif: {name:<18} http://{shown}:{port}  {what}")
    if "dagster-daemon" in procs:
        print("llif: dagster-daemon     runs the 02:00 schedule and the failure alerts")
    print("llif: Ctrl-C (or SIGTERM) stops them all", flush=True)
    stopping = []

    def _term(signum, frame):
        stopping.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _term)
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(1)
        failed = [n for n, p in procs.items() if p.poll() is not None]
        print(f"llif: error: {', '.join(failed)} stopped; see its output above", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop(procs)
