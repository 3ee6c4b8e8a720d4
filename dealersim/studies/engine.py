"""The one run engine: replicated runs on any ``concurrent.futures.Executor``.

``compare``, ``sweep`` and ``validate`` all describe their work as :class:`RunSpec` objects and
hand them to :func:`execute`, which bundles them into tasks (so each task is worth shipping to a
worker), runs the tasks on a local process pool or any other executor (a Dask
``Client.get_executor()``), and yields the finished rows task by task. Seeds are derived from a
master seed with ``numpy.random.SeedSequence`` keyed by (point, replicate), so a row never
depends on the executor, the worker count or the order in which tasks finish.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    as_completed,
    wait,
)
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm as _tqdm_std
from tqdm.auto import tqdm

from dealersim.base.procs import (
    STOP_POLL_SECONDS,
    check_workers,
    sigterm_as_interrupt,
    worker_init,
)
from dealersim.model.dealership import DealershipModel
from dealersim.model.ledger import COLUMNS as LEDGER_COLUMNS
from dealersim.model.ledger import program_exists
from dealersim.model.results import baseline_ledger, package_version, summarize
from dealersim.model.results import ledger_frame as run_ledger


def seed_for(master: int, *key: int) -> int:
    """A 63-bit seed for the run keyed by ``key`` under ``master``.

    ``seed_for(m, p, r)`` equals the seed of ``SeedSequence(m).spawn(...)[p].spawn(...)[r]``,
    so it depends only on the master seed and the key, never on how many runs there are.

    Args:
        master: The experiment's master seed.
        *key: Integers that identify the run, e.g. ``(point, replicate)``.
    """
    ss = np.random.SeedSequence(int(master), spawn_key=tuple(int(k) for k in key))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def replicate_seeds(master: int, n: int) -> list[int]:
    """Seeds of replicates ``0..n-1`` under ``master`` (common random numbers across arms)."""
    return [seed_for(master, i) for i in range(n)]


@dataclass(frozen=True)
class RunSpec:
    """One run to do.

    Attributes:
        run_id: Unique, stable identifier of the run within its experiment.
        strategy: Strategy preset name.
        seed: The run's seed.
        overrides: ``Params`` overrides as ``(name, value)`` pairs.
        labels: Extra columns for the result row, e.g. ``(("replicate", 3),)``.
    """

    run_id: str
    strategy: str
    seed: int
    overrides: tuple[tuple[str, Any], ...] = ()
    labels: tuple[tuple[str, Any], ...] = field(default=())


Series = dict[str, np.ndarray]
"""One run's time series as plain arrays: column name to values on the recorded days."""

_version = functools.cache(package_version)
"""The installed version, looked up once per process (``importlib.metadata`` takes ~1 ms)."""


def run_one(spec: RunSpec, series_stride: int = 0) -> tuple[dict[str, Any], Series | None]:
    """Run one spec to its horizon.

    Args:
        spec: What to run.
        series_stride: Keep the daily series every this many days (0: summary only).

    Returns:
        ``(row, series)``: the summary row (labels, run id, strategy, seed, version and every
        summary KPI) and the time series as plain numpy arrays, one per column of
        ``SERIES_COLUMNS``, on day 0, every ``series_stride``-th day and the last day
        (``None`` when ``series_stride`` is 0). Arrays pickle far faster than a DataFrame;
        :func:`series_frame` builds one DataFrame on the driver.
    """
    model, row = _run(spec, series_stride)
    series = model.datacollector.arrays() if series_stride else None
    return row, series


def _run(spec: RunSpec, series_stride: int) -> tuple[DealershipModel, dict[str, Any]]:
    """Run one spec; return the finished model and its summary row."""
    model = DealershipModel(
        spec.strategy, rng=spec.seed, record_every=series_stride, **dict(spec.overrides)
    )
    model.run()
    row: dict[str, Any] = {
        "run_id": spec.run_id,
        **dict(spec.labels),
        "strategy": spec.strategy,
        "seed": spec.seed,
        "version": _version(),
    }
    row.update(summarize(model))
    return model, row


def run_ledger_task(specs: Sequence[RunSpec], series_stride: int = 0,
                    ) -> list[tuple[dict, dict[str, Any]]]:
    """As :func:`run_task`, but each run also returns its monthly ledger.

    Returns:
        ``(row, {"series": arrays or None, "ledger": {column: monthly array}})`` per run; the
        ledger also holds every line of the hardware-only twin as ``baseline_<line>`` (so the
        money can be recomputed under other money assumptions, see
        :mod:`dealersim.studies.decision`).
    """
    out = []
    for spec in specs:
        model, row = _run(spec, series_stride)
        series = model.datacollector.arrays() if series_stride else None
        ledger = {c: v.to_numpy() for c, v in run_ledger(model).items()}
        base = (baseline_ledger(model.params, spec.seed) if program_exists(model.params)
                else model.ledger)  # cached: the run that gave ``baseline_net``
        ledger.update({f"baseline_{c}": base.rows[:, j] for j, c in enumerate(LEDGER_COLUMNS)})
        out.append((row, {"series": series, "ledger": ledger}))
    return out


def ledger_frame(ledgers: Iterable[tuple[str, dict[str, np.ndarray]]]) -> pd.DataFrame | None:
    """One DataFrame of the monthly ledgers of many runs: ``run_id``, ``month``, the lines.

    Runs are in ``run_id`` order; ``None`` when there is none.
    """
    items = sorted(ledgers, key=lambda item: item[0])
    if not items:
        return None
    frames = [pd.DataFrame(arrays).assign(run_id=run_id) for run_id, arrays in items]
    df = pd.concat(frames, ignore_index=True)
    return df[["run_id", *(c for c in df.columns if c != "run_id")]]


def run_task(specs: Sequence[RunSpec], series_stride: int = 0) -> list[tuple[dict, Series | None]]:
    """Run a bundle of specs in one worker call (the unit shipped to an executor)."""
    return [run_one(s, series_stride) for s in specs]


def series_frame(series: Iterable[tuple[str, Series]]) -> pd.DataFrame | None:
    """One DataFrame from the series runs returned, built once on the driver.

    Args:
        series: ``(run_id, arrays)`` pairs as :func:`run_one` returns them.

    Returns:
        A ``run_id`` column, then the series columns; runs in ``run_id`` order, days in order
        within a run, a fresh ``RangeIndex``. ``None`` when there is no series.
    """
    items = sorted(series, key=lambda item: item[0])
    if not items:
        return None
    columns = list(items[0][1])
    lengths = [len(arrays[columns[0]]) for _, arrays in items]
    ids = np.array([run_id for run_id, _ in items], dtype=object)
    data: dict[str, np.ndarray] = {"run_id": np.repeat(ids, lengths)}
    for c in columns:
        data[c] = np.concatenate([arrays[c] for _, arrays in items])
    return pd.DataFrame(data)


def bundle(specs: Sequence[RunSpec], workers: int, per_task: int | None = None) -> list[list]:
    """Split ``specs`` into tasks: about eight per worker, so the last ones balance out."""
    if per_task is None:
        per_task = max(1, len(specs) // max(1, workers * 8))
    return [list(specs[i : i + per_task]) for i in range(0, len(specs), per_task)]


_tqdm_std.monitor_interval = 0
"""No progress bar starts tqdm's monitor thread: a pool forks only from a one-thread process,
and a bar made before the pool would otherwise push it onto the slower fork server (whose
server and resource tracker outlive a killed driver by seconds)."""

_FORK_SAFE = sys.platform == "linux"
"""Whether a pool may fork from this process directly (Linux, when it runs a single thread)."""


def local_executor(workers: int) -> ProcessPoolExecutor:
    """A local process pool, its workers ready.

    On Linux, when this process runs a single thread, the workers are forked from it at once
    (they start in milliseconds, with everything imported); otherwise they fork from a server
    that imports dealersim first (about 1.4 s). Every worker runs
    :func:`dealersim.base.procs.worker_init`: it ignores Ctrl-C (the driver stops the pool)
    and exits when the driver dies, even by ``kill -9``.

    Raises:
        ValueError: ``workers`` is outside 1..:func:`dealersim.base.procs.worker_cap`.
    """
    check_workers(workers)
    if _FORK_SAFE and threading.active_count() == 1:
        # fork from this process: the workers start in milliseconds with everything imported
        # (a fork server takes ~1.4 s to import the model first); all of them are forked now,
        # while this process runs one thread, which is when forking is safe
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(
            "fork"), initializer=worker_init, initargs=(os.getpid(),))
        pool.submit(int).result()
        return pool
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["dealersim.studies.engine"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=worker_init,
                               initargs=(os.getpid(),))


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a local pool at once: kill its workers, cancel what is queued."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)
    for proc in procs:
        proc.join(5)


def execute(
    specs: Sequence[RunSpec],
    *,
    executor: Executor | None = None,
    workers: int = 1,
    per_task: int | None = None,
    series_stride: int = 0,
    progress: bool | None = None,
    task_fn: Callable[..., Any] = run_task,
    task_args: Iterable[Any] = (),
    tasks: Sequence[Sequence[RunSpec]] | None = None,
    stop: Callable[[], None] | None = None,
) -> TaskResults:
    """Run ``specs``; iterate the result for each finished task's ``(row, series)`` pairs.

    With ``workers == 1`` and no executor the runs happen in this process, in order. Otherwise
    tasks go to ``executor`` (or a local process pool of ``workers``) and are yielded as they
    finish; callers sort rows by ``run_id`` or labels if they need an order.

    SIGTERM is handled like Ctrl-C while this runs (:func:`dealersim.base.procs.sigterm_as_
    interrupt`): on either, or on any error, a local pool's workers are killed at once rather
    than left to finish their tasks, and the exception propagates.

    Args:
        specs: The runs.
        executor: Any ``concurrent.futures.Executor`` (e.g. a Dask client's executor).
        workers: Local worker processes when no executor is given.
        per_task: Runs per task (default: about eight tasks per worker).
        series_stride: Keep daily series every this many days (0: none).
        progress: Show a progress bar on stderr (default: when stderr is a terminal).
        task_fn: The function run per task (default :func:`run_task`); must be picklable.
        task_args: Extra positional arguments for ``task_fn`` after the bundle.
        tasks: Ready-made bundles to run as they are (then ``specs`` and ``per_task`` are
            ignored): the sweep driver fixes its bundles so that a part's name never changes.
        stop: Called before every task in this process, and every
            :data:`~dealersim.base.procs.STOP_POLL_SECONDS` while waiting for workers; it
            raises to stop (e.g. :meth:`dealersim.base.procs.StopFlag.check`), and the pool is
            then stopped as on Ctrl-C.
    """
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")
    extra = tuple(task_args)
    serial = executor is None and workers <= 1
    if tasks is None:
        tasks = bundle(specs, 1, per_task or 1) if serial else bundle(specs, workers, per_task)
    # the local pool starts now, when execute() is called, not when its results are first
    # asked for: a caller's progress bar, made in between, must not run a thread yet when the
    # workers are forked (see local_executor)
    pool = None if serial else local_executor(workers) if executor is None else executor
    results = _results(tasks, pool, executor is None, serial, progress, task_fn, extra,
                       series_stride, stop)
    return TaskResults(results, pool if executor is None else None)


class TaskResults(Iterator[Any]):
    """What :func:`execute` returns: its results as they finish, and ``close`` to stop.

    ``close`` stops the work at once (a local pool's workers are killed), also before the
    first result was asked for.
    """

    def __init__(self, results: Iterator[Any], pool: ProcessPoolExecutor | None) -> None:
        self._results = results
        self._pool = pool
        self._started = False

    def __next__(self) -> Any:
        self._started = True
        return next(self._results)

    def close(self) -> None:
        """Stop: kill a local pool's workers, cancel what is queued."""
        self._results.close()
        if not self._started and self._pool is not None:
            _kill_pool(self._pool)

    def __del__(self) -> None:
        if not self._started and self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _results(tasks: Sequence[Sequence[Any]], pool: Executor | None, own_pool: bool,
             serial: bool, progress: bool, task_fn: Callable[..., Any], extra: tuple[Any, ...],
             series_stride: int, stop: Callable[[], None] | None) -> Iterator[Any]:
    total = sum(len(t) for t in tasks)
    with sigterm_as_interrupt(), tqdm(total=total, unit="run", disable=not progress,
                                      smoothing=0.1) as bar:
        if serial:
            for task in tasks:
                if stop is not None:
                    stop()
                out = task_fn(task, series_stride, *extra)
                bar.update(len(task))
                yield out
            return
        futures: dict[Future, int] = {}
        try:
            for task in tasks:
                futures[pool.submit(task_fn, task, series_stride, *extra)] = len(task)
            for fut in _finished(futures, stop):
                out = fut.result()
                bar.update(futures.pop(fut))
                yield out
        except BaseException:
            if own_pool:
                _kill_pool(pool)
            else:
                for fut in futures:
                    fut.cancel()
            raise
        finally:
            if own_pool:
                pool.shutdown(wait=True, cancel_futures=True)


def _finished(futures: Iterable[Future], stop: Callable[[], None] | None) -> Iterator[Future]:
    """The futures as they finish: ``as_completed``, or with ``stop`` a polling wait."""
    if stop is None:
        yield from as_completed(futures)
        return
    pending = set(futures)
    while pending:
        stop()
        done, pending = wait(pending, timeout=STOP_POLL_SECONDS, return_when=FIRST_COMPLETED)
        yield from done


def collect_runs(
    batches: Iterable[list[tuple[dict, Series | None]]],
) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """Flatten :func:`execute` output to summary rows sorted by ``run_id`` and one series frame.

    Returns:
        ``(rows, series)``: the rows, and :func:`series_frame` of the series the runs kept
        (``None`` when none did).
    """
    rows: list[dict[str, Any]] = []
    series: list[tuple[str, Series]] = []
    for batch in batches:
        for row, arrays in batch:
            rows.append(row)
            if arrays is not None:
                series.append((row["run_id"], arrays))
    return sorted(rows, key=lambda r: r["run_id"]), series_frame(series)


def collect_rows(batches: Iterable[list[tuple[dict, Series | None]]]) -> list[dict[str, Any]]:
    """Flatten :func:`execute` output to summary rows sorted by ``run_id``."""
    rows = [row for batch in batches for row, _ in batch]
    return sorted(rows, key=lambda r: r["run_id"])
