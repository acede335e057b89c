"""The dbt project's foundation: it parses, its staging builds and passes its tests on DuckDB and
on the real PostgreSQL, and every model compiles for SQL Server into SQL that SQL Server can run.

dbt runs as a subprocess of the virtualenv's `dbt`, with the project's own profiles.yml, and its
target/ and logs/ go to temporary folders (never into the checkout). The raw schema is made by
the real ingest from a small world (scale 0.02), or by the contract-following stand-in in
tests/helpers/dbt_raw.py while the ingest is not there (LLIF_DBT_RAW=fixture forces the stand-in).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers import dbt_raw, sql_portability
from helpers.dbt_runs import assert_all_passed, manifest, run_dbt, run_results

SCALE, SEED, UNTIL = 0.02, 11, "2026-10-31"

STAGING_MODELS = {
    "stg_crm__contacts", "stg_crm__households", "stg_crm__household_members", "stg_crm__applications",
    "stg_crm__tenancies", "stg_crm__circumstances",
    "stg_assets__schemes", "stg_assets__units", "stg_assets__voids",
    "stg_care_a__homes", "stg_care_a__residents", "stg_care_a__stays", "stg_care_a__assessments",
    "stg_care_a__transfers",
    "stg_care_b__homes", "stg_care_b__clients", "stg_care_b__placements", "stg_care_b__movement_events",
    "stg_domcare__service_users", "stg_domcare__packages", "stg_domcare__suspensions", "stg_domcare__visits",
}
OUR_GENERIC_TESTS = {"unique_combination_of_columns", "value_between", "no_overlapping_spells", "not_null_where"}
# read the forecast schema; built after the forecast (tag:planning), tests/integration/test_planning_marts.py
FORECAST_STAGING_MODELS = {"stg_forecast__runs", "stg_forecast__monthly_kpis", "stg_forecast__annual_kpis",
                           "stg_forecast__scenario_differences", "stg_forecast__kpi_breakdowns"}
PLANNING_MARTS = {"plan_capacity_outlook", "plan_annual_outlook", "plan_scenario_comparison", "plan_area_outlook"}


# ---------------------------------------------------------------------------------------------
# running dbt




# ---------------------------------------------------------------------------------------------
# fixtures: a small world, its raw schema, and one DuckDB build shared by several tests


@pytest.fixture(scope="module")
def sources_dir(tmp_path_factory) -> Path:
    from synthetic_sources import api

    home = tmp_path_factory.mktemp("dbt_world")
    api.generate(home=home, scale=SCALE, seed=SEED, until=UNTIL)
    return home / "sources"


@pytest.fixture(scope="module")
def warehouse(sources_dir, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dbt_warehouse") / "warehouse.duckdb"
    builder = dbt_raw.build_duckdb_raw(sources_dir, path)
    print(f"raw schema built by {builder}")
    return path


@pytest.fixture(scope="module")
def duckdb_build(warehouse, tmp_path_factory) -> Path:
    """`dbt build --select staging` on the DuckDB warehouse; the work folder holds target/. The
    forecast's staging views (tag:planning) wait for a forecast: tests/integration/test_planning_marts.py."""
    work = tmp_path_factory.mktemp("dbt_duckdb")
    run_dbt(["build", "--select", "staging", "--exclude", "staging.identity", "tag:planning"], work,
            {"LLIF_WAREHOUSE": str(warehouse)})
    return work


def _duck(warehouse: Path):
    return duckdb.connect(str(warehouse), read_only=True)


# ---------------------------------------------------------------------------------------------
# 1. parse


def test_dbt_parse_succeeds_and_every_model_and_column_is_described(tmp_path):
    run_dbt(["parse"], tmp_path, {"LLIF_WAREHOUSE": str(tmp_path / "unused.duckdb")})
    m = manifest(tmp_path)
    models = {n["name"]: n for n in m["nodes"].values() if n["resource_type"] == "model"}
    assert STAGING_MODELS <= set(models), f"missing staging models: {sorted(STAGING_MODELS - set(models))}"

    tests_by_model: dict[str, set[tuple[str, str | None]]] = {}
    for node in m["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            for dep in node["depends_on"]["nodes"]:
                name = dep.split(".")[-1]
                tests_by_model.setdefault(name, set()).add((node["test_metadata"]["name"], node.get("column_name")))
    used_tests = {t for tests in tests_by_model.values() for t, _ in tests}
    assert OUR_GENERIC_TESTS <= used_tests, f"in-house generic tests never used: {OUR_GENERIC_TESTS - used_tests}"

    for name, node in models.items():
        uses_source = any(d.startswith("source.") for d in node["depends_on"]["nodes"])
        assert uses_source == name.startswith("stg_"), f"{name}: source() belongs in staging models only"
        assert "source(" not in node["raw_code"] or name.startswith("stg_"), name
        assert node["description"].strip(), f"{name} has no description"
        if name in STAGING_MODELS:
            assert node["config"]["materialized"] == "view", name
            assert node["schema"] == "staging", name
            assert not any(d.startswith("model.") for d in node["depends_on"]["nodes"]), \
                f"{name}: a staging model reads only its source"
            assert node["columns"], f"{name} documents no columns"
            undocumented = [c for c, col in node["columns"].items() if not col["description"].strip()]
            assert not undocumented, f"{name}: columns without a description: {undocumented}"
            tests = tests_by_model.get(name, set())
            pk = {col for t, col in tests if t == "unique"} & {col for t, col in tests if t == "not_null"}
            assert pk, f"{name} has no primary key tested unique and not null"

    # the planning models: their own schema (marts) or staging (the forecast's views), every
    # column described, a tested key, and nothing else in the project tagged planning
    planning = {name for name, node in models.items() if "planning" in node["config"]["tags"]}
    assert planning == FORECAST_STAGING_MODELS | PLANNING_MARTS
    unit_tested = {u["model"] for u in m["unit_tests"].values()}
    assert {"stg_forecast__runs", *PLANNING_MARTS} <= unit_tested
    for name in sorted(planning):
        node = models[name]
        if name in PLANNING_MARTS:
            assert (node["config"]["materialized"], node["schema"]) == ("table", "planning"), name
            assert all(d.startswith("model.llif.stg_forecast__") for d in node["depends_on"]["nodes"]), name
        else:
            assert (node["config"]["materialized"], node["schema"]) == ("view", "staging"), name
            assert [d.split(".")[2] for d in node["depends_on"]["nodes"]] == ["forecast"], name
        assert node["columns"], f"{name} documents no columns"
        undocumented = [c for c, col in node["columns"].items() if not col["description"].strip()]
        assert not undocumented, f"{name}: columns without a description: {undocumented}"
        tests = tests_by_model.get(name, set())
        pk = {col for t, col in tests if t == "unique"} & {col for t, col in tests if t == "not_null"}
        assert pk or ("unique_combination_of_columns", None) in tests, f"{name} has no tested key"


# ---------------------------------------------------------------------------------------------
# 2. build on DuckDB


def test_staging_builds_and_passes_its_tests_on_duckdb(duckdb_build):
    results = assert_all_passed(duckdb_build)
    built = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}
    assert built == STAGING_MODELS
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "unit_test"} <= kinds
    assert sum(r["unique_id"].startswith("test.") for r in results) > 300


def test_staging_columns_are_exactly_the_documented_ones(duckdb_build, warehouse):
    m = manifest(duckdb_build)
    with _duck(warehouse) as con:
        for node in m["nodes"].values():
            if node["resource_type"] != "model" or node["name"] not in STAGING_MODELS:
                continue
            actual = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'staging' "
                "and table_name = ? order by ordinal_position", [node["name"]]).fetchall()]
            assert actual, f"{node['name']} was not built"
            assert set(actual) == set(node["columns"]), (
                f"{node['name']}: undocumented {sorted(set(actual) - set(node['columns']))}, "
                f"documented but absent {sorted(set(node['columns']) - set(actual))}")
            flags = [c for c in actual if c.startswith(("is_", "has_"))]
            for col in flags:
                values = {r[0] for r in con.execute(f'select distinct "{col}" from staging."{node["name"]}"').fetchall()}
                assert values <= {0, 1}, f"{node['name']}.{col} is not a 0/1 flag: {values}"


def test_staging_removes_test_records_and_keeps_real_ones(duckdb_build, warehouse):
    checks = {
        "CRM contacts numbered below 10,000,000": "select count(*) from staging.stg_crm__contacts where contact_id < 10000000",
        "the training scheme": "select count(*) from staging.stg_assets__schemes where scheme_id = 'S9999'",
        "TEST properties": "select count(*) from staging.stg_assets__units where unit_id like 'TEST%' or scheme_id = 'S9999'",
        "vendor A dummies": "select count(*) from staging.stg_care_a__residents where resident_no >= 900001",
        "vendor B dummies": "select count(*) from staging.stg_care_b__clients where client_id >= 'C900001'",
        "home-care dummies": "select count(*) from staging.stg_domcare__service_users where service_user_id >= 990001",
    }
    with _duck(warehouse) as con:
        for what, sql in checks.items():
            assert con.execute(sql).fetchone()[0] == 0, f"{what} reached staging"
        # raw holds them (the world writes a handful per system), staging everything else
        assert con.execute("select count(*) from raw.crm__contact where contact_ref < 10000000").fetchone()[0] > 0
        assert con.execute("select count(*) from raw.assets__scheme where scheme_id = 'S9999'").fetchone()[0] == 1
        raw_real = con.execute("select count(*) from raw.crm__contact where contact_ref >= 10000000").fetchone()[0]
        assert con.execute("select count(*) from staging.stg_crm__contacts").fetchone()[0] == raw_real
        for model in STAGING_MODELS:
            assert con.execute(f"select count(*) from staging.{model}").fetchone()[0] > 0, f"{model} is empty"


# (staging model, parsed column, raw table, raw text column, raw filter matching the model's)
PARSED = [
    ("stg_crm__tenancies", "start_date", "crm__tenancy", "tenancy_start", ""),
    ("stg_crm__tenancies", "end_date", "crm__tenancy", "tenancy_end", ""),
    ("stg_crm__circumstances", "updated_at", "crm__circumstance", "last_updated", ""),
    ("stg_assets__voids", "end_date", "assets__void_period", "void_end", "where prop_ref not like 'TEST%'"),
    ("stg_care_a__stays", "admission_date", "care_a__stay", "admissiondate", ""),
    ("stg_care_a__stays", "discharge_date", "care_a__stay", "dischargedate", ""),
    ("stg_care_a__transfers", "date_ended", "care_a__transfer", "dateended", ""),
    ("stg_care_a__residents", "created_date", "care_a__resident", "datecreated", "where residentno < 900001"),
    ("stg_care_b__placements", "admission_date", "care_b__placement", "start_date", ""),
    ("stg_care_b__placements", "discharge_date", "care_b__placement", "end_date", ""),
    ("stg_care_b__movement_events", "event_at", "care_b__movement_event", "event_ts", ""),
    ("stg_domcare__packages", "end_date", "domcare__package", "end_date", ""),
    ("stg_domcare__visits", "actual_end_at", "domcare__visit", "actual_end", ""),
]


@pytest.mark.parametrize("model, column, raw_table, raw_column, raw_filter", PARSED,
                         ids=[f"{p[0]}.{p[1]}" for p in PARSED])
def test_every_vendor_date_parses(duckdb_build, warehouse, model, column, raw_table, raw_column, raw_filter):
    with _duck(warehouse) as con:
        given = con.execute(f"select count(nullif(trim(cast({raw_column} as varchar)), '')) from raw.{raw_table} {raw_filter}").fetchone()[0]
        parsed = con.execute(f"select count({column}) from staging.{model}").fetchone()[0]
    assert given > 0
    assert parsed == given, f"{model}.{column}: {given - parsed} of {given} values did not parse"


def test_both_care_vendors_share_one_vocabulary(duckdb_build, warehouse):
    with _duck(warehouse) as con:
        def values(sql):
            return {r[0] for r in con.execute(sql).fetchall()} - {None}
        care_types = {"residential", "nursing"}
        kinds = {"permanent", "respite", "reablement"}
        assert values("select care_type from staging.stg_care_a__stays") <= care_types
        assert values("select care_type from staging.stg_care_b__placements") <= care_types
        assert values("select stay_kind from staging.stg_care_a__stays") <= kinds
        assert values("select stay_kind from staging.stg_care_b__placements") <= kinds
        sources = values("select admission_source from staging.stg_care_a__stays") | values(
            "select admission_source from staging.stg_care_b__movement_events")
        assert sources and sources <= {"hospital", "home"}
        destinations = values("select discharge_destination from staging.stg_care_a__stays") | values(
            "select discharge_destination from staging.stg_care_b__movement_events")
        assert destinations and destinations <= {"died", "died_in_hospital", "died_in_hospice", "home"}
        a_keys = con.execute("select count(*), count(distinct stay_key) from staging.stg_care_a__stays").fetchone()
        assert a_keys[0] == a_keys[1]


# ---------------------------------------------------------------------------------------------
# 3. SQL Server: compile offline, scan what it would run


def test_every_model_compiles_for_sql_server_into_portable_sql(sqlserver_compile, duckdb_build):
    # `dbt compile --target sqlserver` of the whole project, offline: one compile, shared with
    # test_marts (tests/conftest.py)
    compiled = sqlserver_compile / "target" / "compiled" / "llif"
    models = {p.stem for p in (compiled / "models").rglob("*.sql")}
    ours = STAGING_MODELS | FORECAST_STAGING_MODELS | PLANNING_MARTS
    assert ours <= models, f"not compiled for SQL Server: {sorted(ours - models)}"
    results = run_results(sqlserver_compile)
    assert {r["status"] for r in results} == {"success"}
    model_sql = "\n".join(p.read_text() for p in (compiled / "models").rglob("stg_*.sql"))
    assert "try_convert(date" in model_sql and "concat(" in model_sql  # the dispatched T-SQL forms

    violations = sql_portability.scan_paths([compiled])
    assert not violations, "compiled SQL that SQL Server cannot run:\n" + sql_portability.report(violations, compiled)

    # the scanner is not vacuous: the same models compiled for DuckDB use constructs T-SQL lacks
    duck_compiled = duckdb_build / "target" / "compiled" / "llif" / "models"
    duck_violations = sql_portability.scan_paths([duck_compiled])
    rules = {v.rule for found in duck_violations.values() for v in found}
    assert {"pipe_concat", "missing_function"} <= rules


# ---------------------------------------------------------------------------------------------
# the scanner itself

BAD_SQL = {
    "double_colon_cast": "select a::int as a from t",
    "pipe_concat": "select a || b as c from t",
    "limit": "select a from t order by a limit 10",
    "qualify": "select a from t qualify row_number() over (order by a) = 1",
    "ilike": "select a from t where a ilike 'x%'",
    "group_by_ordinal": "select a, b, count(*) as n from t group by a, 2",
    "group_by_all": "select a, count(*) as n from t group by all",
    "boolean_literal": "select a from t where is_open = true",
    "nested_with": "with a as (select * from (with b as (select 1 as x) select x from b) s) select * from a",
    "boolean_column": "select a = b as same from t",
    "integer_division": "select hours / 7 as per_day from t",
    "missing_function": "select date_trunc('month', d) as m from t",
    "join_using": "select * from a join b using (id)",
    "varchar_without_length": "select cast(x as varchar) as y from t",
    "regex_operator": "select a from t where a ~ '^[0-9]+$'",
    "interval_literal": "select d + interval '1 day' as e from t",
    "nulls_ordering": "select a from t order by a nulls last",
    "is_distinct_from": "select a from t where a is distinct from b",
    "boolean_type": "select cast(a as boolean) as b from t",
}


@pytest.mark.parametrize("rule", sorted(BAD_SQL))
def test_scanner_rejects(rule):
    found = sql_portability.scan_sql(BAD_SQL[rule])
    assert rule in {v.rule for v in found}, f"{rule} not caught in {BAD_SQL[rule]!r}: {found}"


GOOD_SQL = [
    # forbidden words inside string literals, quoted identifiers and comments do not count
    "select 'a || b :: limit true' as s, \"limit\" as q, [group by 1] as r from t -- limit 1 ::\n/* qualify || */",
    "with a as (select 1 as x), b as (select x from a) select * from b",
    "select case when a = b then 1 else 0 end as is_same, "
    "max(x) over (partition by k order by d rows between unbounded preceding and 1 preceding) as m "
    "from t where a <> b group by a, b having count(*) > 1",
    "select hours / 7.0 as per_day, cast(a as float) / b as r, concat(a, ':', b) as k from t",
    "select (select max(x) from u where u.k = t.k) as mx, iif(a = b, 1, 0) as same from t",
    "select try_convert(date, d, 103) as d, cast(x as varchar(30)) as y from t order by 1",
]


@pytest.mark.parametrize("sql", GOOD_SQL)
def test_scanner_accepts_portable_sql(sql):
    assert sql_portability.scan_sql(sql) == []


def test_scanner_reports_the_line():
    found = sql_portability.scan_sql("select a,\n  b\nfrom t\nlimit 5")
    assert [(v.rule, v.line) for v in found] == [("limit", 4)]
    assert "limit 5" in str(found[0])


# ---------------------------------------------------------------------------------------------
# 4. the real PostgreSQL: a fresh database with the same raw tables, built, compared, dropped


def _pg_settings() -> dict[str, str]:
    return {
        "host": os.environ.get("LLIF_PG_HOST", "127.0.0.1"),
        "port": os.environ.get("LLIF_PG_PORT", "5432"),
        "user": os.environ.get("LLIF_PG_USER", "postgres"),
        "password": os.environ.get("LLIF_PG_PASSWORD", ""),
    }


def _pg_conninfo(dbname: str) -> str:
    s = _pg_settings()
    info = f"host={s['host']} port={s['port']} user={s['user']} dbname={dbname} connect_timeout=5"
    return info + (f" password={s['password']}" if s["password"] else "")


@pytest.fixture
def pg_database():
    import psycopg

    try:
        admin = psycopg.connect(_pg_conninfo("postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not running at {_pg_settings()['host']}:{_pg_settings()['port']} ({exc}); "
                    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    name = f"llif_dbt_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'create database "{name}"')
        try:
            yield name
        finally:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.mark.server
def test_staging_builds_on_postgres_and_agrees_with_duckdb(pg_database, warehouse, duckdb_build, tmp_path):
    import psycopg

    copied = dbt_raw.copy_raw_to_postgres(warehouse, _pg_conninfo(pg_database))
    assert copied["domcare__visit"] > 0
    run_dbt(["build", "--select", "staging", "--exclude", "staging.identity", "tag:planning", "--target", "postgres"],
            tmp_path, {"LLIF_PG_DBNAME": pg_database})
    results = assert_all_passed(tmp_path)
    assert {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")} == STAGING_MODELS

    # the same raw rows give the same staging rows, value for value, on both engines (the
    # visits, a few hundred thousand rows, on a 1-in-50 sample of visit ids)
    samples = {"stg_domcare__visits": "where visit_id % 50 = 0"}
    with psycopg.connect(_pg_conninfo(pg_database)) as pg, _duck(warehouse) as duck:
        for model in sorted(STAGING_MODELS):
            n_pg = pg.execute(f"select count(*) from staging.{model}").fetchone()[0]
            n_duck = duck.execute(f"select count(*) from staging.{model}").fetchone()[0]
            assert n_pg == n_duck, f"{model}: {n_pg} rows on PostgreSQL, {n_duck} on DuckDB"
            where = samples.get(model, "")
            cur = pg.execute(f"select * from staging.{model} {where}")
            cols = [d.name for d in cur.description]
            left = pd.DataFrame(cur.fetchall(), columns=cols, dtype=object)
            dcur = duck.execute(f"select * from staging.{model} {where}")
            assert [d[0] for d in dcur.description] == cols, model
            right = pd.DataFrame(dcur.fetchall(), columns=cols, dtype=object)
            assert len(left) == len(right) > 0, model
            key = cols[0]
            left = _normalised(left).sort_values(key).reset_index(drop=True)
            right = _normalised(right).sort_values(key).reset_index(drop=True)
            pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=model)


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as comparable text: dates, timestamps and numbers print alike on both engines."""
    return pd.DataFrame({col: [None if v is None else _text(v) for v in frame[col]] for col in frame.columns},
                        dtype=object)


def _text(v):
    import datetime as dt

    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return repr(float(v))
    if hasattr(v, "item"):
        return _text(v.item())
    return str(v)
