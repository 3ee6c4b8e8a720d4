"""The ``dealersim`` command line: the parser and ``main``.

Each command group lives in its own module (``run``, ``compare``, ``sweep``, ``dashboard``) with
``register(command, run_options)``; ``common`` holds what they share.

Examples:
    dealersim run --strategy planned --seed 3 --years 2 --set n_reps=12 --out out/planned
    dealersim compare overlay planned --replicates 300 --out out/cmp
    dealersim params --markdown
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from dealersim.base.extras import MissingExtra
from dealersim.base.procs import Terminated, sigterm_as_interrupt
from dealersim.cli import advise, calibrate, compare, dashboard, run, sweep
from dealersim.cli.common import (
    EXIT_FAILED,
    PROG,
    Parser,
    UsageError,
    VersionAction,
    assignment_type,
    disk_full,
    disk_full_line,
    fail,
    seed_type,
    strategy_type,
    years_type,
)
from dealersim.model.params import SEED_RANGE, spec
from dealersim.model.strategies import strategy_names

COMMAND_MODULES = (run, compare, sweep, advise, calibrate, dashboard)
"""Modules that add subcommands. Each has ``register(command, run_options)``, where
``command(name, handler, text)`` adds a subparser whose ``handler(args) -> int`` runs it, and
``run_options(parser, strategy=...)`` adds the shared --strategy/--seed/--years/--set options
(``years_default=`` words the ``--years`` default of a command whose horizon is not ``years``).
Options are checked by the ``type=`` callables of ``common`` while parsing; handlers raise
``UsageError`` (one line, exit 2) for what depends on several options."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand (usage errors raise ``UsageError``)."""
    years = spec("years")
    strategies = ", ".join(strategy_names())
    parser = Parser(
        prog=PROG,
        description="Agent-based simulation of a copier dealership launching managed services.",
        epilog=f"Run '{PROG} COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.set_defaults(parser=parser)  # for `dealersim docs`, which documents the parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=Parser)

    def command(name: str, handler: Callable[[argparse.Namespace], int],
                text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(handler=handler)
        return p

    def run_options(p: argparse.ArgumentParser, *, strategy: bool,
                    years_default: str | None = None) -> None:
        if strategy:
            p.add_argument("--strategy", default="overlay", metavar="NAME", type=strategy_type,
                           help=f"strategy preset: {strategies} (default: overlay)")
        p.add_argument("--seed", metavar="N", type=seed_type,
                       help=f"seed of the run, {SEED_RANGE} (default: simulate()'s default)")
        p.add_argument("--years", metavar="Y", type=years_type,
                       help=f"simulated years, {years.allowed()} "
                       f"(default: {years_default or format(years.default, 'g')})")
        p.add_argument("--set", action="append", metavar="FIELD=VALUE", type=assignment_type,
                       help=f"override a parameter (repeatable); see '{PROG} params'")

    for module in COMMAND_MODULES:
        module.register(command, run_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dealersim`` command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success, 2 for bad input or a missing optional extra (one line on
        stderr), 1 for other failures (a full disk: one line naming the path), 130 when
        interrupted (Ctrl-C), 143 when terminated (SIGTERM).
    """
    args = None
    try:
        args = build_parser().parse_args(argv)
        with sigterm_as_interrupt():
            return args.handler(args)
    except UsageError as exc:
        return fail(exc)
    except MissingExtra as exc:  # one line naming the extra and the pip command
        sys.stdout.flush()
        print(" ".join(str(exc).split()), file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except Terminated as exc:
        return fail("terminated (SIGTERM)", exc.exit_code)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except BrokenPipeError:  # the reader went away, e.g. `dealersim params | head`
        try:  # silence the final flush at interpreter exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except Exception as exc:
        if not disk_full(exc):
            raise
        out = getattr(args, "out", None)
        return fail(disk_full_line(getattr(exc, "filename", None) or out, out), EXIT_FAILED)
