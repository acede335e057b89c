"""``make demo``: from nothing to a generated world and a nightly refresh, with what to look at next.

The first run generates the default world; a later run lets the world live one more day, so
every ``make demo`` is a new night. The refresh runs in-process on the embedded default: every
stage of the pipeline that exists is part of Dagster's nightly job.
"""

from __future__ import annotations

import time

from llif.settings import paths


def run(scale: float = 1.0, seed: int | None = None) -> int:
    from synthetic_sources import api
    from synthetic_sources.calibration import evaluate

    p = paths()
    started = time.perf_counter()
    if (p.sources / api.MANIFEST).exists():
        manifest = api.read_manifest(p)
        print(f"llif: a world is already in {p.home} (sources at {manifest['as_of']}); one more night passes")
        result = api.advance(days=1, progress=True)
    else:
        print(f"llif: generating the world (scale {scale}) into {p.home}")
        result = api.generate(scale=scale, seed=seed, progress=True)
    print(f"llif: sources stand at {result.as_of.date()}")

    print("llif: running the nightly refresh in-process")
    refreshed = _nightly_refresh()

    truth = api.load_truth(p.home)
    results = evaluate(truth, result.as_of, wide=1.0 if scale >= 1.0 else 3.0)
    ok = sum(r.within_tolerance for r in results)
    print(f"llif: calibration: {ok} of {len(results)} targets within tolerance (`llif sources report` for the table)")
    print(f"llif: done in {time.perf_counter() - started:.0f}s; refreshed: {', '.join(refreshed) or 'source systems only'}")
    print("llif: look next:")
    print(f"  sources    {p.sources}")
    print("  lineage    `make ui` then http://127.0.0.1:3000 (Dagster) and http://127.0.0.1:5000 (MLflow)")
    return 0


def _nightly_refresh() -> list[str]:
    """Materialise every asset Dagster can make; the source systems are external and only read."""
    import dagster as dg

    from llif.dbt_manifest import ensure
    from llif.ui import prepare_dagster_home

    ensure()
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly_refresh")
    # the run is kept in LLIF_HOME's Dagster instance, so `make ui` shows it afterwards
    with dg.DagsterInstance.from_config(str(prepare_dagster_home())) as instance:
        result = job.execute_in_process(instance=instance)
    if not result.success:
        raise RuntimeError("the nightly refresh failed; run `make ui` and open the failed run in Dagster")
    done = [e.asset_key for e in result.get_asset_materialization_events()]
    return sorted({"/".join(k.path[:2]) for k in done if k is not None})
