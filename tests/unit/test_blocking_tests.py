"""The dbt tests that can stop the night are exactly the documented list (decision 50).

Every dbt test warns unless it guards a model's key; docs/data_quality.md lists those keys.
This reads the manifest (`llif.dbt_manifest`, which `make test` writes first and which is
parsed again here only when a model or contract changed) and compares its error-severity tests
with the table: a test made blocking without a line in the doc, or a key test that lost its
`severity: error`, fails here, naming it.
"""

from __future__ import annotations

import json
import re

from helpers.paths import ROOT

DOC = ROOT / "docs" / "data_quality.md"


def _documented() -> set[tuple[str, str, str]]:
    """(model, test, columns) for every blocking test the doc's table names."""
    text = DOC.read_text()
    table = text.split("<!-- blocking-tests: begin -->")[1].split("<!-- blocking-tests: end -->")[0]
    out = set()
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[1].startswith("`"):
            continue
        model = cells[1].strip("`")
        for key in (k.strip() for k in cells[2].split(";")):
            columns = re.fullmatch(r"`([^`]+)`(?: \(not null only\))?", key)
            assert columns, f"docs/data_quality.md: cannot read the key {key!r} of {model}"
            name = columns.group(1)
            if name.startswith("("):
                out.add((model, "unique_combination_of_columns", name.strip("()")))
            elif key.endswith("(not null only)"):
                out.add((model, "not_null", name))
            else:
                out |= {(model, "unique", name), (model, "not_null", name)}
    return out


def _blocking_in_manifest() -> set[tuple[str, str, str]]:
    from llif.dbt_manifest import ensure

    nodes = json.loads(ensure().read_text())["nodes"].values()
    out = set()
    for n in nodes:
        if n["resource_type"] != "test" or n["config"]["severity"].lower() != "error":
            continue
        meta = n.get("test_metadata") or {}
        assert meta, f"{n['unique_id']}: a singular test is blocking; make it warn or a generic key test"
        kwargs = meta["kwargs"]
        columns = (", ".join(kwargs["combination_of_columns"]) if meta["name"] == "unique_combination_of_columns"
                   else kwargs.get("column_name"))
        out.add((n["attached_node"].split(".")[-1], meta["name"], columns))
    return out


def test_the_blocking_dbt_tests_are_the_documented_keys():
    documented, blocking = _documented(), _blocking_in_manifest()
    assert len(documented) > 100  # the doc's table was read, not skipped
    assert blocking == documented, (
        "dbt tests with severity error but not in docs/data_quality.md:\n  "
        + "\n  ".join(map(str, sorted(blocking - documented)))
        + "\ndocumented as blocking but warning (or gone):\n  "
        + "\n  ".join(map(str, sorted(documented - blocking))))


def test_only_key_tests_block():
    """The list's rule, so a reviewer need not read the table: a blocking test is a key's."""
    kinds = {kind for _, kind, _ in _blocking_in_manifest()}
    assert kinds == {"unique", "not_null", "unique_combination_of_columns"}


def test_every_key_test_blocks():
    """The rule's other half: a model's `unique` test (its key) never merely warns."""
    from llif.dbt_manifest import ensure

    nodes = json.loads(ensure().read_text())["nodes"].values()
    warned = [n["unique_id"] for n in nodes if n["resource_type"] == "test"
              and (n.get("test_metadata") or {}).get("name") in ("unique", "unique_combination_of_columns")
              and n["config"]["severity"].lower() != "error"]
    assert not warned, warned
