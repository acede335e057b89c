"""Ingest: one asset per raw table, made by one op per source system (and per vendor-A home).

Each op calls ``warehouse.ingest.ingest_system`` and publishes its load audit as metadata on
every table it wrote. All of them share the ``warehouse`` pool: DuckDB has one writer.
"""

from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.resources import LlifHome

SYSTEMS = ("crm", "assets", "care_a", "care_b", "domcare")
PEOPLE_SYSTEMS = ("crm", "care_a", "care_b", "domcare")
WAREHOUSE_POOL = "warehouse"


def raw_tables(system: str) -> list[str]:
    """The raw tables a system's ingest writes, as dbt's sources name them."""
    from contracts.sources import source_system

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
    from warehouse.ingest import ingest_system

    def progress(table, source, so_far, expected):
        context.log.debug(f"{system}.{table} ({source}): {so_far:,} rows read" + (f" of {expected:,}" if expected else ""))

    load = ingest_system(system, llif.warehouse, progress=progress, homes=homes)
    context.log.info(f"{system}: {load.rows_loaded:,} rows loaded, {load.rows_rejected:,} rejected in {load.seconds:.1f}s")
    return load


def _system_ingest(system: str):
    tables = raw_tables(system)

    @dg.multi_asset(
        name=f"ingest_{system}",
        specs=[
            dg.AssetSpec(raw_key(system, t), deps=[dg.AssetKey(["source", system])], group_name="ingest",
                         kinds={"duckdb"}, description=f"{system}.{t} as loaded into raw (identifiers pseudonymised).")
            for t in tables
        ],
        pool=WAREHOUSE_POOL,
    )
    def _ingest(context: AssetExecutionContext, llif: LlifHome):
        load = _load(context, llif, system)
        for t in tables:
            yield dg.MaterializeResult(asset_key=raw_key(system, t), metadata=_table_metadata(load, t))

    return _ingest


def _home_ingest(home: str):
    @dg.asset(
        key=dg.AssetKey(["raw", "care_a_homes", home]),
        deps=[dg.AssetKey(["source", "care_a"])],
        group_name="ingest",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "sqlite"},
        description=f"Vendor A's file for home {home}: new and changed rows into raw.",
    )
    def _ingest(context: AssetExecutionContext, llif: LlifHome) -> dg.MaterializeResult:
        load = _load(context, llif, "care_a", homes=[home])
        return dg.MaterializeResult(metadata={
            "rows_loaded": dg.MetadataValue.int(load.rows_loaded),
            "rows_rejected": dg.MetadataValue.int(load.rows_rejected),
            "load_id": load.load_id,
        })

    return _ingest


def _care_a_tables(home_keys: list[dg.AssetKey]):
    """dbt reads every vendor-A home from one set of raw tables: these are they."""
    tables = raw_tables("care_a")

    @dg.multi_asset(
        name="care_a_all_homes",
        specs=[dg.AssetSpec(raw_key("care_a", t), deps=home_keys, group_name="ingest", kinds={"duckdb"},
                            description=f"care_a.{t}: every home's rows together, as dbt staging reads them.")
               for t in tables],
        pool=WAREHOUSE_POOL,
    )
    def _gather(llif: LlifHome):
        from warehouse import duck

        with duck.open_reader(llif.warehouse) as con:
            for t in tables:
                rows = con.execute(f'select _source, count(*) from raw."care_a__{t}" group by _source order by _source').fetchall()
                table = "| home | rows |\n|---|---|\n" + "\n".join(f"| {h} | {n:,} |" for h, n in rows)
                yield dg.MaterializeResult(asset_key=raw_key("care_a", t), metadata={
                    "homes": dg.MetadataValue.int(len(rows)), "rows_by_home": dg.MetadataValue.md(table)})

    return _gather


def care_a_homes(sources: Path) -> list[str]:
    """Vendor A's home files on disk tonight (a home that opens later appears on reload)."""
    return sorted(p.stem for p in (sources / "care_a").glob("care_a_*.sqlite"))


def ingest_assets(sources: Path) -> list:
    assets = []
    for system in SYSTEMS:
        if system == "care_a":
            homes = [_home_ingest(home) for home in care_a_homes(sources)]
            assets += homes + [_care_a_tables([a.key for a in homes])]
        else:
            assets.append(_system_ingest(system))
    return assets


def person_table_keys() -> list[dg.AssetKey]:
    """The raw tables linkage depends on: the person-level table of each system that holds people."""
    from contracts.sources import source_system

    return [
        raw_key(s, name.lower())
        for s in PEOPLE_SYSTEMS
        for name, decl in source_system(s).tables.items()
        if decl.person is not None
    ]
