"""``dealersim sweep`` and ``dealersim analyze``: research at scale from a TOML spec.

Examples:
    dealersim sweep experiments/tipping_point.toml --out out/tipping --workers 2
    dealersim sweep experiments/tipping_point.toml --out out/tipping --resume
    dealersim sweep experiments/sensitivity.toml --out out/sens --scheduler tcp://head:8786
    dealersim analyze out/tipping
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dealersim.cli.common import UsageError, parse_positive_int

SCHEDULER_RE = re.compile(r"^(tcp|tls|inproc|ws|wss|ucx)://[^\s/]+(:\d+)?/?$")


def cmd_sweep(args: argparse.Namespace) -> int:
    """``dealersim sweep``: validate the spec and the options, then run or resume the sweep."""
    from dealersim.cli.common import prepare_out
    from dealersim.studies.sweep import SpecError, load_spec, run_sweep

    workers = parse_positive_int("--workers", args.workers) if args.workers else None
    if args.scheduler is not None and not SCHEDULER_RE.match(args.scheduler):
        raise UsageError(
            f"--scheduler: {args.scheduler!r} is not an address; expected tcp://HOST:PORT"
        )
    try:
        spec = load_spec(args.spec)
        text = Path(args.spec).read_text()
    except (SpecError, OSError) as exc:
        raise UsageError(str(exc)) from None
    out = prepare_out(args.out)
    if args.dry_run:
        from dealersim.studies.sweep import design

        n = len(design(spec))
        print(f"{spec.name}: {spec.sampler}, {len(spec.factors)} factors, {n} points x "
              f"{spec.replicates} replicates = {n * spec.replicates} runs")
        return 0
    try:
        result = run_sweep(spec, out, workers=workers, scheduler=args.scheduler,
                           resume=args.resume, spec_text=text, progress=not args.quiet)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        if args.scheduler is not None and "connect" in str(exc).lower():
            raise UsageError(f"--scheduler: cannot reach {args.scheduler!r} ({exc})") from None
        raise
    rate = result.ran / result.seconds if result.seconds > 0 else 0.0
    print(f"{spec.name}: {result.ran} runs done, {result.skipped} already on disk, "
          f"{result.total} in the design ({result.seconds:.1f} s, {rate:.1f} runs/s, "
          f"{result.per_task} runs/task)")
    print(f"wrote: {result.out / 'runs'}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """``dealersim analyze``: sensitivity indices and charts into ``DIR/analysis``."""
    from dealersim.studies.analyze import AnalyzeError, analyze

    try:
        written = analyze(args.dir, method=args.method, kpis=args.kpi)
    except AnalyzeError as exc:
        raise UsageError(str(exc)) from None
    for line in written.summary_lines():
        print(line)
    print("wrote: " + ", ".join(str(p) for p in written.paths))
    return 0


def register(
    command: Callable[..., argparse.ArgumentParser], run_options: Callable[..., Any]
) -> None:
    """Add the ``sweep`` and ``analyze`` subcommands (see ``dealersim.cli.COMMAND_MODULES``)."""
    p = command("sweep", cmd_sweep,
                "Run a parameter sweep from a TOML spec; Parquet parts into DIR/runs.")
    p.add_argument("spec", metavar="SPEC", help="the sweep spec (e.g. experiments/*.toml)")
    p.add_argument("--out", required=True, metavar="DIR", help="the sweep directory")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", metavar="N",
                       help="local worker processes (default: the CPU count)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on this Dask distributed scheduler instead")
    p.add_argument("--resume", action="store_true",
                   help="skip run ids already in DIR/runs and finish the rest")
    p.add_argument("--quiet", action="store_true",
                   help="no progress (default: a bar on a terminal, else a line every 10 s)")
    p.add_argument("--dry-run", action="store_true",
                   help="validate the spec and print the design size only")

    from dealersim.studies.analyze import METHODS

    p = command("analyze", cmd_analyze,
                "Sensitivity indices (SALib) and charts for a sweep, into DIR/analysis.")
    p.add_argument("dir", metavar="DIR", help="a sweep directory written by 'dealersim sweep'")
    p.add_argument("--method", choices=METHODS, default=None,
                   help="sobol, morris or oat (default: from the spec's sampler)")
    p.add_argument("--kpi", action="append", metavar="KPI",
                   help="KPI to analyse (repeatable; default: the spec's outputs.kpis)")
