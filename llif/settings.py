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

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def sources(self) -> Path:
        """The embedded source systems, laid out as the real ones hold their data."""
        return self.home / "sources"

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
    def reports(self) -> Path:
        return self.home / "reports"


def llif_home() -> Path:
    raw = os.environ.get("LLIF_HOME")
    return Path(raw).expanduser().resolve() if raw else PROJECT_ROOT / ".llif"


def paths(home: Path | None = None) -> Paths:
    return Paths(Path(home).resolve() if home is not None else llif_home())


def server_url(system: str) -> str | None:
    """A server URL for a source system from ``LLIF_<SYSTEM>_URL``; secrets live only there."""
    return os.environ.get(f"LLIF_{system.upper()}_URL")
