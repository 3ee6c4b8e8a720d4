"""``dealersim run``, ``params``, ``strategies``, ``demo``, ``docs`` and ``validate``."""

from __future__ import annotations

import argparse
import contextlib
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dealersim.base.io import atomic_dir
from dealersim.cli.common import (
    MAX_REPLICATES,
    PROG,
    UsageError,
    build_params,
    check_target,
    count_type,
    fail,
    file_path_type,
    one_line,
    out_dir_type,
    scenario_type,
    seed_type,
    simulate_default,
    summary_table,
    years_type,
)
from dealersim.cli.compare import run_demo
from dealersim.model.params import field_specs, params_table, spec
from dealersim.model.params import format_value as format_cell
from dealersim.model.results import RunResult, simulate
from dealersim.model.strategies import make_params, strategy_doc, strategy_names, strategy_overrides
from dealersim.outputs.docs import (
    EVIDENCE_PAGE,
    cli_page,
    kpis_page,
    parameters_page,
    update_evidence,
    update_page,
    update_params_table,
)
from dealersim.outputs.plots import save_run
from dealersim.studies.knockouts import MASTER_SEED as KNOCKOUT_SEED
from dealersim.studies.knockouts import SIZES as KNOCKOUT_SIZES
from dealersim.studies.knockouts import main_knockouts
from dealersim.studies.validation import DEFAULT_REPLICATES, main_validate
from dealersim.studies.validation import MASTER_SEED as VALIDATION_SEED

DEMO_OUT = Path("out") / "demo"


def team_size_type(text: str) -> int:
    """``validate --sizes``: a team size within the bounds of the ``n_reps`` parameter."""
    try:
        return spec("n_reps").parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(one_line(exc).removeprefix("n_reps: ")) from None


validate_replicates = count_type(MAX_REPLICATES, "replicates per check")
"""``validate --replicates``: 1 to ``MAX_REPLICATES``."""


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


def _save(result: RunResult, out: Path, force: bool) -> int:
    """Write the run's files into ``out`` atomically: all of them, or nothing.

    On a failure or an interrupt the temporary directory is removed (``atomic_dir``) and so are
    the parent directories that were created for ``out``.
    """
    missing = [p for p in out.parents if not p.exists()]  # innermost first
    try:
        with atomic_dir(out, force=force) as tmp:
            paths = save_run(result, tmp)
    except BaseException as exc:
        for parent in missing:
            with contextlib.suppress(OSError):
                parent.rmdir()
        if isinstance(exc, FileExistsError | NotADirectoryError):  # filled while running
            return fail(exc)
        if isinstance(exc, OSError):
            return fail(f"--out: could not write to {str(out)!r} ({exc.strerror or exc})", 1)
        raise
    print("wrote: " + ", ".join(str(out / p.relative_to(tmp)) for p in paths.values()))
    return 0


# ====================================================================== commands
def cmd_run(args: argparse.Namespace) -> int:
    """``dealersim run``: one run, its story and summary, and optionally its files."""
    seed = args.seed
    base: dict[str, Any] = {}
    if args.scenario is not None:
        sc = args.scenario
        if args.strategy not in ("overlay", sc.strategy):
            raise UsageError(f"--strategy: {args.strategy!r} conflicts with the scenario's "
                             f"strategy {sc.strategy!r}; give the strategy in one place")
        args.strategy = sc.strategy
        seed = sc.seed if seed is None else seed
        base = dict(sc.params)
    params = build_params(args.strategy, args.set, args.years, base)
    if args.out is not None:
        check_target(args.out, args.force)

    if seed is None:
        seed = simulate_default("seed")
    result = simulate(args.strategy, seed=seed, params=params)
    print(_describe(result))
    print()
    _print_story(result)
    print(summary_table({result.strategy: result.summary}))
    if args.out is not None:
        return _save(result, args.out, args.force)
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
    return run_demo(args.seed, args.set, args.years, args.out)


def cmd_docs(args: argparse.Namespace) -> int:
    """``dealersim docs``: regenerate (or with ``--check`` check) every generated doc part."""
    path = args.path
    try:
        changed = update_params_table(path, check=args.check)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"--path: cannot update {str(path)!r} ({exc.strerror or exc})") from None
    if args.check:
        if changed:
            return fail(f"{path}: the parameter table is out of date; run '{PROG} docs'", 1)
        print(f"{path}: parameter table is up to date")
    else:
        print(f"{path}: parameter table {'updated' if changed else 'already up to date'}")
    evidence = check_evidence(Path(path).with_name(EVIDENCE_PAGE), args.check)
    reference = reference_pages(Path(path).parent / "reference", args.parser, check=args.check)
    return evidence or reference


def check_evidence(page: Path, check: bool) -> int:
    """Regenerate (or, with ``check``, check) the evidence page next to the parameter table.

    Returns:
        0 when the page is current and agrees with ``Params``; 1 otherwise, after one line per
        problem on stderr.
    """
    try:
        changed, problems = update_evidence(page, check=check)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        return fail(f"{page}: cannot read the evidence page ({exc.strerror or exc})", 1)
    for problem in problems:
        fail(f"{page}: {problem}", 1)
    if check and changed:
        return fail(f"{page}: the generated parts are out of date; run '{PROG} docs'", 1)
    if problems:
        return 1
    state = ("is up to date" if check else
             "updated" if changed else "already up to date")
    print(f"{page}: evidence page {state}")
    return 0


def reference_pages(folder: Path, parser: argparse.ArgumentParser, *, check: bool) -> int:
    """Write (or with ``check`` only check) the generated reference pages in ``folder``."""
    pages = {"parameters.md": parameters_page(), "kpis.md": kpis_page(),
             "cli.md": cli_page(parser)}
    stale = []
    for name, text in pages.items():
        page = folder / name
        try:
            changed = update_page(page, text, check=check)
        except OSError as exc:
            raise UsageError(f"--path: cannot update {str(page)!r} "
                             f"({exc.strerror or exc})") from None
        if check and changed:
            stale.append(str(page))
        elif not check:
            print(f"{page}: {'updated' if changed else 'already up to date'}")
    if stale:
        return fail(f"{', '.join(stale)}: out of date; run '{PROG} docs'", 1)
    if check:
        print(f"{folder}: the reference pages are up to date")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``dealersim validate``: the checks, or with ``--knockouts`` the knock-out table.

    The checks are ``dealersim.studies.validation``'s, the knock-outs
    ``dealersim.studies.knockouts``'.
    """
    if args.knockouts:
        if args.out is None:
            raise UsageError("--knockouts needs --out DIR (where knockouts.csv is written)")
        if args.replicates < 2:
            raise UsageError(f"--replicates: {args.replicates} is too few for --knockouts; "
                             "expected at least 2 (an interval needs two pairs)")
        sizes = tuple(dict.fromkeys(args.sizes)) if args.sizes else KNOCKOUT_SIZES
        return main_knockouts(args.replicates, args.out, years=args.years, sizes=sizes,
                              docs=args.docs, master=args.seed)
    for option in ("years", "sizes", "docs"):
        if getattr(args, option) is not None:
            raise UsageError(f"--{option} applies only with --knockouts")
    return int(main_validate(args.replicates, args.out,
                             VALIDATION_SEED if args.seed is None else args.seed))


def register(command: Callable[..., argparse.ArgumentParser],
             run_options: Callable[..., None]) -> None:
    """Add ``run``, ``params``, ``strategies``, ``demo``, ``docs`` and ``validate``."""
    p = command("run", cmd_run, "Run one simulation; print its story and summary.")
    run_options(p, strategy=True)
    p.add_argument("--scenario", metavar="FILE", type=scenario_type,
                   help="a scenario TOML file (strategy, seed, [params]); --seed, --set and "
                   "--years win over it")
    p.add_argument("--out", metavar="DIR", type=out_dir_type,
                   help="write timeseries.csv, summary.json, events.csv, ledger.parquet and "
                   "main_curves.png here "
                   "(must be absent or empty unless --force; written all at once)")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")

    p = command("params", cmd_params, "Print every parameter: default, range, unit, source.")
    p.add_argument("--markdown", action="store_true", help="print the Markdown table")

    command("strategies", cmd_strategies,
            "List the strategy presets with what they mean and what they change.")

    p = command("demo", cmd_demo, "Compare 'overlay' and 'planned' over the money horizon "
                "(5 years unless --years) and write the owner's report.")
    run_options(p, strategy=False,
                years_default=f"the money horizon, {spec('money_years').default:g}")
    p.add_argument("--out", metavar="DIR", default=str(DEMO_OUT), type=out_dir_type,
                   help=f"output directory, replaced as a whole (default: {DEMO_OUT})")

    p = command("docs", cmd_docs, "Regenerate the parameter table in docs/model.md, the "
                "generated parts of the evidence page and the reference pages beside it "
                "(parameters, KPIs, command line).")
    p.add_argument("--path", default=str(Path("docs") / "model.md"), metavar="FILE",
                   type=file_path_type,
                   help="the Markdown file to update (default: docs/model.md); the reference "
                   "pages go into the folder 'reference' beside it")
    p.add_argument("--check", action="store_true",
                   help="only check that the generated docs are current (exit 1 if not)")

    p = command("validate", cmd_validate, "Run the validation checks against the story.")
    p.add_argument("--replicates", metavar="N", type=validate_replicates,
                   default=DEFAULT_REPLICATES,
                   help=f"replicate runs per check, 1 to {MAX_REPLICATES:,} "
                   f"(default: {DEFAULT_REPLICATES})")
    p.add_argument("--out", metavar="DIR", type=out_dir_type,
                   help="write the validation results here (with --knockouts: knockouts.csv)")
    p.add_argument("--seed", metavar="N", type=seed_type, default=None,
                   help="master seed of the replicate seeds (default: the checks' own, "
                   f"{VALIDATION_SEED}; the knock-outs' own, {KNOCKOUT_SEED})")
    p.add_argument("--knockouts", action="store_true",
                   help="switch each story mechanism off in turn (same seeds with and without) "
                   "and write the paired effects on launch success, the first specialist's "
                   "tenure, year-one revenue and cash, each with its interval")
    p.add_argument("--years", metavar="Y", type=years_type,
                   help="with --knockouts: simulated years (default: the money horizon, "
                   f"{spec('money_years').default:g})")
    p.add_argument("--sizes", metavar="N", type=team_size_type, nargs="+",
                   help="with --knockouts: team sizes in hardware reps (default: "
                   f"{' '.join(map(str, KNOCKOUT_SIZES))})")
    p.add_argument("--docs", metavar="FILE", type=file_path_type,
                   help="with --knockouts: also update the knock-out section of this Markdown "
                   "file (e.g. docs/validation.md)")

