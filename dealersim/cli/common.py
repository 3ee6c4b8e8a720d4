"""What every command shares: the one-line usage error, option types and the --out policy.

Bad input never produces a traceback: a command raises :class:`UsageError`, and ``main`` prints
one line on stderr, ``dealersim: error: <argument>: <what is wrong>; expected <allowed values>``,
and exits with code 2. Bounds and defaults come from ``Params`` metadata only.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from dealersim.model import kpis
from dealersim.model.params import Params, field_specs, parse_assignment, spec
from dealersim.model.results import package_version, simulate
from dealersim.model.strategies import make_params, strategy_overrides

PROG = "dealersim"
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


def simulate_default(name: str) -> Any:
    """A default of ``simulate`` (read from its signature, so it is written only once)."""
    return inspect.signature(simulate).parameters[name].default


# ====================================================================== argument parsing
class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors become one-line ``UsageError``s."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage block and exiting."""
        raise UsageError(message)


class VersionAction(argparse.Action):
    """``--version``, importing the (slow) results module only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        """Print the version and exit 0."""
        print(f"{PROG} {package_version()}")
        parser.exit(0)


def one_line(message: object) -> str:
    """``message`` folded onto one line."""
    return " ".join(str(message).split())


def fail(message: object, code: int = EXIT_USAGE) -> int:
    """Print ``message`` as the one ``dealersim: error:`` line on stderr; return ``code``."""
    text = one_line(message)
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


def check_field_name(assignment: str) -> None:
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
            check_field_name(text)
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
    """Format one summary KPI for the terminal: the registry's format (:func:`kpis.fmt`)."""
    return kpis.fmt(key, value)


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
