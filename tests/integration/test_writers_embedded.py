"""The embedded storage writers: SQLite files and care vendor B's nightly CSV exports."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from synthetic_sources.systems.base import SystemExtract, TableSpec
from synthetic_sources.writers import (
    TargetExistsError,
    embedded,
    export_files,
    read_care_b_latest,
    read_embedded_table,
    write_embedded,
)
from synthetic_sources.writers._common import CHUNK_ROWS

NIGHT1 = pd.Timestamp("2024-03-01")
NIGHT2 = pd.Timestamp("2024-03-02")
NIGHT3 = pd.Timestamp("2024-03-03")
STR = pd.StringDtype(na_value=np.nan)  # pandas' default "str" dtype, spelled out


def contacts() -> pd.DataFrame:
    """Every dtype a system module may hand over, with NULLs in each."""
    return pd.DataFrame(
        {
            "contact_id": np.array([3, 1, 2], dtype=np.int64),
            "surname": pd.array(["Ŵyn", None, "O'Brien, \"Jr\"\nline 2"], dtype="str"),
            "income": [15200.5, np.nan, 0.1],
            "household_size": pd.array([2, None, 1], dtype="Int64"),
            "is_tenant": [True, False, True],
            "created": pd.to_datetime(["2020-01-05 10:30:00", None, "2021-02-03 04:05:06.25"], format="ISO8601"),
            "dob": pd.array(["05/01/1950", "1960-13-01", None], dtype="str"),  # vendor text
            "seen": pd.Series([dt.date(2024, 1, 2), None, dt.date(2023, 12, 31)], dtype=object),
            "updated_at": pd.array(["2024-02-01", "2024-02-02", "2024-02-03"], dtype="str"),
        }
    )


def contacts_expected() -> pd.DataFrame:
    """What every reader must give back for ``contacts()``: sorted by key, three dtypes."""
    return pd.DataFrame(
        {
            "contact_id": pd.array([1, 2, 3], dtype="Int64"),
            "surname": pd.array([None, "O'Brien, \"Jr\"\nline 2", "Ŵyn"], dtype=STR),
            "income": np.array([np.nan, 0.1, 15200.5]),
            "household_size": pd.array([None, 1, 2], dtype="Int64"),
            "is_tenant": pd.array([0, 1, 1], dtype="Int64"),
            "created": pd.array([None, "2021-02-03T04:05:06.250000", "2020-01-05T10:30:00"], dtype=STR),
            "dob": pd.array(["1960-13-01", None, "05/01/1950"], dtype=STR),
            "seen": pd.array([None, "2023-12-31", "2024-01-02"], dtype=STR),
            "updated_at": pd.array(["2024-02-02", "2024-02-03", "2024-02-01"], dtype=STR),
        }
    )


def tenancies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenancy_ref": pd.array(["T1", "T1", "t1"], dtype="str"),  # keys differ only in case
            "seq": np.array([1, 2, 1], dtype=np.int64),
            "unit": pd.array(["U9", "U9", "U3"], dtype="str"),
            "modified": pd.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="str"),
        }
    )


def crm(contacts_frame: pd.DataFrame | None = None, tenancies_frame: pd.DataFrame | None = None) -> SystemExtract:
    tables = {"contacts": TableSpec(contacts() if contacts_frame is None else contacts_frame, ["contact_id"], "updated_at")}
    if tenancies_frame is not None:
        tables["tenancies"] = TableSpec(tenancies_frame, ["tenancy_ref", "seq"], "modified")
    return SystemExtract("crm", {"crm": tables}, pd.DataFrame())


# --------------------------------------------------------------------------------------------
# SQLite


def test_create_then_read_back_equal(tmp_path):
    results = write_embedded(crm(tenancies_frame=tenancies()), tmp_path, NIGHT1, "create")

    assert (tmp_path / "crm.sqlite").exists()
    assert [(r.table, r.rows, r.changed) for r in results] == [("contacts", 3, 3), ("tenancies", 3, 3)]
    assert_frame_equal(read_embedded_table(tmp_path, "crm", "contacts"), contacts_expected())
    back = read_embedded_table(tmp_path, "crm", "tenancies")
    assert back["tenancy_ref"].tolist() == ["T1", "T1", "t1"]
    assert back["seq"].tolist() == [1, 2, 1]


def test_create_declares_key_types_and_change_marker_index(tmp_path):
    write_embedded(crm(tenancies_frame=tenancies()), tmp_path, NIGHT1, "create")

    con = sqlite3.connect(tmp_path / "crm.sqlite")
    info = {r[1]: (r[2], r[5]) for r in con.execute("PRAGMA table_info(contacts)")}
    assert info == {
        "contact_id": ("INTEGER", 1),
        "surname": ("TEXT", 0),
        "income": ("REAL", 0),
        "household_size": ("INTEGER", 0),
        "is_tenant": ("INTEGER", 0),
        "created": ("TEXT", 0),
        "dob": ("TEXT", 0),
        "seen": ("TEXT", 0),
        "updated_at": ("TEXT", 0),
    }
    pk = [r[1] for r in sorted(con.execute("PRAGMA table_info(tenancies)"), key=lambda r: r[5]) if r[5]]
    assert pk == ["tenancy_ref", "seq"]
    indexed = {
        (r[0], r[1])
        for name, in con.execute("SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL")
        for r in [(name, con.execute(f'PRAGMA index_info("{name}")').fetchone()[2])]
    }
    assert {col for _, col in indexed} == {"updated_at", "modified"}
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    # NULLs are real NULLs, numbers are numbers, dates are text
    assert con.execute("SELECT typeof(surname), typeof(income), typeof(created) FROM contacts "
                       "WHERE contact_id = 1").fetchone() == ("null", "null", "null")
    assert con.execute("SELECT typeof(contact_id), typeof(income), typeof(created), typeof(is_tenant) "
                       "FROM contacts WHERE contact_id = 3").fetchone() == ("integer", "real", "text", "integer")
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.sqlite"]  # no -wal, -shm, .partial


def test_upsert_updates_changed_rows_and_inserts_new_ones_without_duplicating(tmp_path):
    write_embedded(crm(), tmp_path, NIGHT1, "create")
    night2 = contacts()
    night2.loc[night2["contact_id"] == 1, ["surname", "updated_at"]] = ["Jones", "2024-03-02"]
    night2 = night2[night2["contact_id"] != 2]  # a row the system no longer sends is kept
    night2 = pd.concat(
        [night2, pd.DataFrame({"contact_id": [4], "surname": ["Evans"], "updated_at": ["2024-03-02"]})],
        ignore_index=True,
    )
    night2["household_size"] = night2["household_size"].astype("Int64")

    results = write_embedded(crm(night2), tmp_path, NIGHT2, "upsert")

    assert results[0].changed == 2  # one update, one insert; the unchanged row is not rewritten
    back = read_embedded_table(tmp_path, "crm", "contacts")
    assert back["contact_id"].tolist() == [1, 2, 3, 4]
    assert back.set_index("contact_id").loc[1, "surname"] == "Jones"
    assert back.set_index("contact_id").loc[4, "surname"] == "Evans"
    assert pd.isna(back.set_index("contact_id").loc[4, "income"])
    expected_unchanged = contacts_expected().set_index("contact_id").loc[[2, 3]]
    assert_frame_equal(back.set_index("contact_id").loc[[2, 3]], expected_unchanged)

    again = write_embedded(crm(night2), tmp_path, NIGHT3, "upsert")
    assert again[0].changed == 0
    assert len(read_embedded_table(tmp_path, "crm", "contacts")) == 4


def test_upsert_creates_missing_file_table_and_column(tmp_path):
    first = write_embedded(crm(), tmp_path, NIGHT1, "upsert")  # no file yet: built fresh
    assert first[0].changed == 3

    wider = contacts().assign(email=pd.array(["a@x.cymru", None, None], dtype="str"))
    results = write_embedded(crm(wider, tenancies()), tmp_path, NIGHT2, "upsert")

    assert [(r.table, r.changed) for r in results] == [("contacts", 1), ("tenancies", 3)]
    back = read_embedded_table(tmp_path, "crm", "contacts")
    assert back.columns[-1] == "email"
    assert back.set_index("contact_id").loc[3, "email"] == "a@x.cymru"
    assert len(read_embedded_table(tmp_path, "crm", "tenancies")) == 3


def test_upsert_refuses_a_frame_that_drops_a_stored_column_or_changes_the_key(tmp_path):
    write_embedded(crm(), tmp_path, NIGHT1, "create")
    with pytest.raises(ValueError, match=r"lacks columns \['income'\]"):
        write_embedded(crm(contacts().drop(columns="income")), tmp_path, NIGHT2, "upsert")
    rekeyed = SystemExtract(
        "crm", {"crm": {"contacts": TableSpec(contacts(), ["contact_id", "dob"], "updated_at")}}, pd.DataFrame()
    )
    with pytest.raises(ValueError, match="primary key"):
        write_embedded(rekeyed, tmp_path, NIGHT2, "upsert")
    assert_frame_equal(read_embedded_table(tmp_path, "crm", "contacts"), contacts_expected())


def test_upsert_writes_values_in_the_stored_column_kind(tmp_path):
    write_embedded(crm(), tmp_path, NIGHT1, "create")
    floats = contacts().assign(household_size=[2.0, np.nan, 5.0])  # whole floats: fine
    write_embedded(crm(floats), tmp_path, NIGHT2, "upsert")
    back = read_embedded_table(tmp_path, "crm", "contacts")
    assert back["household_size"].dtype == "Int64"
    assert back["household_size"].tolist() == [pd.NA, 5, 2]

    with pytest.raises(ValueError, match=r"household_size.*2\.5.*not a whole number"):
        write_embedded(crm(contacts().assign(household_size=[2.5, 1.0, 1.0])), tmp_path, NIGHT3, "upsert")


def test_create_refuses_existing_files_and_overwrite_rebuilds_them(tmp_path):
    write_embedded(crm(), tmp_path, NIGHT1, "create")
    with pytest.raises(TargetExistsError, match=r"crm\.sqlite.*mode='upsert'.*overwrite=True"):
        write_embedded(crm(), tmp_path, NIGHT2, "create")

    smaller = contacts().iloc[:1]
    write_embedded(crm(smaller), tmp_path, NIGHT2, "create", overwrite=True)
    assert read_embedded_table(tmp_path, "crm", "contacts")["contact_id"].tolist() == [3]


def test_a_failed_rebuild_leaves_the_previous_file_untouched(tmp_path, monkeypatch):
    write_embedded(crm(), tmp_path, NIGHT1, "create")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(embedded, "_create_index", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_embedded(crm(contacts().iloc[:1]), tmp_path, NIGHT2, "create", overwrite=True)
    monkeypatch.undo()

    assert_frame_equal(read_embedded_table(tmp_path, "crm", "contacts"), contacts_expected())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.sqlite"]


def test_a_failed_upsert_changes_nothing(tmp_path):
    write_embedded(crm(tenancies_frame=tenancies()), tmp_path, NIGHT1, "create")
    changed = contacts().assign(surname="Changed")
    bad_tenancies = tenancies().assign(seq=[1.5, 2.0, 1.0])  # seq is stored as INTEGER
    with pytest.raises(ValueError, match="seq"):
        write_embedded(crm(changed, bad_tenancies), tmp_path, NIGHT2, "upsert")
    assert_frame_equal(read_embedded_table(tmp_path, "crm", "contacts"), contacts_expected())


def test_timestamps_of_every_kind_become_iso_text(tmp_path):
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "naive": pd.to_datetime(["2024-06-01 00:00:00", "2024-06-01 12:34:56", None]),
            "aware": pd.to_datetime(["2024-06-01 10:00", "2024-01-01 10:00", None]).tz_localize("Europe/London"),
            "objects": pd.Series([pd.Timestamp("2024-06-01 07:00"), dt.datetime(2024, 6, 1, 7, 0, 1), None],
                                 dtype=object),
        }
    )
    extract = SystemExtract("assets", {"assets": {"voids": TableSpec(frame, ["id"], None)}}, pd.DataFrame())
    write_embedded(extract, tmp_path, NIGHT1, "create")
    back = read_embedded_table(tmp_path, "assets", "voids")
    assert back["naive"].tolist()[:2] == ["2024-06-01T00:00:00", "2024-06-01T12:34:56"]
    assert back["aware"].tolist()[:2] == ["2024-06-01T09:00:00+00:00", "2024-01-01T10:00:00+00:00"]
    assert back["objects"].tolist()[:2] == ["2024-06-01T07:00:00", "2024-06-01T07:00:01"]
    assert back[["naive", "aware", "objects"]].iloc[2].isna().all()


def test_vendor_a_keeps_one_file_per_care_home(tmp_path):
    def home(n):
        residents = pd.DataFrame({"ResidentNo": np.arange(1, n + 1), "Name": [f"R{i}" for i in range(n)],
                                  "LastEdited": ["2024-01-01"] * n})
        return {"Residents": TableSpec(residents, ["ResidentNo"], "LastEdited")}

    night1 = SystemExtract("care_a", {"care_a_ty_gwyn": home(2), "care_a_y_bont": home(3)}, pd.DataFrame())
    write_embedded(night1, tmp_path, NIGHT1, "create")
    assert sorted(p.name for p in (tmp_path / "care_a").iterdir()) == [
        "care_a_ty_gwyn.sqlite", "care_a_y_bont.sqlite"]
    assert not (tmp_path / "care_a_ty_gwyn.sqlite").exists()

    # a home that opens later appears in an upsert night
    night2 = SystemExtract("care_a", {"care_a_ty_gwyn": home(2), "care_a_y_bont": home(4),
                                      "care_a_newydd": home(1)}, pd.DataFrame())
    results = write_embedded(night2, tmp_path, NIGHT2, "upsert")
    assert {r.database: r.changed for r in results} == {"care_a_ty_gwyn": 0, "care_a_y_bont": 1, "care_a_newydd": 1}
    assert len(read_embedded_table(tmp_path, "care_a_y_bont", "Residents")) == 4
    assert read_embedded_table(tmp_path, "care_a_newydd", "Residents")["Name"].tolist() == ["R0"]


def test_large_table_crosses_chunk_and_statement_boundaries(tmp_path):
    n = CHUNK_ROWS + 77  # a full chunk, then a remainder not a multiple of 64 rows
    frame = pd.DataFrame({"visit_id": np.arange(n, dtype=np.int64), "minutes": np.arange(n) % 60,
                          "carer": pd.array(np.where(np.arange(n) % 7 == 0, None, "C1"), dtype="str"),
                          "at": pd.array(["2024-01-01 08:00"] * n, dtype="str")})
    extract = SystemExtract("domcare", {"domcare": {"visits": TableSpec(frame, ["visit_id"], "at")}}, pd.DataFrame())
    write_embedded(extract, tmp_path, NIGHT1, "create")
    back = read_embedded_table(tmp_path, "domcare", "visits")
    assert len(back) == n
    assert back["minutes"].sum() == frame["minutes"].sum()
    assert back["carer"].isna().sum() == frame["carer"].isna().sum()

    frame.loc[frame.index[-1], "minutes"] = 99
    results = write_embedded(extract, tmp_path, NIGHT2, "upsert")
    assert results[0].changed == 1


@pytest.mark.parametrize(
    "spec, message",
    [
        (TableSpec(pd.DataFrame({"id": [1, 1, 2], "x": [1, 2, 3]}), ["id"], None), r"2 rows share a primary key.*'id': 1"),
        (TableSpec(pd.DataFrame({"id": [1.0, np.nan], "x": [1, 2]}), ["id"], None), "empty primary key"),
        (TableSpec(pd.DataFrame({"x": [1]}), ["id"], None), "primary key columns"),
        (TableSpec(pd.DataFrame({"id": [1]}), ["id"], "changed"), "change marker"),
        (TableSpec(pd.DataFrame({"id": [1], "a%b": [1]}), ["id"], None), "column name"),
    ],
)
def test_bad_tables_are_refused_naming_system_and_table(tmp_path, spec, message):
    extract = SystemExtract("assets", {"assets": {"units": spec}}, pd.DataFrame())
    with pytest.raises(ValueError, match=message) as info:
        write_embedded(extract, tmp_path, NIGHT1, "create")
    assert "assets assets.units" in str(info.value)
    assert not list(tmp_path.iterdir())


def test_bad_names_and_modes_are_refused(tmp_path):
    frame = pd.DataFrame({"id": [1]})
    with pytest.raises(ValueError, match="database name"):
        write_embedded(SystemExtract("crm", {"../crm": {"t": TableSpec(frame, ["id"], None)}}, pd.DataFrame()),
                       tmp_path, NIGHT1, "create")
    with pytest.raises(ValueError, match="unknown write mode"):
        write_embedded(crm(), tmp_path, NIGHT1, "append")


def test_reading_what_is_not_there_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="write the sources first"):
        read_embedded_table(tmp_path, "crm", "contacts")
    write_embedded(crm(), tmp_path, NIGHT1, "create")
    with pytest.raises(KeyError, match="no table 'tenancy'"):
        read_embedded_table(tmp_path, "crm", "tenancy")
    with pytest.raises(FileNotFoundError, match="export folder"):
        read_care_b_latest(tmp_path, "clients")


# --------------------------------------------------------------------------------------------
# care vendor B: nightly CSV exports


def clients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ClientRef": pd.array(["B002", "B001", "b001"], dtype="str"),
            "Forename": pd.array(["Dai", "Siân, \"Sal\"", None], dtype="str"),
            "DOB": pd.array(["1940-05-01", None, "1951-11-30"], dtype="str"),
            "Weight": [70.25, np.nan, 1e-7],
            "Visits": pd.array([3, None, 0], dtype="Int64"),
            "Modified": pd.array(["2024-02-01T09:00:00", "2024-02-02T09:00:00", "2024-02-03T09:00:00"], dtype="str"),
        }
    )


def clients_expected() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ClientRef": pd.array(["B001", "B002", "b001"], dtype=STR),
            "Forename": pd.array(["Siân, \"Sal\"", "Dai", None], dtype=STR),
            "DOB": pd.array([None, "1940-05-01", "1951-11-30"], dtype=STR),
            "Weight": np.array([np.nan, 70.25, 1e-7]),
            "Visits": pd.array([None, 3, 0], dtype="Int64"),
            "Modified": pd.array(["2024-02-02T09:00:00", "2024-02-01T09:00:00", "2024-02-03T09:00:00"], dtype=STR),
        }
    )


def events(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"EventId": np.arange(1, n + 1), "Code": pd.array(["ADM"] * n, dtype="str"),
                         "At": pd.array(["2024-02-01 10:00"] * n, dtype="str")})


def care_b(clients_frame: pd.DataFrame | None = None, events_frame: pd.DataFrame | None = None) -> SystemExtract:
    return SystemExtract(
        "care_b",
        {"vendor_b": {
            "Clients": TableSpec(clients() if clients_frame is None else clients_frame, ["ClientRef"], "Modified"),
            "Events": TableSpec(events() if events_frame is None else events_frame, ["EventId"], None),
        }},
        pd.DataFrame(),
    )


def test_care_b_first_write_is_a_full_export_with_a_manifest(tmp_path):
    results = write_embedded(care_b(), tmp_path, NIGHT1, "create")

    folder = tmp_path / "care_b_exports"
    assert sorted(p.name for p in folder.iterdir()) == ["Clients_20240301.csv", "Events_20240301.csv", "manifest.json"]
    assert [(r.table, r.changed) for r in results] == [("Clients", 3), ("Events", 3)]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["Clients"]["primary_key"] == ["ClientRef"]
    assert manifest["tables"]["Clients"]["change_marker"] == "Modified"
    assert manifest["tables"]["Clients"]["columns"] == {
        "ClientRef": "TEXT", "Forename": "TEXT", "DOB": "TEXT", "Weight": "REAL", "Visits": "INTEGER",
        "Modified": "TEXT"}
    assert manifest["exports"] == [{"date": "2024-03-01", "kind": "full", "rows": {"Clients": 3, "Events": 3}}]
    header = (folder / "Clients_20240301.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "ClientRef,Forename,DOB,Weight,Visits,Modified"
    assert_frame_equal(read_care_b_latest(tmp_path, "Clients"), clients_expected())


def test_care_b_later_nights_write_deltas_and_the_latest_version_wins(tmp_path):
    write_embedded(care_b(), tmp_path, NIGHT1, "create")
    night2 = clients()
    night2.loc[night2["ClientRef"] == "B001", ["Forename", "Modified"]] = ["Siân", "2024-03-02T08:00:00"]
    night2 = pd.concat([night2, pd.DataFrame({"ClientRef": ["B003"], "Forename": ["Gwen"],
                                              "Modified": ["2024-03-02T08:00:00"]})], ignore_index=True)
    night2["Visits"] = night2["Visits"].astype("Int64")

    results = write_embedded(care_b(night2), tmp_path, NIGHT2, "upsert")

    assert {r.table: r.changed for r in results} == {"Clients": 2, "Events": 0}
    delta = pd.read_csv(tmp_path / "care_b_exports" / "Clients_20240302.csv", dtype=str, keep_default_na=False)
    assert delta["ClientRef"].tolist() == ["B001", "B003"]
    events_file = (tmp_path / "care_b_exports" / "Events_20240302.csv").read_text().splitlines()
    assert events_file == ["EventId,Code,At"]  # the night ran, nothing changed

    latest = read_care_b_latest(tmp_path, "Clients")
    assert latest["ClientRef"].tolist() == ["B001", "B002", "B003", "b001"]
    assert latest.set_index("ClientRef").loc["B001", "Forename"] == "Siân"
    assert_frame_equal(
        latest[latest["ClientRef"].isin(["B002", "b001"])].reset_index(drop=True),
        clients_expected()[lambda f: f["ClientRef"].isin(["B002", "b001"])].reset_index(drop=True),
    )
    assert [d.strftime("%Y%m%d") for d, _ in export_files(tmp_path, "Clients")] == ["20240301", "20240302"]
    manifest = json.loads((tmp_path / "care_b_exports" / "manifest.json").read_text())
    assert [e["kind"] for e in manifest["exports"]] == ["full", "delta"]


def test_care_b_rerunning_a_night_is_idempotent_and_older_nights_are_refused(tmp_path):
    write_embedded(care_b(), tmp_path, NIGHT1, "create")
    night2 = clients().assign(Forename="Changed")
    write_embedded(care_b(night2), tmp_path, NIGHT2, "upsert")
    path = tmp_path / "care_b_exports" / "Clients_20240302.csv"
    first = path.read_text()

    results = write_embedded(care_b(night2), tmp_path, NIGHT2, "upsert")  # the night again

    assert path.read_text() == first
    assert results[0].changed == 3
    with pytest.raises(ValueError, match="dated 2024-03-02.*older"):
        write_embedded(care_b(), tmp_path, NIGHT1, "upsert")


def test_care_b_upsert_without_exports_starts_with_a_full_export(tmp_path):
    write_embedded(care_b(), tmp_path, NIGHT1, "upsert")
    manifest = json.loads((tmp_path / "care_b_exports" / "manifest.json").read_text())
    assert manifest["exports"][0]["kind"] == "full"
    assert_frame_equal(read_care_b_latest(tmp_path, "Clients"), clients_expected())


def test_care_b_create_refuses_an_existing_folder_and_overwrite_starts_again(tmp_path):
    write_embedded(care_b(), tmp_path, NIGHT1, "create")
    write_embedded(care_b(clients().assign(Forename="X")), tmp_path, NIGHT2, "upsert")
    with pytest.raises(TargetExistsError, match="already holds exports"):
        write_embedded(care_b(), tmp_path, NIGHT3, "create")

    write_embedded(care_b(), tmp_path, NIGHT3, "create", overwrite=True)

    names = sorted(p.name for p in (tmp_path / "care_b_exports").iterdir())
    assert names == ["Clients_20240303.csv", "Events_20240303.csv", "manifest.json"]
    assert_frame_equal(read_care_b_latest(tmp_path, "Clients"), clients_expected())


def test_care_b_new_column_and_new_table_on_a_later_night(tmp_path):
    write_embedded(care_b(), tmp_path, NIGHT1, "create")
    wider = clients().assign(Team=pd.array(["North", None, "West"], dtype="str"))
    placements = pd.DataFrame({"PlacementId": [7], "ClientRef": ["B001"], "Start": ["01/03/2024"]})
    extract = care_b(wider)
    extract.databases["vendor_b"]["Placements"] = TableSpec(placements, ["PlacementId"], None)

    write_embedded(extract, tmp_path, NIGHT2, "upsert")

    latest = read_care_b_latest(tmp_path, "Clients")
    assert latest["ClientRef"].tolist() == ["B001", "B002", "b001"]
    assert latest["Team"].fillna("<null>").tolist() == ["<null>", "North", "West"]
    assert read_care_b_latest(tmp_path, "Placements")["Start"].tolist() == ["01/03/2024"]
    manifest = json.loads((tmp_path / "care_b_exports" / "manifest.json").read_text())
    assert manifest["tables"]["Placements"]["first_export"] == "2024-03-02"
    assert list(manifest["tables"]["Clients"]["columns"])[-1] == "Team"
