"""Ingest: one asset per raw table, made by one op per source system (and per site of a system
that keeps one database per site, as vendor A does per care home).

The systems are the source contracts' (contracts/sources: llif's and the provider's own), so a
system connected by its contract alone is ingested by the night with no change here. Each op
calls ``warehouse.ingest.ingest_system`` and publishes its load audit as metadata on every table
it wrote. All of them share the ``warehouse`` pool: DuckDB has one writer.
"""

from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from contracts.sources import source_system, source_systems
from contracts.sources.model import SQLITE_PER_SITE
from orchestration.assets.sources import source_key
from orchestration.resources import LlifHome

WAREHOUSE_POOL = "warehouse"


def systems() -> list[str]:
    """Every source system with a contract, in go-live order."""
    return list(source_systems())


def raw_tables(system: str) -> list[str]:
    """The raw tables a system's ingest writes, as dbt's sources name them."""
    return [name.lower() for name in source_system(system).tables]


def raw_key(system: str, table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", system, table])


def _table_metadata(load, table: str) -> dict:
    mine = [t for t in load.tables if t.source_table.lower() == table]
    audit = "| source | read | loaded | rejected | high-water mark |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {t.source} | {t.rows_read:,} | {t.rows_loaded:,} | {t.rows_rejected:,} | {t.high_water_mark or ''} |"
        for t in mine
    )
    return {
        "load_id": load.load_id,
        "rows_read": dg.MetadataValue.int(sum(t.rows_read for t in mine)),
        "rows_loaded": dg.MetadataValue.int(sum(t.rows_loaded for t in mine)),
        "rows_rejected": dg.MetadataValue.int(sum(t.rows_rejected for t in mine)),
        "load_audit": dg.MetadataValue.md(audit),
    }


def _load(context: AssetExecutionContext, llif: LlifHome, system: str, homes=None):
    """The system's load, or None when its source was refused tonight (missing, empty, damaged
    or drifted: warehouse.ingest.REFUSALS): then raw keeps the last good load, the refusal is
    recorded for the ``source_loaded`` check and the data-quality page, and the night goes on
    with the other systems (decision 46). Anything else fails the step."""
    from warehouse.ingest import REFUSALS, ingest_system, record_refusal

    def progress(table, source, so_far, expected):
        context.log.debug(f"{system}.{table} ({source}): {so_far:,} rows read" + (f" of {expected:,}" if expected else ""))

    try:
        load = ingest_system(system, llif.warehouse, progress=progress, homes=homes)
    except REFUSALS as exc:
        record_refusal(llif.warehouse, system, exc, site=homes[0] if homes else "")
        context.log.error(f"{system}: not loaded tonight (the night goes on with the last good load): {exc}")
        return None
    context.log.info(f"{system}: {load.rows_loaded:,} rows loaded, {load.rows_rejected:,} rejected in {load.seconds:.1f}s")
    return load


def _refused_metadata() -> dict:
    return {"loaded": False, "note": "not loaded tonight: see the source_loaded check"}


def _system_ingest(system: str):
    tables = raw_tables(system)

    @dg.multi_asset(
        name=f"ingest_{system}",
        specs=[
            dg.AssetSpec(raw_key(system, t), deps=[source_key(system)], group_name="ingest",
                         kinds={"duckdb"}, description=f"{system}.{t} as loaded into raw (identifiers pseudonymised).")
            for t in tables
        ],
        pool=WAREHOUSE_POOL,
    )
    def _ingest(context: AssetExecutionContext, llif: LlifHome):
        load = _load(context, llif, system)
        for t in tables:
            yield dg.MaterializeResult(asset_key=raw_key(system, t),
                                       metadata=_table_metadata(load, t) if load else _refused_metadata())

    return _ingest


def site_key(system: str, site: str) -> dg.AssetKey:
    """A site's own ingest (one database per site): raw/<system>_homes/<site>."""
    return dg.AssetKey(["raw", f"{system}_homes", site])


def _site_ingest(system: str, site: str):
    label = source_system(system).label

    @dg.asset(
        key=site_key(system, site),
        deps=[source_key(system)],
        group_name="ingest",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "sqlite"},
        description=f"{label}'s file for {site}: new and changed rows into raw.",
    )
    def _ingest(context: AssetExecutionContext, llif: LlifHome) -> dg.MaterializeResult:
        load = _load(context, llif, system, homes=[site])
        if load is None:
            return dg.MaterializeResult(metadata=_refused_metadata())
        return dg.MaterializeResult(metadata={
            "rows_loaded": dg.MetadataValue.int(load.rows_loaded),
            "rows_rejected": dg.MetadataValue.int(load.rows_rejected),
            "load_id": load.load_id,
        })

    return _ingest


def _all_sites_tables(system: str, site_keys: list[dg.AssetKey]):
    """dbt reads every site of a system from one set of raw tables: these are they."""
    tables = raw_tables(system)

    @dg.multi_asset(
        name=f"{system}_all_homes",
        specs=[dg.AssetSpec(raw_key(system, t), deps=site_keys, group_name="ingest", kinds={"duckdb"},
                            description=f"{system}.{t}: every site's rows together, as dbt staging reads them.")
               for t in tables],
        pool=WAREHOUSE_POOL,
    )
    def _gather(llif: LlifHome):
        from warehouse import duck

        with duck.open_reader(llif.warehouse) as con:
            for t in tables:
                rows = con.execute(f'select _source, count(*) from raw."{system}__{t}" group by _source order by _source').fetchall()
                table = "| site | rows |\n|---|---|\n" + "\n".join(f"| {h} | {n:,} |" for h, n in rows)
                yield dg.MaterializeResult(asset_key=raw_key(system, t), metadata={
                    "homes": dg.MetadataValue.int(len(rows)), "rows_by_home": dg.MetadataValue.md(table)})

    return _gather


def site_files(sources: Path, system: str) -> list[str]:
    """A per-site system's files on disk tonight (a site that opens later appears on reload)."""
    layout = source_system(system).layout
    return sorted(p.stem for p in (sources / layout.path).glob(f"*{layout.suffix}"))


def ingest_assets(sources: Path) -> list:
    assets = []
    for system, spec in source_systems().items():
        if spec.layout.kind == SQLITE_PER_SITE:
            sites = [_site_ingest(system, site) for site in site_files(sources, system)]
            assets += sites + [_all_sites_tables(system, [a.key for a in sites])]
        else:
            assets.append(_system_ingest(system))
    return assets


def person_table_keys() -> list[dg.AssetKey]:
    """The raw tables linkage depends on: the person-level table of each system that holds people."""
    return [
        raw_key(s, name.lower())
        for s, spec in source_systems().items()
        for name, decl in spec.tables.items()
        if decl.person is not None
    ]
