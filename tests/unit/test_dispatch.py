"""Replications dispatched to the local pool, a local Dask cluster and local Ray give the same
arrays bit for bit, because a replication's streams depend only on the run date, the inputs and
its number (simulation.dispatch)."""

import numpy as np
import pytest

from simulation import dispatch as D
from simulation.replications import run_forecast
from simulation.scenarios import validate
from simulation.testing import toy_inputs

SCEN = [validate({"name": "baseline"}),
        validate({"name": "winter", "transitions": [{"from": "community", "to": "hospital", "multiply": 1.5,
                                                     "months_of_year": [12, 1, 2]}]})]
RUN = {"replications": 6, "months": 8, "run_date": "2026-11-01", "chunk": 2}


@pytest.fixture(scope="module")
def toy():
    return toy_inputs(600, seed=5)


@pytest.fixture(scope="module")
def in_process(toy):
    return run_forecast(toy, SCEN, processes=1, dispatch=D.Dispatch("local"), **RUN)


def _same(a, b):
    assert a.values.keys() == b.values.keys() and a.unconstrained.keys() == b.unconstrained.keys()
    for name in a.values:
        assert np.array_equal(a.values[name], b.values[name]), name
    for key in a.unconstrained:
        assert np.array_equal(a.unconstrained[key], b.unconstrained[key]), key
    # and the breakdowns by area, segment and age band that come with the values
    assert a.breakdown.keys() == b.breakdown.keys() == a.values.keys()
    for name in a.breakdown:
        assert np.array_equal(a.breakdown[name], b.breakdown[name]), name
    assert a.metadata["root_entropy"] == b.metadata["root_entropy"]


def test_the_result_is_not_all_zeros_and_depends_on_the_date(toy, in_process):
    # guards the comparisons below against a dispatch that returns nothing to compare
    assert in_process.values["baseline"][:, in_process.kpis.index("people_total")].min() > 0
    other = run_forecast(toy, SCEN, processes=1, dispatch=D.Dispatch("local"), **{**RUN, "run_date": "2026-11-02"})
    assert not np.array_equal(in_process.values["baseline"], other.values["baseline"])


def test_local_pool_equals_in_process(toy, in_process):
    _same(in_process, run_forecast(toy, SCEN, processes=2, dispatch=D.Dispatch("local"), **RUN))


@pytest.mark.timeout(300)
def test_local_dask_cluster_equals_in_process(toy, in_process):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        got = run_forecast(toy, SCEN, processes=2, dispatch=D.Dispatch("dask", cluster.scheduler_address), **RUN)
        with distributed.Client(cluster) as client:  # the work ran on the cluster's workers
            assert len(client.scheduler_info()["workers"]) == 2
    assert got.metadata["dispatch"] == "dask"
    _same(in_process, got)


@pytest.mark.timeout(300)
def test_local_ray_equals_in_process(toy, in_process):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        got = run_forecast(toy, SCEN, processes=2, dispatch=D.Dispatch("ray"), **RUN)
        assert ray.is_initialized()  # a cluster the caller started is left to the caller
    finally:
        ray.shutdown()
    assert got.metadata["dispatch"] == "ray"
    _same(in_process, got)


def test_the_setting_chooses_the_backend(monkeypatch):
    monkeypatch.delenv("LLIF_DISPATCH", raising=False)
    monkeypatch.delenv("LLIF_DISPATCH_ADDRESS", raising=False)
    assert D.from_settings() == D.Dispatch("local", None)
    monkeypatch.setenv("LLIF_DISPATCH", "Dask")
    monkeypatch.setenv("LLIF_DISPATCH_ADDRESS", " tcp://10.0.0.5:8786 ")
    assert D.from_settings() == D.Dispatch("dask", "tcp://10.0.0.5:8786")
    monkeypatch.setenv("LLIF_DISPATCH", "spark")
    with pytest.raises(ValueError, match="LLIF_DISPATCH"):
        D.from_settings()
    monkeypatch.setenv("LLIF_DISPATCH", "local")
    with pytest.raises(ValueError, match="no address"):
        D.from_settings()


def test_run_forecast_reads_the_setting(toy, in_process, monkeypatch):
    monkeypatch.setenv("LLIF_DISPATCH", "ray")
    monkeypatch.setattr(D, "_ray", lambda *a: (_ for _ in ()).throw(RuntimeError("ray was asked")))
    with pytest.raises(RuntimeError, match="ray was asked"):
        run_forecast(toy, SCEN, processes=2, **RUN)


def _square_rows(init, reps):
    """A stand-in batch: (reps, init[0] * reps squared), module-level so workers can import it."""
    return reps, init[0] * np.asarray(reps, dtype=float) ** 2


@pytest.mark.parametrize("processes", [1, 2])
def test_run_batches_yields_every_batch_tagged_with_its_replications(processes):
    batches = [[0, 1], [2, 3], [4]]
    got = {tuple(reps): arr.tolist() for reps, arr in D.run_batches(D.Dispatch("local"), _square_rows, (3.0,),
                                                                    batches, processes)}
    assert got == {(0, 1): [0.0, 3.0], (2, 3): [12.0, 27.0], (4,): [48.0]}
