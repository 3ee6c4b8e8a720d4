"""``make bench``: speed and memory figures, each a ratio measured in one run on this machine.

Run with ``python -m benchmarks.run [--quick]`` from the repository root. Every ratio compares two
things timed in the same process *in turn*, round after round (a kernel, then a run, then the
kernel again...), and takes the best time of each side, so a machine shared with other jobs slows
both sides alike. Every figure carries the 1-minute load average (``os.getloadavg``) seen while it
was measured: on 2 cores, figures taken at a load above about 2 are not comparable. Results are
printed with their targets and written to ``out/bench/results.json``; docs/performance.md records
them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from dealersim.model.dealership import DealershipModel
from dealersim.model.params import Params
from dealersim.model.strategies import make_params
from dealersim.studies.compare import DEFAULT_STRIDE
from dealersim.studies.engine import RunSpec, replicate_seeds, run_one

DEFAULT = {}
MEDIUM = {"n_reps": 20, "accounts_per_rep": 125}  # 2,500 ours + 2,500 competitors' = 5,000
LARGE = {"n_reps": 20, "accounts_per_rep": 2500}  # 50,000 + 50,000 = 100,000 accounts


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` timings of ``fn()``, in seconds."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def load() -> float:
    """The 1-minute load average (runnable processes; 2 means both cores busy)."""
    return round(os.getloadavg()[0], 2)


def interleaved(fns: dict[str, Callable[[], Any]], rounds: int, *,
                timed: bool = False) -> dict[str, Any]:
    """Time every function once per round, in turn, and keep each one's best time.

    Timing the two sides of a ratio back to back, round after round, exposes them to the same
    load; the best of the rounds is the least disturbed.

    Args:
        fns: The functions, by name.
        rounds: Rounds to time.
        timed: The functions time themselves and return seconds (e.g. a subprocess timing
            only its work, not its start).

    Returns:
        ``{name: best seconds}`` plus ``load``: the load average before and after.
    """
    best = dict.fromkeys(fns, float("inf"))
    before = load()
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            out = fn()
            best[name] = min(best[name], out if timed else time.perf_counter() - t)
    return {**best, "load": (before, load())}


def naive_daily_kernel(n_accounts: int, days: int, seed: int = 0) -> float:
    """A plain numpy kernel that touches every account once a day (the yardstick).

    Per day: one uniform draw per account, a loss test against a relationship-dependent hazard,
    value decay, and the day's gross profit over the accounts held: the minimum a model that
    updates every account daily would do.
    """
    rng = np.random.default_rng(seed)
    value = rng.random(n_accounts) * 700.0
    relationship = rng.random(n_accounts)
    held = np.ones(n_accounts, dtype=bool)
    hazard = 0.0002 * (1.5 - relationship)
    gp = 0.0
    for _ in range(days):
        u = rng.random(n_accounts)
        held &= ~(u < hazard)
        value *= 0.99989
        gp += float(value[held].sum()) * 0.3 / 30.4
    return gp


def model_run(overrides: dict[str, Any], record_every: int = 1) -> DealershipModel:
    """One full run of the overlay strategy with ``overrides`` (seed 1)."""
    return DealershipModel("overlay", rng=1, record_every=record_every, **overrides).run()


def model_vs_kernel(overrides: dict[str, Any], repeats: int) -> dict[str, Any]:
    """Time a run (daily series), a summary-only run and the naive kernel, in turn.

    The kernel gets the same accounts and days as the run. ``ratio`` is the run with its
    full daily series (``record_every=1``, what ``simulate`` does); ``ratio_summary_only`` the
    same run recording day 0 and the last day only (``record_every=0``, what summary-only
    sweeps do): their difference is the cost of recording.
    """
    p = Params(**overrides)
    n = p.n_own_accounts + int(round(p.n_own_accounts * p.competitor_ratio))
    t = interleaved({
        "kernel_s": lambda: naive_daily_kernel(n, p.horizon_days),
        "model_s": lambda: model_run(overrides),
        "summary_only_s": lambda: model_run(overrides, record_every=0),
    }, repeats)
    return {"accounts": n, **t, "ratio": t["model_s"] / t["kernel_s"],
            "ratio_summary_only": t["summary_only_s"] / t["kernel_s"]}


def peak_rss_mb(overrides: dict[str, Any]) -> float:
    """Peak resident memory of a fresh process that does one run with ``overrides``.

    Read from ``VmHWM`` in ``/proc/self/status`` (the peak of the process's own memory since
    it started Python). ``getrusage``'s ``ru_maxrss`` is not used on Linux: it keeps the peak
    of the process image before ``exec``, i.e. of this benchmark's own (larger) process that
    forked it, and so reported this process's size instead of the run's.
    """
    code = (  # imports the model only, not this module (which pulls in the studies)
        "import resource, sys\n"
        "from dealersim.model.dealership import DealershipModel\n"
        f"DealershipModel('overlay', rng=1, **{overrides!r}).run()\n"
        "if sys.platform == 'linux':\n"
        "    status = open('/proc/self/status').read()\n"
        "    print(int(status.split('VmHWM:')[1].split()[0]) / 1024)\n"
        "else:\n"
        "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def across_seeds(strategies: tuple[str, ...] = ("overlay", "planned"), seeds: int = 5,
                 rounds: int = 3) -> dict[str, Any]:
    """Run-to-kernel ratios (daily series) over seeds ``0..seeds-1``: median, lowest, highest.

    The cost of a run depends on what happens in it (a specialist who stays and sells makes
    pipeline work every day), so one seed of one strategy is not the whole story: seed 1 of
    ``overlay`` (the headline figure, kept for comparison with earlier measurements) is among
    the cheaper runs.
    """
    p = Params()
    n = p.n_own_accounts + int(round(p.n_own_accounts * p.competitor_ratio))
    fns: dict[str, Callable[[], Any]] = {
        "kernel": lambda: naive_daily_kernel(n, p.horizon_days)}
    for s in strategies:
        for seed in range(seeds):
            fns[f"{s}/{seed}"] = lambda s=s, seed=seed: DealershipModel(s, rng=seed).run()
    t = interleaved(fns, rounds)
    out: dict[str, Any] = {"kernel_s": t["kernel"], "seeds": seeds, "load": t["load"]}
    for s in strategies:
        ratios = sorted(t[f"{s}/{seed}"] / t["kernel"] for seed in range(seeds))
        out[s] = {"median": float(np.median(ratios)), "low": ratios[0], "high": ratios[-1]}
    return out


def bench_model(repeats: int) -> dict[str, Any]:
    """Issues 2 and 8: the model against the naive kernel, scaling to 100k accounts, memory."""
    default = model_vs_kernel(DEFAULT, 3 * repeats)
    seeds = across_seeds(rounds=max(2, repeats // 2))
    medium = model_vs_kernel(MEDIUM, repeats)
    large_s = best_of(lambda: model_run(LARGE), max(1, repeats // 2))
    return {
        "default_run": default,
        "across_seeds": seeds,
        "medium_run": medium,
        "large_run_s": large_s,
        "large_vs_medium_cost": large_s / medium["model_s"],
        "large_rss_mb": peak_rss_mb(LARGE),
        "default_rss_mb": peak_rss_mb(DEFAULT),
    }


_CPU = """\
import resource, time
import psutil
def cpu():  # this process, its reaped children, and its live children with theirs
    me = psutil.Process()
    own = sum(me.cpu_times()[:2])
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    live = sum(sum(c.cpu_times()[:4]) for c in me.children())
    return own + reaped.ru_utime + reaped.ru_stime + live
"""
_COMPARE = _CPU + """\
from dealersim.studies.compare import run_compare
c, t = cpu(), time.perf_counter()
run_compare({strategies!r}, replicates={replicates}, seed={seed}, workers={workers},
            series_stride={stride}, progress=False)
print(time.perf_counter() - t, cpu() - c)
"""
_BATCH_RUN = _CPU + """\
import mesa
from dealersim.model.dealership import DealershipModel
c, t = cpu(), time.perf_counter()
mesa.batch_run(DealershipModel, {{"strategy": {strategies!r}}}, rng={seeds!r},
               number_processes=2, max_steps={max_steps}, display_progress=False)
print(time.perf_counter() - t, cpu() - c)
"""


def bench_compare(replicates: int = 200, rounds: int = 2, seed: int = 0) -> dict[str, Any]:
    """Issues 3 and 8: ``compare overlay planned`` on 1 and 2 workers, and ``mesa.batch_run``.

    Each round times, in turn: ``run_compare`` with 1 worker (in its process) and with 2 (a
    fresh local pool, start-up included), both keeping the weekly series as ``dealersim
    compare`` does; the same on 2 workers keeping summaries only; and ``mesa.batch_run`` on the
    same ``2 * replicates`` models and seeds with ``number_processes=2`` (Mesa's defaults: the
    model records its daily series, batch_run returns each run's last recorded day; its pool
    start-up included). Each call runs in a fresh interpreter whose main module imports only
    what that call needs (spawned workers re-import the main module, so timing batch_run from
    this module would charge it for importing the studies), and is timed around the call
    alone. The best of the rounds is kept.

    Returns:
        ``runs``, ``t1``, ``t2``, ``t2_summary_only``, ``t_batch_run`` (best seconds),
        ``efficiency`` = ``t1 / (2 t2)``, ``throughput_ratio`` = ``t_batch_run / t2`` (our
        runs per second over Mesa's), ``throughput_ratio_summary_only``, and ``load``.
    """
    strategies = ["overlay", "planned"]

    cpu: dict[str, float] = {}

    def timed(name: str, code: str) -> Callable[[], float]:
        def call() -> float:
            wall, seconds = _timed_in_subprocess(code)
            cpu[name] = min(cpu.get(name, float("inf")), seconds)
            return wall
        return call

    def ours(workers: int, stride: int) -> str:
        return _COMPARE.format(strategies=strategies, replicates=replicates, seed=seed,
                               workers=workers, stride=stride)

    batch_run = _BATCH_RUN.format(strategies=strategies, seeds=replicate_seeds(seed, replicates),
                                  max_steps=make_params("overlay").horizon_days + 5)
    t = interleaved({
        "t1": timed("t1", ours(1, DEFAULT_STRIDE)),
        "t2": timed("t2", ours(2, DEFAULT_STRIDE)),
        "t2_summary_only": timed("t2_summary_only", ours(2, 0)),
        "t_batch_run": timed("t_batch_run", batch_run),
    }, rounds, timed=True)
    return {
        "runs": 2 * replicates,
        **t,
        "cpu_s": cpu,
        "per_run": per_run_costs(),
        "efficiency": t["t1"] / (2 * t["t2"]),
        "throughput_ratio": t["t_batch_run"] / t["t2"],
        "throughput_ratio_summary_only": t["t_batch_run"] / t["t2_summary_only"],
        "cpu_efficiency": cpu["t1"] / cpu["t2"],
        "cpu_throughput_ratio": cpu["t_batch_run"] / cpu["t2"],
    }


def per_run_costs(rounds: int = 10, seed: int = 3) -> dict[str, Any]:
    """One run as a compare worker does it and as ``mesa.batch_run`` does it, in this process.

    The load-robust part of the throughput comparison: ``run_one`` keeping the weekly series
    (and summaries only) against ``mesa.batch_run(number_processes=1)`` of the same single run
    (which steps the model with its daily series and builds batch_run's result row), timed in
    turn, for an overlay run (mostly quiet days, which ``run()`` passes in one go) and a planned
    run (a specialist at work every day: both runners execute the same code). What the
    whole-call ratio adds on top is pool start-up and parallel overhead.
    """
    horizon = make_params("overlay").horizon_days
    previous = multiprocessing.get_start_method(allow_none=True)

    def batch_one(strategy: str) -> Callable[[], Any]:
        return lambda: mesa.batch_run(
            DealershipModel, {"strategy": strategy}, rng=[seed], number_processes=1,
            max_steps=horizon + 5, display_progress=False)

    overlay, planned = RunSpec("bench", "overlay", seed), RunSpec("bench", "planned", seed)
    try:  # batch_run forces the global start method to spawn, even in one process
        t = interleaved({
            "run_one_s": lambda: run_one(overlay, DEFAULT_STRIDE),
            "run_one_summary_only_s": lambda: run_one(overlay, 0),
            "batch_run_one_s": batch_one("overlay"),
            "run_one_planned_s": lambda: run_one(planned, DEFAULT_STRIDE),
            "batch_run_one_planned_s": batch_one("planned"),
        }, rounds)
    finally:
        multiprocessing.set_start_method(previous, force=True)
    return {**t, "per_run_ratio": t["batch_run_one_s"] / t["run_one_s"],
            "per_run_ratio_planned": t["batch_run_one_planned_s"] / t["run_one_planned_s"]}


def _timed_in_subprocess(code: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter; it prints its wall and CPU seconds as the last line.

    The CPU seconds cover the interpreter, its pool workers and any pool server (whose reaped
    workers count as its children), from just before the timed call to just after it.
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def report(results: dict[str, Any]) -> str:
    """Human-readable lines, each figure with its target and the load it was measured at."""
    lines: list[str] = []
    if "model" in results:
        lines += _model_lines(results["model"])
    if results.get("compare"):
        lines += _compare_lines(results["compare"])
    if results.get("sweep"):
        lines.append("sweep")
        lines += [f"  {k}: {_num(v)}" for k, v in results["sweep"].items()]
    if results.get("dashboard"):
        d = results["dashboard"]
        lines += ["dashboard (Chromium, 1366x768, seed changes)",
                  f"  change-to-redraw median {d['redraw_median']:.3f} s over {d['changes']} "
                  f"changes (target <= 0.5 s, must <= 1 s); min {d['redraw_min']:.3f}, max "
                  f"{d['redraw_max']:.3f}",
                  f"  replay frame interval {d['frame_median'] * 1000:.0f} ms (intended "
                  f"{d['frame_intended'] * 1000:.0f} ms; target within 1.5x) [{d['load']}]"]
    return "\n".join(lines)


def _num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, tuple | list):
        return "(" + ", ".join(_num(x) for x in v) + ")"
    return str(v)


def _load(fig: dict[str, Any]) -> str:
    before, after = fig["load"]
    return f"[load {before:.1f} -> {after:.1f}]"


def _model_lines(m: dict[str, Any]) -> list[str]:
    d, med, sd = m["default_run"], m["medium_run"], m["across_seeds"]
    spread = "; ".join(
        f"{s} {sd[s]['median']:.2f} ({sd[s]['low']:.2f}-{sd[s]['high']:.2f})"
        for s in sd if isinstance(sd[s], dict))
    return [
        "model (issues 2 and 8)",
        f"  default 3-year run ({d['accounts']:,} accounts, daily series): "
        f"{d['model_s'] * 1000:.0f} ms; naive daily numpy kernel {d['kernel_s'] * 1000:.0f} ms; "
        f"run-to-kernel ratio {d['ratio']:.2f} (target <= 1.5, goal <= 1) {_load(d)}",
        f"  same run, summary only (record_every=0): {d['summary_only_s'] * 1000:.0f} ms; "
        f"ratio {d['ratio_summary_only']:.2f} (the rest is the cost of recording)",
        f"  run-to-kernel ratio over seeds 0-{sd['seeds'] - 1}, median (lowest-highest): "
        f"{spread} {_load(sd)}",
        f"  20 reps, {med['accounts']:,} accounts: {med['model_s'] * 1000:.0f} ms; kernel "
        f"{med['kernel_s'] * 1000:.0f} ms; ratio {med['ratio']:.2f} (target <= 1.5, goal <= 1) "
        f"{_load(med)}",
        f"  100,000 accounts: {m['large_run_s'] * 1000:.0f} ms; cost ratio to 5,000 accounts "
        f"{m['large_vs_medium_cost']:.2f} (target <= 5, must <= 20)",
        f"  peak RSS: {m['large_rss_mb']:.0f} MB at 100,000 accounts, {m['default_rss_mb']:.0f} MB "
        "at the default size (target <= 200 MB)",
    ]


def _compare_lines(c: dict[str, Any]) -> list[str]:
    r, cpu = c["per_run"], c["cpu_s"]
    return [
        f"compare overlay planned ({c['runs']} runs, weekly series; issues 3 and 8)",
        f"  1 worker {c['t1']:.1f} s, 2 workers {c['t2']:.1f} s: parallel efficiency "
        f"{c['efficiency']:.0%} (target >= 88%) {_load(c)}",
        f"  mesa.batch_run(number_processes=2) {c['t_batch_run']:.1f} s: throughput "
        f"{c['throughput_ratio']:.2f}x batch_run (target >= 1.5) {_load(c)}",
        f"  summaries only, 2 workers {c['t2_summary_only']:.1f} s: throughput "
        f"{c['throughput_ratio_summary_only']:.2f}x batch_run",
        f"  CPU seconds (all processes; load-robust): 1 worker {cpu['t1']:.1f}, 2 workers "
        f"{cpu['t2']:.1f}, batch_run {cpu['t_batch_run']:.1f}: work efficiency "
        f"{c['cpu_efficiency']:.0%}, CPU per run batch_run / ours {c['cpu_throughput_ratio']:.2f}",
        f"  one run in this process: run_one (weekly series) {r['run_one_s'] * 1000:.0f} ms, "
        f"summary only {r['run_one_summary_only_s'] * 1000:.0f} ms, batch_run of it "
        f"{r['batch_run_one_s'] * 1000:.0f} ms: {r['per_run_ratio']:.2f}x {_load(r)}",
        f"  one planned run (a specialist at work every day, the same code in both): run_one "
        f"{r['run_one_planned_s'] * 1000:.0f} ms, batch_run of it "
        f"{r['batch_run_one_planned_s'] * 1000:.0f} ms: {r['per_run_ratio_planned']:.2f}x",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print them and write ``out/bench/results.json``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and runs")
    parser.add_argument("--only", choices=("model", "compare", "sweep", "dashboard"),
                        help="one section")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else 5
    results: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
                               "load_at_start": load()}
    if args.only in (None, "model"):
        results["model"] = bench_model(repeats)
    if args.only in (None, "compare"):
        results["compare"] = bench_compare(50 if args.quick else 200, 1 if args.quick else 2)
    if args.only in (None, "sweep"):
        quick = {"runs": 100, "memory_runs": None, "dask_runs": 200} if args.quick else {}
        from benchmarks import sweep

        results["sweep"] = sweep.benchmark(**quick)
    if args.only in (None, "dashboard"):  # needs Chromium: $DEALERSIM_CHROMIUM (make browser)
        from benchmarks import dashboard

        results["dashboard"] = dashboard.measure()
    print(report(results))
    out = Path("out") / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
