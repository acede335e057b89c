"""Where llif keeps everything, derived from one environment variable.

Every path the project uses is derived here from ``LLIF_HOME`` (default ``.llif/`` in the
checkout), so a user can move or wipe a whole installation by pointing at another folder, and
nothing else in the code base reads environment variables (secrets excepted, see
``server_url``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from contracts.vocabulary.commissioning import SPOT_SPARE_SHARE
from contracts.vocabulary.staffing import CONTACT_HOURS_PER_CARER_WEEK

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# An installed wheel has no checkout around it: the dbt project, the shipped scenarios and the
# workspace travel inside the packages (``llif/package.py`` puts them there when it builds).
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").exists() and (PROJECT_ROOT / "dbt_project").is_dir()
PACKAGED_DBT_PROJECT = PROJECT_ROOT / "orchestration" / "dbt-project"


def dbt_project_dir() -> Path:
    """The dbt project: the checkout's ``dbt_project/``, or the copy an installed wheel carries."""
    return PROJECT_ROOT / "dbt_project" if IN_CHECKOUT else PACKAGED_DBT_PROJECT


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def sources(self) -> Path:
        """The embedded source systems, laid out as the real ones hold their data."""
        return self.home / "sources"

    @property
    def source_contracts(self) -> Path:
        """A provider's own source contracts (``*.yaml``), added to or replacing those llif ships."""
        return self.home / "contracts" / "sources"

    @property
    def truth(self) -> Path:
        """The synthetic world's ground truth: tests, validation and benchmarks only."""
        return self.home / "truth"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def mlflow_db(self) -> Path:
        return self.home / "mlflow.db"

    @property
    def mlartifacts(self) -> Path:
        return self.home / "mlartifacts"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def forecasts(self) -> Path:
        return self.home / "forecasts"

    @property
    def backtest_models(self) -> Path:
        """The backtest's cut-off models' tables, trained on the weekly run and reused by the others."""
        return self.home / "forecasts" / "backtest_models"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def numba_cache(self) -> Path:
        """The forecast kernel's compiled code (numba's ``cache=True``) when the package folder is
        not writable (a wheel in a read-only site-packages) and ``NUMBA_CACHE_DIR`` is not set."""
        return self.home / "cache" / "numba"

    @property
    def logs(self) -> Path:
        """Full logs of runs started from the command line (``make demo``)."""
        return self.home / "logs"

    @property
    def dbt_docs(self) -> Path:
        """The dbt docs site the nightly run builds (``index.html``, served by ``make ui``)."""
        return self.home / "dbt_docs"

    @property
    def scenarios(self) -> Path:
        """Planners' what-ifs saved from the explorer (never into the checkout)."""
        return self.home / "scenarios"

    @property
    def published(self) -> Path:
        """The published copy of the last complete night that the explorer reads."""
        return self.home / "published"

    @property
    def audit(self) -> Path:
        """The explorer's audit log of every view of a person (SQLite, owner-only)."""
        return self.home / "audit" / "explorer_audit.sqlite"

    @property
    def accounts(self) -> Path:
        """The explorer's local accounts (hashed passwords, owner-only)."""
        return self.home / "secrets" / "explorer_accounts.json"


def llif_home() -> Path:
    """``LLIF_HOME``; by default ``.llif/`` in the checkout, or ``~/.llif`` for an installed wheel."""
    raw = os.environ.get("LLIF_HOME")
    if raw:
        return Path(raw).expanduser().resolve()
    return PROJECT_ROOT / ".llif" if IN_CHECKOUT else Path.home() / ".llif"


# Everything llif writes under LLIF_HOME is its owner's only (issue 16, decision 51): the warehouse
# holds the restricted identity schema, and the MLflow store, the forecasts, the reports, the
# logs and Dagster's storage all carry people's records or what was learnt from them. A mode on
# each writer would miss the files other libraries make (DuckDB's WAL, MLflow's artifacts,
# Dagster's event log, dbt's target/), so the processes that write them run with this umask.
OWNER_ONLY_UMASK = 0o077


def owner_only_files() -> int:
    """Files and folders this process (and every child it starts) creates from now on are
    0600 / 0700 at most; returns the umask before, for a caller that runs inside another
    program (a test) and puts it back."""
    return os.umask(OWNER_ONLY_UMASK)


def paths(home: Path | None = None) -> Paths:
    return Paths(Path(home).resolve() if home is not None else llif_home())


def server_url(system: str) -> str | None:
    """A server URL for a source system from ``LLIF_<SYSTEM>_URL``; secrets live only there."""
    return os.environ.get(f"LLIF_{system.upper()}_URL")


@dataclass(frozen=True)
class ServiceSettings:
    """What an operator sets for the long-lived services (``llif serve``, ``deploy/``), all from
    the environment (systemd's ``EnvironmentFile``), so secrets never sit in a file llif writes.

    - ``LLIF_LISTEN_ADDRESS``: where the UIs listen (default 127.0.0.1; 0.0.0.0 for every interface).
    - ``LLIF_DAGSTER_STORAGE_URL``: PostgreSQL for Dagster's runs and events (default SQLite).
    - ``LLIF_MLFLOW_TRACKING_URI``: MLflow's tracking store (default SQLite under LLIF_HOME).
    - ``LLIF_SMTP_HOST`` / ``_PORT`` / ``_USER`` / ``_PASSWORD`` / ``_STARTTLS``, ``LLIF_ALERT_FROM``,
      ``LLIF_ALERT_TO`` (comma-separated): the run-failure and check-failure email.
    - ``LLIF_ALERT_WEBHOOK``: optionally, a URL that gets the same alert as JSON.
    - ``LLIF_NIGHTLY_CRON``: when the nightly job runs (default ``0 2 * * *``, Europe/London).
    """

    listen_address: str = "127.0.0.1"
    dagster_storage_url: str | None = None
    mlflow_tracking: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    alert_from: str = "llif@localhost"
    alert_to: tuple[str, ...] = ()
    alert_webhook: str | None = None
    nightly_cron: str = "0 2 * * *"

    def mlflow_tracking_uri(self, p: Paths | None = None) -> str:
        if self.mlflow_tracking:
            return self.mlflow_tracking
        return f"sqlite:///{Path((p or paths()).mlflow_db).resolve()}"


def service_settings() -> ServiceSettings:
    env = os.environ
    port = env.get("LLIF_SMTP_PORT", "25")
    if not port.isdigit():
        raise ValueError(f"LLIF_SMTP_PORT must be a port number, got {port!r}")
    return ServiceSettings(
        listen_address=env.get("LLIF_LISTEN_ADDRESS") or "127.0.0.1",
        dagster_storage_url=env.get("LLIF_DAGSTER_STORAGE_URL") or None,
        mlflow_tracking=env.get("LLIF_MLFLOW_TRACKING_URI") or None,
        smtp_host=env.get("LLIF_SMTP_HOST") or None,
        smtp_port=int(port),
        smtp_user=env.get("LLIF_SMTP_USER") or None,
        smtp_password=env.get("LLIF_SMTP_PASSWORD") or None,
        smtp_starttls=env.get("LLIF_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
        alert_from=env.get("LLIF_ALERT_FROM") or "llif@localhost",
        alert_to=tuple(a.strip() for a in env.get("LLIF_ALERT_TO", "").split(",") if a.strip()),
        alert_webhook=env.get("LLIF_ALERT_WEBHOOK") or None,
        nightly_cron=env.get("LLIF_NIGHTLY_CRON") or "0 2 * * *",
    )


def dispatch_settings() -> tuple[str, str | None]:
    """What runs a forecast's replications (``simulation.dispatch``): ``LLIF_DISPATCH`` =
    ``local`` (default: a process pool on this machine), ``dask`` or ``ray``, and
    ``LLIF_DISPATCH_ADDRESS``, an existing cluster to join (a Dask scheduler's
    ``tcp://host:8786``, Ray's ``auto`` or ``ray://host:10001``; unset starts one on this
    machine for the run). See docs/dispatch.md."""
    backend = (os.environ.get("LLIF_DISPATCH") or "local").strip().lower()
    address = (os.environ.get("LLIF_DISPATCH_ADDRESS") or "").strip() or None
    return backend, address


FORECAST_KERNELS = ("numba", "numpy")


def forecast_kernel_setting() -> str:
    """Which month kernel the forecast engine runs (``simulation.kernel``): ``LLIF_FORECAST_KERNEL``
    = ``numba`` (compiled loops) or ``numpy`` (the readable whole-array path); unset or ``auto``
    means numba when it can be imported. Both give the same arrays bit for bit."""
    raw = (os.environ.get("LLIF_FORECAST_KERNEL") or "auto").strip().lower()
    if raw not in (*FORECAST_KERNELS, "auto"):
        raise ValueError(f"LLIF_FORECAST_KERNEL must be numba, numpy or auto, got {raw!r}")
    return raw


def _number_from_env(name: str, default: float, low: float, high: float, not_a_number: str,
                     out_of_range: str) -> float:
    """A number setting from ``name`` (``default`` when unset): a clear error naming it when it
    is not a number, or outside ``low``..``high`` (the two messages' tails say what it means)."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"llif: {name}={raw!r} {not_a_number}") from None
    if not low <= value <= high:
        raise ValueError(f"llif: {name}={raw!r}: {out_of_range}")
    return value


def contact_hours_per_carer_week() -> float:
    """Contact hours a week per full-time carer (``contracts/vocabulary/staffing.py``'s
    assumption), or the provider's own from ``LLIF_CONTACT_HOURS_PER_CARER_WEEK``."""
    return _number_from_env("LLIF_CONTACT_HOURS_PER_CARER_WEEK", CONTACT_HOURS_PER_CARER_WEEK, 1, 60,
                            "is not a number of hours a week (e.g. 25)",
                            "expected the contact hours a week of one full-time carer, 1 to 60")


def spot_spare_share() -> float:
    """Free care-home beds an area's market sells as spot, as a share of the places it needs at
    the forecast's start (``contracts/vocabulary/commissioning.py``), or the provider's own from
    ``LLIF_SPOT_SPARE_SHARE``."""
    return _number_from_env("LLIF_SPOT_SPARE_SHARE", SPOT_SPARE_SHARE, 0, 5, "is not a share (e.g. 0.1 for 10%)",
                            "expected a share of the places needed, 0 to 5")


def numba_cache_dir(p: Paths | None = None) -> Path:
    """Where numba keeps compiled code: ``NUMBA_CACHE_DIR`` if set, else ``Paths.numba_cache``."""
    raw = os.environ.get("NUMBA_CACHE_DIR")
    return Path(raw) if raw else (p or paths()).numba_cache


DEFAULT_POPULATION_PROJECTION = Path(__file__).resolve().parent / "reference" / "population" / "projection.csv"


def population_projection_file() -> Path:
    """The population projection the long-range forecast scales arrivals with
    (``simulation.population``; format in ``contracts/reference/population/README.md``):
    ``LLIF_POPULATION_PROJECTION``, a provider's own file (the Welsh Government's local-authority
    projections), else the shipped default, which is an assumption, not a published projection."""
    raw = (os.environ.get("LLIF_POPULATION_PROJECTION") or "").strip()
    if not raw:
        return DEFAULT_POPULATION_PROJECTION
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ValueError(f"llif: LLIF_POPULATION_PROJECTION={raw!r}: no such file")
    return path
