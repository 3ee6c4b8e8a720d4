"""What every command shares: the one-line usage error, the option types and the --out policy.

Bad input never produces a traceback: the option types below are argparse ``type=`` callables,
so a bad value is refused while the command line is parsed, before anything is simulated or
allocated; ``main`` prints one line on stderr, ``dealersim: error: <argument>: <what is wrong>;
expected <allowed values>``, and exits with code 2. Handlers raise :class:`UsageError` for what
depends on several options (``--out`` with ``--force``, ``--set`` with ``--years``).

Numbers are written with the ASCII digits 0-9 only (``'１２'``, ``'1_2'``, ``'1e3'``, ``'+5'`` are
refused, though Python's ``int()`` takes some of them); seeds are integers in [0, 2**63 - 1]
everywhere; bounds and defaults of parameters come from ``Params`` metadata only.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import inspect
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from dealersim.base.io import check_out
from dealersim.base.procs import Terminated, sigterm_as_interrupt
from dealersim.model import kpis
from dealersim.model.params import (
    SEED_MAX,
    SEED_RANGE,
    Params,
    field_specs,
    parse_assignment,
    parse_whole,
    shown,
    spec,
)
from dealersim.model.results import package_version, simulate
from dealersim.model.scenario import Scenario
from dealersim.model.scenario import load as load_scenario
from dealersim.model.strategies import make_params, strategy_names
from dealersim.studies.posterior import load_posterior

PROG = "dealersim"
EXIT_USAGE = 2

MAX_REPLICATES = 100_000
"""Cap on ``--replicates`` (runs per strategy, per blame cell or per validation arm). A larger
value is refused while parsing, before anything is allocated: 100,000 paired runs per strategy
already take hours on a laptop and pin the interval half-widths far below the model's error."""
MAX_WORKERS = 256
"""Absolute cap on ``--workers``."""
WORKERS_PER_CPU = 4
"""``--workers`` may be at most this many times the CPUs this process may use (and 256)."""


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


def simulate_default(name: str) -> Any:
    """A default of ``simulate`` (read from its signature, so it is written only once)."""
    return inspect.signature(simulate).parameters[name].default


def usable_cpus() -> int:
    """The CPUs this process may use (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def max_workers() -> int:
    """The ``--workers`` cap: ``WORKERS_PER_CPU`` x :func:`usable_cpus`, at most ``MAX_WORKERS``."""
    return min(MAX_WORKERS, WORKERS_PER_CPU * usable_cpus())


# ====================================================================== argument parsing
_ARGUMENT_PREFIX = re.compile(r"^argument ([^:]+): ")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors become one-line ``UsageError``s."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage block and exiting.

        argparse's ``argument --seed: ...`` becomes ``--seed: ...``, like every other message.
        """
        raise UsageError(_ARGUMENT_PREFIX.sub(r"\1: ", one_line(message)))


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


def resumable(run: Callable[[], int], kept: str) -> int:
    """Run a command that can be resumed; on Ctrl-C or SIGTERM say what was kept, in one line.

    Args:
        run: The command's body.
        kept: What survives an interruption, e.g. ``"finished parts kept in out/x"``.

    Returns:
        ``run()``'s code, 130 on Ctrl-C, 143 on SIGTERM.
    """
    with sigterm_as_interrupt():
        try:
            return run()
        except KeyboardInterrupt as exc:
            code = exc.exit_code if isinstance(exc, Terminated) else 130
            what = f"terminated ({exc})" if isinstance(exc, Terminated) else "interrupted"
            return fail(f"{what}; {kept}; run again with --resume", code)


# ====================================================================== a failing disk
EXIT_FAILED = 1
"""Exit code of a command the machine failed (a full disk): not bad input."""
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)  # SQLAlchemy wraps the database's own error
        if isinstance(orig, BaseException) and id(orig) not in seen:
            yield orig
            seen.add(id(orig))
        current = current.__cause__ or current.__context__


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the disk or the quota is full.

    Counts an ``OSError`` with ``ENOSPC``/``EDQUOT`` (also as raised by pyarrow, which gives
    the errno only in its message) and SQLite's "database or disk is full".
    """
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in _DISK_FULL_ERRNOS:
            return True
        text = str(e)
        if ("[errno 28]" in text.lower() or "No space left on device" in text
                or "database or disk is full" in text or "Disk quota exceeded" in text):
            return True
    return False


def disk_full_line(path: object, out: object = None) -> str:
    """The one line for a full disk while writing ``path`` (``out``: the command's ``--out``)."""
    where = f" writing {str(path)!r}" if path is not None else ""
    kept = out is not None and Path(str(out)).is_dir() and not _is_empty_dir(Path(str(out)))
    then = (f"what was finished is kept in {str(out)!r}; free some space and run again with "
            "--resume" if kept else "nothing was kept; free some space and run the command again")
    return f"--out: the disk is full{where} (No space left on device); {then}"


def _is_empty_dir(path: Path) -> bool:
    try:
        return path.is_dir() and not any(path.iterdir())
    except OSError:
        return False


@contextlib.contextmanager
def unfinished_out_removed(out: str | Path | None,
                           finished: Callable[[Path], bool] | None = None) -> Iterator[None]:
    """On a full disk, leave nothing in a new ``--out`` that holds no finished work.

    If ``out`` did not exist (or was empty) when the block started and the block fails with a
    full disk (:func:`disk_full`), what the block wrote there is removed, unless
    ``finished(out)`` says it holds work to resume (a sweep's finished parts). An ``out`` that
    held something before is never touched.
    """
    if out is None:
        yield
        return
    out = Path(out)
    was_absent = not (out.exists() or out.is_symlink())
    was_empty = _is_empty_dir(out)
    try:
        yield
    except BaseException as exc:
        if (was_absent or was_empty) and disk_full(exc) and not (finished and finished(out)):
            if was_absent:
                shutil.rmtree(out, ignore_errors=True)
            elif out.is_dir():
                for child in list(out.iterdir()):
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        with contextlib.suppress(OSError):
                            child.unlink()
        raise


# ====================================================================== option types
# Each takes the option's text and returns its checked value, or raises ArgumentTypeError with
# one line *without* the option's name: argparse adds it ("argument --seed: ...") and
# Parser.error turns that into "--seed: ...".
def _refuse(message: object, prefix: str = "") -> NoReturn:
    text = one_line(message)
    raise argparse.ArgumentTypeError(text.removeprefix(prefix) if prefix else text)


def seed_type(text: str) -> int:
    """``--seed``: an integer in [0, 2**63 - 1], written with the digits 0-9 and nothing else.

    Unlike other numbers, a seed may not have blanks around it: a seed names one exact run, and
    ``" 5"`` is more likely a mistake (a shell quoting slip) than seed 5.
    """
    if isinstance(text, str) and text.strip() and text != text.strip():
        _refuse(f"{text!r} has blanks around it; expected {SEED_RANGE} written with the "
                "digits 0-9 only")
    try:
        return parse_whole(text, 0, SEED_MAX, SEED_RANGE)
    except ValueError as exc:
        _refuse(exc)


def count_type(cap: int, unit: str, low: int = 1) -> Callable[[str], int]:
    """A type for a count such as ``--replicates``: an integer in [low, cap] naming its cap.

    Args:
        cap: The largest value allowed (refused before any allocation).
        unit: What is counted, for the message, e.g. ``"runs per strategy"``.
        low: The smallest value allowed.
    """
    expected = f"an integer in [{low}, {cap}] ({cap:,} {unit} is the cap)"

    def parse(text: str) -> int:
        try:
            return parse_whole(text, low, cap, expected)
        except ValueError as exc:
            _refuse(exc)

    parse.__name__ = "count_type"
    return parse


replicates_type = count_type(MAX_REPLICATES, "runs per strategy")
"""``--replicates`` of ``compare``, ``catalogue`` and ``validate``: 1 to ``MAX_REPLICATES``."""


def workers_type(text: str) -> int:
    """``--workers``: an integer in [1, :func:`max_workers`]."""
    cpus, cap = usable_cpus(), max_workers()
    expected = (f"an integer in [1, {cap}] (the cap: {WORKERS_PER_CPU} x the {cpus} CPU(s) "
                f"this process may use, at most {MAX_WORKERS})")
    try:
        return parse_whole(text, 1, cap, expected)
    except ValueError as exc:
        _refuse(exc)


def stride_type(text: str) -> int:
    """``--stride``: days between recorded rows, 0 to the longest horizon in days."""
    days = round(spec("years").high * 365)
    try:
        return parse_whole(text, 0, days)
    except ValueError as exc:
        _refuse(exc)


def years_type(text: str) -> float:
    """``--years``: within the bounds of the ``years`` parameter."""
    try:
        return spec("years").parse(text)
    except ValueError as exc:
        _refuse(exc, "years: ")


def strategy_type(text: str) -> str:
    """A strategy preset name."""
    names = strategy_names()
    if text not in names:
        _refuse(f"{shown(text)} is unknown; expected one of {', '.join(names)}")
    return text


def assignment_type(text: str) -> tuple[str, Any]:
    """``--set FIELD=VALUE``: a known field and a value within its bounds."""
    name = text.partition("=")[0].strip()
    names = [s.name for s in field_specs()]
    if "=" in text and name and name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        _refuse(f"{shown(name)}: unknown parameter{hint} (see '{PROG} params' for the list)")
    try:
        return parse_assignment(text)
    except ValueError as exc:
        _refuse(exc, "--set: ")


def out_dir_type(text: str) -> Path:
    """``--out``: a path that is, or can become, a writable directory. Writes nothing.

    The directory and its parent are probed with a temporary file that is removed at once;
    whether a non-empty directory may be replaced (``--force``) is decided by
    :func:`check_target` in the command, and files are written through ``base.io.atomic_dir``.
    """
    expected = "expected a writable directory"
    if not text.strip():
        _refuse(f"the path is empty; {expected}")
    if not text.isprintable():
        _refuse(f"{shown(text)} holds control characters; {expected}")
    try:
        out = Path(text).expanduser()
        existing = [p for p in (out, *out.parents) if p.exists() or p.is_symlink()]
    except RuntimeError:  # "~nobody/x": no such user
        _refuse(f"cannot expand {text!r} (no such home directory); {expected}")
    except OSError as exc:
        _refuse(f"cannot look at {text!r} ({exc.strerror or type(exc).__name__}); {expected}")
    first = existing[0] if existing else Path(".")
    if not first.is_dir():
        what = "is a file" if first == out else f"is under {str(first)!r}, which is a file"
        _refuse(f"{text!r} {what}; {expected}")
    probes = [first] if first != out else [out, next((p for p in existing[1:]), Path("."))]
    for where in probes:
        try:
            with tempfile.TemporaryFile(dir=where, prefix=".dealersim-probe-"):
                pass
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            _refuse(f"cannot write to {text!r} ({reason}); {expected}")
    return out


def file_path_type(text: str) -> Path:
    """``--path``: a regular file to (re)write, or a new one, in a writable directory.

    A directory, a named pipe or a device is refused (reading a pipe would hang).
    """
    if not text.strip():
        _refuse("the path is empty; expected a file")
    path = Path(text)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # absent (or under a file: the parent check below says so)
    if mode is not None and not stat.S_ISREG(mode):
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a pipe or device)"
        _refuse(f"{text!r} is {what}; expected a file")
    out_dir_type(str(path.parent))
    return path


def scenario_type(text: str) -> Scenario:
    """``--scenario``: a regular TOML file of at most ``scenario.MAX_BYTES``, validated."""
    try:
        return load_scenario(text)
    except ValueError as exc:
        _refuse(exc)


def check_target(out: Path, force: bool) -> None:
    """Refuse a non-empty ``--out`` without ``--force`` (before anything runs).

    Raises:
        UsageError: One line naming ``--out`` and ``--force``.
    """
    try:
        check_out(out, force=force)
    except (FileExistsError, NotADirectoryError) as exc:
        raise UsageError(str(exc)) from None


def add_posterior_option(p: argparse.ArgumentParser, arms: str) -> None:
    """``--posterior DIR`` of compare, blame and advise (``arms``: what shares a draw)."""
    p.add_argument("--posterior", metavar="DIR",
                   help="a 'dealersim calibrate' directory: replicate i draws its parameter set "
                   f"from the posterior, the same for every {arms}")


def check_posterior(directory: str | None) -> None:
    """Refuse a ``--posterior`` that is not a finished calibration (before anything is written).

    Raises:
        UsageError: One line naming ``--posterior`` and what is expected.
    """
    if directory is None:
        return
    try:
        load_posterior(directory)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parse_option(option: str, kind: Callable[[str], Any], text: str) -> Any:
    """Apply an option type outside argparse (for handlers that parse their own options).

    Raises:
        UsageError: ``<option>: <what is wrong>; expected ...``.
    """
    try:
        return kind(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"{option}: {exc}") from None


def parse_positive_int(option: str, text: str) -> int:
    """A count given as text, for commands that do not use the option types yet.

    ``--workers`` is capped by :func:`max_workers`, anything else by ``MAX_REPLICATES``.
    """
    return parse_option(option, workers_type if option == "--workers" else replicates_type, text)


def prepare_out(text: str) -> Path:
    """Check ``--out`` (see :func:`out_dir_type`) and create the directory.

    Raises:
        UsageError: One line naming ``--out``.
    """
    out = parse_option("--out", out_dir_type, text)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out: cannot create {text!r} ({exc.strerror or exc}); "
                         "expected a writable directory") from None
    return out


# ====================================================================== parameters
def build_params(strategy: str, sets: Sequence[tuple[str, Any]] | None, years: float | None,
                 base: dict[str, Any] | None = None) -> Params:
    """Combine a strategy, ``--set`` pairs and ``--years`` (all already parsed) into ``Params``.

    Args:
        strategy: Strategy preset name.
        sets: ``(field, value)`` pairs from :func:`assignment_type` (later ones win).
        years: The ``--years`` value, or ``None`` for the ``years`` default.
        base: Already validated overrides (a scenario file's) that ``--set``/``--years`` win over.

    Returns:
        The validated parameters.

    Raises:
        UsageError: One line naming the field and what is allowed.
    """
    overrides = overrides_of(sets, years)
    try:
        return make_params(strategy, **{**(base or {}), **overrides})
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def overrides_of(sets: Sequence[tuple[str, Any]] | None, years: float | None) -> dict[str, Any]:
    """``--set`` pairs and ``--years`` as one overrides dict.

    Raises:
        UsageError: When ``years`` is given both ways.
    """
    overrides = dict(sets or ())
    if years is not None:
        if "years" in overrides:
            raise UsageError(f"years: given both as --years {years:g} and as --set years=...; "
                             "use one")
        overrides["years"] = years
    return overrides


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
