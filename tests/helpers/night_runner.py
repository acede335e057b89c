"""Run part of the nightly job in-process, as ``llif demo`` does, so a test can stop it (SIGTERM) or
kill it (SIGKILL).

    python tests/helpers/night_runner.py forecast|dbt|models [REPLICATIONS]

LLIF_HOME names the home. Exit 0 when the run succeeded, 1 when it failed or was stopped.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    import dagster as dg

    from contracts.shutdown import sigterm_interrupts
    from llif.dbt_manifest import ensure

    sigterm_interrupts()  # as llif demo: SIGTERM stops the steps the way Ctrl-C does
    ensure()
    from orchestration.definitions import defs

    part = sys.argv[1]
    job = defs.resolve_job_def("nightly_refresh")
    graph = defs.resolve_asset_graph()
    if part == "forecast":
        keys = [dg.AssetKey(["forecast", "baseline"]), dg.AssetKey(["forecast", "scenario_forecasts"])]
    elif part == "models":  # training (with the champion gate, its blocking check) and the tables
        keys = [dg.AssetKey(["ml", "transition_models"]), dg.AssetKey(["ml", "transition_probabilities"])]
    elif part == "dbt":
        keys = [k for k in graph.get_all_asset_keys()
                if graph.get(k).assets_def.is_executable and graph.get(k).assets_def.node_def.name == "llif_dbt"]
    else:
        raise SystemExit(f"unknown part {part!r}")
    config = {}
    if part == "forecast":
        config = {"ops": {"forecast__scenario_forecasts": {"config": {"replications": int(sys.argv[2])}}}}
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), asset_selection=keys,
                                    run_config=config, raise_on_error=False)
    sys.exit(0 if result.success else 1)
