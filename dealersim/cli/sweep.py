"""``dealersim sweep`` and ``dealersim analyze``: research at scale from a TOML spec.

Examples:
    dealersim sweep experiments/tipping_point.toml --out out/tipping --workers 2
    dealersim sweep experiments/tipping_point.toml --out out/tipping --resume
    dealersim sweep experiments/sensitivity.toml --out out/sens --scheduler tcp://head:8786
    dealersim analyze out/tipping

Everything is checked before anything is written: the options, the spec (a regular UTF-8 file,
a design under the caps), ``--out`` (writable, not created yet) and the scheduler (reached).
Exit codes: 0 done, 2 bad input or a refused directory (one line), 1 the disk failed mid-sweep
(one line; finished parts are kept), 130 on Ctrl-C and 143 on SIGTERM (one line; worker
processes stopped, temporary files removed, the lock released).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dealersim.base.procs import check_workers
from dealersim.cli.common import (
    EXIT_FAILED,
    UsageError,
    disk_full,
    fail,
    parse_positive_int,
    resumable,
    unfinished_out_removed,
)
from dealersim.studies.analyze import METHODS, AnalyzeError, analyze
from dealersim.studies.sweeps import SpecError, parse_spec_text, read_spec_text, run_sweep

SCHEDULER_RE = re.compile(r"^(tcp|tls|inproc|ws|wss|ucx)://[^\s/]+(:\d+)?/?$")


def has_parts(out: Path) -> bool:
    """Whether the sweep directory ``out`` holds finished parts (work worth resuming)."""
    try:
        return any((out / "runs").glob("part-*.parquet"))
    except OSError:
        return False


def check_out_dir(text: str) -> Path:
    """Check that ``--out`` is (or can become) a writable directory, without creating it.

    (``cli.common.prepare_out`` creates the directory; a sweep must not, before it has reached
    its scheduler.)

    Raises:
        UsageError: One line naming ``--out`` and what is expected.
    """
    out = Path(text).expanduser()
    nearest = next(p for p in (out, *out.parents) if p.exists() or p.is_symlink())
    if not text.strip():
        problem = "the path is empty"
    elif not nearest.is_dir():
        where = "a file" if nearest == out else f"under {str(nearest)!r}, a file"
        problem = f"{text!r} is {where}"
    elif not os.access(nearest, os.W_OK | os.X_OK):
        problem = f"cannot write to {str(nearest)!r}"
    else:
        return out
    raise UsageError(f"--out: {problem}; expected a writable directory")


def _workers(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return check_workers(parse_positive_int("--workers", text), "--workers")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_sweep(args: argparse.Namespace) -> int:
    """``dealersim sweep``: validate everything, then run or resume the sweep."""
    return resumable(lambda: _sweep(args),
                     f"workers stopped, finished parts kept in {args.out}")


def _sweep(args: argparse.Namespace) -> int:
    workers = _workers(args.workers)
    if args.scheduler is not None and not SCHEDULER_RE.match(args.scheduler):
        raise UsageError(
            f"--scheduler: {args.scheduler!r} is not an address; expected tcp://HOST:PORT"
        )
    try:
        text = read_spec_text(args.spec)
        spec = parse_spec_text(text, args.spec)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    out = check_out_dir(args.out)
    if args.dry_run:
        print(f"{spec.name}: {spec.sampler}, {len(spec.factors)} factors, {spec.n_points:,} "
              f"points x {spec.replicates:,} replicates = {spec.n_runs:,} runs")
        return 0
    try:
        with unfinished_out_removed(None if args.resume else out, finished=has_parts):
            result = run_sweep(spec, out, workers=workers, scheduler=args.scheduler,
                               resume=args.resume, spec_text=text, progress=not args.quiet)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        reason = exc.strerror or ("No space left on device" if disk_full(exc)
                                  else type(exc).__name__)
        if not has_parts(out) and not out.exists():
            return fail(f"--out: cannot write to {str(out)!r} ({reason}); nothing was kept; "
                        "fix the disk, then run the sweep again", EXIT_FAILED)
        return fail(f"--out: cannot write to {str(out)!r} ({reason}); the sweep stopped, "
                    "finished parts are kept; fix the disk, then run again with --resume",
                    EXIT_FAILED)
    rate = result.ran / result.seconds if result.seconds > 0 else 0.0
    if result.repaired.get("legacy_parts"):
        r = result.repaired
        print(f"repaired: {r['legacy_parts']} parts of an older version compacted "
              f"({r['duplicates']} duplicate rows dropped, {r['rewritten']} parts rewritten)")
    print(f"{spec.name}: {result.ran} runs done, {result.skipped} already on disk, "
          f"{result.total} in the design ({result.seconds:.1f} s, {rate:.1f} runs/s, "
          f"{result.per_task} runs/task)")
    print(f"wrote: {result.out / 'runs'}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """``dealersim analyze``: sensitivity indices and charts into ``DIR/analysis``."""
    try:
        written = analyze(args.dir, method=args.method, kpis=args.kpi)
    except (AnalyzeError, SpecError) as exc:
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
                       help="local worker processes (default: the CPU count; at most 4 x CPUs)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on this Dask distributed scheduler instead")
    p.add_argument("--resume", action="store_true",
                   help="repair DIR and finish the runs whose parts are missing")
    p.add_argument("--quiet", action="store_true",
                   help="no progress (default: a bar on a terminal, else a line every 10 s)")
    p.add_argument("--dry-run", action="store_true",
                   help="validate the spec and print the design size only")

    p = command("analyze", cmd_analyze,
                "Sensitivity indices (SALib) and charts for a sweep, into DIR/analysis.")
    p.add_argument("dir", metavar="DIR", help="a sweep directory written by 'dealersim sweep'")
    p.add_argument("--method", choices=METHODS, default=None,
                   help="sobol, morris or oat (default: from the spec's sampler)")
    p.add_argument("--kpi", action="append", metavar="KPI",
                   help="KPI to analyse (repeatable; default: the spec's outputs.kpis)")
