"""`llif check`: a server target that cannot be reached says so, naming the target, the address and what to set."""

from __future__ import annotations

import socket

import pytest

from llif.cli import main
from llif.connection_check import ConnectionCheckFailed, check_target


def _closed_port() -> int:
    with socket.socket() as s:  # bound and released: nothing listens there now
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sql_server_on_a_closed_port(monkeypatch, capsys):
    port = _closed_port()
    monkeypatch.setenv("LLIF_MSSQL_SERVER", "127.0.0.1")
    monkeypatch.setenv("LLIF_MSSQL_PORT", str(port))
    assert main(["check", "--target", "sqlserver"]) == 1
    err = capsys.readouterr().err
    assert f"target sqlserver: cannot reach SQL Server at 127.0.0.1:{port} (connection refused" in err
    assert "Set LLIF_MSSQL_SERVER and LLIF_MSSQL_PORT" in err and "LLIF_MSSQL_PASSWORD" in err


def test_an_unknown_host_and_a_bad_port_are_named(monkeypatch):
    monkeypatch.setenv("LLIF_MSSQL_SERVER", "no-such-host.invalid")
    monkeypatch.delenv("LLIF_MSSQL_PORT", raising=False)
    with pytest.raises(ConnectionCheckFailed, match="cannot find the SQL Server host 'no-such-host.invalid'"):
        check_target("sqlserver")
    monkeypatch.setenv("LLIF_MSSQL_PORT", "14x3")
    with pytest.raises(ConnectionCheckFailed, match="LLIF_MSSQL_PORT='14x3' is not a port number"):
        check_target("sqlserver")


def test_the_sql_server_driver_is_installed_and_dbt_uses_it(monkeypatch):
    """The driver comes from the package index (dbt-sqlserver[mssql]); dbt's own login attempt
    against a closed port fails on the connection, not on a missing module."""
    import mssql_python  # noqa: F401 (the driver itself)

    from llif.connection_check import _dbt_login

    port = _closed_port()
    monkeypatch.setenv("LLIF_MSSQL_SERVER", "127.0.0.1")
    monkeypatch.setenv("LLIF_MSSQL_PORT", str(port))
    monkeypatch.setenv("LLIF_MSSQL_PASSWORD", "not-a-real-one")
    with pytest.raises(ConnectionCheckFailed) as failed:
        _dbt_login("sqlserver", "SQL Server", f"127.0.0.1:{port}", "Set LLIF_MSSQL_SERVER.")
    text = str(failed.value)
    assert "could not log in" in text and "No module named" not in text and "not installed" not in text.lower()
    assert "TCP Provider" in text  # Microsoft's driver itself tried the port


@pytest.mark.server
def test_postgres_that_answers_lets_dbt_in(monkeypatch):
    monkeypatch.setenv("LLIF_PG_DBNAME", "postgres")
    assert "answers and dbt logged in" in check_target("postgres").message
