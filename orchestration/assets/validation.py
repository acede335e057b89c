"""The warehouse measured against the synthetic world's truth (synthetic worlds only)."""


import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.identity import PERSON_XREF
from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.resources import LlifHome

TRUTH_AGREEMENT = dg.AssetKey(["validation", "truth_agreement"])
TIMELINE = dg.AssetKey(["marts", "fct_person_month"])


@dg.multi_asset(
    specs=[dg.AssetSpec(
        TRUTH_AGREEMENT, deps=[PERSON_XREF, TIMELINE], group_name="validation", kinds={"duckdb"}, skippable=True,
        description="Linkage precision/recall and timeline state agreement against the synthetic world's truth. "
                    "Skipped where LLIF_HOME holds no truth (real data).")],
    pool=WAREHOUSE_POOL,
)
def truth_agreement(context: AssetExecutionContext, llif: LlifHome):
    from truth_validation.warehouse import validate_against_truth
    from warehouse import duck

    with duck.open_writer(llif.warehouse) as con:
        result = validate_against_truth(con, llif.root)
    if result is None:
        context.log.info("no synthetic truth in %s: nothing to validate against (real data)", llif.root)
        return
    yield dg.MaterializeResult(asset_key=TRUTH_AGREEMENT, metadata=result.metadata())
