"""The ``dealersim`` command line: run, params, strategies, demo, docs and validate.

Bad input never produces a traceback: the command prints one line on stderr,
``dealersim: error: <field>: <what is wrong>; expected <allowed range>``, and exits with code 2.
All input (strategy, ``--set`` assignments, ``--years``, ``--seed``, ``--out``) is checked before
anything is simulated. Bounds and defaults come from ``dealersim.params`` metadata only.

Examples:
    dealersim run --strategy planned --seed 3 --years 2 --set n_reps=12 --out out/planned
    dealersim params --markdown
    dealersim demo
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import importlib.util
import inspect
import math
import os
import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from dealersim.params import (
    Params,
    field_specs,
    params_table,
    parse_assignment,
    spec,
)
from dealersim.params import format_value as format_cell
from dealersim.strategies import make_params, strategy_doc, strategy_names, strategy_overrides
from dealersim.validation import DEFAULT_REPLICATES

if TYPE_CHECKING:
    from dealersim.results import RunResult

PROG = "dealersim"
DEMO_STRATEGIES = ("overlay", "planned")
"""The two runs ``dealersim demo`` compares: the story's launch and the author's prescription."""
DEMO_OUT = Path("out") / "demo"
"""``dealersim validate`` replicates per check when ``--replicates`` is not given."""
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


def _simulate_default(name: str) -> Any:
    """A default of ``simulate`` (read from its signature, so it is written only once)."""
    from dealersim.results import simulate

    return inspect.signature(simulate).parameters[name].default


# ====================================================================== argument parsing
class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors become one-line ``UsageError``s."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage block and exiting."""
        raise UsageError(message)


class _VersionAction(argparse.Action):
    """``--version``, importing the (slow) results module only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        from dealersim.results import package_version

        print(f"{PROG} {package_version()}")
        parser.exit(0)


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


def _fail(message: object, code: int = EXIT_USAGE) -> int:
    text = _one_line(message)
    if not text.startswith(f"{PROG}: error:"):
        text = f"{PROG}: error: {text}"
    sys.stdout.flush()
    print(text, file=sys.stderr)
    return code


def parse_int(option: str, text: str, minimum: int) -> int:
    """Check a whole-number option (``--seed``, ``--replicates``, ``--workers``) >= ``minimum``.

    Raises:
        UsageError: One line naming the option and the allowed values.
    """
    expected = f"expected an integer >= {minimum}"
    try:
        value = int(text.strip())
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a whole number; {expected}") from None
    if value < minimum:
        raise UsageError(f"{option}: {value} is not allowed; {expected}")
    return value


def parse_seed(text: str) -> int:
    """Check a ``--seed``: a whole number >= 0 (numpy rejects negative seeds)."""
    return parse_int("--seed", text, 0)


def parse_years(text: str) -> float:
    """Check a ``--years`` value against the bounds of the ``years`` parameter.

    Raises:
        UsageError: One line naming ``years`` and its allowed range.
    """
    try:
        return spec("years").parse(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parse_positive_int(option: str, text: str) -> int:
    """Check a count such as ``--replicates``: a whole number >= 1."""
    return parse_int(option, text, 1)


def _check_field_name(assignment: str) -> None:
    """Reject an unknown ``--set`` field, suggesting the closest field names."""
    name = assignment.partition("=")[0].strip()
    names = [s.name for s in field_specs()]
    if "=" not in assignment or not name or name in names:
        return
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise UsageError(f"{name}: unknown parameter{hint} (see '{PROG} params' for the list)")


def build_params(strategy: str, sets: Sequence[str] | None, years: str | None,
                 base: dict[str, Any] | None = None) -> Params:
    """Validate a strategy, ``--set`` assignments and ``--years`` into ``Params``.

    Args:
        strategy: Strategy preset name.
        sets: Raw ``field=value`` strings (later ones win).
        years: Raw ``--years`` text, or ``None`` for the ``years`` default.
        base: Already validated overrides (a scenario file's) that ``--set``/``--years`` win over.

    Returns:
        The validated parameters.

    Raises:
        UsageError: One line naming the field and what is allowed.
    """
    try:
        strategy_overrides(strategy)
        overrides: dict[str, Any] = {}
        for text in sets or ():
            _check_field_name(text)
            name, value = parse_assignment(text)
            overrides[name] = value
        if years is not None:
            if "years" in overrides:
                raise UsageError(
                    f"years: given both as --years {years} and as --set years=...; use one"
                )
            overrides["years"] = parse_years(years)
        return make_params(strategy, **{**(base or {}), **overrides})
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def prepare_out(text: str) -> Path:
    """Make sure ``--out`` is (or can become) a writable directory, before any simulation.

    Creates the directory and writes (and removes) a probe file in it.

    Returns:
        The directory.

    Raises:
        UsageError: One line naming ``--out`` and what is expected.
    """
    expected = "expected a writable directory"
    if not text.strip():
        raise UsageError(f"--out: the path is empty; {expected}")
    out = Path(text).expanduser()
    for p in (out, *out.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                what = "is a file" if p == out else f"is under {str(p)!r}, which is a file"
                raise UsageError(f"--out: {text!r} {what}; {expected}")
            break
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out, prefix=".dealersim-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"--out: cannot write to {text!r} ({reason}); {expected}") from None
    return out


# ====================================================================== output
def format_value(key: str, value: Any) -> str:
    """Format one summary KPI for the terminal (JSON keeps the raw value)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if "mrr" in key or "gross_profit" in key:
        return f"${value:,.0f}"
    if key.endswith(("_per_year", "_share")):
        return f"{value:.1%}"
    if key.startswith("wall_"):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def summary_table(columns: dict[str, dict[str, Any]]) -> str:
    """Render summaries side by side: one row per KPI, one column per run.

    Args:
        columns: Column header (e.g. a strategy name) to that run's summary.

    Returns:
        A plain-text table.
    """
    keys: list[str] = []
    for summary in columns.values():
        keys += [k for k in summary if k not in keys]
    rows = [["KPI", *columns]]
    rows += [[k, *(format_value(k, s.get(k)) for s in columns.values())] for k in keys]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                         strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _describe(result: RunResult) -> str:
    p = result.params
    text = (f"{PROG} {result.version}: strategy '{result.strategy}', seed {result.seed}, "
            f"{p.years:g} year{'' if p.years == 1 else 's'} ({p.horizon_days} days)")
    preset = make_params(result.strategy)
    changed = p.diff(preset)
    if changed:
        pairs = (f"{k}={format_cell(v)}" for k, (v, _) in changed.items())
        text += "; overrides: " + ", ".join(pairs)
    return text


def _print_story(result: RunResult) -> None:
    print(f"== story: {result.strategy} (seed {result.seed}) ==")
    print(result.story() if len(result.events) else "(no events)")
    print()


def _save(result: RunResult, out: Path) -> int:
    try:
        paths = result.save(out)
    except OSError as exc:
        return _fail(f"--out: could not write to {str(out)!r} ({exc.strerror or exc})", code=1)
    print("wrote: " + ", ".join(str(p) for p in paths.values()))
    return 0


# ====================================================================== commands
def cmd_run(args: argparse.Namespace) -> int:
    """``dealersim run``: one run, its story and summary, and optionally its files."""
    seed = parse_seed(args.seed) if args.seed is not None else None
    base: dict[str, Any] = {}
    if args.scenario is not None:
        from dealersim.scenario import load as load_scenario

        try:
            sc = load_scenario(args.scenario)
        except ValueError as exc:
            raise UsageError(f"--scenario: {exc}") from None
        if args.strategy not in ("overlay", sc.strategy):
            raise UsageError(f"--strategy: {args.strategy!r} conflicts with the scenario's "
                             f"strategy {sc.strategy!r}; give the strategy in one place")
        args.strategy = sc.strategy
        seed = sc.seed if seed is None else seed
        base = dict(sc.params)
    params = build_params(args.strategy, args.set, args.years, base)
    out = prepare_out(args.out) if args.out is not None else None

    from dealersim.results import simulate

    if seed is None:
        seed = _simulate_default("seed")
    result = simulate(args.strategy, seed=seed, params=params)
    print(_describe(result))
    print()
    _print_story(result)
    print(summary_table({result.strategy: result.summary}))
    if out is not None:
        return _save(result, out)
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    """``dealersim params``: the parameter table."""
    print(params_table("markdown" if args.markdown else "text").rstrip())
    return 0


def cmd_strategies(args: argparse.Namespace) -> int:
    """``dealersim strategies``: each preset, what it means and what it changes."""
    defaults = {s.name: s.default for s in field_specs()}
    for n, name in enumerate(strategy_names()):
        if n:
            print()
        print(name)
        print(textwrap.indent(strategy_doc(name), "    "))
        overrides = strategy_overrides(name)
        if not overrides:
            print("    overrides: none (these are the Params defaults)")
            continue
        print("    overrides vs the defaults:")
        width = max(len(k) for k in overrides)
        for key, value in overrides.items():
            same = "  (same as the default)" if value == defaults[key] else ""
            before, after = format_cell(defaults[key]), format_cell(value)
            print(f"      {key:<{width}}  {before} -> {after}{same}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``dealersim demo``: ``compare overlay planned`` with enough replicates for stable rates.

    Writes the report (``report.html``, charts, runs, summary) to ``--out`` (replacing it) and
    prints the summary table.
    """
    seed = parse_seed(args.seed) if args.seed is not None else None
    from dealersim import cli as _cli  # this module may run as __main__ (python -m)
    from dealersim.compare_cli import run_demo

    try:
        return run_demo(seed, args.set, args.years, args.out)
    except _cli.UsageError as exc:
        raise UsageError(str(exc)) from None


def cmd_docs(args: argparse.Namespace) -> int:
    """``dealersim docs``: regenerate the parameter table in docs/model.md."""
    from dealersim.docs_gen import update_params_table

    path = Path(args.path)
    try:
        changed = update_params_table(path, check=args.check)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"--path: cannot update {str(path)!r} ({exc.strerror or exc})") from None
    if args.check:
        if changed:
            return _fail(f"{path}: the parameter table is out of date; run '{PROG} docs'", 1)
        print(f"{path}: parameter table is up to date")
    else:
        print(f"{path}: parameter table {'updated' if changed else 'already up to date'}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``dealersim validate``: the validation checks (``dealersim.validation``)."""
    replicates = (parse_positive_int("--replicates", args.replicates)
                  if args.replicates is not None else DEFAULT_REPLICATES)
    out = prepare_out(args.out) if args.out is not None else None
    from dealersim.validation import main_validate

    return int(main_validate(replicates, out))


# ====================================================================== parser
COMMAND_MODULES: tuple[str, ...] = (
    "dealersim.compare_cli",
    "dealersim.dashboard.cli",
    "dealersim.sweep_cli",
)
"""Modules that add subcommands. Each has ``register(command, run_options)``, where
``command(name, handler, text)`` adds a subparser whose ``handler(args) -> int`` runs it, and
``run_options(parser, strategy=...)`` adds the shared --strategy/--seed/--years/--set options.
Handlers raise ``UsageError`` (one line, exit 2) for bad input."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand (usage errors raise ``UsageError``)."""
    years = spec("years")
    strategies = ", ".join(strategy_names())
    parser = _Parser(
        prog=PROG,
        description="Agent-based simulation of a copier dealership launching managed services.",
        epilog=f"Run '{PROG} COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)

    def command(name: str, handler: Callable[[argparse.Namespace], int],
                text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(handler=handler)
        return p

    def run_options(p: argparse.ArgumentParser, *, strategy: bool) -> None:
        if strategy:
            p.add_argument("--strategy", default="overlay", metavar="NAME",
                           help=f"strategy preset: {strategies} (default: overlay)")
        p.add_argument("--seed", metavar="N",
                       help="seed of the run, an integer >= 0 (default: simulate()'s default)")
        p.add_argument("--years", metavar="Y",
                       help=f"simulated years, {years.allowed()} (default: {years.default:g})")
        p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                       help=f"override a parameter (repeatable); see '{PROG} params'")

    p = command("run", cmd_run, "Run one simulation; print its story and summary.")
    run_options(p, strategy=True)
    p.add_argument("--scenario", metavar="FILE",
                   help="a scenario TOML file (strategy, seed, [params]); --seed, --set and "
                   "--years win over it")
    p.add_argument("--out", metavar="DIR",
                   help="write timeseries.csv, summary.json, events.csv and main_curves.png here")

    p = command("params", cmd_params, "Print every parameter: default, range, unit, source.")
    p.add_argument("--markdown", action="store_true", help="print the Markdown table")

    command("strategies", cmd_strategies,
            "List the strategy presets with what they mean and what they change.")

    p = command("demo", cmd_demo, "Run 'overlay' and 'planned' on one seed and compare them.")
    run_options(p, strategy=False)
    p.add_argument("--out", metavar="DIR", default=str(DEMO_OUT),
                   help=f"output directory (default: {DEMO_OUT})")

    p = command("docs", cmd_docs, "Regenerate the parameter table in docs/model.md.")
    p.add_argument("--path", default=str(Path("docs") / "model.md"), metavar="FILE",
                   help="the Markdown file to update (default: docs/model.md)")
    p.add_argument("--check", action="store_true",
                   help="only check that the table is current (exit 1 if not)")

    p = command("validate", cmd_validate, "Run the validation checks against the story.")
    p.add_argument("--replicates", metavar="N",
                   help=f"replicate runs per check (default: {DEFAULT_REPLICATES})")
    p.add_argument("--out", metavar="DIR", help="write the validation results here")

    for module_name in COMMAND_MODULES:
        try:
            found = importlib.util.find_spec(module_name) is not None
        except ModuleNotFoundError:  # its parent package is absent
            found = False
        if not found:
            continue  # a feature not built yet
        module = importlib.import_module(module_name)
        module.register(command, run_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dealersim`` command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success, 2 for bad input (one line on stderr), 1 for other
        failures, 130 when interrupted.
    """
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args)
    except UsageError as exc:
        return _fail(exc)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:  # the reader went away, e.g. `dealersim params | head`
        try:  # silence the final flush at interpreter exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1


if __name__ == "__main__":
    # Re-import as ``dealersim.cli`` so that UsageError is the class the command modules raise.
    from dealersim.cli import main as _main

    raise SystemExit(_main())
