"""The domain vocabulary (contracts/vocabulary/) is the one home of its words, and every copy agrees.

What could drift, and is checked here: the dbt macros generated from the vocabulary against the
committed file; the values the dbt models accept for a state, a scheme or unit type, an area, a
team, a need level or a planning resource against the vocabulary's lists; the KPIs the engine
writes against the catalogue (each with a unit and an aggregation, in blocks the engine can
slice); the explorer's titles against the catalogue's labels; the unit costs the engine and the
what-if form use; the NI numbers the synthetic world issues against the rules linkage checks
by; the warehouse's errors, one family for every layer.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from contracts.vocabulary import areas, costs, kpis, ni_numbers, states
from contracts.vocabulary import dbt as vocabulary_dbt

from helpers.paths import ROOT

MODELS = ROOT / "dbt_project" / "models"


def _accepted_values() -> dict[str, list[tuple[str, list]]]:
    """column name -> [(model, accepted values)] over every dbt model's YAML."""
    found: dict[str, list[tuple[str, list]]] = {}
    for path in sorted(MODELS.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for model in doc.get("models") or []:
            for column in model.get("columns") or []:
                for test in column.get("data_tests") or column.get("tests") or []:
                    if isinstance(test, dict) and "accepted_values" in test:
                        spec = test["accepted_values"]
                        values = (spec.get("arguments") or spec)["values"]
                        found.setdefault(column["name"], []).append((model["name"], values))
    return found


ACCEPTED = _accepted_values()


def test_the_committed_dbt_macros_are_what_the_vocabulary_generates():
    committed = (ROOT / "dbt_project" / vocabulary_dbt.RELATIVE_PATH).read_text()
    assert committed == vocabulary_dbt.macros_text(), (
        "dbt_project/macros/vocabulary.sql differs from the vocabulary: run "
        "`.venv/bin/python -m contracts.vocabulary.dbt` and commit the result")


def test_the_dbt_project_defines_each_generated_macro_once():
    text = "".join(p.read_text() for p in (ROOT / "dbt_project" / "macros").glob("*.sql"))
    for name in ("planning_kpis", "planning_resources", "marts_states", "vocabulary_areas"):
        assert text.count(f"macro {name}(") == 1, name


@pytest.mark.parametrize("column", ["state", "entry_state", "latest_state", "previous_state"])
def test_every_state_a_dbt_model_accepts_is_the_vocabularys(column):
    """A model's states are either all the states or the live ones, never a list of its own."""
    assert ACCEPTED.get(column), f"no accepted_values on any {column} column"
    for model, values in ACCEPTED[column]:
        assert tuple(values) in (states.STATES, states.LIVE_STATES), (model, column, values)


@pytest.mark.parametrize("column, vocabulary", [
    ("tenancy_type", states.HOUSING_STATES),
    ("scheme_type", states.SCHEME_TYPES),
    ("unit_type", states.UNIT_TYPES),
    ("area_code", areas.AREA_CODES),
    ("team", areas.TEAMS),
    ("need_level", states.NEED_LEVELS),
    ("resource", tuple(r.resource for r in kpis.PLANNING_RESOURCES)),
])
def test_other_dbt_code_lists_are_the_vocabularys(column, vocabulary):
    assert ACCEPTED.get(column), f"no accepted_values on any {column} column"
    for model, values in ACCEPTED[column]:
        assert tuple(values) == tuple(vocabulary), (model, column, values)


def test_the_month_end_precedence_ranks_every_state_once():
    assert sorted(states.STATE_PRECEDENCE) == sorted(states.STATES)
    assert states.STATE_PRECEDENCE[0] == "died"


def test_state_groups_partition_the_states_and_every_place_has_one_pool():
    assert set(states.STATE_KIND) == set(states.STATES)
    assert set(states.ABSORBING) == {"moved_out", "died"} and states.STATES[-2:] == states.ABSORBING
    assert tuple(states.PLACE_OF_STATE) == states.PLACE_STATES
    assert len({p.resource for p in states.PLACES}) == len(states.PLACES)
    assert set(states.UNIT_TYPE_STATE.values()) == set(states.PLACE_STATES)


def test_every_kpi_the_engine_writes_has_a_catalogue_entry_with_a_unit():
    from simulation.forecast_model import KPIS
    from simulation.outputs import FLOW_KPIS, NEEDED_KPIS

    assert len(set(kpis.KPI)) == len(kpis.KPI_CATALOGUE), "a KPI name appears twice"
    for name in (*KPIS, *NEEDED_KPIS):
        k = kpis.KPI[name]
        assert k.label and k.unit and k.description, name
        assert k.label[0].islower() or k.label[:3].isupper(), f"{name}: labels start in lower case"
        assert k.aggregation in kpis.AGGREGATIONS, name
    assert set(KPIS) | set(NEEDED_KPIS) == set(kpis.KPI), "a catalogue entry nothing writes"
    assert set(FLOW_KPIS) == {k.name for k in kpis.KPI_CATALOGUE if k.aggregation == kpis.SUM}


def test_the_engines_per_pool_and_per_state_blocks_are_contiguous_in_the_catalogue():
    """The engine writes these blocks as slices from their first KPI (simulation/forecast_model.py)."""
    from simulation.forecast_model import K
    from simulation.units import PLACE_KIND_LABEL

    pools = [states.STATES[s] for s in sorted(PLACE_KIND_LABEL)]
    blocks = {
        "people": [f"people_{s}" for s in states.LIVE_STATES],
        "need": [f"people_need_{n}" for n in states.NEED_LEVELS],
        "admissions": [f"admissions_{s}" for s in pools],
        "waiting": [f"waiting_{s}" for s in pools],
        "mean_wait": [f"mean_wait_months_{s}" for s in pools],
        "occupied": [f"occupied_{PLACE_KIND_LABEL[s]}" for s in sorted(PLACE_KIND_LABEL)],
        "capacity": [f"capacity_{PLACE_KIND_LABEL[s]}" for s in sorted(PLACE_KIND_LABEL)],
    }
    for block, names in blocks.items():
        first = K[names[0]]
        assert [K[n] for n in names] == list(range(first, first + len(names))), block
    assert K["people_general_needs"] == 0, "people per state are the first rows (out[:N_LIVE])"


def test_the_planning_marts_key_kpis_are_catalogue_kpis():
    key = {k.name for k in kpis.KEY_KPIS}
    assert key <= set(kpis.KPI)
    for r in kpis.PLANNING_RESOURCES:
        for name in (r.occupied_kpi, r.capacity_kpi, r.needed_kpi, r.waiting_kpi):
            assert name is None or name in kpis.KPI, (r.resource, name)
    text = (ROOT / "dbt_project" / vocabulary_dbt.RELATIVE_PATH).read_text()
    for k in kpis.KEY_KPIS:
        assert f"'kpi': '{k.name}', 'kpi_label': '{k.label}'" in text


def test_the_explorer_titles_every_kpi_with_the_catalogues_label():
    from explorer import words
    from explorer.data import split_kpi

    for k in kpis.KPI_CATALOGUE:
        title, unit = words.measure(*split_kpi(k.name)[:2])
        assert title == k.label[0].upper() + k.label[1:], k.name
        assert unit, k.name
        assert not any(j.lower() in f"{title} {unit}".lower().split() for j in words.JARGON), k.name
    assert words.STATE_LABELS is states.STATE_LABELS
    # the explorer's own stems are for measures it composes, never a second label for a KPI
    assert not set(words.MEASURE_LABELS) & set(kpis.KPI)


def test_unit_costs_are_one_table_read_by_the_engine_and_the_form():
    from explorer import whatif
    from simulation.costs import cost_by_payer
    from simulation.inputs import DEFAULT_COSTS

    assert DEFAULT_COSTS == costs.default_costs()
    assert whatif.default_costs() == {c.key: c.default for c in costs.UNIT_COSTS if c.on_form}
    for c in costs.UNIT_COSTS:
        assert c.low <= c.default <= c.high, c.key
    # the engine's formula reads only costs the table holds (a missing key would raise)
    ones = {k: np.ones(1) for k in ("people_residential_care", "people_nursing_care", "home_care_hours",
                                    "people_extra_care", "hospital_admissions", "delayed_bed_days",
                                    "hospice_bed_days", "voids")}
    out = cost_by_payer(ones, costs.default_costs(), np.array([7.0]))
    assert out["cost_total"][0] == pytest.approx(850 + 1050 + 25 + 200 + 2000 + 500 + 500 + 110)


def test_the_areas_the_synthetic_assets_system_codes_are_the_vocabularys():
    from synthetic_sources.systems import assets, domcare
    from synthetic_sources.world import geography

    assert assets.AREA_CODE == {a.name.lower(): a.code for a in areas.AREA_TABLE}
    assert tuple(domcare.TEAM) == areas.TEAMS
    assert [areas.TEAMS[i] for i in geography.AREA_TEAM] == [a.team for a in areas.AREA_TABLE]


def test_the_worlds_ni_numbers_pass_linkages_rules_and_its_dummies_do_not():
    from synthetic_sources.defects import test_records
    from synthetic_sources.world.identity import ni_numbers as issue
    from warehouse.identity import ni_stem

    issued = issue(np.arange(0, 200_000, 7), seed=11)
    assert all(ni_numbers.is_well_formed(n) for n in issued)
    assert ni_stem(issued).notna().all()
    # placeholders, a never-issued prefix and a first letter HMRC never uses link nobody
    unusable = pd.Series(["QQ123456C", "AB123456C", "AA 00 00 00 A", "DA123456A", "BG123456A"], dtype=object)
    assert ni_stem(unusable).isna().all()
    assert ni_stem(pd.Series(["ab 12 34 56 c"], dtype=object)).tolist() == [None], "AB123456 is a placeholder"
    dummies = test_records("crm", 8, seed=3, start=pd.Timestamp("2000-01-01"))
    assert dummies["ni_number"].notna().any()
    assert ni_stem(dummies["ni_number"].dropna()).isna().all(), "a dummy's NI number must link nobody"


def test_the_warehouse_errors_are_one_family_for_every_layer():
    from contracts.errors import WarehouseUnavailable
    from explorer import data
    from warehouse import duck

    assert duck.WarehouseBusy is data.WarehouseBusy and duck.WarehouseMissing is data.WarehouseMissing
    assert issubclass(duck.WarehouseMissing, WarehouseUnavailable) and issubclass(duck.WarehouseMissing,
                                                                                   FileNotFoundError)
    assert issubclass(duck.WarehouseBusy, WarehouseUnavailable) and issubclass(duck.WarehouseBusy, RuntimeError)


def test_the_vocabulary_imports_no_layer_of_the_project():
    code = ("import sys, contracts.vocabulary.dbt, contracts.vocabulary.costs, contracts.vocabulary.ni_numbers, "
            "contracts.errors; print(sorted({m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out))
    layers = {"warehouse", "models_ml", "simulation", "explorer", "orchestration", "llif", "synthetic_sources"}
    assert not loaded & layers, loaded & layers
