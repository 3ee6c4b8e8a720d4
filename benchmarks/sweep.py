"""The sweep benchmark of ``make bench`` (:func:`benchmark`), and its driver-memory probe.

``python -m benchmarks.sweep`` prints the figures; ``python -m benchmarks.sweep --memory-probe N``
is the fresh driver process whose peak memory :func:`driver_peak_mb` measures (it runs an N-run,
0.25-year sweep and prints ``runs seconds peak_MB``).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mesa

from dealersim.model.dealership import DealershipModel
from dealersim.studies.sweeps import SweepSpec, parse_spec, run_sweep

ROOT = Path(__file__).resolve().parents[1]
"""The repository root (the memory probe runs ``python -m benchmarks.sweep`` there)."""
BENCH_YEARS = 3.0
PROBE_YEARS = 0.25
"""Horizon of the memory probe's runs (short, so a 10,000-run sweep takes minutes)."""


def bench_spec(runs: int, years: float = BENCH_YEARS, replicates: int = 5) -> SweepSpec:
    """A grid spec of about ``runs`` runs (4 credit policies x wall levels x replicates)."""
    levels = max(1, round(runs / (4 * replicates)))
    return parse_spec({
        "name": "bench", "strategy": "overlay", "sampler": "grid", "replicates": replicates,
        "seed": 2025, "fixed": {"years": years},
        "factors": {"wall_initial": {"low": 0.0, "high": 0.6, "levels": levels},
                    "credit_policy": ["none", "split", "double", "team"]},
    })


def memory_probe(runs: int) -> tuple[int, float, float]:
    """Run an ``runs``-run short sweep on 2 workers here; return (runs, seconds, peak MB)."""
    spec = bench_spec(runs, years=PROBE_YEARS, replicates=10)
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        res = run_sweep(spec, d, workers=2, progress=False)
        seconds = time.perf_counter() - t
    return res.ran, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def driver_peak_mb(runs: int) -> tuple[int, float, float]:
    """:func:`memory_probe` in a fresh driver process; return (runs, seconds, peak MB)."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.sweep", "--memory-probe", str(runs)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory benchmark ({runs} runs) failed: {proc.stderr[-2000:]}")
    n, seconds, peak = proc.stdout.split()[-3:]
    return int(n), float(seconds), float(peak)


def benchmark(runs: int = 200, memory_runs: tuple[int, int] | None = (1_000, 10_000),
              dask_runs: int = 400) -> dict[str, Any]:
    """Measure the sweep engine (called by ``make bench``).

    * parallel efficiency: serial time / (2 x time on 2 local workers), ``runs`` 3-year runs
      (valid only on an otherwise idle machine; ``pool2_utilisation``, the share of the pool's
      2 x wall time spent inside tasks, is the load-robust view of the same overhead);
    * throughput ratio: runs/s of ``run_sweep(workers=2)`` / runs/s of
      ``mesa.batch_run(number_processes=2)`` on the same parameter points and replicate count
      (``max_steps`` 1,100 > the 1,095-day horizon; batch_run cannot key seeds by point, so its
      seeds are the replicate list);
    * driver memory: peak RSS of a fresh driver process for a ``memory_runs[0]``- and a
      ``memory_runs[1]``-run sweep (horizon 0.25 years; ``None`` skips it);
    * Dask overhead: on a ``LocalCluster`` of 2 single-threaded worker processes, the share of
      wall time (connect + pilot + dispatch + import on the workers + tail) not spent running
      models: ``1 - busy / (2 x wall)``.

    Returns:
        The figures, by name (times in seconds, memory in MB), plus the load average.
    """
    fig: dict[str, Any] = {"cpu_count": os.cpu_count(), "load_before": os.getloadavg()[0]}
    spec = bench_spec(runs)
    fig["runs"] = spec.n_runs
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        run_sweep(spec, Path(d) / "serial", workers=1, progress=False)
        serial = time.perf_counter() - t
        t = time.perf_counter()
        res2 = run_sweep(spec, Path(d) / "pool", workers=2, progress=False)
        pool = time.perf_counter() - t
    fig.update(serial_s=serial, pool2_s=pool, parallel_efficiency=serial / (2 * pool),
               runs_per_task=res2.per_task,
               pool2_utilisation=res2.busy_seconds / (2 * pool))

    factors = {f.name: list(f.grid_values(spec.samples)) for f in spec.factors}
    t = time.perf_counter()
    # batch_run reads its results from the model's DataCollector, so it runs the model as a
    # Mesa user would: with the default daily collection. The sweep keeps summaries only.
    mesa.batch_run(DealershipModel, parameters={"strategy": "overlay", **factors, **spec.fixed},
                   number_processes=2, rng=list(range(spec.replicates)), max_steps=1100,
                   data_collection_period=-1, display_progress=False)
    batch = time.perf_counter() - t
    fig.update(batch_run_s=batch, throughput_vs_batch_run=batch / pool)

    if memory_runs is not None:
        small, big = memory_runs
        n1, s1, m1 = driver_peak_mb(small)
        n2, s2, m2 = driver_peak_mb(big)
        fig.update(memory_runs=(n1, n2), memory_sweep_s=(s1, s2), driver_peak_mb=(m1, m2),
                   driver_memory_growth_mb=m2 - m1)
    fig.update(_dask_overhead(dask_runs))
    fig["load_after"] = os.getloadavg()[0]
    return fig


def _dask_overhead(runs: int) -> dict[str, Any]:
    """The Dask figures of :func:`benchmark` on a 2-worker ``LocalCluster``.

    ``distributed`` is imported here: it is heavy, and only this part of the benchmark uses it.
    """
    from distributed import Client, LocalCluster  # heavy optional import (see the docstring)

    dspec = bench_spec(runs)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        res = run_sweep(dspec, d, scheduler=cluster.scheduler_address, progress=False)
        wall = time.perf_counter() - t
        with Client(cluster.scheduler_address) as c:
            nw = len(c.scheduler_info()["workers"])
    return {"dask_runs": res.ran, "dask_wall_s": wall, "dask_busy_s": res.busy_seconds,
            "dask_startup_s": res.startup_seconds,
            "dask_overhead_share": 1 - res.busy_seconds / (nw * wall)}


def main(argv: list[str] | None = None) -> int:
    """Print the sweep figures, or run the memory probe (``--memory-probe N``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sweep",
                                     description=__doc__)
    parser.add_argument("--memory-probe", type=int, metavar="N",
                        help="run an N-run short sweep and print: runs seconds peak_MB")
    args = parser.parse_args(argv)
    if args.memory_probe is not None:
        print(*memory_probe(args.memory_probe))
        return 0
    for key, value in benchmark().items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
