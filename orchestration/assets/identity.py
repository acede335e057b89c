"""Linking person records across systems into one pseudonymous person key."""


import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.resources import LlifHome


def identity_asset(ingest_keys: list[dg.AssetKey]):
    @dg.asset(
        key=dg.AssetKey(["identity", "person_xref"]),
        deps=ingest_keys,
        group_name="identity",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "splink"},
        description="Deterministic (NI number and date of birth) then probabilistic (Splink) linkage of every person record to a person_key.",
    )
    def person_xref(context: AssetExecutionContext, llif: LlifHome) -> dg.MaterializeResult:
        from warehouse import duck
        from warehouse.identity import link_people

        with duck.open_writer(llif.warehouse) as con:
            result = link_people(con)
        return dg.MaterializeResult(metadata=result.metadata())

    return person_xref
