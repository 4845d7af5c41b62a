"""Replications: one seed, independent streams, the same answer however they are spread.

Replication ``r`` draws only from ``replication_sequence(seed, r)``, so its result depends on
``(seed, r)`` alone: one worker, a local process pool or a Dask cluster give identical numbers. Work is
sent in chunks of replications; the plan travels once per worker process (pool initializer) or is
scattered once to the cluster.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..streams import KeyedStreams, replication_sequence
from . import kpis as K
from .clinic import simulate_day
from .kpi_batch import Batch
from .patient import Draws, walk_ins
from .plan import Plan


@dataclass
class ReplicationResult:
    """What a worker sends back: KPIs (overall, per provider, per day), the time series, records."""

    replication: int
    kpis: dict
    by_provider: list[dict]
    by_day: list[dict]
    timeseries: np.ndarray
    records: np.ndarray | None
    #: ``kpi_batch.SESSION_KPIS`` per provider-session of the plan (``plan.sessions`` order)
    by_session: np.ndarray | None = None


def replication_records(plan: Plan, seed: int, r: int, engine: str = "lean") -> np.ndarray:
    """Every day of the plan once with replication ``r``'s streams: the records of all its patients
    (``records.FIELDS``), without the KPIs (the synthetic history's clinic times read only these)."""
    streams = KeyedStreams(replication_sequence(seed, r))
    draws = Draws(plan, streams)
    parts, first = [], 0
    for day in plan.days:
        rec = simulate_day(plan, day, draws, walk_ins(plan, day, streams), first, engine)
        first += len(rec)
        parts.append(rec)
    return np.concatenate(parts) if parts else np.zeros((0, len(K.R.FIELDS)))


def run_replications(
    plan: Plan, seed: int, reps: list[int], keep_records: bool = False, engine: str = "lean"
) -> list[ReplicationResult]:
    """Simulate replications ``reps`` (on either engine: the records are identical), then compute
    their KPIs and time series together (``kpi_batch``)."""
    recs = [replication_records(plan, seed, r, engine) for r in reps]
    batch = Batch(recs, plan)
    overall = batch.kpis()
    per_provider = batch.kpis("provider")
    per_day = batch.kpis("day") if len(plan.days) > 1 else None
    series = batch.timeseries()
    per_session = batch.sessions()
    providers = sorted({sp.provider for sp in plan.sessions})
    out = []
    for i, r in enumerate(reps):
        [k] = overall[i]
        by_provider = [{"provider": plan.providers[pi], **per_provider[i][pi]} for pi in providers]
        if per_day is not None:
            by_day = [{"date": d.date, **x} for d, x in zip(plan.days, per_day[i], strict=True)]
        else:
            by_day = [{"date": plan.days[0].date, **k}] if plan.days else []
        out.append(
            ReplicationResult(
                r, k, by_provider, by_day, series[i], recs[i] if keep_records else None, per_session[i]
            )
        )
    return out


def run_replication(
    plan: Plan, seed: int, r: int, keep_records: bool = False, engine: str = "lean"
) -> ReplicationResult:
    """Replication ``r`` alone (the same numbers as inside any batch)."""
    return run_replications(plan, seed, [r], keep_records, engine)[0]


def _chunks(n: int, size: int) -> list[list[int]]:
    return [list(range(i, min(i + size, n))) for i in range(0, n, size)]


def _run_chunk(
    plan: Plan, seed: int, reps: list[int], keep: bool, engine: str = "lean"
) -> list[ReplicationResult]:
    return run_replications(plan, seed, reps, keep, engine)


_WORKER_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan


def _run_chunk_in_worker(seed: int, reps: list[int], keep: bool, engine: str) -> list[ReplicationResult]:
    assert _WORKER_PLAN is not None
    return _run_chunk(_WORKER_PLAN, seed, reps, keep, engine)


def _chunk_size(n: int, workers: int) -> int:
    # Several chunks per worker keeps the progress bar moving and the load balanced.
    return max(1, min(50, -(-n // (workers * 8))))


def run_local(
    plan: Plan,
    seed: int,
    n: int,
    workers: int,
    keep: bool,
    tick: Callable[[int], None],
    engine: str = "lean",
) -> Iterator[ReplicationResult]:
    """Replications 0..n-1 in this process (workers=1) or a local process pool."""
    if workers <= 1 or n <= 1:
        for c in _chunks(n, _chunk_size(n, 1)):
            out = run_replications(plan, seed, c, keep, engine)
            tick(len(out))
            yield from out
        return
    # fork shares the imported modules at no cost; elsewhere the platform default is used.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods and os.name == "posix" else None)
    chunks = _chunks(n, _chunk_size(n, workers))
    # no more processes than chunks: a fork start method starts every worker at once
    # (``--workers 100000 -n 2`` forked thousands of processes for two replications)
    with ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)), mp_context=ctx, initializer=_init_worker, initargs=(plan,)
    ) as ex:
        futures = [ex.submit(_run_chunk_in_worker, seed, c, keep, engine) for c in chunks]
        for f in futures:
            out = f.result()
            tick(len(out))
            yield from out


def dask_client(cluster):
    """(client, owned): a Dask client for an address (tcp://host:8786), a cluster object or a client.

    An address that is malformed or has no scheduler behind it is an ``InputError`` naming it
    (``cluster``), not a traceback from deep inside distributed.
    """
    from distributed import Client

    if isinstance(cluster, Client):
        return cluster, False
    if isinstance(cluster, str):
        try:
            return Client(cluster, timeout="5s"), True
        except (OSError, ValueError, TypeError) as e:  # unreachable, or not an address at all
            raise InputError(
                None, "cluster", f"could not reach the Dask scheduler at {cluster} ({e})"
            ) from None
        except Exception:  # something answered, but not Dask's protocol (its first frame read as a size)
            raise InputError(
                None,
                "cluster",
                f"could not reach the Dask scheduler at {cluster} (something answered there, but not a "
                "Dask scheduler; expected the address the scheduler prints, e.g. tcp://host:8786)",
            ) from None
    return Client(cluster), True


def run_dask(
    plan: Plan,
    seed: int,
    n: int,
    cluster,
    keep: bool,
    tick: Callable[[int], None],
    engine: str = "lean",
) -> Iterator[ReplicationResult]:
    """Replications on a Dask distributed cluster (an address like tcp://host:8786, a cluster or a client)."""
    from distributed import as_completed

    client, own = dask_client(cluster)
    try:
        workers = max(1, sum(client.nthreads().values()))
        [plan_f] = client.scatter([plan], broadcast=True)
        chunks = _chunks(n, _chunk_size(n, workers))
        futures = [client.submit(_run_chunk, plan_f, seed, c, keep, engine, pure=False) for c in chunks]
        done: dict[int, list[ReplicationResult]] = {}
        for f in as_completed(futures):
            out = f.result()
            tick(len(out))
            done[out[0].replication] = out
        for c in chunks:
            yield from done[c[0]]
    finally:
        if own:
            client.close()
