"""Where a forecast's replications run: the local process pool (default), Dask or Ray.

Why this is safe to swap: a replication's numbers depend only on the run's root seed (the run
date and the inputs' content, ``replications.root_seed``) and its own number
(``engine.stream_seeds``), never on the process, machine or order that runs it, and every
result comes back tagged with its replication numbers. So the same forecast is the same array
bit for bit whatever runs it; ``tests/unit/test_dispatch.py`` checks that with a local Dask cluster
and local Ray.

The choice is a setting (``contracts.settings.dispatch_settings``: ``LLIF_DISPATCH`` =
``local`` | ``dask`` | ``ray``, ``LLIF_DISPATCH_ADDRESS`` for an existing cluster), so the
nightly job and ``llif forecast run`` take it without a code change; ``docs/dispatch.md`` says
how to point it at a cluster. Dagster stays the orchestrator: the forecast asset is one step
that fans its replications out here.

A batch of replications is the unit of work. The run's shared inputs (census, tables, plans:
tens of MB) travel once: the pool's initializer, Dask's ``scatter(broadcast=True)``, Ray's
object store, not once per batch.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass

BACKENDS = ("local", "dask", "ray")

Batch = list[int]
Result = tuple  # (reps, arrays...): the replications it holds first


@dataclass(frozen=True)
class Dispatch:
    """Which backend runs the replications and, for Dask or Ray, which cluster.

    ``address``: none starts a cluster on this machine for the run (``processes`` workers) and
    stops it after; a Dask scheduler (``tcp://host:8786``) or a Ray cluster (``auto``,
    ``ray://host:10001``) is joined and left running. With Ray already initialised in the
    process (``ray.init`` by the caller), that cluster is used.
    """

    backend: str = "local"
    address: str | None = None

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"dispatch backend must be one of {', '.join(BACKENDS)}, not {self.backend!r} "
                             "(set LLIF_DISPATCH)")
        if self.backend == "local" and self.address:
            raise ValueError(f"the local backend takes no address (got {self.address!r}); "
                             "set LLIF_DISPATCH=dask or ray to use a cluster")


def from_settings() -> Dispatch:
    """The dispatch the environment asks for (``LLIF_DISPATCH``, ``LLIF_DISPATCH_ADDRESS``)."""
    from contracts.settings import dispatch_settings

    backend, address = dispatch_settings()
    return Dispatch(backend, address)


def run_batches(dispatch: Dispatch, work: Callable[[tuple, Batch], Result], init: tuple, batches: list[Batch],
                processes: int, *, initializer: Callable | None = None, local_work: Callable | None = None,
                mp_context: str | None = None) -> Iterator[Result]:
    """Run ``work(init, batch)`` for every batch and yield each result (``(reps, arrays...)``,
    tagged with its replication numbers) as it finishes.

    ``work`` must be a module-level function (pickled by reference onto workers). For the
    local pool, ``initializer(*init)`` sets each worker up once and ``local_work(batch)`` runs
    a batch from that state, so the inputs are not pickled per batch.
    """
    if dispatch.backend == "local":
        yield from _local(work, init, batches, processes, initializer, local_work, mp_context)
    elif dispatch.backend == "dask":
        yield from _dask(work, init, batches, processes, dispatch.address)
    else:
        yield from _ray(work, init, batches, processes, dispatch.address)


def _local(work, init, batches, processes, initializer, local_work, mp_context) -> Iterator[Result]:
    if processes <= 1:
        for b in batches:
            yield work(init, b)
        return
    from contracts.shutdown import pool_ends_with_caller, worker_start

    if initializer is None or local_work is None:
        initializer, local_work = _set_local_init, _run_local_init
        init = (work, init)
    # fork where the platform has it (no re-import per worker); the functions are module-level,
    # so spawn works too
    ctx = mp.get_context(mp_context or ("fork" if "fork" in mp.get_all_start_methods() else "spawn"))
    # a stopped run ends its workers (pool_ends_with_caller); a run killed hard, they end themselves
    with ProcessPoolExecutor(max_workers=processes, mp_context=ctx, initializer=worker_start,
                             initargs=(initializer, *init)) as pool, pool_ends_with_caller(pool):
        futures = [pool.submit(local_work, b) for b in batches]
        for f in as_completed(futures):
            yield f.result()


_LOCAL: dict = {}


def _set_local_init(work, init):
    _LOCAL.update(work=work, init=init)


def _run_local_init(batch):
    return _LOCAL["work"](_LOCAL["init"], batch)


def _dask(work, init, batches, processes, address) -> Iterator[Result]:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - the message is the point
        raise RuntimeError("LLIF_DISPATCH=dask needs Dask distributed: pip install 'llif[cluster]'") from exc
    with ExitStack() as stack:
        if address:
            client = stack.enter_context(Client(address))
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=max(1, processes), threads_per_worker=1,
                                                       processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        shared = client.scatter(init, broadcast=True, hash=False)
        futures = [client.submit(work, shared, b, pure=False) for b in batches]
        try:
            for f in dask_completed(futures):
                yield f.result()
        finally:
            client.cancel(futures)


def _ray(work, init, batches, processes, address) -> Iterator[Result]:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - the message is the point
        raise RuntimeError("LLIF_DISPATCH=ray needs Ray: pip install 'llif[cluster]'") from exc
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(1, processes), include_dashboard=False, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(work)
        shared = ray.put(init)
        pending = [remote.remote(shared, b) for b in batches]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield ray.get(done[0])
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
    finally:
        if started:
            ray.shutdown()
