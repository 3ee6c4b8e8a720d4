"""The sweep driver: run (or resume) a sweep into a locked directory, on any executor.

:func:`run_sweep` connects to the scheduler (if any) before it writes anything, takes the
directory's lock (:class:`~dealersim.studies.sweeps.store.SweepLock`), cuts the design into fixed
bundles (:func:`~dealersim.studies.sweeps.store.plan`), repairs what an earlier session left
(:func:`~dealersim.studies.sweeps.store.repair`), and hands the bundles whose part is missing to
:func:`dealersim.studies.engine.execute`. Each task writes its own Parquet part and returns only
counts, so the driver's memory stays flat. Progress is a tqdm bar on stderr.

Example:
    >>> spec = load_spec("experiments/tipping_point.toml")      # doctest: +SKIP
    >>> run_sweep(spec, "out/tipping", workers=2)              # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from tqdm.auto import tqdm

from dealersim.base.extras import need
from dealersim.base.io import write_text
from dealersim.base.procs import check_workers
from dealersim.model.strategies import make_params
from dealersim.studies.engine import RunSpec, execute, run_one, series_frame
from dealersim.studies.sweeps.design import run_specs
from dealersim.studies.sweeps.spec import SpecError, SweepSpec
from dealersim.studies.sweeps.store import (
    MANIFEST,
    SweepLock,
    clean_temp,
    new_manifest,
    part_name,
    part_run_ids,
    plan,
    read_manifest,
    repair,
    write_manifest,
    write_part,
)

TARGET_TASK_SECONDS = 0.1
"""A task bundles enough runs to take at least this long (so shipping it is worth it)."""
MAX_TASK_SECONDS = 3.0
"""... and at most about this long (progress, balance and resume granularity)."""
CONNECT_SECONDS = 10.0
"""How long to try to reach a ``--scheduler`` before giving up."""


class SchedulerUnreachable(SpecError):
    """The Dask scheduler could not be reached (nothing was written)."""


@dataclass
class SweepResult:
    """What a sweep did.

    Attributes:
        out: The sweep directory.
        total: Runs in the design.
        skipped: Runs already on disk (resume).
        ran: Runs done now.
        seconds: Wall time of the run phase.
        busy_seconds: Summed task time reported by the workers.
        per_task: Runs per task (fixed for the sweep by its manifest).
        tasks: Tasks submitted.
        startup_seconds: Time to get the executor ready (pool or cluster connection).
        repaired: What the resume repaired (see :func:`~dealersim.studies.sweeps.store.repair`).
    """

    out: Path
    total: int
    skipped: int
    ran: int
    seconds: float
    busy_seconds: float
    per_task: int
    tasks: int
    startup_seconds: float = 0.0
    repaired: dict[str, int] = field(default_factory=dict)


def write_part_task(specs: Sequence[RunSpec], series_stride: int, out_dir: str) -> dict[str, Any]:
    """Engine task: run a bundle and write its rows as the bundle's part in ``out_dir/runs``.

    Args:
        specs: The bundle of runs (one of the sweep's fixed bundles).
        series_stride: Keep daily series every this many days (0: none).
        out_dir: The sweep directory (shared by all workers).

    Returns:
        ``{"runs": n, "seconds": busy time, "part": file name}``.
    """
    start = time.perf_counter()
    rows, series = [], []
    for s in specs:
        row, ts = run_one(s, series_stride)
        rows.append({**row, **make_params(s.strategy, **dict(s.overrides)).to_dict()})
        if ts is not None:
            series.append((s.run_id, ts))
    frame = series_frame(series)
    name = write_part(Path(out_dir), [s.run_id for s in specs], rows, frame)
    return {"runs": len(rows), "seconds": time.perf_counter() - start, "part": name}


def task_size(n_runs: int, workers: int, run_seconds: float) -> int:
    """Runs per task: >= TARGET_TASK_SECONDS of work, ~8 tasks a worker, <= MAX_TASK_SECONDS."""
    low = max(1, math.ceil(TARGET_TASK_SECONDS / run_seconds))
    high = max(low, int(MAX_TASK_SECONDS / run_seconds))
    balanced = n_runs // max(1, workers * 8)
    return max(low, min(balanced, high))


def _estimate_run_seconds(first: RunSpec) -> float:
    """Time one representative run (the first one) in the driver to size the tasks."""
    start = time.perf_counter()
    run_one(first, 0)
    return max(time.perf_counter() - start, 1e-3)


def _probe(scheduler: str, timeout: float) -> None:
    """Ask ``scheduler`` who it is, in a fresh event loop, giving up after ``timeout`` seconds.

    ``distributed.Client`` bounds the TCP connection by its ``timeout`` but not the exchange
    after it: an address that accepts and never answers would hold it forever.

    Raises:
        TimeoutError: No answer in time.
        OSError: No connection.
    """
    import asyncio  # noqa: PLC0415 - with the heavy import below

    from distributed.core import rpc  # noqa: PLC0415 - heavy optional import

    async def ask() -> None:
        async with rpc(scheduler, timeout=timeout) as r:
            await r.identity()

    async def bounded() -> None:
        await asyncio.wait_for(ask(), timeout)

    failure: list[BaseException] = []

    def probe() -> None:
        try:
            asyncio.run(bounded())
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)

    # a thread with a hard deadline: whatever the event loop does on cancellation, the answer
    # (or its absence) is known within the timeout and a margin
    thread = threading.Thread(target=probe, name="dealersim-scheduler-probe", daemon=True)
    thread.start()
    thread.join(timeout + 2.0)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if failure:
        raise failure[0]


def connect(scheduler: str, timeout: float = CONNECT_SECONDS) -> Any:
    """A ``distributed.Client`` on ``scheduler``, or a one-line :class:`SchedulerUnreachable`.

    The scheduler is first asked who it is (:func:`_probe`), so an address that does not answer
    is refused within ``timeout`` seconds (plus the import). ``distributed`` (the optional extra
    ``dask``) is imported here, not at the top: it costs about a second and only ``--scheduler``
    needs it.

    Raises:
        MissingExtra: ``distributed`` is not installed.
        SchedulerUnreachable: No scheduler answers at ``scheduler``.
    """
    need("dask", "--scheduler")
    from distributed import Client  # heavy optional import (see the docstring)

    try:
        _probe(scheduler, timeout)
        return Client(scheduler, set_as_default=False, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:200] or "no answer"
        if isinstance(exc, TimeoutError):
            reason = f"no answer within {timeout:g} s"
        raise SchedulerUnreachable(
            f"--scheduler: cannot reach {scheduler!r} ({reason}); expected a running Dask "
            "scheduler (dask scheduler --host HOST --port PORT)"
        ) from None


def _check_out(spec: SweepSpec, out: Path, resume: bool) -> dict[str, Any] | None:
    """The manifest of the sweep already in ``out`` (``None``: a new sweep); lock held.

    Raises:
        SpecError: ``out`` holds a sweep and ``resume`` is false, holds a different spec, or has
            parts but no manifest.
    """
    if (out / MANIFEST).exists():
        if not resume:
            raise SpecError(
                f"--out: {str(out)!r} already holds a sweep; use --resume or another directory"
            )
        old = read_manifest(out)
        if old.get("fingerprint") != spec.fingerprint():
            raise SpecError(
                f"--resume: the spec differs from the one in {str(out / 'spec.toml')!r}; "
                "resume with the same spec or use another directory"
            )
        return old
    if (out / "runs").is_dir() and any((out / "runs").glob("part-*")):
        raise SpecError(f"--out: {str(out)!r} has runs but no manifest.json; cannot check them; "
                        "expected an empty directory or a sweep directory")
    return None


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    spec_text: str | None = None,
    progress: bool | None = None,
    per_task: int | None = None,
) -> SweepResult:
    """Run (or resume) a sweep into ``out``.

    Args:
        spec: The validated spec.
        out: The sweep directory (``runs/``, ``series/``, ``spec.toml``, ``manifest.json``).
        workers: Local worker processes (default: the CPU count; 1 runs in this process; at
            most :func:`dealersim.base.procs.worker_cap`).
        scheduler: A Dask scheduler address (``tcp://host:port``) to run on instead; it is
            reached before anything is written.
        executor: Any ``concurrent.futures.Executor`` to run on instead.
        resume: Run only the bundles whose part is missing, after :func:`repair`.
        spec_text: The spec's TOML text, stored as ``spec.toml`` (default: re-serialised).
        progress: Show progress on stderr (default: on a terminal).
        per_task: Runs per task for a new sweep (default: sized from a timed pilot run); a
            resumed sweep keeps the value in its manifest.

    Returns:
        A :class:`SweepResult`.

    Raises:
        SpecError: One line: the directory is locked by another writer, holds another sweep,
            or the scheduler cannot be reached.
        ValueError: ``workers`` is outside 1..the cap.
        OSError: The directory cannot be written (e.g. the disk turned read-only).
    """
    out = Path(out)
    n_workers = check_workers(workers if workers is not None else (os.cpu_count() or 1))
    if per_task is not None:
        if isinstance(per_task, bool) or not isinstance(per_task, int) or per_task < 1:
            raise ValueError(f"per_task: {per_task!r} is not allowed; expected an integer >= 1")
    t0 = time.perf_counter()
    client = connect(scheduler) if scheduler is not None else None
    try:
        if client is not None:
            executor = client.get_executor()
            n_workers = max(1, sum(client.nthreads().values()))
        startup = time.perf_counter() - t0
        with SweepLock(out):
            return _run_locked(spec, out, resume=resume, spec_text=spec_text,
                               progress=progress, per_task=per_task, executor=executor,
                               n_workers=n_workers, startup=startup)
    finally:
        if client is not None:
            client.close()


def _run_locked(spec: SweepSpec, out: Path, *, resume: bool, spec_text: str | None,
                progress: bool | None, per_task: int | None, executor: Executor | None,
                n_workers: int, startup: float) -> SweepResult:
    old = _check_out(spec, out, resume)
    specs = run_specs(spec)
    total = len(specs)
    if old is not None and isinstance(old.get("per_task"), int) and old["per_task"] >= 1:
        per_task = old["per_task"]
    elif per_task is None:
        per_task = task_size(total, n_workers, _estimate_run_seconds(specs[0]))
    for d in (out / "runs", out / "series"):
        d.mkdir(parents=True, exist_ok=True)
    manifest = dict(old) if old is not None else new_manifest(
        spec, per_task, time.strftime("%Y-%m-%dT%H:%M:%S"))
    if old is None:
        write_text(out / "spec.toml", spec_text if spec_text is not None else _dump(spec))
    if manifest.get("per_task") != per_task or old is None:
        manifest["per_task"] = per_task
        write_manifest(out, manifest)
    bundles = plan(specs, per_task)
    del specs
    repaired = repair(out, bundles)
    done = set(part_run_ids(out))
    todo = [b for b in bundles if part_name([s.run_id for s in b]) not in done]
    skipped = total - sum(len(b) for b in todo)
    ran, busy = 0, 0.0
    enabled = (sys.stderr.isatty() and not os.environ.get("CI")) if progress is None else progress
    t1 = time.perf_counter()
    tasks = execute((), tasks=todo, executor=executor,
                    workers=n_workers if executor is None else 1,
                    series_stride=spec.series_stride, progress=False,
                    task_fn=write_part_task, task_args=(str(out.resolve()),))
    try:
        with tqdm(total=total, initial=skipped, unit="run", desc=spec.name, smoothing=0.1,
                  disable=not enabled, mininterval=0.1 if sys.stderr.isatty() else 10.0) as bar:
            for res in tasks:
                ran += res["runs"]
                busy += res["seconds"]
                bar.update(res["runs"])
    except BaseException:
        tasks.close()  # stops the pool at once (see execute)
        # remove what the killed workers were writing (best effort: the disk may be what
        # failed); the finished parts stay for --resume
        with contextlib.suppress(OSError):
            clean_temp(out)
        raise
    seconds = time.perf_counter() - t1
    ids = [i for part in part_run_ids(out).values() for i in part]
    manifest.update(complete=len(ids) == total and len(set(ids)) == total,
                    last_finished=time.strftime("%Y-%m-%dT%H:%M:%S"))
    write_manifest(out, manifest)
    return SweepResult(out=out, total=total, skipped=skipped, ran=ran, seconds=seconds,
                       busy_seconds=busy, per_task=per_task, tasks=len(todo),
                       startup_seconds=startup, repaired=repaired)


def _dump(spec: SweepSpec) -> str:
    """The spec's document as TOML (when its text was not given)."""
    return tomli_w.dumps(spec.raw)
