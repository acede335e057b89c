"""The server storage writers against the real PostgreSQL and MariaDB on this machine.

Each test works in databases of its own (``llif_test_<random>``) and drops them afterwards.
Tests marked ``server`` are skipped, with the command to start the server, only when it is
down; the unreachable-server tests need no server at all.
"""

from __future__ import annotations

import secrets
import socket

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from contracts.sources.servers import PRIMARY_KEY_SQL
from synthetic_sources.systems.base import SystemExtract, TableSpec
from synthetic_sources.writers import (
    SourceServerUnreachable,
    TargetExistsError,
    check_reachable,
    mask_url,
    read_server_table,
    write_server,
)

PG_HOST, PG_PORT = "127.0.0.1", 5432
MARIA_HOST, MARIA_PORT = "127.0.0.1", 3306
STR = pd.StringDtype(na_value=np.nan)


def _listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


class Server:
    """A private place on one server: a fresh PostgreSQL database, or a MariaDB name prefix."""

    def __init__(self, kind: str):
        self.kind = kind
        self.token = f"llif_test_{secrets.token_hex(4)}"
        if kind == "postgresql":
            import psycopg

            with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres",
                                 autocommit=True) as con:
                con.execute(f'CREATE DATABASE "{self.token}"')
            self.url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{self.token}"
        else:
            self.url = f"mysql+pymysql://root@{MARIA_HOST}:{MARIA_PORT}/test"

    def db(self, name: str) -> str:
        """An extract database name: a schema in our own PostgreSQL database, or a MariaDB
        database that must carry our prefix so cleanup finds it."""
        return name if self.kind == "postgresql" else f"{self.token}_{name}"

    def drop(self) -> None:
        if self.kind == "postgresql":
            import psycopg

            with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres",
                                 autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{self.token}" WITH (FORCE)')
        else:
            import pymysql

            con = pymysql.connect(host=MARIA_HOST, port=MARIA_PORT, user="root")
            try:
                with con.cursor() as cur:
                    cur.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE %s",
                                (self.token + "%",))
                    for (name,) in cur.fetchall():
                        cur.execute(f"DROP DATABASE `{name}`")
            finally:
                con.close()

    def query(self, sql: str, params=()) -> list[tuple]:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as con:
                return [tuple(r) for r in con.exec_driver_sql(sql, params).fetchall()]
        finally:
            engine.dispose()


@pytest.fixture(params=["postgresql", "mariadb"])
def server(request):
    kind = request.param
    host, port = (PG_HOST, PG_PORT) if kind == "postgresql" else (MARIA_HOST, MARIA_PORT)
    if not _listening(host, port):
        start = (
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            if kind == "postgresql"
            else "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
        )
        pytest.skip(f"{kind} is not running at {host}:{port}; start it with: {start}")
    s = Server(kind)
    yield s
    s.drop()


def visits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "visit_id": np.array([30, 10, 20], dtype=np.int64),
            "carer": pd.array(["C1", None, "Ŵ-ŷ \"q\", x\ny"], dtype="str"),
            "hours": [1.25, np.nan, 0.1],
            "package_id": pd.array([5, None, 6], dtype="Int64"),
            "is_missed": [False, True, False],
            "planned": pd.to_datetime(["2024-01-02 08:00:00", None, "2024-01-03 09:15:30"]),
            "logged_at": pd.array(["02/01/2024 08:01", "02/01/2024 09:00", "03/01/2024 09:20"], dtype="str"),
        }
    )


def visits_expected() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "visit_id": pd.array([10, 20, 30], dtype="Int64"),
            "carer": pd.array([None, "Ŵ-ŷ \"q\", x\ny", "C1"], dtype=STR),
            "hours": np.array([np.nan, 0.1, 1.25]),
            "package_id": pd.array([None, 6, 5], dtype="Int64"),
            "is_missed": pd.array([1, 0, 0], dtype="Int64"),
            "planned": pd.array([None, "2024-01-03T09:15:30", "2024-01-02T08:00:00"], dtype=STR),
            "logged_at": pd.array(["02/01/2024 09:00", "03/01/2024 09:20", "02/01/2024 08:01"], dtype=STR),
        }
    )


def extract(database: str, frame: pd.DataFrame | None = None, extra: dict | None = None,
            system: str = "domcare") -> SystemExtract:
    tables = {"visits": TableSpec(visits() if frame is None else frame, ["visit_id"], "logged_at")}
    tables.update(extra or {})
    return SystemExtract(system, {database: tables}, pd.DataFrame())


@pytest.mark.server
def test_create_then_read_back_equal(server):
    db = server.db("domcare")
    results = write_server(extract(db), server.url, "create")

    assert [(r.table, r.rows, r.changed) for r in results] == [("visits", 3, 3)]
    assert_frame_equal(read_server_table(server.url, db, "visits"), visits_expected())


@pytest.mark.server
def test_create_declares_primary_key_and_change_marker_index(server):
    db = server.db("domcare")
    refs = pd.DataFrame({"ref": pd.array(["A", "a", "a "], dtype="str"), "n": [1, 2, 3],
                         "changed": pd.array(["x", "y", "z"], dtype="str")})
    write_server(extract(db, extra={"refs": TableSpec(refs, ["ref", "n"], "changed")}), server.url, "create")

    pk_sql = PRIMARY_KEY_SQL["postgresql"]
    assert server.query(pk_sql, (db, "refs")) == [("ref",), ("n",)]
    if server.kind == "postgresql":
        indexes = server.query("SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                               (db, "visits"))
        assert any("(logged_at)" in d for (d,) in indexes)
    else:
        indexes = server.query(
            "SELECT column_name FROM information_schema.statistics WHERE table_schema = %s "
            "AND table_name = %s AND index_name <> 'PRIMARY'", (db, "visits"))
        assert indexes == [("logged_at",)]
    # keys differing only in case or a trailing space stay distinct rows on both engines
    assert read_server_table(server.url, db, "refs")["ref"].tolist() == ["A", "a", "a "]


@pytest.mark.server
def test_upsert_updates_changed_rows_and_inserts_new_ones_without_duplicating(server):
    db = server.db("domcare")
    write_server(extract(db), server.url, "create")
    night2 = visits()
    night2.loc[night2["visit_id"] == 10, ["carer", "hours"]] = ["C9", 2.0]
    night2 = night2[night2["visit_id"] != 20]  # kept on the server
    night2 = pd.concat([night2, pd.DataFrame({"visit_id": [40], "is_missed": [False],
                                              "logged_at": ["04/01/2024 10:00"]})], ignore_index=True)
    night2["package_id"] = night2["package_id"].astype("Int64")

    results = write_server(extract(db, night2), server.url, "upsert")

    assert results[0].changed == 2  # one update, one insert
    back = read_server_table(server.url, db, "visits").set_index("visit_id")
    assert back.index.tolist() == [10, 20, 30, 40]
    assert (back.loc[10, "carer"], back.loc[10, "hours"]) == ("C9", 2.0)
    assert pd.isna(back.loc[40, "carer"]) and back.loc[40, "is_missed"] == 0
    assert_frame_equal(back.loc[[20, 30]], visits_expected().set_index("visit_id").loc[[20, 30]])

    assert write_server(extract(db, night2), server.url, "upsert")[0].changed == 0


@pytest.mark.server
def test_upsert_creates_missing_schema_table_and_column(server):
    db = server.db("domcare")
    assert write_server(extract(db), server.url, "upsert")[0].changed == 3  # nothing there yet

    wider = visits().assign(area=pd.array(["Cardiff", None, None], dtype="str"))
    packages = pd.DataFrame({"package_id": [5, 6], "hours_week": [12.5, 3.0]})
    results = write_server(extract(db, wider, {"packages": TableSpec(packages, ["package_id"], None)}),
                           server.url, "upsert")

    assert [(r.table, r.changed) for r in results] == [("visits", 1), ("packages", 2)]
    back = read_server_table(server.url, db, "visits")
    assert back.columns[-1] == "area"
    assert back.set_index("visit_id").loc[30, "area"] == "Cardiff"
    assert read_server_table(server.url, db, "packages")["hours_week"].tolist() == [12.5, 3.0]


@pytest.mark.server
def test_create_refuses_existing_tables_and_overwrite_rebuilds_them(server):
    db = server.db("domcare")
    write_server(extract(db), server.url, "create")
    with pytest.raises(TargetExistsError, match=r"domcare.*visits.*mode='upsert'"):
        write_server(extract(db), server.url, "create")

    write_server(extract(db, visits().iloc[:1]), server.url, "create", overwrite=True)
    assert read_server_table(server.url, db, "visits")["visit_id"].tolist() == [30]


@pytest.mark.server
def test_upsert_refuses_a_frame_that_drops_a_stored_column(server):
    db = server.db("domcare")
    write_server(extract(db), server.url, "create")
    with pytest.raises(ValueError, match=r"lacks columns \['hours'\]"):
        write_server(extract(db, visits().drop(columns="hours")), server.url, "upsert")
    assert_frame_equal(read_server_table(server.url, db, "visits"), visits_expected())


@pytest.mark.server
@pytest.mark.parametrize("server", ["mariadb"], indirect=True)
def test_vendor_b_on_mariadb_gets_a_database_per_extract_database(server):
    db = server.db("vendor_b")
    clients = pd.DataFrame({"ClientRef": pd.array(["B1", "b1"], dtype="str"), "DOB": ["1940-01-02", None]})
    write_server(SystemExtract("care_b", {db: {"Clients": TableSpec(clients, ["ClientRef"], None)}},
                               pd.DataFrame()), server.url, "create")
    assert server.query("SELECT schema_name FROM information_schema.schemata WHERE schema_name = %s",
                        (db,)) == [(db,)]
    assert read_server_table(server.url, db, "Clients")["ClientRef"].tolist() == ["B1", "b1"]


# --------------------------------------------------------------------------------------------
# reaching servers (no server needed)


@pytest.mark.timeout(20)
def test_an_unreachable_server_fails_fast_naming_the_system_and_host():
    url = "postgresql+psycopg://llif:s3cret-pw@127.0.0.1:1/crm"
    with pytest.raises(SourceServerUnreachable) as info:
        check_reachable("crm", url)
    message = str(info.value)
    assert "CRM server at 127.0.0.1:1" in message
    assert "connection refused" in message
    assert "--server crm=" in message
    assert "s3cret-pw" not in message
    assert (info.value.system, info.value.host, info.value.port) == ("crm", "127.0.0.1", 1)

    with pytest.raises(SourceServerUnreachable, match="care vendor B server at 127.0.0.1:1"):
        write_server(extract("vendor_b", system="care_b"), "mysql+pymysql://root:pw@127.0.0.1:1/", "create")


@pytest.mark.server
@pytest.mark.timeout(20)
def test_a_refused_login_names_the_system_and_hides_the_password():
    if not _listening(MARIA_HOST, MARIA_PORT):
        pytest.skip("MariaDB is not running at 127.0.0.1:3306")
    url = f"mysql+pymysql://llif_nobody:s3cret-pw@{MARIA_HOST}:{MARIA_PORT}/test"
    with pytest.raises(SourceServerUnreachable) as info:
        check_reachable("care_b", url)
    message = str(info.value)
    assert "care vendor B server at 127.0.0.1:3306" in message
    assert "llif_nobody" in message and "***" in message
    assert "s3cret-pw" not in message


def test_urls_are_masked_and_checked():
    assert mask_url("postgresql+psycopg://u:pw@h:5432/db") == "postgresql+psycopg://u:***@h:5432/db"
    with pytest.raises(ValueError, match="PostgreSQL .* or MariaDB"):
        check_reachable("crm", "sqlite:///x.db")
    with pytest.raises(ValueError, match="psycopg 3"):
        check_reachable("crm", "postgresql+psycopg2://u@h/db")
    with pytest.raises(ValueError, match="no server form"):
        write_server(extract("care_a_home", system="care_a"), "postgresql://u@127.0.0.1:1/db", "create")
