"""The dbt marts: the linked tenant timeline and the provider's system metrics.

A small world (scale 0.05) is generated, every system is ingested, people are linked, and the
whole dbt project is built on DuckDB (staging, intermediate, marts, snapshots and every test).
Then: every model builds and every test passes; the marts and intermediate views hold no NI
number, name or full date of birth; fct_person_month has one row per person and month; the
timeline agrees with the world's truth on >= 98% of the person-months the sources hold
(truth_validation/reconcile.py, which documents the rule); and every intermediate and mart model
compiles for SQL Server into SQL the portability scanner accepts.

dbt runs as a subprocess of the virtualenv's `dbt` with the project's profiles.yml; target/
and logs/ go to temporary folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers import sql_portability
from helpers.dbt_runs import manifest, run_dbt, run_results
from helpers.worlds import SMALL_WORLD
from helpers.worlds import SMALL_WORLD_KEY as KEY

UNTIL = SMALL_WORLD["until"]
AGREEMENT_REQUIRED = 0.98

INTERMEDIATE_MODELS = {
    "int_source_systems_summarised", "int_months_generated", "int_person_records_linked",
    "int_persons_aggregated", "int_tenancies_cleaned", "int_housing_spells_joined",
    "int_care_home_stays_unioned", "int_care_packages_linked", "int_away_spells_unioned",
    "int_deaths_derived", "int_state_spells_unioned", "int_person_months_spined", "int_persons_fingerprinted",
}
CORE_MARTS = {
    "dim_month", "dim_person", "dim_scheme", "dim_unit", "fct_tenancy_spells", "fct_care_episodes",
    "fct_hospital_spells", "fct_person_month",
}
METRIC_MARTS = {
    "fct_demand_monthly", "fct_housing_churn_monthly", "fct_processing_times_monthly",
    "fct_register_waiting_monthly", "fct_delays_monthly", "fct_occupancy_monthly", "fct_case_mix_monthly",
    "fct_home_care_staffing_monthly",
}
MARTS = CORE_MARTS | METRIC_MARTS
OURS = INTERMEDIATE_MODELS | MARTS | {"stg_identity__person_xref"}
STATES = {"general_needs", "sheltered", "extra_care", "temporary", "community", "residential_care",
          "nursing_care", "hospital", "hospice", "moved_out", "died"}


# ---------------------------------------------------------------------------------------------
# running dbt




# ---------------------------------------------------------------------------------------------
# fixtures: a small world, ingested and linked, and one full dbt build


@pytest.fixture(scope="module")
def home(small_world) -> Path:
    return small_world[0]


@pytest.fixture(scope="module")
def warehouse(small_world) -> Path:
    return small_world[1]


@pytest.fixture(scope="module")
def build(small_world) -> Path:
    """`dbt build` of the whole project (staging to marts, snapshots, every test) on DuckDB."""
    return small_world[2]


def _duck(warehouse: Path):
    return duckdb.connect(str(warehouse), read_only=True)


# ---------------------------------------------------------------------------------------------
# 1. everything builds, every test passes, the conventions hold


def test_every_model_builds_and_every_test_passes(build):
    results = run_results(build)
    bad = [f"{r['unique_id']}: {r['status']} {r.get('message') or ''}" for r in results
           if r["status"] not in ("success", "pass", "warn")]
    assert not bad, "dbt nodes that did not pass:\n" + "\n".join(bad)
    built = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}
    assert OURS <= built, f"not built: {sorted(OURS - built)}"
    assert any(r["unique_id"] == "snapshot.llif.snp_identity__source_identifiers" for r in results)
    ours_tested = [r for r in results if r["unique_id"].startswith("test.")
                   and any(name in r["unique_id"] for name in OURS)]
    assert len(ours_tested) > 400


def test_models_follow_the_conventions_and_document_every_column(build, warehouse):
    m = manifest(build)
    models = {n["name"]: n for n in m["nodes"].values() if n["resource_type"] == "model" and n["name"] in OURS}
    assert set(models) == OURS
    tests: dict[str, set[tuple[str, str | None]]] = {}
    for node in m["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            for dep in node["depends_on"]["nodes"]:
                name = dep.split(".")[-1]
                tests.setdefault(name, set()).add((node["test_metadata"]["name"], node.get("column_name")))
    used = {t for found in tests.values() for t, _ in found}
    assert {"relationships", "accepted_values", "no_overlapping_spells", "value_between",
            "unique_combination_of_columns", "not_null_where", "marts_contiguous_months"} <= used

    with _duck(warehouse) as con:
        for name, node in models.items():
            cfg = node["config"]
            if name.startswith("int_"):
                assert cfg["materialized"] == "view" and node["schema"] == "intermediate", name
            elif name.startswith(("dim_", "fct_")):
                assert cfg["materialized"] in ("table", "incremental") and node["schema"] == "marts", name
            assert node["description"].strip(), f"{name} has no description"
            undocumented = [c for c, col in node["columns"].items() if not col["description"].strip()]
            assert not undocumented, f"{name}: columns without a description: {undocumented}"
            found = tests.get(name, set())
            pk = {c for t, c in found if t == "unique"} & {c for t, c in found if t == "not_null"}
            assert pk, f"{name} has no primary key tested unique and not null"
            actual = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "order by ordinal_position", [node["schema"], name]).fetchall()]
            assert set(actual) == set(node["columns"]), (
                f"{name}: undocumented {sorted(set(actual) - set(node['columns']))}, "
                f"documented but absent {sorted(set(node['columns']) - set(actual))}")
            for col in (c for c in actual if c.startswith(("is_", "has_"))):
                values = {r[0] for r in con.execute(
                    f'select distinct "{col}" from {node["schema"]}."{name}"').fetchall()}
                assert values <= {0, 1}, f"{name}.{col} is not a 0/1 flag: {values}"


# ---------------------------------------------------------------------------------------------
# 2. no identifiers outside the identity schema


def test_marts_hold_no_ni_number_name_or_date_of_birth(build, warehouse):
    with _duck(warehouse) as con:
        ids = con.execute("""
            select distinct upper(trim(v)) from (
                select ni_raw as v from identity.source_identifiers
                union all select ni_clean from identity.source_identifiers
                union all select first_name from identity.source_identifiers
                union all select surname from identity.source_identifiers
                union all select dob_raw from identity.source_identifiers
                union all select cast(dob as varchar) from identity.source_identifiers
            ) where v is not null and length(trim(v)) > 1
        """).fetchall()
        identifiers = {r[0] for r in ids}
        assert len(identifiers) > 1000
        columns = con.execute("""
            select table_schema, table_name, column_name, data_type from information_schema.columns
            where table_schema in ('marts', 'intermediate')
        """).fetchall()
        assert {t for s, t, _, _ in columns} >= MARTS | INTERMEDIATE_MODELS
        leaks = []
        for schema, table, column, dtype in columns:
            name = column.lower()
            words = ("first_name", "surname", "forename", "ni_raw", "ni_clean", "ni_number", "dob", "date_of_birth",
                     "postcode")
            named = any(word in name for word in words) and (table, name) != ("dim_scheme", "postcode")
            assert not named, f"{schema}.{table}.{column} names an identifier"
            if dtype.upper() not in ("VARCHAR", "TEXT"):
                continue
            values = {r[0] for r in con.execute(
                f'select distinct upper(trim("{column}")) from {schema}."{table}" '
                f'where "{column}" is not null').fetchall()}
            hit = values & identifiers
            if hit:
                leaks.append(f"{schema}.{table}.{column}: {sorted(hit)[:5]}")
        assert not leaks, "identifiers outside the identity schema:\n" + "\n".join(leaks)
        # the month of birth is a month, never a day
        days = con.execute("select count(*) from marts.dim_person where birth_month is not null "
                           "and extract(day from birth_month) <> 1").fetchone()[0]
        assert days == 0


# ---------------------------------------------------------------------------------------------
# 3. the timeline's shape


def test_person_month_has_one_row_per_person_and_month(build, warehouse):
    with _duck(warehouse) as con:
        dupes = con.execute("select count(*) from (select person_key, month_start from marts.fct_person_month "
                            "group by person_key, month_start having count(*) > 1)").fetchone()[0]
        assert dupes == 0
        gaps = con.execute("""
            select count(*) from (
                select person_key, count(*) as n, date_diff('month', min(month_start), max(month_start)) + 1 as span
                from marts.fct_person_month group by person_key
            ) where n <> span
        """).fetchone()[0]
        assert gaps == 0
        people, timeline_people, months, as_of = con.execute("""
            select (select count(*) from marts.dim_person where is_in_timeline = 1),
                   (select count(distinct person_key) from marts.fct_person_month),
                   (select count(*) from marts.dim_month),
                   (select max(month_start) from marts.dim_month)
        """).fetchone()
        assert people == timeline_people > 1000
        assert str(as_of)[:7] == UNTIL[:7]
        assert months == (2026 - 1998) * 12 + 10
        states = {r[0] for r in con.execute("select distinct state from marts.fct_person_month").fetchall()}
        assert states == STATES
        # a person's last month is died or moved_out unless they are still with us
        last = con.execute("""
            select state, count(*) from marts.fct_person_month
            where is_last_month = 1 and month_start < (select max(month_start) from marts.dim_month)
            group by state
        """).fetchall()
        assert {s for s, _ in last} <= {"died", "moved_out", "residential_care", "nursing_care"}
        # before its go-live a care vendor's absence is unknown: no care-home state is observed then
        early = con.execute("""
            select count(*) from marts.fct_person_month
            where state in ('residential_care', 'nursing_care') and is_observed = 1 and month_start < date '2009-01-01'
        """).fetchone()[0]
        assert early == 0
        unobserved = con.execute("""
            select count(*) from marts.fct_occupancy_monthly
            where scheme_type = 'care_home' and is_observed = 0 and occupied_end is not null
        """).fetchone()[0]
        assert unobserved == 0


def test_metrics_add_up_to_their_sources(build, warehouse):
    with _duck(warehouse) as con:
        lets = con.execute("select sum(n_lets) from marts.fct_housing_churn_monthly").fetchone()[0]
        tenancies = con.execute("select count(*) from marts.fct_tenancy_spells where let_route <> 'initial' "
                                "and start_date >= date '1998-01-01'").fetchone()[0]
        assert lets == tenancies > 0
        applied = con.execute("select sum(n_events) from marts.fct_demand_monthly "
                              "where demand_type = 'housing_application'").fetchone()[0]
        assert applied == con.execute("select count(*) from staging.stg_crm__applications "
                                      "where applied_date >= date '1998-01-01'").fetchone()[0]
        assert applied == con.execute("select sum(n_applied) from marts.fct_register_waiting_monthly").fetchone()[0] \
            + con.execute("select count(*) from staging.stg_crm__applications where is_end_before_start = 1 "
                          "and applied_date >= date '1998-01-01'").fetchone()[0]
        # general-needs turnover and care-home occupancy in the domain's range (loosely: a small world)
        turnover = con.execute("""
            select avg(turnover_rate_last_12_months) from marts.fct_housing_churn_monthly
            where tenancy_type = 'general_needs' and month_start >= date '2010-01-01'
        """).fetchone()[0]
        assert 0.03 < turnover < 0.20
        occupancy = con.execute("""
            select sum(occupied_end) * 1.0 / sum(capacity) from marts.fct_occupancy_monthly
            where scheme_type = 'care_home' and is_observed = 1
        """).fetchone()[0]
        assert 0.75 < occupancy <= 1.05
        medians = con.execute(
            "select count(*) from marts.fct_processing_times_monthly "
            "where median_days < min_days or median_days > max_days or p90_days < median_days").fetchone()[0]
        assert medians == 0
        hospital = con.execute("select count(*) from marts.fct_hospital_spells").fetchone()[0]
        assert hospital > 50
        # staffing: every completed visit's hours once, in its package's team; carers counted per team
        staffed = con.execute("""
            select sum(contact_hours), sum(n_visits_completed), count(distinct team),
                   min(contact_hours_per_carer_week), max(contact_hours_per_carer_week)
            from marts.fct_home_care_staffing_monthly""").fetchone()
        visits = con.execute("""
            select sum(case when v.is_auto_closed = 1 or v.is_end_before_start = 1 or v.actual_minutes is null
                            then v.planned_minutes else v.actual_minutes end) / 60.0, count(*)
            from staging.stg_domcare__visits v join staging.stg_domcare__packages p using (package_id)
            where v.visit_status = 'completed' and v.carer_id is not null and p.team is not null""").fetchone()
        assert staffed[0] == pytest.approx(visits[0], rel=1e-9) and staffed[1] == visits[1] > 0
        assert staffed[2] == 3 and 0 < staffed[3] <= staffed[4] < 80   # a carer's contact hours a week


# ---------------------------------------------------------------------------------------------
# 4. the timeline against the truth


def test_timeline_agrees_with_the_truth_where_the_sources_hold_it(build, warehouse, home):
    from truth_validation import reconcile

    result = reconcile.reconcile(warehouse, home)
    print(result.summary())
    print(result.by_state.to_string())
    assert result.held_person_months > 0.9 * result.truth_person_months
    assert result.coverage > 0.99
    assert result.agreement >= AGREEMENT_REQUIRED, result.summary() + "\n" + result.confusion.to_string()
    # the discriminating figure: months whose true state changed (stable months dominate the above)
    assert result.changes_compared > 1000
    assert result.change_agreement >= 0.95, result.summary()
    # no state carries the figure alone: each common state agrees on its own
    common = result.by_state.loc[result.by_state["n"] >= 100]
    assert (common["share"] >= 0.95).all(), common.to_string()


def test_reconciliation_maps_keys_and_counts_only_what_the_sources_hold():
    """The rule itself, on a hand-made world of three people."""
    from truth_validation import reconcile

    months = pd.to_datetime(["2005-01-01", "2005-02-01", "2016-01-01", "2016-02-01"])
    truth = {
        "person_months": pd.DataFrame({
            "person_id": [1, 1, 2, 2, 3, 3],
            "month": [months[0], months[1], months[0], months[1], months[2], months[3]],
            "state": ["general_needs", "hospital", "residential_care", "residential_care", "community", "hospital"],
            "scheme_id": [1, -1, 9, 9, -1, -1],
        }),
        "schemes": pd.DataFrame({"scheme_id": [1, 9], "vendor": ["", "A"]}),
        "source_records": pd.DataFrame({
            "system": ["crm", "care_a", "domcare", "domcare"],
            "table": ["contact", "Resident", "service_user", "service_user"],
            "record_key": ["100", "care_a_x:1001", "5", "6"],
            "person_id": [1, 2, 3, 3],
        }),
        "care_stays": pd.DataFrame({"person_id": [2], "scheme_id": [9], "admission_date": [pd.Timestamp("2004-01-01")],
                                    "discharge_date": [pd.NaT], "discharge_destination": [""]}),
        "care_packages": pd.DataFrame({"person_id": [3], "start_date": [pd.Timestamp("2015-06-01")],
                                       "end_date": [pd.NaT], "end_reason": [""]}),
        "tenancies": pd.DataFrame({"person_id": [1], "end_date": [pd.NaT], "end_reason": [""]}),
    }
    held = reconcile.held_months(truth).set_index(["person_id", "month"])["held"]
    assert held[(1, months[0])] and not held[(1, months[1])]  # a tenant's hospital stay is unknown
    assert not held[(2, months[0])]  # vendor A not live in 2005
    assert held[(3, months[2])] and held[(3, months[3])]  # home care live; hospital seen through the package

    xref = pd.DataFrame({"system": ["crm", "care_a", "domcare", "domcare"],
                         "source_table": ["contact", "Resident", "service_user", "service_user"],
                         "record_key": ["100", "care_a_x:1001", "5", "6"],
                         "person_key": ["PA", "PB", "PC", "PD"]})  # person 3 split over two keys
    timeline = pd.DataFrame({"person_key": ["PA", "PC", "PD"], "month_start": [months[0], months[2], months[3]],
                             "state": ["general_needs", "community", "moved_out"]})
    result = reconcile.compare(timeline, xref, truth)
    assert result.persons_split == 1 and result.keys_mixed == 0
    assert result.compared == 3 and result.covered == 3
    assert result.agreed == 2  # person 3's hospital month is taken from the other key, and differs
    assert result.agreement == pytest.approx(2 / 3)


# ---------------------------------------------------------------------------------------------
# 5. SQL Server: compile offline, scan what it would run


def test_intermediate_and_marts_compile_for_sql_server_into_portable_sql(tmp_path, build, sqlserver_compile):
    # incremental models compile in both forms (macros/is_incremental.sql answers offline)
    nightly = tmp_path / "nightly"
    run_dbt(["compile", "--target", "sqlserver", "--no-populate-cache", "--select", "config.materialized:incremental,resource_type:model",
             "--vars", "{llif_offline_compile: incremental}"], nightly, {"LLIF_WAREHOUSE": str(tmp_path / "unused.duckdb")})
    incremental = [p for p in (nightly / "target" / "compiled" / "llif" / "models").rglob("*.sql")
                   if p.parent.suffix != ".yml"]  # the models, not their tests
    by_name = {p.stem: p.read_text() for p in incremental}
    assert sorted(by_name) == ["fct_person_month", "ml_person_months"]
    # the incremental branches, not the full ones
    assert "is_first_month = 1" in by_name["fct_person_month"]
    assert "inner join rebuilt_people" in by_name["ml_person_months"]
    # the whole project in the full form: one compile, shared with test_dbt_project (conftest.py)
    assert {r["status"] for r in run_results(sqlserver_compile)} == {"success"}
    compiled = sqlserver_compile / "target" / "compiled" / "llif"
    ours = [compiled / "models" / "intermediate", compiled / "models" / "marts", compiled / "snapshots",
            compiled / "models" / "ml",
            nightly / "target" / "compiled" / "llif" / "models"]
    names = {p.stem for p in (compiled / "models").rglob("*.sql")}
    assert OURS <= names, sorted(OURS - names)
    sql = "\n".join(p.read_text() for folder in ours[:2] for p in folder.rglob("*.sql"))
    assert "EOMONTH" in sql and "dateadd(" in sql.lower()  # the T-SQL forms of dbt's date macros
    violations = sql_portability.scan_paths([p for p in ours if p.exists()])
    assert not violations, "compiled SQL that SQL Server cannot run:\n" + sql_portability.report(violations, sqlserver_compile)
    # the scanner is not vacuous: the same models compiled for DuckDB use constructs T-SQL lacks
    duck = build / "target" / "compiled" / "llif" / "models" / "marts"
    rules = {v.rule for found in sql_portability.scan_paths([duck]).values() for v in found}
    assert rules, "the DuckDB compilation of the marts should trip the scanner"


# ---------------------------------------------------------------------------------------------
# 6. the real PostgreSQL: the same marts, value for value


def _pg_conninfo(dbname: str) -> str:
    host = os.environ.get("LLIF_PG_HOST", "127.0.0.1")
    port = os.environ.get("LLIF_PG_PORT", "5432")
    user = os.environ.get("LLIF_PG_USER", "postgres")
    password = os.environ.get("LLIF_PG_PASSWORD", "")
    info = f"host={host} port={port} user={user} dbname={dbname} connect_timeout=5"
    return info + (f" password={password}" if password else "")


def _copy_identity_to_postgres(warehouse: Path, conninfo: str) -> None:
    """identity.person_xref (what the marts read) into the PostgreSQL database."""
    import psycopg

    with duckdb.connect(str(warehouse), read_only=True) as duck, psycopg.connect(conninfo) as pg:
        pg.execute("create schema if not exists identity")
        pg.execute("create table identity.person_xref (system text, source_table text, record_key text, "
                   "person_key text, match_method text, match_probability double precision)")
        rows = duck.execute("select system, source_table, record_key, person_key, match_method, match_probability "
                            "from identity.person_xref").fetchall()
        with pg.cursor().copy("copy identity.person_xref from stdin") as copy:
            for row in rows:
                copy.write_row(row)
        pg.commit()


@pytest.mark.server
def test_marts_build_on_postgres_and_agree_with_duckdb(build, warehouse, tmp_path):
    import uuid

    import psycopg

    from helpers import dbt_raw

    try:
        admin = psycopg.connect(_pg_conninfo("postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not running ({exc})")
    name = f"llif_marts_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'create database "{name}"')
        try:
            dbt_raw.copy_raw_to_postgres(warehouse, _pg_conninfo(name))
            _copy_identity_to_postgres(warehouse, _pg_conninfo(name))
            # PostgreSQL's JIT spends seconds compiling staging's long date-parsing expressions
            # on every query over a few thousand rows: off for this test (PGOPTIONS, libpq's)
            run_dbt(["run", "--select", "+path:models/marts", "--target", "postgres"], tmp_path,
                    {"LLIF_PG_DBNAME": name, "PGOPTIONS": "-c jit=off"})
            queries = {f"rows of {m}": f"select count(*) from marts.{m}" for m in sorted(MARTS)}
            queries.update({
                "timeline by state":
                    "select state, count(*), sum(need_level), sum(is_observed), sum(coalesce(age, 0)), "
                    "round(cast(sum(weekly_care_hours) as numeric), 2) from marts.fct_person_month "
                    "group by state order by state",
                "processing times":
                    "select measure, sum(n_cases), round(cast(sum(median_days) as numeric), 1), sum(p90_days) "
                    "from marts.fct_processing_times_monthly group by measure order by measure",
                "occupancy":
                    "select sum(occupied_end), sum(capacity), sum(void_units_end) from marts.fct_occupancy_monthly",
                "hospital":
                    "select sum(length_of_stay_days), sum(is_discharged_to_care_home) from marts.fct_hospital_spells",
            })
            with psycopg.connect(_pg_conninfo(name)) as pg, _duck(warehouse) as duck:
                for what, sql in queries.items():
                    left = [tuple(str(v) for v in row) for row in pg.execute(sql).fetchall()]
                    right = [tuple(str(v) for v in row) for row in duck.execute(sql).fetchall()]
                    assert left == right, f"{what}: PostgreSQL {left[:5]} vs DuckDB {right[:5]}"
        finally:
            admin.execute(f'drop database if exists "{name}" with (force)')


# ---------------------------------------------------------------------------------------------
# 7. the nightly timeline is incremental by person, and equals a full rebuild


@pytest.mark.timeout(900)
def test_incremental_timeline_equals_a_full_rebuild_after_new_data(build, home, tmp_path_factory):
    """A month and more of new activity, late arrivals and corrections (crossing into a new
    month), then the incremental fct_person_month must hold exactly what a full rebuild does."""
    import shutil

    from synthetic_sources import api
    from warehouse import duck, ingest
    from warehouse.identity import link_people

    later = tmp_path_factory.mktemp("marts_later") / "home"
    shutil.copytree(home, later)
    api.advance(home=later, days=35)
    path = later / "warehouse.duckdb"
    for system in ingest.systems_with_sources(later / "sources"):
        ingest.ingest_system(system, path, sources_dir=later / "sources", pseudonym_key=KEY)
    with duck.open_writer(path) as con:
        link_people(con)
        before = con.execute("select count(*), max(month_start) from marts.fct_person_month").fetchone()
    work = tmp_path_factory.mktemp("marts_incremental")
    env = {"LLIF_WAREHOUSE": str(path)}
    run_dbt(["run", "--select", "+fct_person_month"], work, env)
    assert any(r["unique_id"].endswith(".fct_person_month") and r["status"] == "success" for r in run_results(work))
    with duck.open_writer(path) as con:
        con.execute("create table main.incremental_timeline as select * from marts.fct_person_month")
        after = con.execute("select count(*), max(month_start) from marts.fct_person_month").fetchone()
    assert after[0] > before[0] and after[1] > before[1], (before, after)

    run_dbt(["run", "--select", "fct_person_month", "--full-refresh"], work, env)
    with duck.open_writer(path) as con:
        only_incremental = con.execute(
            "select count(*) from (select * from main.incremental_timeline except all select * from marts.fct_person_month)"
        ).fetchone()[0]
        only_full = con.execute(
            "select count(*) from (select * from marts.fct_person_month except all select * from main.incremental_timeline)"
        ).fetchone()[0]
        total = con.execute("select count(*) from marts.fct_person_month").fetchone()[0]
    assert only_incremental == 0 and only_full == 0, (
        f"incremental and full timelines differ: {only_incremental} rows only in the incremental, "
        f"{only_full} only in the full rebuild, of {total}")
