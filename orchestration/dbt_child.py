"""``llif-dbt``: dbt, made to die with the process that started it.

Why: dagster-dbt starts dbt as a plain child process. When the run's process is killed hard
(``kill -9``, the OOM killer), nothing forwards the stop and dbt lives on as an orphan (parent
PID 1) that keeps DuckDB's write lock and half of tonight's models (issue 16). Linux's
"parent-death signal" closes that gap at the kernel: this wrapper asks for SIGKILL when its
parent goes, then becomes dbt itself (``exec``, same PID, the setting kept), so dagster-dbt sees
and stops the very dbt process as before.

It also gives dbt its environment (``dbt_environment``: the warehouse, the run files' folders,
the source systems), computed from ``LLIF_HOME`` for the dbt process alone; what the caller
already set (dagster-dbt's per-run target path) wins.

``LLIF_DBT_EXECUTABLE`` names the program to become (default: the venv's ``dbt`` beside this
interpreter); the tests use it to stand in a long sleep. Off Linux there is no parent-death
signal and the wrapper is a plain ``exec``. The umask is set to 077 first: what dbt creates (the
warehouse's WAL, its run files) is the owner's only (issue 16, point 3).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from contracts.settings import owner_only_files
from contracts.shutdown import set_parent_death_signal


def dbt_environment() -> dict[str, str]:
    """What dbt reads: where the warehouse is, where dbt's own run files go (under LLIF_HOME,
    never into the project: an installed wheel's folder may be read-only, and a checkout is
    code), and every source contract's systems, a provider's own included
    (dbt_project/macros/source_systems.sql)."""
    from contracts.settings import paths
    from contracts.sources import dbt_source_systems

    p = paths()
    return {"LLIF_WAREHOUSE": str(p.warehouse), "LLIF_HOME": str(p.home),
            "DBT_TARGET_PATH": str(p.home / "dbt" / "target"), "DBT_LOG_PATH": str(p.home / "dbt" / "logs"),
            "LLIF_SOURCE_SYSTEMS": json.dumps(dbt_source_systems(), sort_keys=True)}


def target() -> str:
    return os.environ.get("LLIF_DBT_EXECUTABLE") or str(Path(sys.executable).parent / "dbt")


def main() -> None:
    parent = os.getppid()
    set_parent_death_signal()
    if os.getppid() != parent:  # the parent died before the signal was set: nobody to work for
        raise SystemExit(1)
    owner_only_files()  # dbt writes the warehouse (identity included) and its WAL: owner-only
    program = target()
    os.execve(program, [program, *sys.argv[1:]], {**dbt_environment(), **os.environ})


if __name__ == "__main__":
    main()
