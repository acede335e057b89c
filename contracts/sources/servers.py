"""The server form of a source contract: how llif reaches a system held on PostgreSQL or MariaDB.

Ingest reads the provider's servers through these, and the synthetic world writes its server
form through them, so a URL is parsed, checked and masked the same way on both sides. Every entry
point fails within seconds with an error naming the system and host: a night that hangs on a
dead server is worse than one that stops and says what to start.
"""

from __future__ import annotations

import math
import socket
import time

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool

from contracts.sources import source_systems

DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}

# What a source server says of its own tables, asked through information_schema with
# (database, table) as parameters; the reader (warehouse.readers) and the synthetic world's
# writer ask the same questions, so they are asked in one place.
COLUMNS_SQL = ("SELECT column_name, data_type FROM information_schema.columns "
               "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position")
# the key columns in key order: PostgreSQL names constraints freely, MariaDB's is always PRIMARY
PRIMARY_KEY_SQL = {
    "postgresql": ("SELECT k.column_name FROM information_schema.table_constraints c "
                   "JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name "
                   "AND k.table_schema = c.table_schema AND k.table_name = c.table_name "
                   "WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = %s AND c.table_name = %s "
                   "ORDER BY k.ordinal_position"),
    "mariadb": ("SELECT column_name FROM information_schema.key_column_usage "
                "WHERE constraint_name = 'PRIMARY' AND table_schema = %s AND table_name = %s "
                "ORDER BY ordinal_position"),
}


def system_label(system: str) -> str:
    """The system's name as its contract gives it (the bare name for one without a contract)."""
    spec = source_systems().get(system)
    return spec.label if spec is not None else system


class SourceServerUnreachable(Exception):
    """A source system's server cannot be reached or refuses us; the message says what to do."""

    def __init__(self, message: str, *, system: str, host: str | None, port: int | None):
        super().__init__(message)
        self.system = system
        self.host = host
        self.port = port


# --------------------------------------------------------------------------------------------
# URLs


def mask_url(url: str | URL) -> str:
    """The URL as it may appear in logs and errors: password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show nothing that could be a secret
        return "<unparseable URL>"


def parse_url(system: str, url: str | URL) -> URL:
    """Parse and complete a server URL (default drivers: psycopg 3, PyMySQL)."""
    try:
        u = make_url(url)
    except Exception:
        raise ValueError(
            f"llif: the {system_label(system)} server URL {mask_url(url)} is not a database URL; "
            f"give one like postgresql+psycopg://user@host:5432/db or "
            f"mysql+pymysql://user@host:3306/ with --server {system}=... ."
        ) from None
    backend = u.get_backend_name()
    driver = u.get_driver_name() if "+" in u.drivername else None
    if backend == "postgresql":
        if driver not in (None, "psycopg"):
            raise ValueError(
                f"llif: the {system_label(system)} server URL {mask_url(u)} asks for driver "
                f"{driver!r}; llif writes PostgreSQL through psycopg 3: use postgresql+psycopg://."
            )
        return u.set(drivername="postgresql+psycopg")
    if backend in ("mysql", "mariadb"):
        if driver not in (None, "pymysql"):
            raise ValueError(
                f"llif: the {system_label(system)} server URL {mask_url(u)} asks for driver "
                f"{driver!r}; llif writes MariaDB through PyMySQL: use mysql+pymysql://."
            )
        return u.set(drivername=f"{backend}+pymysql")
    raise ValueError(
        f"llif: the {system_label(system)} server URL {mask_url(u)} is for {backend!r}; source "
        "systems can be held on PostgreSQL (postgresql+psycopg://) or MariaDB (mysql+pymysql://)."
    )


def is_pg(u: URL) -> bool:
    return u.get_backend_name() == "postgresql"


def server_engine(u: URL, timeout_s: float) -> Engine:
    if is_pg(u):
        args = {"connect_timeout": max(2, math.ceil(timeout_s))}
    else:
        # No FOUND_ROWS flag: MariaDB then reports 0 for an upsert that changed nothing, 1 for
        # an insert and 2 for an update, which is how write_server counts changed rows.
        args = {"connect_timeout": timeout_s, "client_flag": 0, "charset": "utf8mb4"}
    return sa.create_engine(u, poolclass=NullPool, connect_args=args)


def _where(u: URL) -> tuple[str | None, int | None, str]:
    host = u.host
    port = u.port or DEFAULT_PORTS.get(u.get_backend_name())
    return host, port, f"{host}:{port}" if host else "its local socket"


def _reason(exc: BaseException, u: URL) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    if u.password and len(str(u.password)) >= 3:
        text = text.replace(str(u.password), "***")
    return text[:300]


def check_reachable(system: str, url: str, timeout_s: float = 5) -> None:
    """Fail fast, naming the system and host, if its server cannot be reached or used.

    A plain TCP connect first, because it fails in milliseconds on a refused port and is
    bounded by ``timeout_s`` on a silent one, where a driver may wait much longer; then a real
    login, to catch a wrong user, password or database before any work starts.
    """
    label = system_label(system)
    u = parse_url(system, url)
    host, port, at = _where(u)
    hint = (
        f"Check the URL given with --server {system}=... (or LLIF_{system.upper()}_URL) "
        "or start the server."
    )
    start = time.monotonic()
    if host:
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
        except socket.timeout:
            reason = f"no answer within {timeout_s:g} s"
        except ConnectionRefusedError:
            reason = "connection refused"
        except socket.gaierror:
            reason = f"unknown host {host}"
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
        else:
            reason = None
        if reason is not None:
            raise SourceServerUnreachable(
                f"llif: cannot reach the {label} server at {at} ({reason}). {hint}",
                system=system, host=host, port=port,
            )
    remaining = max(1.0, timeout_s - (time.monotonic() - start))
    engine = server_engine(u, remaining)
    try:
        with engine.connect() as con:
            con.exec_driver_sql("SELECT 1")
    except Exception as exc:
        raise SourceServerUnreachable(
            f"llif: the {label} server at {at} did not let llif in as {mask_url(u)} "
            f"({_reason(exc, u)}). Check the user, password and database in the URL given with "
            f"--server {system}=... (or LLIF_{system.upper()}_URL).",
            system=system, host=host, port=port,
        ) from None
    finally:
        engine.dispose()
