"""Source contracts: read as data, wrong ones refused naming the file and field, one list for dbt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from contracts.sources import SHIPPED, ContractError, dbt_source_systems, read_contract, source_systems
from contracts.sources.load import read_contracts
from warehouse.readers import JsonlBatch

from helpers.paths import ROOT


def test_the_shipped_contracts_declare_every_system_with_a_layout_and_a_person_table_where_it_keeps_people():
    systems = read_contracts([SHIPPED])
    assert list(systems) == ["crm", "assets", "care_a", "care_b", "domcare"]  # by go-live
    for spec in systems.values():
        assert spec.layout.kind and spec.go_live.year >= 1998
        for table in spec.tables.values():
            assert set(table.primary_key) <= set(table.columns) and table.marker in table.columns
    assert {s for s, spec in systems.items() if spec.people} == {"crm", "care_a", "care_b", "domcare"}


def test_dbt_project_default_equals_what_the_shipped_contracts_give():
    """dbt_project.yml's llif_source_systems is the shipped contracts' list, never a copy that drifts."""
    default = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]["llif_source_systems"]
    assert default == dbt_source_systems(read_contracts([SHIPPED]))


def _write(tmp_path: Path, name: str, edit) -> Path:
    doc = yaml.safe_load((SHIPPED / "care_b.yaml").read_text())
    doc["system"] = name
    edit(doc)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["tables"]["client"]["person"].pop("dob"), r"care_x.yaml: tables.client.person: no field 'dob'"),
    (lambda d: d["tables"]["home"].update(primary_key=["home_id"]), r"tables.home: 'home_id' .* not among its columns"),
    (lambda d: d["tables"]["placement"]["dates"].update(start_date="mm/dd/yyyy"), r"dates.start_date: form 'mm/dd/yyyy'"),
    (lambda d: d["layout"].update(kind="parquet"), r"layout.kind: 'parquet' is not one of"),
    (lambda d: d["layout"].update(export_file="{table}.csv"), r"layout.export_file: name the exports with \{table\} and \{stamp\}"),
    (lambda d: d["tables"]["client"]["person"].update(sex_codes={"M": "male"}), r"sex_codes: map each"),
    (lambda d: d.update(colour="blue"), r"unknown field\(s\) \['colour'\]"),
    (lambda d: d.update(go_live="soon"), r"go_live 'soon' is not a date"),
])
def test_a_wrong_contract_is_refused_naming_the_file_and_field(tmp_path, edit, message):
    with pytest.raises(ContractError, match=message):
        read_contract(_write(tmp_path, "care_x", edit))


def test_a_contract_must_be_named_for_its_system(tmp_path):
    path = _write(tmp_path, "care_x", lambda d: None)
    path.rename(tmp_path / "care_y.yaml")
    with pytest.raises(ContractError, match="must match the file's name"):
        read_contract(tmp_path / "care_y.yaml")


def test_a_providers_contract_adds_a_system_or_replaces_a_shipped_one(tmp_path, monkeypatch):
    monkeypatch.setenv("LLIF_HOME", str(tmp_path))
    own = tmp_path / "contracts" / "sources"
    own.mkdir(parents=True)
    shutil.copy(SHIPPED / "crm.yaml", own / "crm.yaml")
    text = (own / "crm.yaml").read_text().replace("label: CRM", "label: Housing CRM (ours)")
    (own / "crm.yaml").write_text(text)
    _write(own, "care_x", lambda d: d.update(go_live="2020-01-01"))
    systems = source_systems()
    assert systems["crm"].label == "Housing CRM (ours)" and systems["crm"].origin == str(own / "crm.yaml")
    assert list(systems)[-1] == "care_x"
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "elsewhere"))
    assert "care_x" not in source_systems() and source_systems()["crm"].label == "CRM"


def test_export_file_names_are_read_as_the_layout_says():
    layout = read_contracts([SHIPPED])["care_b"].layout
    assert layout.parse_export("movement_event_20261031.csv") == ("movement_event", "20261031")
    assert layout.export_name("home", "20261031") == "home_20261031.csv"
    assert layout.parse_export("home_2026103.csv") is None and layout.parse_export("manifest.json") is None


def test_a_json_lines_export_sets_aside_what_is_not_an_object_and_holds_undeclared_keys(tmp_path):
    path = tmp_path / "resident_20261031.jsonl"
    path.write_bytes(b'{"id": 1, "name": "A", "extra": true}\n'
                     b'[1, 2]\n'
                     b'\n'
                     b'{"id": 2, "nested": {"b": 1, "a": 2}}\n'
                     b'{"id": 3, "name": "\xff"}\n'
                     b'{"id": 4,\n')
    batch = JsonlBatch(path, "resident", ("id", "name"), ("id",), "care vendor X")
    assert batch.columns.names == ["id", "name", "extra", "nested"]
    assert batch.header == ["id", "name", "extra", "nested"]
    assert [(b.row_number, b.reason.split(" (")[0]) for b in batch.broken] == [
        (2, "line is not a JSON object"), (5, "line is not valid UTF-8"), (6, "line is not valid JSON")]
    table = next(batch.chunks()).to_pydict()
    assert table["_row"] == [1, 4]
    assert table["id"] == ["1", "2"] and table["name"] == ["A", None]
    assert table["extra"] == ["true", None] and table["nested"] == [None, '{"a": 2, "b": 1}']
