"""The dbt project's copy of the vocabulary, generated: ``dbt_project/macros/vocabulary.sql``.

Why generated macros rather than a seed: the planning marts, the timeline and the code
macros need these lists when dbt compiles (to render literal tables and ``case`` expressions
that every target runs, SQL Server included), not as a table to join at run time; a seed would
add a node every planning build must load first for constants known before it starts. The
file is committed (dbt and a wheel read it without Python) and ``tests/unit/test_vocabulary.py``
fails when it differs from what this module generates, so the two cannot drift.

Regenerate after changing the vocabulary: ``.venv/bin/python -m contracts.vocabulary.dbt``.
"""

from __future__ import annotations

from pathlib import Path

from contracts.settings import dbt_project_dir
from contracts.vocabulary.areas import AREA_TABLE
from contracts.vocabulary.kpis import KEY_KPIS, PLANNING_RESOURCES, SUM
from contracts.vocabulary.states import STATE_PRECEDENCE

RELATIVE_PATH = Path("macros") / "vocabulary.sql"

_HEADER = """{#-
    GENERATED from the vocabulary (contracts/vocabulary/) by contracts/vocabulary/dbt.py: do not
    edit; change the vocabulary and run `.venv/bin/python -m contracts.vocabulary.dbt`.
    tests/unit/test_vocabulary.py fails when this file and the vocabulary differ.
-#}
"""


def _literal(value) -> str:
    """A Python value as a Jinja literal: text, integers, None, lists and dicts of them."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise TypeError(f"no Jinja literal for {value!r}")


def _macro(name: str, doc: str, rows: list) -> str:
    body = ",\n".join(f"        {_literal(r)}" for r in rows)
    return (f"{{#- {doc} -#}}\n{{% macro {name}() -%}}\n    {{{{ return([\n{body},\n    ]) }}}}\n"
            "{%- endmacro %}\n")


def macros_text() -> str:
    """The whole generated file."""
    kpis = [{"kpi": k.name, "kpi_label": k.label, "unit": k.unit, "annual": int(k.aggregation == SUM)}
            for k in KEY_KPIS]
    resources = [{"resource": r.resource, "resource_name": r.name, "unit": r.unit, "occupied_kpi": r.occupied_kpi,
                  "capacity_kpi": r.capacity_kpi, "needed_kpi": r.needed_kpi, "waiting_kpi": r.waiting_kpi}
                 for r in PLANNING_RESOURCES]
    areas = [{"code": a.code, "name": a.name, "team": a.team} for a in AREA_TABLE]
    parts = [
        _HEADER,
        _macro("planning_kpis",
               "The planning marts' key KPIs (contracts.vocabulary.kpis KEY_KPIS): `annual` ones are flows,\n"
               "    summed over a year in forecast.kpi_annual; the rest are compared month by month.", kpis),
        _macro("planning_resources",
               "Resources with a capacity (contracts.vocabulary.kpis PLANNING_RESOURCES): the KPIs that hold\n"
               "    their occupancy, capacity, unconstrained need and waiting list. Home care has hours, not\n"
               "    places: delivered hours stand for occupancy and there is no capacity KPI.", resources),
        _macro("marts_states",
               "States in order of precedence at month end (contracts.vocabulary.states STATE_PRECEDENCE):\n"
               "    a lower rank wins.", list(STATE_PRECEDENCE)),
        _macro("vocabulary_areas",
               "The local authorities (contracts.vocabulary.areas): code, name as planners write it, team.",
               areas),
    ]
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"


def write(project_dir: Path | None = None) -> Path:
    path = Path(project_dir or dbt_project_dir()) / RELATIVE_PATH
    path.write_text(macros_text())
    return path


if __name__ == "__main__":
    print(write())
