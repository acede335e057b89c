"""Linking person records across systems into one pseudonymous person key."""


import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.resources import LlifHome

PERSON_XREF = dg.AssetKey(["identity", "person_xref"])
SOURCE_IDENTIFIERS = dg.AssetKey(["identity", "source_identifiers"])


def identity_asset(ingest_keys: list[dg.AssetKey]):
    # Every ingest adds its records' identifiers to identity.source_identifiers; the table is
    # whole only once all of them have run, which is when linkage runs, so linkage publishes it
    # (the identity snapshot in dbt reads it) beside the cross-reference it derives from it.
    @dg.multi_asset(
        specs=[
            dg.AssetSpec(PERSON_XREF, deps=ingest_keys, group_name="identity", kinds={"duckdb", "splink"},
                         description="Deterministic (NI number and date of birth) then probabilistic (Splink) "
                                     "linkage of every person record to a person_key."),
            dg.AssetSpec(SOURCE_IDENTIFIERS, deps=ingest_keys, group_name="identity", kinds={"duckdb"},
                         description="Restricted: every person record's identifiers as ingest pseudonymised "
                                     "them, from all systems; what linkage reads."),
        ],
        pool=WAREHOUSE_POOL,
    )
    def person_xref(context: AssetExecutionContext, llif: LlifHome):
        from warehouse import duck
        from warehouse.identity import link_people

        with duck.open_writer(llif.warehouse) as con:
            result = link_people(con)
            by_system = dict(con.execute(
                "select system, count(*) from identity.source_identifiers group by system order by system").fetchall())
        yield dg.MaterializeResult(asset_key=PERSON_XREF, metadata=result.metadata())
        yield dg.MaterializeResult(asset_key=SOURCE_IDENTIFIERS, metadata={
            "records": dg.MetadataValue.int(sum(by_system.values())),
            **{f"records_{system}": dg.MetadataValue.int(n) for system, n in by_system.items()},
        })

    return person_xref
