"""Subcommands ``compare``, ``blame``, ``factorial`` and ``catalogue`` (see ``dealersim.cli``).

Examples:
    dealersim compare overlay planned --replicates 300 --seed 0 --out out/cmp --workers 2
    dealersim blame --replicates 100 --out out/blame
    dealersim blame --factors plan --design resv --replicates 50 --out out/plan
    dealersim factorial --replicates 100 --culture-replicates 300 --path docs/factorial.md
    dealersim catalogue --replicates 200 --path docs/strategies.md
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dealersim.base.io import atomic_dir
from dealersim.cli.common import (
    MAX_REPLICATES,
    UsageError,
    add_posterior_option,
    build_params,
    check_posterior,
    check_target,
    count_type,
    file_path_type,
    out_dir_type,
    overrides_of,
    replicates_type,
    strategy_type,
    stride_type,
    summary_table,
    usable_cpus,
    workers_type,
)
from dealersim.model.kpis import SERIES_COLUMNS
from dealersim.model.params import format_value
from dealersim.model.results import simulate
from dealersim.model.strategies import strategy_names
from dealersim.outputs.advice import read_three_things
from dealersim.outputs.blame import write_blame, write_factorial_page
from dealersim.outputs.plots import plot_side_by_side, save_run
from dealersim.outputs.report import write_compare
from dealersim.studies.blame import (
    DEFAULT_FACTORS,
    DESIGNS,
    PLAN_FACTORS,
    PLAN_OUTCOME,
    blame_table,
    check_design,
    check_factors,
    factor_table,
    run_blame,
)
from dealersim.studies.catalogue import write_catalogue
from dealersim.studies.compare import DEFAULT_STRIDE, default_command, run_compare, terminal_table
from dealersim.studies.posterior import robustness

DEMO_STRATEGIES = ("overlay", "planned")
"""The two strategies ``dealersim demo`` compares: the story's launch and the prescription."""
DEMO_REPLICATES = 300
"""Replicates per strategy of ``dealersim demo`` (Wilson half-width <= 6 points)."""
DEFAULT_REPLICATES = 100
DEFAULT_BLAME_REPLICATES = 100
CATALOGUE_REPLICATES = 200
FACTORIAL_REPLICATES = 100
"""Runs per combination of ``dealersim factorial`` (25,600 runs in the full design)."""
CULTURE_REPLICATES = 300
"""Runs per strategy of the culture table (100 teams per third)."""
blame_replicates = count_type(MAX_REPLICATES, "runs per cell")
"""``blame --replicates``: 1 to ``MAX_REPLICATES`` runs per cell of the factorial."""
MAX_SERIES_BYTES = 2 << 30
"""Cap on the time series a comparison keeps in memory (8 bytes a cell, before pandas' copies):
with the default weekly stride over 3 years that is about 30,000 replicates of two strategies.
``--stride 0`` keeps no series, so only ``MAX_REPLICATES`` applies."""


def parse_overrides(sets: Sequence[tuple[str, Any]] | None, years: float | None,
                    strategies: Sequence[str] = ("overlay",)) -> dict[str, Any]:
    """Check ``--set``/``--years`` against every strategy; return them as an overrides dict.

    Raises:
        UsageError: One line naming the field and what is allowed.
    """
    for s in strategies:
        build_params(s, sets, years)
    return overrides_of(sets, years)


def advice_type(text: str) -> list[str]:
    """``compare --advice DIR``: the three-things sentences of a ``dealersim advise`` folder."""
    try:
        return read_three_things(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("advice: ")) from None


def factors_type(text: str) -> tuple[str, ...]:
    """``blame --factors``: a comma-separated list of factor names."""
    try:
        return check_factors([k.strip() for k in text.split(",")])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("factors: ")) from None


def check_series_size(replicates: int, strategies: int, horizon_days: int, stride: int) -> None:
    """Refuse, before any run, a comparison whose time series would not fit in memory.

    Raises:
        UsageError: One line naming ``--replicates``/``--stride`` and the cap.
    """
    if stride == 0:
        return
    rows = horizon_days // stride + 2
    size = replicates * strategies * rows * (len(SERIES_COLUMNS) + 3) * 8
    if size > MAX_SERIES_BYTES:
        raise UsageError(
            f"--replicates: {replicates} runs x {strategies} strategies with --stride {stride} "
            f"would keep about {size / 2**30:.1f} GiB of time series (the cap is "
            f"{MAX_SERIES_BYTES / 2**30:.0f} GiB); expected fewer replicates, a larger --stride "
            "or --stride 0"
        )


def check_strategies(strategies: Sequence[str]) -> list[str]:
    """At least two different strategies (the types have already checked each name).

    Raises:
        UsageError: One line naming ``STRATEGY`` and what is allowed.
    """
    expected = f"expected two or more of {', '.join(strategy_names())}"
    if len(strategies) < 2:
        raise UsageError(f"STRATEGY: compare needs at least two strategies, got only "
                         f"{strategies[0]!r}; {expected}")
    if len(set(strategies)) != len(strategies):
        raise UsageError(f"STRATEGY: {' '.join(strategies)} names a strategy twice; {expected}")
    return list(strategies)


# ====================================================================== handlers
def cmd_compare(args: argparse.Namespace) -> int:
    """``dealersim compare``: replicated, paired comparison of strategies with a report."""
    strategies = check_strategies(args.strategies)
    replicates, workers, out = args.replicates, args.workers, args.out
    seed = args.seed if args.seed is not None else 0
    overrides = parse_overrides(args.set, args.years, strategies)
    horizon = build_params(strategies[0], args.set, args.years).horizon_days
    check_series_size(replicates, len(strategies), horizon, args.stride)
    check_target(out, args.force)
    command = default_command(strategies, replicates, seed, overrides) + f" --out {out}"
    check_posterior(args.posterior)
    if args.posterior is not None:
        command += f" --posterior {args.posterior}"
    comp = run_compare(strategies, replicates=replicates, seed=seed, overrides=overrides,
                       workers=workers, series_stride=args.stride, command=command,
                       posterior=args.posterior)
    write_compare(comp, out, force=args.force, plans=args.advice)
    print(f"{len(comp.runs)} runs in {comp.seconds:.1f} s on {workers} worker(s)")
    print(terminal_table(comp))
    decision = json.loads((out / "decision.json").read_text(encoding="utf-8"))
    print(decision["verdict"])
    print(decision["rule"])
    print(decision["horizon_note"])
    if args.posterior is not None:
        for other in strategies[1:]:
            print(robustness(comp.runs, [strategies[0], other]).sentence)
    print(f"wrote: {out}/ (report.html, decision.json, runs.parquet, timeseries.parquet, "
          "ledger.parquet, summary.csv, charts)")
    return 0


def run_demo(seed: int | None, sets: Sequence[tuple[str, Any]] | None, years: float | None,
             out: Path) -> int:
    """``dealersim demo``: ``compare overlay planned`` with enough replicates, to ``out``.

    Everything is computed first and then written as one directory (``base.io.atomic_dir``), so
    an interrupted or failed demo leaves the previous ``out`` as it was.
    """
    strategies = list(DEMO_STRATEGIES)
    if years is None:  # the money views need the money horizon (5 years by default)
        years = build_params(strategies[0], sets, None).money_years
    overrides = parse_overrides(sets, years, strategies)
    check_target(out, force=True)
    seed = 0 if seed is None else seed
    workers = usable_cpus()
    command = default_command(strategies, DEMO_REPLICATES, seed, overrides) + f" --out {out}"
    print(f"dealersim demo: {' vs '.join(strategies)}, {DEMO_REPLICATES} replicates each, "
          f"seed {seed}, {workers} worker(s)")
    comp = run_compare(strategies, replicates=DEMO_REPLICATES, seed=seed, overrides=overrides,
                       workers=workers, command=command)
    # one run of each strategy on the seed itself, told as a story: one possible history, as
    # the page shows for a seed (the comparison's replicates run on seeds derived from it)
    results = [simulate(s, seed=seed, params=comp.params(s)) for s in strategies]
    for r in results:
        print(f"== story: {r.strategy} (seed {r.seed}) ==")
        print(r.story() if len(r.events) else "(no events)")
        print()
    print(summary_table({r.strategy: r.summary for r in results}))
    print()
    with atomic_dir(out, force=True) as tmp:
        write_compare(comp, tmp, force=True)
        for r in results:
            save_run(r, tmp / r.strategy)
        plot_side_by_side(results, tmp / "side_by_side.png")
    print(f"Replicated comparison: {len(comp.runs)} runs in {comp.seconds:.1f} s")
    print()
    print(terminal_table(comp))
    print()
    print(f"wrote: {out / 'report.html'} (and the seed-{seed} runs in {out}/<strategy>/)")
    return 0


def cmd_blame(args: argparse.Namespace) -> int:
    """``dealersim blame``: a factorial of who does what, on the launch success rate."""
    seed = args.seed if args.seed is not None else 0
    overrides = parse_overrides(args.set, args.years)
    out = args.out
    check_target(out, args.force)
    check_posterior(args.posterior)
    try:
        b = run_blame(args.replicates, seed=seed, overrides=overrides, factors=args.factors,
                      workers=args.workers, posterior=args.posterior, design=args.design,
                      outcome=PLAN_OUTCOME)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    write_blame(b, out, force=args.force)
    print(blame_table(b))
    print()
    for sentence in b.sentences():
        print("- " + sentence)
    if b.uncertainty_note() is not None:
        print(b.uncertainty_note())
    for sentence in b.plan_sentences():
        print("- " + sentence)
    print(f"wrote: {out}/ (report.html, runs.parquet, cells.csv, effects.csv, logit.csv, "
          "factorial_effects.csv, factorial.md, charts)")
    return 0


def cmd_factorial(args: argparse.Namespace) -> int:
    """``dealersim factorial``: the plan's levers as a factorial, and culture, into a docs page."""
    seed = args.seed if args.seed is not None else 0
    overrides = parse_overrides(args.set, args.years, DEMO_STRATEGIES)
    check_design_arg(args.design, len(PLAN_FACTORS))
    command = " ".join(["dealersim", "factorial", "--replicates", str(args.replicates),
                        "--culture-replicates", str(args.culture_replicates), "--seed",
                        str(seed), "--design", args.design,
                        *[f"--set {k}={format_value(v)}" for k, v in sorted(overrides.items())],
                        "--path", str(args.path)])
    try:
        b = run_blame(args.replicates, seed=seed, overrides=overrides, factors=PLAN_FACTORS,
                      workers=args.workers, design=args.design, command=command,
                      outcome=PLAN_OUTCOME)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    comp = run_compare(list(DEMO_STRATEGIES), replicates=args.culture_replicates, seed=seed,
                       overrides=overrides, workers=args.workers, series_stride=0,
                       command=command)
    write_factorial_page(args.path, b, comp, command)
    for sentence in (b.sentences()[-1:] if b.design != "full" else []) + b.plan_sentences():
        print("- " + sentence)
    print(f"wrote: {args.path}")
    return 0


def check_design_arg(design: str, k: int) -> None:
    """``--design`` for ``k`` factors, or one line and exit 2."""
    try:
        check_design(design, k)
    except ValueError as exc:
        raise UsageError("--" + str(exc)) from None


def cmd_catalogue(args: argparse.Namespace) -> int:
    """``dealersim catalogue``: every preset's results into docs/strategies.md."""
    seed = args.seed if args.seed is not None else 0
    overrides = parse_overrides(args.set, args.years, strategy_names())
    path = args.path
    write_catalogue(path, replicates=args.replicates, seed=seed, overrides=overrides,
                    workers=args.workers)
    print(f"wrote: {path}")
    return 0


# ====================================================================== registration

def _study_options(p: argparse.ArgumentParser, run_options: Callable[..., None],
                   replicates: Callable[[str], int], default: int, what: str) -> None:
    """``--replicates``, the run options, ``--out`` and ``--workers`` of compare and blame."""
    p.add_argument("--replicates", default=default, metavar="N", type=replicates,
                   help=f"{what}, 1 to {MAX_REPLICATES:,} (default: {default})")
    run_options(p, strategy=False)
    p.add_argument("--out", required=True, metavar="DIR", type=out_dir_type,
                   help="output directory (must be absent or empty unless --force)")
    p.add_argument("--workers", metavar="W", type=workers_type, default=usable_cpus(),
                   help="worker processes, at most 4 x the usable CPUs (default: all CPUs)")

def register(command: Callable[..., argparse.ArgumentParser],
             run_options: Callable[..., None]) -> None:
    """Add ``compare``, ``blame`` and ``catalogue`` to the ``dealersim`` parser."""
    p = command("compare", cmd_compare,
                "Compare strategies over many paired replicates; write a report.")
    p.add_argument("strategies", nargs="+", metavar="STRATEGY", type=strategy_type,
                   help="two or more strategy presets; the first is the reference for "
                   "differences")
    _study_options(p, run_options, replicates_type, DEFAULT_REPLICATES, "runs per strategy")
    p.add_argument("--stride", default=DEFAULT_STRIDE, type=stride_type, metavar="DAYS",
                   help=f"record the time series every DAYS days (default {DEFAULT_STRIDE}; "
                   "0: summaries only, no fan or wall charts)")
    p.add_argument("--advice", type=advice_type, metavar="DIR",
                   help="a `dealersim advise` output folder: its three most important changes "
                   "go into the report's \"If you can only change three things\"")
    add_posterior_option(p, "strategy")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")

    p = command("blame", cmd_blame,
                "Whose fault is it? A factorial of specialist, manager and owner factors.")
    _study_options(p, run_options, blame_replicates, DEFAULT_BLAME_REPLICATES, "runs per cell")
    p.add_argument("--factors", type=factors_type, default=DEFAULT_FACTORS, metavar="LIST",
                   help=f"comma-separated factors, from {', '.join(factor_table())}, or plan "
                   "for the planned transition's seven levers (default: "
                   f"{','.join(DEFAULT_FACTORS)}); no two may set the same parameter")
    p.add_argument("--design", choices=DESIGNS, default="full",
                   help="full: every combination (2^k cells); resv: a resolution-V fraction "
                   "(6 to 8 factors; 8 factors: 64 cells, generators G = ABCD, H = ABEF)")
    add_posterior_option(p, "combination")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")

    p = command("factorial", cmd_factorial,
                "The plan's seven levers as a factorial and success by the team's culture; "
                "write docs/factorial.md.")
    p.add_argument("--replicates", default=FACTORIAL_REPLICATES, metavar="N",
                   type=blame_replicates,
                   help=f"runs per combination, 1 to {MAX_REPLICATES:,} "
                   f"(default: {FACTORIAL_REPLICATES})")
    p.add_argument("--culture-replicates", default=CULTURE_REPLICATES, metavar="N",
                   type=replicates_type,
                   help=f"runs per strategy (overlay, planned) for the culture table, 1 to "
                   f"{MAX_REPLICATES:,} (default: {CULTURE_REPLICATES})")
    p.add_argument("--design", choices=DESIGNS, default="full",
                   help="full: all 128 combinations; resv: the 64-cell half fraction "
                   "(resolution VII)")
    run_options(p, strategy=False)
    p.add_argument("--workers", metavar="W", type=workers_type, default=usable_cpus(),
                   help="worker processes, at most 4 x the usable CPUs (default: all CPUs)")
    p.add_argument("--path", default=str(Path("docs") / "factorial.md"), metavar="FILE",
                   type=file_path_type,
                   help="the Markdown file to write (default: docs/factorial.md)")

    p = command("catalogue", cmd_catalogue,
                "Run every strategy preset and write docs/strategies.md.")
    p.add_argument("--replicates", default=CATALOGUE_REPLICATES, metavar="N",
                   type=replicates_type,
                   help=f"runs per strategy, 1 to {MAX_REPLICATES:,} "
                   f"(default: {CATALOGUE_REPLICATES})")
    run_options(p, strategy=False)
    p.add_argument("--workers", metavar="W", type=workers_type, default=usable_cpus(),
                   help="worker processes, at most 4 x the usable CPUs (default: all CPUs)")
    p.add_argument("--path", default=str(Path("docs") / "strategies.md"), metavar="FILE",
                   type=file_path_type,
                   help="the Markdown file to write (default: docs/strategies.md)")
