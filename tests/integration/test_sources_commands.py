"""`llif sources generate | advance | report`, end to end on a small world.

What a user relies on: the same seed gives the same sources; a night's `advance` leaves the
sources exactly as generating to that night would; nothing is overwritten by accident; a server
that cannot be reached is named at once.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest

from llif.cli import main
from synthetic_sources import api
from synthetic_sources.writers import read_care_b_latest, read_embedded_table

SCALE = 0.02
D1 = "2026-10-31"


def _sqlite_tables(sources: Path) -> dict[str, pd.DataFrame]:
    """Every table of every SQLite source file, keyed by file and table."""
    out = {}
    for path in sorted(sources.rglob("*.sqlite")):
        with sqlite3.connect(path) as con:
            names = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        for name in names:
            out[f"{path.stem}.{name}"] = read_embedded_table(sources, path.stem, name)
    return out


def _care_b_tables(sources: Path) -> dict[str, pd.DataFrame]:
    manifest = json.loads((sources / "care_b_exports" / "manifest.json").read_text())
    return {t: read_care_b_latest(sources, t) for t in manifest["tables"]}


def _assert_same_sources(a: Path, b: Path) -> None:
    left, right = _sqlite_tables(a), _sqlite_tables(b)
    assert left.keys() == right.keys()
    assert len(left) >= 15
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)
    left_b, right_b = _care_b_tables(a), _care_b_tables(b)
    assert left_b.keys() == right_b.keys()
    for name in left_b:
        pd.testing.assert_frame_equal(left_b[name], right_b[name], obj=f"care_b.{name}")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    api.generate(home=home, scale=SCALE, seed=11, until=D1)
    return home


def test_same_seed_same_sources(generated, tmp_path):
    again = tmp_path / "again"
    api.generate(home=again, scale=SCALE, seed=11, until=D1)
    _assert_same_sources(generated / "sources", again / "sources")


def test_advance_equals_generating_to_the_later_date(tmp_path):
    nightly = tmp_path / "nightly"
    api.generate(home=nightly, scale=SCALE, seed=11, until=D1)
    first = api.advance(home=nightly, days=1)  # into a new month: the world simulates it
    assert str(first.as_of.date()) == "2026-11-01"
    assert first.counts["crm"] or first.counts["domcare"]
    api.advance(home=nightly, days=44)  # to mid-December, crossing another month
    direct = tmp_path / "direct"
    api.generate(home=direct, scale=SCALE, seed=11, until="2026-12-15")
    _assert_same_sources(nightly / "sources", direct / "sources")
    # the truth agrees too, month by month
    pd.testing.assert_frame_equal(api.load_truth(nightly)["person_months"], api.load_truth(direct)["person_months"])


def test_the_sources_hold_the_documented_systems(generated):
    sources = generated / "sources"
    assert (sources / "crm.sqlite").exists() and (sources / "assets.sqlite").exists()
    assert (sources / "domcare.sqlite").exists()
    assert list((sources / "care_a").glob("care_a_*.sqlite")), "one SQLite file per vendor-A care home"
    assert list((sources / "care_b_exports").glob("placement_*.csv"))
    tables = _sqlite_tables(sources)
    contacts = tables["crm.contact"]
    # defects are there, not just clean data: missing and malformed NI numbers
    ni = contacts["ni_no"]
    assert ni.isna().mean() > 0.01
    assert (~ni.dropna().str.fullmatch(r"[A-Z]{2}\d{6}[A-D]")).any()


def test_generate_refuses_a_home_that_holds_a_world(generated, capsys):
    import os

    os.environ["LLIF_HOME"] = str(generated)
    try:
        code = main(["sources", "generate", "--scale", str(SCALE)])
    finally:
        del os.environ["LLIF_HOME"]
    assert code == 2
    assert "--replace" in capsys.readouterr().err


def test_generate_replace_overwrites(tmp_path):
    home = tmp_path / "h"
    api.generate(home=home, scale=SCALE, seed=11, until=D1)
    api.generate(home=home, scale=SCALE, seed=12, until=D1, replace=True)
    assert api.read_manifest(api.llif_paths(home))["seed"] == 12


@pytest.mark.parametrize(
    "args, words",
    [
        (["--scale", "0"], "--scale"),
        (["--scale", "lots"], "--scale"),
        (["--until", "2026-13-45"], "--until"),
        (["--seed", "-3"], "--seed"),
        (["--server", "crm"], "SYSTEM=URL"),
        (["--server", "care_a=sqlite:///x"], "care_a"),
    ],
)
def test_bad_options_are_named(tmp_path, monkeypatch, capsys, args, words):
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "h"))
    with pytest.raises(SystemExit) if args[1] == "lots" else _nothing():
        code = main(["sources", "generate", *args])
        assert code == 2
    captured = capsys.readouterr()
    assert words in captured.err
    assert not (tmp_path / "h" / "sources").exists()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_unreachable_server_fails_fast_naming_the_system(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "h"))
    started = time.monotonic()
    code = main(["sources", "generate", "--scale", str(SCALE), "--server", "crm=postgresql+psycopg://llif@127.0.0.1:1/llif"])
    assert code == 2
    assert time.monotonic() - started < 20  # before any simulating
    err = capsys.readouterr().err
    assert "CRM" in err and "127.0.0.1:1" in err
    assert not (tmp_path / "h" / "truth").exists()


def test_advance_without_a_world_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "empty"))
    assert main(["sources", "advance", "--days", "1"]) == 2
    assert "llif sources generate" in capsys.readouterr().err
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "empty"))
    assert main(["sources", "advance", "--days", "0"]) == 2


def test_report_json_for_machines(generated, monkeypatch, capsys):
    monkeypatch.setenv("LLIF_HOME", str(generated))
    assert main(["sources", "report", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 22
    for row in rows:
        assert {"name", "target", "value", "within_tolerance"} <= row.keys()
        assert isinstance(row["within_tolerance"], bool)


@pytest.mark.server
def test_server_forms_are_written_and_read_back(tmp_path, server_databases):
    from synthetic_sources.writers import read_server_table

    pg_url, my_url = server_databases
    home = tmp_path / "srv"
    servers = {"crm": pg_url, "assets": pg_url, "domcare": pg_url, "care_b": my_url}
    api.generate(home=home, scale=SCALE, seed=11, until=D1, servers=servers)
    embedded = _sqlite_tables(home / "sources")
    for database, table in [("crm", "tenancy"), ("crm", "contact"), ("assets", "PROPERTY"), ("domcare", "package")]:
        on_server = read_server_table(pg_url, database, table)
        pd.testing.assert_frame_equal(on_server, embedded[f"{database}.{table}"], obj=f"{database}.{table}")
    placements = read_server_table(my_url, "care_b", "placement")
    pd.testing.assert_frame_equal(placements, read_care_b_latest(home / "sources", "placement"), obj="care_b.placement")
    # a night later the servers move on with the files
    api.advance(home=home, days=3, servers=servers)
    pd.testing.assert_frame_equal(
        read_server_table(pg_url, "crm", "tenancy"), read_embedded_table(home / "sources", "crm", "tenancy")
    )
    pd.testing.assert_frame_equal(
        read_server_table(my_url, "care_b", "movement_event"), read_care_b_latest(home / "sources", "movement_event")
    )
