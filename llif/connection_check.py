"""``llif check``: can this installation reach its warehouse? A clear answer before a night fails.

For a server target (SQL Server in production, PostgreSQL) it first opens a plain TCP connection
to the host and port dbt's profile will use (five seconds at most), so a closed port, a wrong
host or a firewall is reported as exactly that, naming the target, the address and the
environment variables to set; then it has dbt log in (``dbt debug --connection``) with the real
driver (SQL Server: mssql-python, installed from the package index with ``dbt-sqlserver[mssql]``).
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

# what dbt_project/profiles.yml reads for each server target: (host var, default), (port var, default), the rest
TARGETS = {
    "sqlserver": ("SQL Server", ("LLIF_MSSQL_SERVER", "sqlserver.invalid"), ("LLIF_MSSQL_PORT", "1433"),
                  ("LLIF_MSSQL_DATABASE", "LLIF_MSSQL_USER", "LLIF_MSSQL_PASSWORD")),
    "postgres": ("PostgreSQL", ("LLIF_PG_HOST", "127.0.0.1"), ("LLIF_PG_PORT", "5432"),
                 ("LLIF_PG_DBNAME", "LLIF_PG_USER", "LLIF_PG_PASSWORD")),
}


class ConnectionCheckFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Checked:
    target: str
    address: str
    message: str


def _address(target: str) -> tuple[str, str, int]:
    kind, (host_var, host_default), (port_var, port_default), _ = TARGETS[target]
    host = os.environ.get(host_var) or host_default
    raw_port = os.environ.get(port_var) or port_default
    if not raw_port.isdigit():
        raise ConnectionCheckFailed(f"llif: target {target}: {port_var}={raw_port!r} is not a port number")
    return kind, host, int(raw_port)


def check_target(target: str, timeout: float = 5.0, login: bool = True) -> Checked:
    """Raise ConnectionCheckFailed with what to set unless ``target`` answers (and lets dbt in)."""
    if target == "duckdb":
        from contracts.settings import paths

        path = paths().warehouse
        return Checked(target, str(path), f"llif: target duckdb: the embedded warehouse {path}"
                                          + (" (not built yet: the first night makes it)" if not path.exists() else ""))
    if target not in TARGETS:
        raise ConnectionCheckFailed(f"llif: unknown target {target!r}: choose duckdb, {', '.join(TARGETS)}")
    kind, host, port = _address(target)
    _, (host_var, _), (port_var, _), rest = TARGETS[target]
    address = f"{host}:{port}"
    todo = (f"Set {host_var} and {port_var} to your {kind} server (now {address}), and {', '.join(rest)} "
            "in the services' environment (deploy/llif.env).")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.gaierror as exc:
        raise ConnectionCheckFailed(f"llif: target {target}: cannot find the {kind} host {host!r} ({exc.strerror}). "
                                    + todo) from None
    except TimeoutError:
        raise ConnectionCheckFailed(f"llif: target {target}: no answer from {kind} at {address} within "
                                    f"{timeout:g}s (a firewall, or the wrong host). " + todo) from None
    except OSError as exc:
        reason = "connection refused: nothing listens there" if isinstance(exc, ConnectionRefusedError) else exc.strerror
        raise ConnectionCheckFailed(f"llif: target {target}: cannot reach {kind} at {address} ({reason}). "
                                    + todo) from None
    if login:
        _dbt_login(target, kind, address, todo)
    return Checked(target, address, f"llif: target {target}: {kind} at {address} answers"
                                    + (" and dbt logged in" if login else ""))


def _dbt_login(target: str, kind: str, address: str, todo: str) -> None:
    from contracts.shutdown import run_child
    from llif.dbt_manifest import DBT_DIR

    dbt = Path(sys.executable).parent / "dbt"
    done = run_child([str(dbt), "debug", "--connection", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
                      "--target", target], env=dict(os.environ), timeout=120)
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.output.splitlines() if ln.strip()]
        # dbt prints the driver's own words between "Database Error" and its advice
        start = next((i for i, ln in enumerate(lines) if "Database Error" in ln), None)
        if start is not None:
            end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("Check your")), len(lines))
            why = " ".join(lines[start + 1:end])
        else:
            why = next((ln for ln in reversed(lines) if "rror" in ln or "failed" in ln.lower()), lines[-1] if lines else "")
        raise ConnectionCheckFailed(f"llif: target {target}: {kind} at {address} answers, but dbt could not log in: "
                                    f"{why[:400]}. " + todo)
