"""Subcommands ``compare``, ``blame`` and ``catalogue`` (registered by ``dealersim.cli``).

Examples:
    dealersim compare overlay planned --replicates 300 --seed 0 --out out/cmp --workers 2
    dealersim blame --replicates 100 --out out/blame
    dealersim catalogue --replicates 200 --path docs/strategies.md
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dealersim.cli.common import (
    UsageError,
    build_params,
    parse_positive_int,
    parse_seed,
    summary_table,
)
from dealersim.model.params import parse_assignment
from dealersim.model.results import simulate
from dealersim.outputs.plots import plot_side_by_side, save_run
from dealersim.outputs.report import write_blame, write_compare
from dealersim.studies.blame import blame_table, run_blame
from dealersim.studies.compare import default_command, run_compare, terminal_table

DEMO_STRATEGIES = ("overlay", "planned")
"""The two strategies ``dealersim demo`` compares: the story's launch and the prescription."""
DEMO_REPLICATES = 300
"""Replicates per strategy of ``dealersim demo`` (Wilson half-width <= 6 points)."""
DEFAULT_REPLICATES = 100
DEFAULT_BLAME_REPLICATES = 100
CATALOGUE_REPLICATES = 200


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def parse_overrides(sets: Sequence[str] | None, years: str | None,
                    strategies: Sequence[str] = ("overlay",)) -> dict[str, Any]:
    """Validate ``--set``/``--years`` (against every strategy) into an overrides dict.

    Raises:
        UsageError: One line for an unknown strategy, a bad assignment or a bad ``--years``.
    """
    for s in strategies:
        params = build_params(s, sets, years)
    overrides: dict[str, Any] = {}
    for text in sets or ():
        name, value = parse_assignment(text)
        overrides[name] = value
    if years is not None:
        overrides["years"] = params.years
    return overrides


def check_out(text: str, force: bool) -> Path:
    """Check ``--out`` before anything runs: absent, empty, or ``--force``; parent writable.

    Raises:
        UsageError: One line naming ``--out`` and the problem.
    """
    from dealersim.base.io import check_out as _check

    if not text.strip():
        raise UsageError("--out: the path is empty; expected a directory")
    out = Path(text).expanduser()
    try:
        _check(out, force=force)
    except (FileExistsError, NotADirectoryError) as exc:
        raise UsageError(str(exc)) from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent, prefix=".dealersim-probe-"):
            pass
    except OSError as exc:
        raise UsageError(f"--out: cannot write next to {text!r} "
                         f"({exc.strerror or type(exc).__name__})") from None
    return out


def _workers(text: str | None) -> int:
    return parse_positive_int("--workers", text) if text is not None else default_workers()


# ====================================================================== handlers
def cmd_compare(args: argparse.Namespace) -> int:
    """``dealersim compare``: replicated, paired comparison of strategies with a report."""
    strategies = list(args.strategies)
    if len(set(strategies)) != len(strategies):
        raise UsageError(f"strategies: {' '.join(strategies)} names a strategy twice")
    replicates = parse_positive_int("--replicates", args.replicates)
    seed = parse_seed(args.seed) if args.seed is not None else 0
    workers = _workers(args.workers)
    stride = int(args.stride)
    if stride < 0:
        raise UsageError(f"--stride: {stride} is not allowed; expected an integer >= 0")
    overrides = parse_overrides(args.set, args.years, strategies)
    out = check_out(args.out, args.force)
    command = default_command(strategies, replicates, seed, overrides) + f" --out {args.out}"
    comp = run_compare(strategies, replicates=replicates, seed=seed, overrides=overrides,
                       workers=workers, series_stride=stride, command=command)
    write_compare(comp, out, force=args.force)
    print(f"{len(comp.runs)} runs in {comp.seconds:.1f} s on {workers} worker(s)")
    print(terminal_table(comp))
    print(f"wrote: {out}/ (report.html, runs.parquet, timeseries.parquet, summary.csv, charts)")
    return 0


def run_demo(seed: int | None, sets: Sequence[str] | None, years: str | None, out: str) -> int:
    """``dealersim demo``: ``compare overlay planned`` with enough replicates, to ``out``."""
    strategies = list(DEMO_STRATEGIES)
    overrides = parse_overrides(sets, years, strategies)
    path = check_out(out, force=True)
    seed = 0 if seed is None else seed
    workers = default_workers()
    command = default_command(strategies, DEMO_REPLICATES, seed, overrides) + f" --out {out}"
    print(f"dealersim demo: {' vs '.join(strategies)}, {DEMO_REPLICATES} replicates each, "
          f"seed {seed}, {workers} worker(s)")
    comp = run_compare(strategies, replicates=DEMO_REPLICATES, seed=seed, overrides=overrides,
                       workers=workers, command=command)
    write_compare(comp, path, force=True)
    # one seeded run of each strategy, told as a story (replicate 0 of the comparison's seed)
    results = [simulate(s, seed=seed, params=comp.params(s)) for s in strategies]
    for r in results:
        print(f"== story: {r.strategy} (seed {r.seed}) ==")
        print(r.story() if len(r.events) else "(no events)")
        print()
    print(summary_table({r.strategy: r.summary for r in results}))
    print()
    for r in results:
        save_run(r, path / r.strategy)
    plot_side_by_side(results, path / "side_by_side.png")
    print(f"Replicated comparison: {len(comp.runs)} runs in {comp.seconds:.1f} s")
    print()
    print(terminal_table(comp))
    print()
    print(f"wrote: {path / 'report.html'} (and the seed-{seed} runs in {path}/<strategy>/)")
    return 0


def cmd_blame(args: argparse.Namespace) -> int:
    """``dealersim blame``: specialist x manager x owner factorial on the success rate."""
    replicates = parse_positive_int("--replicates", args.replicates)
    seed = parse_seed(args.seed) if args.seed is not None else 0
    workers = _workers(args.workers)
    overrides = parse_overrides(args.set, args.years)
    out = check_out(args.out, args.force)
    try:
        b = run_blame(replicates, seed=seed, overrides=overrides, workers=workers)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    write_blame(b, out, force=args.force)
    print(blame_table(b))
    print()
    for sentence in b.sentences():
        print("- " + sentence)
    print(f"wrote: {out}/ (report.html, runs.parquet, cells.csv, effects.csv, logit.csv, charts)")
    return 0


def cmd_catalogue(args: argparse.Namespace) -> int:
    """``dealersim catalogue``: every preset's results into docs/strategies.md."""
    from dealersim.model.strategies import strategy_names
    from dealersim.studies.catalogue import write_catalogue

    replicates = parse_positive_int("--replicates", args.replicates)
    seed = parse_seed(args.seed) if args.seed is not None else 0
    workers = _workers(args.workers)
    overrides = parse_overrides(args.set, args.years, strategy_names())
    path = Path(args.path)
    if path.is_dir():
        raise UsageError(f"--path: {str(path)!r} is a directory; expected a Markdown file")
    write_catalogue(path, replicates=replicates, seed=seed, overrides=overrides,
                    workers=workers)
    print(f"wrote: {path}")
    return 0


# ====================================================================== registration
def register(command: Callable[..., argparse.ArgumentParser],
             run_options: Callable[..., None]) -> None:
    """Add ``compare``, ``blame`` and ``catalogue`` to the ``dealersim`` parser."""
    from dealersim.studies.compare import DEFAULT_STRIDE

    p = command("compare", cmd_compare,
                "Compare strategies over many paired replicates; write a report.")
    p.add_argument("strategies", nargs="+", metavar="STRATEGY",
                   help="strategy presets; the first is the reference for differences")
    p.add_argument("--replicates", default=str(DEFAULT_REPLICATES), metavar="N",
                   help=f"runs per strategy, >= 1 (default: {DEFAULT_REPLICATES})")
    run_options(p, strategy=False)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output directory (must be absent or empty unless --force)")
    p.add_argument("--workers", metavar="W", help="worker processes (default: all CPUs)")
    p.add_argument("--stride", default=DEFAULT_STRIDE, type=int, metavar="DAYS",
                   help=f"record the time series every DAYS days (default {DEFAULT_STRIDE}; "
                   "0: summaries only, no fan or wall charts)")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")

    p = command("blame", cmd_blame, "Whose fault is it? Skill x manager x owner factorial.")
    p.add_argument("--replicates", default=str(DEFAULT_BLAME_REPLICATES), metavar="N",
                   help=f"runs per cell, >= 1 (default: {DEFAULT_BLAME_REPLICATES})")
    run_options(p, strategy=False)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output directory (must be absent or empty unless --force)")
    p.add_argument("--workers", metavar="W", help="worker processes (default: all CPUs)")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")

    p = command("catalogue", cmd_catalogue,
                "Run every strategy preset and write docs/strategies.md.")
    p.add_argument("--replicates", default=str(CATALOGUE_REPLICATES), metavar="N",
                   help=f"runs per strategy (default: {CATALOGUE_REPLICATES})")
    run_options(p, strategy=False)
    p.add_argument("--workers", metavar="W", help="worker processes (default: all CPUs)")
    p.add_argument("--path", default=str(Path("docs") / "strategies.md"), metavar="FILE",
                   help="the Markdown file to write (default: docs/strategies.md)")
