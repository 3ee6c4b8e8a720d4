"""``make bench``: speed and memory figures, each a ratio measured in one run on this machine.

Run with ``python -m dealersim.cli.bench [--quick]``. Every timing is the best of several repeats
(``time.perf_counter``); every ratio compares two things measured in the same process, so the
figures transfer between machines better than seconds do. Results are printed and written to
``out/bench/results.json``; docs/performance.md records them with their targets.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dealersim.model.dealership import DealershipModel
from dealersim.model.params import Params

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


def model_vs_kernel(overrides: dict[str, Any], repeats: int) -> dict[str, float]:
    """Time one model run and the naive kernel on the same accounts and days."""
    p = Params(**overrides)
    n = p.n_own_accounts + int(round(p.n_own_accounts * p.competitor_ratio))
    model_s = best_of(lambda: model_run(overrides), repeats)
    kernel_s = best_of(lambda: naive_daily_kernel(n, p.horizon_days), repeats)
    return {"accounts": n, "model_s": model_s, "kernel_s": kernel_s, "ratio": model_s / kernel_s}


def peak_rss_mb(overrides: dict[str, Any]) -> float:
    """Peak resident memory of a fresh process that does one run with ``overrides``."""
    code = (
        "import resource, json, sys\n"
        "from dealersim.cli.bench import model_run\n"
        f"model_run({overrides!r})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def bench_model(repeats: int) -> dict[str, Any]:
    """Issue 2: the model against the naive kernel, scaling to 100k accounts, memory."""
    default = model_vs_kernel(DEFAULT, repeats)
    medium = model_vs_kernel(MEDIUM, repeats)
    large_s = best_of(lambda: model_run(LARGE), max(1, repeats // 2))
    return {
        "default_run": default,
        "medium_run": medium,
        "large_run_s": large_s,
        "large_vs_medium_cost": large_s / medium["model_s"],
        "large_rss_mb": peak_rss_mb(LARGE),
        "default_rss_mb": peak_rss_mb(DEFAULT),
    }


def _optional(module: str, fn: str, **kwargs: Any) -> dict[str, Any] | None:
    """Run ``module.fn(**kwargs)`` if that feature exists in this version."""
    import importlib
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return None
    return getattr(importlib.import_module(module), fn)(**kwargs)


def report(results: dict[str, Any]) -> str:
    """Human-readable lines with targets."""
    lines: list[str] = []
    if "model" in results:
        lines += _model_lines(results["model"])
    for key in ("compare", "sweep"):
        if results.get(key):
            lines.append(f"{key}")
            lines += [f"  {k}: {_num(v)}" for k, v in results[key].items()]
    return "\n".join(lines)


def _num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, tuple | list):
        return "(" + ", ".join(_num(x) for x in v) + ")"
    return str(v)


def _model_lines(m: dict[str, Any]) -> list[str]:
    d, med = m["default_run"], m["medium_run"]
    return [
        "model (issue 2)",
        f"  default 3-year run ({d['accounts']:,} accounts): {d['model_s'] * 1000:.0f} ms; "
        f"naive daily numpy kernel {d['kernel_s'] * 1000:.0f} ms; ratio {d['ratio']:.2f} "
        "(target <= 1, must <= 5)",
        f"  20 reps, {med['accounts']:,} accounts: {med['model_s'] * 1000:.0f} ms; kernel "
        f"{med['kernel_s'] * 1000:.0f} ms; ratio {med['ratio']:.2f} (target <= 1, must <= 5)",
        f"  100,000 accounts: {m['large_run_s'] * 1000:.0f} ms; cost ratio to 5,000 accounts "
        f"{m['large_vs_medium_cost']:.2f} (target <= 5, must <= 20)",
        f"  peak RSS: {m['large_rss_mb']:.0f} MB at 100,000 accounts, {m['default_rss_mb']:.0f} MB "
        "at the default size (target <= 200 MB)",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print them and write ``out/bench/results.json``."""
    parser = argparse.ArgumentParser(prog="python -m dealersim.cli.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and runs")
    parser.add_argument("--only", choices=("model", "compare", "sweep"), help="one section")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else 5
    results: dict[str, Any] = {"python": sys.version.split()[0]}
    if args.only in (None, "model"):
        results["model"] = bench_model(repeats)
    if args.only in (None, "compare"):
        results["compare"] = _optional(
            "dealersim.studies.compare", "benchmark", replicates=50 if args.quick else 200
        )
    if args.only in (None, "sweep"):
        quick = {"runs": 100, "memory_runs": None, "dask_runs": 200} if args.quick else {}
        results["sweep"] = _optional("dealersim.cli.bench_sweep", "benchmark", **quick)
    print(report(results))
    out = Path("out") / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
