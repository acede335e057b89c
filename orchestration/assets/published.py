"""The night's last step: publish a copy of the warehouse for readers (``warehouse/published.py``).

It depends on the night's last assets, so it runs only when everything before it succeeded: a
failed night publishes nothing and the explorer goes on showing the last complete one.
"""

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.dbt import DBT_DOCS
from orchestration.assets.forecast import BACKTEST, REPORT
from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.assets.ml import OUTLOOKS, PROBABILITY_TABLES
from orchestration.resources import LlifHome

PUBLISHED = dg.AssetKey(["published", "warehouse"])


@dg.asset(key=PUBLISHED, deps=[REPORT, DBT_DOCS, BACKTEST, OUTLOOKS, PROBABILITY_TABLES], group_name="published",
          pool=WAREHOUSE_POOL, kinds={"duckdb"},
          description="What the explorer reads: a copy of tonight's marts, models and forecasts (never identity), "
                      "switched to in one step once the whole night has succeeded.")
def published_warehouse(context: AssetExecutionContext, llif: LlifHome) -> dg.MaterializeResult:
    from contracts.settings import paths
    from warehouse.published import publish

    p = paths(llif.root)
    done = publish(llif.warehouse, p.published, forecasts=p.forecasts)
    context.log.info("published %s: %d tables, %d rows in %.1fs", done.path, done.tables, done.rows, done.seconds)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(done.path)),
                                          "tables": done.tables, "rows": done.rows,
                                          "seconds": round(done.seconds, 1)})
