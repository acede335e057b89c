"""The night's health checks fail when they should (warehouse/health_checks.py), and the alert is composed and sent.

The checks as Dagster runs them, and the alert reaching an SMTP server from the daemon, are in
tests/e2e/test_services.py.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from warehouse import health_checks as H

NOW = dt.datetime(2026, 11, 2, 3, 0)


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("create schema raw; create schema identity; create schema marts")
    c.execute("create table raw._load_audit (load_id varchar, system varchar, source_table varchar, source varchar, "
              "started_at timestamp, finished_at timestamp, rows_read bigint, rows_loaded bigint, rows_rejected bigint, "
              "high_water_mark varchar)")
    yield c
    c.close()


def _load(con, system, table, when, read, loaded, rejected, load_id="l1"):
    con.execute("insert into raw._load_audit values (?, ?, ?, 'x', ?, ?, ?, ?, ?, null)",
                [load_id, system, table, when, when, read, loaded, rejected])


def test_quarantine_share_fails_above_the_limit_on_the_latest_load_only(con):
    _load(con, "care_b", "CLIENT", NOW - dt.timedelta(days=1), 100, 50, 50, "old")  # last night's mess
    _load(con, "care_b", "CLIENT", NOW, 1000, 990, 10, "new")
    _load(con, "care_b", "PLACEMENT", NOW, 200, 180, 20, "new")
    ok = H.quarantine_share(con, "care_b", "client")
    assert ok.passed and ok.figures["share"] == 0.01
    bad = H.quarantine_share(con, "care_b", "placement")
    assert not bad.passed and "20 of 200" in bad.message and "raw._quarantine" in bad.message


def test_a_source_sending_nothing_new_goes_stale(con):
    _load(con, "crm", "TENANCY", NOW - dt.timedelta(days=5), 10, 10, 0)
    _load(con, "crm", "TENANCY", NOW - dt.timedelta(days=1), 0, 0, 0)  # read, but nothing new
    stale = H.freshness(con, "crm", now=NOW)
    assert not stale.passed and "5.0 days" in stale.message
    assert H.freshness(con, "assets", now=NOW).message.startswith("assets: never loaded")
    _load(con, "crm", "TENANCY", NOW - dt.timedelta(hours=2), 3, 3, 0)
    assert H.freshness(con, "crm", now=NOW).passed


def test_linkage_falling_from_last_night_fails(con, tmp_path):
    con.execute("create table identity.person_xref as select 'P' || (i // 2) as person_key from range(100) t(i)")
    first = H.linkage_check(con, tmp_path)
    assert first.passed and first.figures["match_rate"] == 1.0 and first.figures["last_night"] is None
    con.execute("create or replace table identity.person_xref as "
                "select case when i < 80 then 'P' || (i // 2) else 'Q' || i end as person_key from range(100) t(i)")
    fell = H.linkage_check(con, tmp_path)
    assert not fell.passed and "80.0%" in fell.message and "100.0% last" in fell.message
    assert H.linkage_check(con, tmp_path).passed  # compared with the night before it now


def test_a_mart_losing_rows_fails(con, tmp_path):
    con.execute("create table marts.dim_person as select range as id from range(1000)")
    assert H.row_count_check(con, tmp_path, "dim_person").passed
    con.execute("delete from marts.dim_person where id >= 950")
    assert H.row_count_check(con, tmp_path, "dim_person").passed  # 5%: within the limit
    con.execute("delete from marts.dim_person where id >= 500")
    drop = H.row_count_check(con, tmp_path, "dim_person")
    assert not drop.passed and "500 rows, down from 950" in drop.message


def test_the_alert_reaches_an_smtp_server(tmp_path):
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.handlers import Message

    from contracts.settings import ServiceSettings
    from orchestration import alert_messages as alerts

    got = []

    class Keep(Message):
        def handle_message(self, message):
            got.append(message)

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = aiosmtpd.Controller(Keep(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        settings = ServiceSettings(smtp_host="127.0.0.1", smtp_port=port,
                                   alert_to=("ops@example.org",), alert_from="llif@example.org")
        alert = alerts.run_failure_alert("nightly_refresh", "r1", [("ingest_crm", "no such file crm.sqlite")],
                                         ["raw/crm/contact quarantine_share (ERROR): 20 of 200 rows"])
        assert alerts.send(alert, settings) == ["email"]
    finally:
        server.stop()
    [mail] = got
    assert mail["Subject"] == "llif: the night failed (ingest_crm)" and mail["To"] == "ops@example.org"
    body = mail.get_payload()
    assert "no such file crm.sqlite" in body and "quarantine_share" in body
    with pytest.raises(alerts.AlertNotConfigured, match="LLIF_SMTP_HOST"):
        alerts.send(alert, ServiceSettings())


def test_a_source_read_every_night_with_nothing_new_is_stale_on_the_page_as_in_the_check():
    """An empty or unchanged extract is read every night and loads nothing: the check and the
    data-quality page say the same, by the contract's stale_after_days (care vendor A: 7)."""
    import datetime as dt
    from types import SimpleNamespace

    from explorer.data import source_status
    from warehouse.health_checks import freshness_verdict

    now = dt.datetime(2026, 11, 20, 3, 0)
    first = dt.datetime(2026, 10, 1, 2, 0)
    fresh = freshness_verdict("care_a", dt.datetime(2026, 11, 14, 2, 0), first, now)
    stale = freshness_verdict("care_a", dt.datetime(2026, 11, 12, 2, 0), first, now)
    assert fresh.passed and not stale.passed and stale.figures["limit_days"] == 7
    row = SimpleNamespace(system="care_a", last_loaded=dt.datetime(2026, 11, 20, 2, 30), first_load=first,
                          last_new_rows=dt.datetime(2026, 11, 12, 2, 0))
    assert source_status(row, now).startswith("Read, but nothing new for 8 days (expected within 7)")
    assert source_status(SimpleNamespace(**{**vars(row), "last_new_rows": dt.datetime(2026, 11, 19)}), now) == \
        "Read in the last day"
    assert source_status(SimpleNamespace(**{**vars(row), "last_loaded": dt.datetime(2026, 11, 15)}), now) == \
        "Not read for 5 days"
    # never any new rows at all: stale from the first load on
    assert not freshness_verdict("crm", None, first, now).passed


def test_a_dbt_test_check_in_an_alert_says_its_count_and_where_the_rows_are():
    """A failed dbt test's check has no finding of llif's, only dagster-dbt's count (decision 50)."""
    import dagster as dg

    from orchestration.alerts import _dbt_test_text

    text = _dbt_test_text({"dagster_dbt/failed_row_count": dg.IntMetadataValue(3)})
    assert text.startswith("3 rows found") and "quarantine schema" in text
    assert _dbt_test_text({}) == ""
