"""Subcommand ``advise``: the best plan for the money that reaches a success target.

Examples:
    dealersim advise --target 0.8 --budget 24 --replicates 20 --out out/advice --workers 2
    dealersim advise --target 0.8 --budget 48 --replicates 20 --out out/advice --resume
    dealersim advise --budget 200 --out out/advice --scheduler tcp://head:8786

Every option is checked before anything is written or run (one line, exit 2); the scheduler is
reached before the directory is touched. The study is kept in ``DIR/study.journal``: after an
interruption (exit 130) or with a larger ``--budget``, ``--resume`` continues it.
"""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from dealersim.base.extras import need
from dealersim.cli.common import (
    UsageError,
    add_posterior_option,
    check_posterior,
    check_target,
    count_type,
    out_dir_type,
    overrides_of,
    unfinished_out_removed,
    usable_cpus,
    workers_type,
)
from dealersim.cli.sweep import SCHEDULER_RE
from dealersim.model.params import spec
from dealersim.outputs.advice import write_advice
from dealersim.studies.advise import (
    DEFAULT_OBJECTIVE,
    DEFAULT_SUCCESS,
    JOURNAL,
    OBJECTIVES,
    SUCCESS_MEASURES,
    AdviseError,
    Settings,
    check_objective,
    check_settings,
    check_success,
    default_command,
    run_advise,
    summary_lines,
    three_things,
)

MAX_BUDGET = 10_000
"""Cap on ``--budget`` (plans in the study)."""
MAX_PLAN_REPLICATES = 10_000
"""Cap on ``--replicates`` (runs per plan)."""
DEFAULT_BUDGET = 24
DEFAULT_REPLICATES = 20
DEFAULT_TARGET = 0.8
_SHARE = re.compile(r"(0|1)?\.[0-9]+|[01](\.0*)?")


def _refuse(message: str) -> NoReturn:
    raise argparse.ArgumentTypeError(" ".join(message.split()))


budget_type = count_type(MAX_BUDGET, "plans")
plan_replicates_type = count_type(MAX_PLAN_REPLICATES, "runs per plan")


def target_type(text: str) -> float:
    """``--target``: a success rate in (0, 1], written as a decimal (``0.8``)."""
    raw = text.strip()
    if not _SHARE.fullmatch(raw) or not 0 < float(raw) <= 1:
        _refuse(f"{text!r} is not allowed; expected a number in (0, 1] such as 0.8")
    return float(raw)


def objective_type(text: str) -> str:
    """``--objective``: a money objective of ``OBJECTIVES``."""
    try:
        return check_objective(text)
    except AdviseError as exc:
        _refuse(str(exc).removeprefix("objective: "))


def success_type(text: str) -> str:
    """``--success``: what counts as success, a key of ``SUCCESS_MEASURES``."""
    try:
        return check_success(text)
    except AdviseError as exc:
        _refuse(str(exc).removeprefix("success: "))


def size_type(text: str) -> int:
    """``--size``: the number of hardware reps, within the ``n_reps`` bounds."""
    try:
        return spec("n_reps").parse(text)
    except ValueError as exc:
        _refuse(str(exc).removeprefix("n_reps: "))


def check_out(out: Path, *, resume: bool, force: bool) -> None:
    """Refuse a non-empty ``--out`` that is not a study to resume (before anything runs).

    Raises:
        UsageError: One line naming ``--out``, ``--resume`` or ``--force``.
    """
    if resume and force:
        raise UsageError("--resume: cannot be combined with --force; use one")
    if force:
        return
    if resume and not (out / JOURNAL).is_file():
        what = "holds no advise study" if out.is_dir() else "does not exist"
        raise UsageError(f"--resume: {str(out)!r} {what} ({JOURNAL}); expected a directory "
                         "written by 'dealersim advise', or leave out --resume to start one")
    if not resume:
        check_target(out, force=False)


def cmd_advise(args: argparse.Namespace) -> int:
    """``dealersim advise``: search the owner's levers, rank the plans, check them."""
    need("advise", "dealersim advise")
    seed = args.seed if args.seed is not None else 0
    fixed: dict[str, Any] = overrides_of(args.set, args.years)
    if args.size is not None:
        if "n_reps" in fixed:
            raise UsageError("--size: given both as --size and as --set n_reps=...; use one")
        fixed["n_reps"] = args.size
    settings = Settings(args.replicates, seed, args.objective, fixed,
                        posterior_dir=args.posterior, success=args.success)
    try:
        check_settings(settings)
    except AdviseError as exc:
        raise UsageError(str(exc)) from None
    check_posterior(args.posterior)
    out = args.out
    check_out(out, resume=args.resume, force=args.force)
    command = default_command(settings, args.target, args.budget) + f" --out {out}"
    # a full disk leaves nothing in a new --out (no study.journal to resume by mistake)
    with unfinished_out_removed(None if args.resume else out):
        try:
            advice = run_advise(out, target=args.target, budget=args.budget,
                                replicates=args.replicates, seed=seed,
                                objective=args.objective, fixed=fixed, success=args.success,
                                workers=args.workers,
                                scheduler=args.scheduler, resume=args.resume,
                                command=command, posterior=args.posterior,
                                before_start=(lambda: _clear(out)) if args.force else None)
        except AdviseError as exc:
            raise UsageError(str(exc)) from None
        write_advice(advice, out)
    for line in summary_lines(advice):
        print(line)
    things = three_things(advice)
    if things:
        print("If you can only change three things:")
        for t in things:
            print("- " + t)
    print(f"wrote: {out}/ (plans.csv, plans.parquet, check.csv, pareto.png, plans/*.toml, "
          "advice.md)")
    return 0


def _clear(out: Path) -> None:
    """``--force``: remove what ``out`` holds (after every check passed)."""
    if out.is_dir():
        shutil.rmtree(out)


def register(command: Callable[..., argparse.ArgumentParser],
             run_options: Callable[..., None]) -> None:
    """Add ``advise`` to the ``dealersim`` parser."""
    p = command("advise", cmd_advise,
                "The best plan for the money that reaches a success target, checked on fresh "
                "runs.")
    p.add_argument("--target", type=target_type, default=DEFAULT_TARGET, metavar="RATE",
                   help=f"launch success to reach, in (0, 1] (default {DEFAULT_TARGET})")
    p.add_argument("--success", type=success_type, default=DEFAULT_SUCCESS, metavar="NAME",
                   help="what counts as success: " + "; ".join(
                       f"{k}, {m.words}" for k, m in SUCCESS_MEASURES.items())
                   + f" (default {DEFAULT_SUCCESS}; the money is reported either way)")
    p.add_argument("--budget", type=budget_type, default=DEFAULT_BUDGET, metavar="N",
                   help=f"plans to try in all, 1 to {MAX_BUDGET:,} (default {DEFAULT_BUDGET}); "
                   "a resumed study tries only the missing ones")
    p.add_argument("--replicates", type=plan_replicates_type, default=DEFAULT_REPLICATES,
                   metavar="R", help=f"runs per plan, on the same seeds for every plan, 1 to "
                   f"{MAX_PLAN_REPLICATES:,} (default {DEFAULT_REPLICATES})")
    p.add_argument("--objective", type=objective_type, default=DEFAULT_OBJECTIVE,
                   metavar="NAME", help=f"the money side beside success: "
                   f"{', '.join(OBJECTIVES)} (net present value against doing nothing, the "
                   "month by which half the runs have paid back, or the program's cost; "
                   f"default {DEFAULT_OBJECTIVE})")
    n_reps = spec("n_reps")
    p.add_argument("--size", type=size_type, metavar="REPS",
                   help=f"hardware reps of the dealership, {n_reps.allowed()} "
                   f"(default {n_reps.default})")
    run_options(p, strategy=False)
    add_posterior_option(p, "plan")
    p.add_argument("--out", required=True, metavar="DIR", type=out_dir_type,
                   help="the study directory (must be absent or empty unless --resume or "
                   "--force)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", metavar="W", type=workers_type, default=usable_cpus(),
                       help="worker processes, at most 4 x the usable CPUs (default: all CPUs)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", type=scheduler_type,
                       help="run on this Dask distributed scheduler instead")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the study in DIR up to --budget plans")
    again.add_argument("--force", action="store_true", help="replace a non-empty DIR")


def scheduler_type(text: str) -> str:
    """``--scheduler``: a Dask scheduler address ``tcp://HOST:PORT``."""
    if not SCHEDULER_RE.match(text):
        _refuse(f"{text!r} is not an address; expected tcp://HOST:PORT")
    return text
