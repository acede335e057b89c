"""Asset checks that can fail: the night's health (``warehouse/health_checks.py`` does the work).

Each check reads the warehouse read-only in the warehouse pool (never beside a writer), calls one
plain function and turns its ``Finding`` into a Dagster result: shown on the asset in the UI and
sent by the alert sensor (``orchestration/alerts.py``) when it fails. None is blocking: a
failed check says something needs looking at, and the night still finishes with what it has.
"""

import dagster as dg

from orchestration.assets.identity import PERSON_XREF
from orchestration.assets.ingest import WAREHOUSE_POOL, raw_key, raw_tables, systems
from orchestration.resources import LlifHome


def _result(finding, severity=dg.AssetCheckSeverity.ERROR, **kwargs) -> dg.AssetCheckResult:
    figures = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in finding.figures.items()}
    return dg.AssetCheckResult(passed=finding.passed, severity=severity, description=finding.message,
                               metadata={**figures, "finding": finding.message}, **kwargs)


def _ingest_checks() -> dg.AssetChecksDefinition:
    """Every source system's quarantine share (per raw table) and freshness, in one step after ingest."""
    specs, plan = [], []
    for system in systems():
        tables = raw_tables(system)
        for t in tables:
            specs.append(dg.AssetCheckSpec(
                "quarantine_share", asset=raw_key(system, t),
                description=f"Fails when more than 5% of the rows {system}.{t}'s latest load read were set aside "
                            "in raw._quarantine."))
            plan.append(("quarantine", system, t))
            specs.append(dg.AssetCheckSpec(
                "undeclared_columns", asset=raw_key(system, t),
                description=f"Fails when {system}.{t}'s latest load found columns its source contract (contracts/sources/systems/) does "
                            "not declare: they are held back from raw (raw._held_columns) until declared."))
            plan.append(("held", system, t))
        specs.append(dg.AssetCheckSpec(
            "source_loaded", asset=raw_key(system, tables[0]),
            description=f"Fails when {system}'s latest load was refused (its source missing, empty, damaged or "
                        "drifted from its contract): raw keeps the last good load and the night goes on without it."))
        plan.append(("loaded", system, tables[0]))
        specs.append(dg.AssetCheckSpec(
            "source_freshness", asset=raw_key(system, tables[0]),
            description=f"Fails when {system} has sent no new or changed rows for longer than expected "
                        "(days per system in warehouse/health_checks.py)."))
        plan.append(("freshness", system, tables[0]))

    @dg.multi_asset_check(specs=specs, name="health_ingest", pool=WAREHOUSE_POOL, can_subset=True)
    def health_ingest(context: dg.AssetCheckExecutionContext, llif: LlifHome):
        from warehouse import duck
        from warehouse.health_checks import freshness, held_columns, load_refused, quarantine_share

        wanted = context.selected_asset_check_keys
        names = {"quarantine": "quarantine_share", "held": "undeclared_columns", "loaded": "source_loaded",
                 "freshness": "source_freshness"}
        with duck.open_reader(llif.warehouse) as con:
            for kind, system, t in plan:
                name = names[kind]
                key = dg.AssetCheckKey(raw_key(system, t), name)
                if key not in wanted:
                    continue
                if kind == "quarantine":
                    yield _result(quarantine_share(con, system, t), asset_key=key.asset_key, check_name=name)
                elif kind == "held":
                    yield _result(held_columns(con, system, t), asset_key=key.asset_key, check_name=name)
                elif kind == "loaded":
                    yield _result(load_refused(con, system), asset_key=key.asset_key, check_name=name)
                else:
                    yield _result(freshness(con, system), severity=dg.AssetCheckSeverity.WARN,
                                  asset_key=key.asset_key, check_name=name)

    return health_ingest


@dg.asset_check(asset=PERSON_XREF, name="linkage_match_rate", pool=WAREHOUSE_POOL,
                description="Fails when the share of person records linked to another record falls more than "
                            "2 points from last night.")
def linkage_match_rate_check(llif: LlifHome) -> dg.AssetCheckResult:
    from warehouse import duck
    from warehouse.health_checks import linkage_check

    with duck.open_reader(llif.warehouse) as con:
        return _result(linkage_check(con, llif.root))


def _mart_checks() -> dg.AssetChecksDefinition:
    from warehouse.health_checks import WATCHED_MARTS

    specs = [dg.AssetCheckSpec("row_count_drop", asset=dg.AssetKey(["marts", t]),
                               description=f"Fails when marts.{t} has more than 10% fewer rows than last night.")
             for t in WATCHED_MARTS]

    @dg.multi_asset_check(specs=specs, name="health_marts", pool=WAREHOUSE_POOL, can_subset=True)
    def health_marts(context: dg.AssetCheckExecutionContext, llif: LlifHome):
        from warehouse import duck
        from warehouse.health_checks import row_count_check

        with duck.open_reader(llif.warehouse) as con:
            for t in WATCHED_MARTS:
                key = dg.AssetCheckKey(dg.AssetKey(["marts", t]), "row_count_drop")
                if key in context.selected_asset_check_keys:
                    yield _result(row_count_check(con, llif.root, t), asset_key=key.asset_key, check_name=key.name)

    return health_marts


def health_checks() -> list:
    return [_ingest_checks(), linkage_match_rate_check, _mart_checks()]
