"""The ground-truth world: determinism, carrying on, and the invariants any real provider obeys."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

from synthetic_sources.world import ConfigError, WorldConfig, continue_world, simulate_world

D1 = pd.Timestamp("2026-10-31")
D2 = pd.Timestamp("2026-12-15")


def _config(until=D1, seed=7, scale=0.02):
    return WorldConfig(scale=scale, seed=seed, until=until)


@pytest.fixture(scope="module")
def world():
    return simulate_world(_config())


def test_same_seed_same_world(world):
    again = simulate_world(_config())
    for name, frame in world.tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[name], obj=name)


def test_other_seed_other_world(world):
    other = simulate_world(_config(seed=8))
    assert not other.tables["people"]["dob"].equals(world.tables["people"]["dob"])


def test_carrying_on_equals_generating_to_the_later_date(world):
    saved = pickle.loads(pickle.dumps(world.world))
    carried, first_new = continue_world(saved, D2)
    direct = simulate_world(_config(until=D2))
    assert first_new == 346  # 2026-11, the month after the saved world's last
    for name, frame in direct.tables.items():
        if name == "person_months":
            joined = pd.concat([world.tables[name], carried.tables[name]], ignore_index=True)
            joined = joined.sort_values(["month", "person_id"], kind="stable").reset_index(drop=True)
            pd.testing.assert_frame_equal(joined, frame, obj=name)
        else:
            pd.testing.assert_frame_equal(carried.tables[name], frame, obj=name)


def test_ids_unique_and_references_resolve(world):
    t = world.tables
    for name, key in [("people", "person_id"), ("tenancies", "tenancy_id"), ("care_stays", "stay_id"),
                      ("hospital_spells", "spell_id"), ("units", "unit_id"), ("households", "household_id")]:
        assert t[name][key].is_unique, name
    people = set(t["people"]["person_id"])
    for name in ("tenancies", "care_stays", "hospital_spells", "hospice_stays", "care_packages", "person_months"):
        assert set(t[name]["person_id"]) <= people, name
    assert set(t["tenancies"]["unit_id"]) <= set(t["units"]["unit_id"])
    assert t["people"]["ni_number"].is_unique
    assert t["people"]["ni_number"].str.fullmatch(r"[A-Z]{2}\d{6}[A-D]").all()


def test_no_unit_let_twice_at_once(world):
    ten = world.tables["tenancies"].sort_values(["unit_id", "start_date"])
    end = ten["end_date"].fillna(pd.Timestamp("2100-01-01"))
    next_start = ten.groupby("unit_id")["start_date"].shift(-1)
    overlap = next_start.notna() & (next_start < end)
    assert not overlap.any(), ten[overlap].head()


def test_care_home_beds_never_overfilled(world):
    t = world.tables
    stays = t["care_stays"]
    beds = t["schemes"].set_index("scheme_id")["capacity"]
    for month in pd.date_range("2000-01-31", D1, freq="6ME"):
        inside = stays[(stays.admission_date <= month) & (stays.discharge_date.isna() | (stays.discharge_date > month))]
        per_home = inside.groupby("scheme_id").size()
        assert (per_home <= beds.reindex(per_home.index)).all(), month


def test_timeline_is_one_row_per_person_month_with_valid_states(world):
    pm = world.tables["person_months"]
    assert not pm.duplicated(["person_id", "month"]).any()
    assert set(pm["state"].astype(str)) <= {
        "general_needs", "sheltered", "extra_care", "temporary", "community", "residential_care",
        "nursing_care", "hospital", "hospice", "moved_out", "died",
    }
    # absorbing states end a person's timeline
    last = pm.groupby("person_id")["month"].transform("max")
    absorbing = pm["state"].isin(["died", "moved_out"])
    assert (pm.loc[absorbing, "month"] == last[absorbing]).all()


def test_the_dead_stay_dead(world):
    people = world.tables["people"]
    dead = people[people.death_date.notna()]
    assert len(dead) > 50
    pm = world.tables["person_months"].merge(dead[["person_id", "death_date"]], on="person_id")
    after = pm[pm["month"] > pm["death_date"]]
    assert after.empty
    assert (dead.death_place != "").all()


def test_delays_only_for_people_waiting(world):
    spells = world.tables["hospital_spells"]
    done = spells[spells.discharge_date.notna()]
    assert (done.discharge_date >= done.admission_date).all()
    assert (done.delayed_days >= 0).all()
    delayed = done[done.delayed_days > 0]
    assert len(delayed) > 0
    assert set(delayed.destination) <= {"home", "residential_care", "nursing_care", "died"}


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"scale": 0}, "--scale"),
        ({"scale": "big"}, "--scale"),
        ({"seed": -1}, "--seed"),
        ({"seed": 1.5}, "--seed"),
        ({"until": "not a date"}, "--until"),
        ({"until": "1999-01-01"}, "--until"),
    ],
)
def test_bad_options_name_themselves(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        WorldConfig(**kwargs)


def test_a_regime_change_moves_its_flow_from_its_date_and_nothing_before(world):
    """A test world can be given a change it is not told about (the forecast-validity benchmark
    uses it): hospital admissions three times as often from 2025-01, the same world before."""
    changed = simulate_world(WorldConfig(scale=0.02, seed=7, until=D1,
                                         changes=({"flow": "hospital_admissions", "factor": 3.0, "start": "2025-01"},)))

    def per_month(tables, since, until):
        s = tables["hospital_spells"]
        when = pd.to_datetime(s.admission_date)
        return ((when >= since) & (when < until)).sum() / ((pd.Timestamp(until) - pd.Timestamp(since)).days / 30.44)

    before_old = per_month(world.tables, "2022-01-01", "2025-01-01")
    before_new = per_month(changed.tables, "2022-01-01", "2025-01-01")
    after_old = per_month(world.tables, "2025-01-01", "2026-10-01")
    after_new = per_month(changed.tables, "2025-01-01", "2026-10-01")
    assert before_new == before_old   # the same world until the change
    assert after_new > 2.0 * after_old


def test_a_bad_regime_change_names_its_field():
    with pytest.raises(ConfigError, match="flow must be one of"):
        WorldConfig(changes=({"flow": "weather", "factor": 2.0, "start": "2025-01"},))
    with pytest.raises(ConfigError, match="start must be a month"):
        WorldConfig(changes=({"flow": "hospital_admissions", "factor": 2.0, "start": "soon"},))


# The world's domain modules hold behaviour; every probability, rate and distribution parameter
# lives in params.py with a name. Float literals left in them must be units or identities.
DOMAIN_MODULES = ("population", "health", "care_homes", "home_care", "housing", "history")
ALLOWED_FLOATS = {0.0, 1.0, 365.25, 30.4, 30.44}  # identities and days per year / month


def test_no_inline_rates_in_world_domain_modules():
    import ast
    from pathlib import Path

    import synthetic_sources.world as world_pkg

    here = Path(world_pkg.__file__).parent
    found = []
    for name in DOMAIN_MODULES:
        tree = ast.parse((here / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and type(node.value) is float and node.value not in ALLOWED_FLOATS:
                found.append(f"{name}.py:{node.lineno}: {node.value}")
    assert not found, "inline rates belong in params.py: " + ", ".join(found)


def test_world_composes_one_mixin_per_domain():
    """Each behaviour of World is defined in exactly one domain module, none twice."""
    from synthetic_sources.world.history import World

    seen: dict[str, str] = {}
    for base in World.__mro__[1:-1]:
        for attr, value in vars(base).items():
            if callable(value) or isinstance(value, staticmethod):
                assert attr not in seen, f"{attr} defined in both {seen[attr]} and {base.__name__}"
                seen[attr] = base.__name__
    modules = {b.__module__.rsplit(".", 1)[-1] for b in World.__mro__[1:-1]}
    assert modules == {"population", "health", "care_homes", "home_care", "housing"}
