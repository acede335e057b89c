"""Optional: the estimator and a short forecast on the dev warehouse when one is present.

CI has no warehouse here; nothing else depends on this test."""

from pathlib import Path

import numpy as np
import pytest

DEV = Path("/work/devdata/home02/warehouse.duckdb")


@pytest.mark.skipif(not DEV.exists(), reason="no dev warehouse on this machine")
def test_estimate_and_run_on_the_dev_warehouse():
    import duckdb

    from simulation.forecast_model import KPIS
    from simulation.inputs import estimate_inputs
    from simulation.replications import run_forecast

    try:
        con = duckdb.connect(str(DEV), read_only=True)
    except duckdb.Error as exc:  # being rebuilt
        pytest.skip(f"dev warehouse busy: {exc}")
    inputs = estimate_inputs(con, as_of="2025-10-31")
    assert str(inputs.reference_month) <= "2025-10-01"
    assert inputs.n_people > 1000 and len(inputs.pools) > 5
    assert np.allclose(inputs.transition.sum(axis=1), 1)
    res = run_forecast(inputs, replications=2, months=6, run_date="2026-11-01", needed=False)
    total = res.values["baseline"][:, KPIS.index("people_total"), -1]
    assert (np.abs(total / inputs.n_people - 1) < 0.1).all()
