"""``dealersim calibrate`` and ``dealersim discover``: which parameter sets reproduce the story?

Examples:
    dealersim calibrate experiments/calibration.toml --out out/cal --workers 2
    dealersim calibrate experiments/calibration.toml --out out/cal --docs docs/validation.md
    dealersim calibrate experiments/calibration.toml --out out/cal --resume
    dealersim calibrate experiments/calibration.toml --out out/cal --scheduler tcp://head:8786
    dealersim discover out/cal --out out/where
    dealersim discover out/tipping_point --out out/where-sweep

Everything is checked before anything is written: the options, the spec, ``--out`` and the
scheduler. Exit codes: 0 done, 2 bad input or a refused directory (one line), 130 on Ctrl-C and
143 on SIGTERM (finished generations are kept; run again with ``--resume``).

Ctrl-C and SIGTERM only set a flag (``base.procs.signals_as_flag``) while the calibration runs;
the sampler checks it between parameter sets and every 0.2 s while it waits for its workers,
then stops the workers and leaves the finished generations. One press is enough: a signal that
lands while Python runs a finalizer cannot be lost, as an exception raised there would be.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dealersim.base.extras import need
from dealersim.base.procs import signals_as_flag
from dealersim.cli.common import (
    UsageError,
    check_target,
    count_type,
    out_dir_type,
    resumable,
    seed_type,
    unfinished_out_removed,
    usable_cpus,
    workers_type,
)
from dealersim.cli.sweep import SCHEDULER_RE
from dealersim.outputs.calibration import write_plots
from dealersim.studies.calibrate import (
    HISTORY,
    CalibrationError,
    read_spec,
    run_calibration,
    summary_lines,
    write_prediction_docs,
)
from dealersim.studies.discover import (
    DISCOVER_RUNS,
    MAX_RUNS,
    DiscoverError,
    discover,
    write_discovery,
)
from dealersim.studies.sweeps import SchedulerUnreachable
from dealersim.studies.sweeps.driver import connect


def _say(line: str) -> None:
    print(line, flush=True)


def finished_generations(out: Path) -> bool:
    """Whether the calibration directory ``out`` holds a finished generation (to resume)."""
    db = Path(out) / HISTORY
    if not db.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            return con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``dealersim calibrate``: check everything, then run or resume the calibration."""
    need("calibrate", "dealersim calibrate")
    return resumable(lambda: _calibrate(args), f"finished generations kept in {args.out}")


def _calibrate(args: argparse.Namespace) -> int:
    if args.scheduler is not None and not SCHEDULER_RE.match(args.scheduler):
        raise UsageError(
            f"--scheduler: {args.scheduler!r} is not an address; expected tcp://HOST:PORT")
    try:
        text, spec = read_spec(args.spec)
    except CalibrationError as exc:
        raise UsageError(str(exc)) from None
    if args.docs is not None and (args.docs.suffix != ".md" or not args.docs.parent.is_dir()
                                  or args.docs.is_dir()):
        raise UsageError(f"--docs: {str(args.docs)!r} is not allowed; expected a Markdown file "
                         "(.md) in an existing directory, e.g. docs/validation.md")
    client = None
    try:
        if args.scheduler is not None:
            try:
                client = connect(args.scheduler)
            except SchedulerUnreachable as exc:
                raise UsageError(str(exc)) from None
            workers = max(1, sum(client.nthreads().values()))
            executor: Any = client.get_executor()
        else:
            workers, executor = args.workers, None
        progress = not args.quiet and sys.stderr.isatty() and not os.environ.get("CI")
        with (unfinished_out_removed(None if args.resume else args.out,
                                     finished=finished_generations),
              signals_as_flag() as flag):
            cal = run_calibration(spec, args.out, spec_text=text, workers=workers,
                                  executor=executor, resume=args.resume, force=args.force,
                                  progress=progress, say=None if args.quiet else _say,
                                  stop=flag.check)
            flag.check()  # a signal during the last writes: stop before the charts
    except CalibrationError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if client is not None:
            client.close()
    write_plots(cal, args.out)
    if args.docs is not None:
        write_prediction_docs(cal, args.docs)
        print(f"wrote the prediction section of {args.docs}")
    for line in summary_lines(cal):
        print(line)
    print(f"wrote: {args.out}/ (posterior.parquet, diagnostics, parameters.csv, "
          "predictive_check.csv, predictive.parquet, predictions.csv, summary.md, charts) in "
          f"{cal.seconds:.0f} s")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    """``dealersim discover``: where does the overlay still succeed? (PRIM boxes)."""
    need("calibrate", "dealersim discover")
    if args.out is not None:
        check_target(args.out, args.force)  # before any simulation
    try:
        found = discover(args.source, strategy=args.strategy, runs=args.runs,
                         workers=args.workers, seed=args.seed if args.seed is not None else 0,
                         threshold=args.threshold, method=args.method)
    except DiscoverError as exc:
        raise UsageError(str(exc)) from None
    if args.out is not None:
        write_discovery(found, args.out, force=args.force)
    for line in found.sentences():
        print(line)
    if args.out is not None:
        print(f"wrote: {args.out}/ (boxes.csv, cases.parquet, discovery.md)")
    return 0


def register(
    command: Callable[..., argparse.ArgumentParser], run_options: Callable[..., Any]
) -> None:
    """Add the ``calibrate`` and ``discover`` subcommands (see ``dealersim.cli.main``)."""
    p = command("calibrate", cmd_calibrate,
                "Infer which parameter sets reproduce the story's patterns (ABC-SMC).")
    p.add_argument("spec", metavar="SPEC", help="the calibration spec (experiments/*.toml)")
    p.add_argument("--out", required=True, metavar="DIR", type=out_dir_type,
                   help="the calibration directory")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", metavar="W", type=workers_type, default=usable_cpus(),
                       help="local worker processes (default: all CPUs)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on this Dask distributed scheduler instead")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted calibration in DIR")
    p.add_argument("--force", action="store_true", help="replace whatever DIR holds")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--docs", metavar="FILE.md", type=Path,
                   help="also write the prediction table (prior | posterior | the article) "
                   "between its markers in this Markdown file, e.g. docs/validation.md")

    p = command("discover", cmd_discover,
                "Scenario discovery (PRIM): under which conditions does a strategy succeed?")
    p.add_argument("source", metavar="DIR",
                   help="a calibration directory (its posterior) or a sweep directory")
    p.add_argument("--strategy", default="overlay", metavar="NAME",
                   help="with a calibration: the strategy to run on posterior draws "
                   "(default: overlay)")
    p.add_argument("--runs", default=DISCOVER_RUNS, metavar="N",
                   type=count_type(MAX_RUNS, "runs on posterior draws"),
                   help=f"with a calibration: runs on posterior draws (default {DISCOVER_RUNS})")
    p.add_argument("--seed", metavar="N", type=seed_type,
                   help="master seed of those runs (default 0)")
    p.add_argument("--workers", metavar="W", type=workers_type, default=usable_cpus(),
                   help="local worker processes (default: all CPUs)")
    p.add_argument("--threshold", default=0.5, type=float, metavar="DENSITY",
                   help="PRIM's minimum box density (share of successes inside), default 0.5")
    p.add_argument("--method", choices=("prim", "cart"), default="prim",
                   help="PRIM (EMA Workbench) or a CART tree (scikit-learn); default prim")
    p.add_argument("--out", metavar="DIR", type=out_dir_type,
                   help="write boxes.csv, cases.parquet and discovery.md here")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")
