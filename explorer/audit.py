"""The audit log of every view of a named person's record in the explorer.

Individual outlooks are restricted data about people's risks (a care-home move, a hospital
stay, a tenancy ending). Every time the explorer shows a person's row, who saw whom, when, how
and on which night's data is written here before the page draws it; if the log cannot be
written, the page shows nothing (``AuditUnavailable``).

Why SQLite under ``LLIF_HOME/audit/`` and not the warehouse: the warehouse is the nightly
writer's alone and the explorer reads a published copy that is replaced every night; the audit
log must outlive both and take writes from every explorer process at once, which SQLite's
write-ahead log does. The file is owner-only.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

SCHEMA = """
create table if not exists person_views (
    viewed_at   text not null,   -- UTC, ISO 8601
    user_name   text not null,
    role        text not null,
    login       text not null,   -- local or oidc
    page        text not null,
    action      text not null,   -- list (a row among others) or detail (the person's own view)
    person_key  text not null,
    night       text             -- the published night the figures came from
)
"""


class AuditUnavailable(RuntimeError):
    pass


def audit_file(home: Path | None = None) -> Path:
    from contracts.settings import paths

    return paths(home).audit


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    new = not path.exists()
    if new:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    con = sqlite3.connect(path, timeout=30)
    con.execute("pragma journal_mode = wal")
    con.execute(SCHEMA)
    return con


def record_views(user, page: str, action: str, person_keys: list[str], night: str | None,
                 path: Path | None = None) -> int:
    """Write one row per person shown; returns how many. Raises AuditUnavailable if it cannot."""
    if not person_keys:
        return 0
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    rows = [(now, user.name, user.role, user.how, page, action, str(k), night) for k in person_keys]
    try:
        con = _connect(Path(path or audit_file()))
        try:
            with con:
                con.executemany("insert into person_views values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        finally:
            con.close()
    except (sqlite3.Error, OSError) as exc:
        raise AuditUnavailable(f"the audit log {path or audit_file()} cannot be written ({exc})") from exc
    return len(rows)


def views(path: Path | None = None) -> list[dict]:
    """Every recorded view, oldest first (for the administrator and the tests)."""
    path = Path(path or audit_file())
    if not path.exists():
        return []
    con = _connect(path)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute("select * from person_views order by rowid")]
    finally:
        con.close()
