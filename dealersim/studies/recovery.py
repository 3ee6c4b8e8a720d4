"""Does the calibration recover known parameters? Coverage on synthetic data, cheaply.

Running ABC-SMC once per synthetic truth is a cluster job. This module does the standard cheap
alternative, cross-validation of rejection ABC on a reference table (R's ``abc::cv4abc``,
Csilléry et al. 2012; the coverage property of Prangle et al. 2014):

1. **Reference table.** ``n`` parameter sets are drawn from the spec's uniform priors (row *i*
   is the same for any ``n``: the draws come from ``default_rng(SeedSequence(master))`` row by
   row), and each is simulated once with :func:`dealersim.studies.calibrate.simulate_patterns`
   (its runs' seed is ``seed_for(master, RECOVERY_KEY, i)``), on the shared engine (a local
   process pool or any executor). The table, parameters and pattern statistics, is kept as
   Parquet so that the analysis can be redone without simulating again.
2. **Leave-one-out recovery.** Each of the first ``truths`` rows is taken as the truth. Its
   statistics become synthetic targets, ranges as wide as the real ones: the truth's value
   +- half the width of the real target's range (one-sided ranges: +- the target's scale).
   The other ``n - 1`` rows are scored by the calibration's distance (root sum of squared gaps
   outside those ranges, each in its scale) and the ``k`` nearest are accepted (with every row
   tied with the ``k``-th). When a statistic has no known target, every statistic is instead
   standardised by its prior-predictive standard deviation (standardised Euclidean distance).
   Each parameter's 90 % interval is the 5 % and 95 % quantile of the accepted rows; it covers
   the truth or not.
3. **Report.** Per parameter: the share of truths covered (with its 95 % Wilson interval), the
   median interval width as a share of the prior's width, and a verdict. Coverage between
   :data:`CALIBRATED` counts as calibrated, below as overconfident, above as conservative; an
   interval nearly as wide as the prior (:data:`NOT_IDENTIFIED`) means the patterns do not
   inform the parameter (a uniform prior's own 90 % interval spans 0.9 of it).

Rejection ABC on one table stands in for the ABC-SMC posterior: both accept the parameter sets
whose patterns fall near the targets. It accepts looser matches than the SMC's last generation
(the ``k`` nearest of ``n``, whatever their distance), so its intervals are wider: its widths
say what ``n`` simulated sets can learn, an upper bound on what the calibration is shown to
learn; its coverage tests the patterns' noise and the distance, which both share. The
intervals use Weibull plotting positions (the order statistic at ``p (k + 1)``), so that they
cover a new draw from the accepted sets' distribution 90 % of the time; numpy's default
quantiles would cover ``(k - 1) / (k + 1)`` of 90 % (81 % at ``k = 20``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import textwrap
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealersim.base.io import atomic_dir, check_out, replace_marked, write_text
from dealersim.base.procs import check_workers
from dealersim.base.stats import wilson
from dealersim.studies import calibrate as _cal
from dealersim.studies.engine import execute, seed_for

RECOVERY_KEY = 2_000_003
"""Seed key of the reference table's runs (far from the calibration's generation keys)."""
LEVEL = 0.90
"""The credible level of the intervals whose coverage is tested."""
CALIBRATED = (0.80, 0.97)
"""Coverage of the 90 % intervals counted as calibrated (inclusive)."""
NOT_IDENTIFIED = 0.80
"""A median interval width at or above this share of the prior's width: not identifiable."""
NAN_GAP = 1.0
"""Distance (in scale or sd units) between a measured and an unmeasurable statistic."""
TABLE = "table.parquet"
TRUTHS = "truths.parquet"
CSV = "recovery.csv"
JSON = "recovery.json"
START = "<!-- recovery:start -->"
END = "<!-- recovery:end -->"
DISTANCES = ("auto", "range", "euclidean")
MAX_SETS = 1_000_000
MIN_K = round(2 / (1 - LEVEL)) - 1
"""The fewest accepted sets whose quantiles can make a 90 % interval (19): with ``k`` sets the
interval's ends are the order statistics at ``(k + 1) x 5 %`` and ``(k + 1) x 95 %``, which
exist from ``k = 19`` on; fewer sets give their whole range, which covers a new draw from the
same distribution with probability ``(k - 1) / (k + 1)`` only."""
SUMMARY_COLUMNS = ["parameter", "prior_low", "prior_high", "truths", "covered", "coverage",
                   "coverage_low", "coverage_high", "median_width_share", "verdict"]
"""The columns of ``recovery.csv``, one row per parameter."""


@dataclasses.dataclass(frozen=True)
class Recovery:
    """A finished recovery test.

    Attributes:
        summary: One row per parameter (:data:`SUMMARY_COLUMNS`).
        truths: One row per truth and parameter: ``truth`` (the table row), ``parameter``,
            ``value``, ``low``, ``high``, ``covered``, ``width_share``, ``accepted``.
        info: Settings, distance used, costs and the overall verdict (``recovery.json``).
    """

    summary: pd.DataFrame
    truths: pd.DataFrame
    info: dict[str, Any]


# ====================================================================== checks
def _count(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not (
            low <= value <= high):
        raise ValueError(f"{name}: {value!r} is not allowed; expected an integer from {low} to "
                         f"{high:,}")
    return int(value)


def check_settings(n: int, truths: int, k: int, replicates: int | None = None,
                   workers: int = 1, distance: str = "auto") -> None:
    """Refuse bad settings in one line (``ValueError``) before anything runs or is written."""
    _count(n, "n", MIN_K + 1, MAX_SETS)
    _count(truths, "truths", 1, n)
    _count(k, "k", MIN_K, n - 1)
    if replicates is not None:
        _count(replicates, "replicates", 1, getattr(_cal, "MAX_REPLICATES", 1_000))
    check_workers(workers)
    if distance not in DISTANCES:
        raise ValueError(f"distance: {distance!r} is not allowed; expected one of "
                         f"{', '.join(DISTANCES)}")


# ====================================================================== the table
def with_replicates(spec: Any, replicates: int | None) -> Any:
    """The spec with ``replicates`` runs per arm and size (``None``: the spec's own)."""
    if replicates is None:
        return spec
    return dataclasses.replace(spec, budget=dataclasses.replace(spec.budget,
                                                                replicates=replicates))


def draw_parameters(priors: Sequence[Any], n: int, seed: int) -> pd.DataFrame:
    """``n`` parameter sets from the uniform priors; row *i* does not depend on ``n``."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    u = rng.random((n, len(priors)))  # filled row by row: a prefix of a longer table
    return pd.DataFrame({p.name: [p.value(p.low + x * (p.high - p.low)) for x in u[:, j]]
                         for j, p in enumerate(priors)})


def _simulate_task(items: Sequence[tuple[int, dict[str, Any], int]], series_stride: int,
                   spec: Any) -> list[tuple[int, dict[str, float], float]]:
    """Simulate parameter sets in a worker: ``(row, statistics, seconds)`` each."""
    out = []
    for i, overrides, seed in items:
        t = time.perf_counter()
        stats = _cal.simulate_patterns(spec, overrides, seed)
        out.append((i, stats, time.perf_counter() - t))
    return out


def reference_table(spec: Any, n: int, *, seed: int | None = None,
                    replicates: int | None = None, workers: int = 1,
                    executor: Executor | None = None, progress: bool | None = None,
                    ) -> pd.DataFrame:
    """Draw ``n`` parameter sets from ``spec``'s priors and simulate each one.

    Returns:
        Columns ``set``, ``seed``, ``replicates`` (runs per arm and size), ``seconds`` (the
        set's simulation time in its worker), one per parameter, then one per statistic
        (``spec.all_keys()``), rows in ``set`` order.
    """
    master = spec.seed if seed is None else int(seed)
    spec = with_replicates(spec, replicates)
    params = draw_parameters(spec.priors, n, master)
    items = [(i, _cal.particle_overrides(spec.priors, params.iloc[i].to_dict()),
              seed_for(master, RECOVERY_KEY, i)) for i in range(n)]
    done: dict[int, tuple[dict[str, float], float]] = {}
    for batch in execute(items, executor=executor, workers=workers, per_task=1,
                         progress=progress, task_fn=_simulate_task, task_args=(spec,)):
        for i, stats, seconds in batch:
            done[i] = (stats, seconds)
    keys = list(spec.all_keys())
    stats = pd.DataFrame([[done[i][0].get(key, math.nan) for key in keys] for i in range(n)],
                         columns=keys, dtype=float)
    head = pd.DataFrame({"set": range(n), "seed": [s for _, _, s in items],
                         "replicates": spec.budget.replicates,
                         "seconds": [done[i][1] for i in range(n)]})
    return pd.concat([head, params, stats], axis=1)


# ====================================================================== the distance
def range_targets(keys: Sequence[str]) -> dict[str, tuple[float, float]] | None:
    """``{statistic: (half width, scale)}`` from the calibration's targets, or ``None``.

    ``None`` when a statistic has no known target (the caller then standardises instead).
    """
    targets = getattr(_cal, "TARGETS", None)
    if not isinstance(targets, dict):
        return None
    out = {}
    for key in keys:
        try:
            t = targets[key.split(" ", 1)[1].rsplit(" @", 1)[0]]
            low, high, scale = float(t.low), float(t.high), float(t.scale)
        except (KeyError, IndexError, AttributeError, TypeError, ValueError):
            return None
        if not scale > 0:
            return None
        half = (high - low) / 2 if math.isfinite(low) and math.isfinite(high) else scale
        out[key] = (half, scale)
    return out


def _distances(x: np.ndarray, obs: np.ndarray, half: np.ndarray, scale: np.ndarray,
               ) -> np.ndarray:
    """Root sum of squared gaps of rows ``x`` outside ``obs +- half``, in ``scale`` units.

    A statistic unmeasurable in both counts 0, in one of them :data:`NAN_GAP`.
    """
    with np.errstate(invalid="ignore"):
        gap = np.maximum(np.abs(x - obs) - half, 0.0) / scale
    xn, on = np.isnan(x), np.isnan(obs)
    gap = np.where(xn & on, 0.0, np.where(xn | on, NAN_GAP, gap))
    return np.sqrt(np.sum(gap ** 2, axis=1))


# ====================================================================== recovery
def recover(table: pd.DataFrame, priors: Sequence[Any], stats: Sequence[str], *,
            truths: int, k: int, targets: dict[str, tuple[float, float]] | None = None,
            level: float = LEVEL) -> Recovery:
    """Leave-one-out rejection ABC on ``table`` for its first ``truths`` rows.

    Args:
        table: One row per parameter set: a column per prior and per statistic.
        priors: The parameters (``name``, ``low``, ``high``).
        stats: The statistic columns.
        truths: How many rows (the first ones) are taken as truths.
        k: Rows accepted per truth (plus those tied with the ``k``-th).
        targets: ``{statistic: (half width, scale)}`` for the range distance; ``None``:
            standardised Euclidean distance (prior-predictive sd; constant statistics dropped).
        level: The intervals' credible level.
    """
    n = len(table)
    check_settings(n, truths, k)
    x = table[list(stats)].to_numpy(float)
    if targets is not None:
        half = np.array([targets[s][0] for s in stats], float)
        scale = np.array([targets[s][1] for s in stats], float)
        distance = "range"
    else:
        sd = np.nanstd(x, axis=0, ddof=1) if n > 1 else np.zeros(x.shape[1])
        keep = np.isfinite(sd) & (sd > 0)
        x, sd = x[:, keep], sd[keep]
        half, scale = np.zeros_like(sd), sd
        distance = "euclidean"
    theta = table[[p.name for p in priors]].to_numpy(float)
    width = np.array([p.high - p.low for p in priors], float)
    q = [(1 - level) / 2, (1 + level) / 2]
    rows = []
    for t in range(truths):
        d = _distances(x, x[t], half, scale)
        d[t] = np.inf  # leave the truth out
        cut = np.partition(d, k - 1)[k - 1]
        accepted = np.flatnonzero(d <= cut)
        # Weibull plotting positions (the order statistic at p (k + 1)): the interval then
        # covers a new draw from the accepted sets' distribution with probability 90 %
        # exactly, where numpy's default (p (k - 1) + 1) covers (k - 1) 90 % / (k + 1) only
        # (81 % for k = 20)
        lo, hi = np.quantile(theta[accepted], q, axis=0, method="weibull")
        for j, p in enumerate(priors):
            v = theta[t, j]
            rows.append({"truth": t, "parameter": p.name, "value": v, "low": lo[j],
                         "high": hi[j], "covered": bool(lo[j] <= v <= hi[j]),
                         "width_share": (hi[j] - lo[j]) / width[j],
                         "accepted": len(accepted)})
    per_truth = pd.DataFrame(rows)
    summary = coverage_summary(per_truth, priors)
    info = {"sets": n, "truths": truths, "k": k, "level": level, "distance": distance,
            "statistics": list(stats), "parameters": [p.name for p in priors],
            "verdict": overall_verdict(summary)}
    return Recovery(summary, per_truth, info)


def verdict(coverage: float, width_share: float) -> str:
    """A parameter's verdict in words, from its coverage and median interval width."""
    low, high = CALIBRATED
    if coverage < low:
        return "overconfident"
    if width_share >= NOT_IDENTIFIED:
        return "not identifiable"
    if coverage > high:
        return "conservative"
    return "calibrated"


def coverage_summary(per_truth: pd.DataFrame, priors: Sequence[Any]) -> pd.DataFrame:
    """One row per parameter: coverage with its 95 % interval, median width, verdict."""
    rows = []
    for p in priors:
        g = per_truth[per_truth.parameter == p.name]
        covered = int(g.covered.sum())
        rate, lo, hi = wilson(covered, len(g))
        share = float(g.width_share.median())
        rows.append({"parameter": p.name, "prior_low": p.low, "prior_high": p.high,
                     "truths": len(g), "covered": covered, "coverage": rate,
                     "coverage_low": lo, "coverage_high": hi, "median_width_share": share,
                     "verdict": verdict(rate, share)})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def overall_verdict(summary: pd.DataFrame) -> str:
    """One sentence: how many parameters are calibrated, overconfident, not identifiable."""
    counts = summary.verdict.value_counts()
    total = len(summary)
    parts = [f"{counts.get(v, 0)} of {total} parameters {v}"
             for v in ("calibrated", "not identifiable", "overconfident", "conservative")
             if counts.get(v, 0)]
    return "; ".join(parts) + "."


# ====================================================================== outputs
def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.0f} %"


def _minutes(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "n/a"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _para(text: str) -> list[str]:
    return [*textwrap.wrap(text, 100, break_on_hyphens=False), ""]


REFERENCES = [
    "- Csilléry, K., François, O., Blum, M. G. B. (2012). abc: an R package for approximate "
    "Bayesian computation (ABC). *Methods in Ecology and Evolution* 3, 475-479.",
    "- Prangle, D., Blum, M. G. B., Popovic, G., Sisson, S. A. (2014). Diagnostic tools for "
    "approximate Bayesian computation using the coverage property. *Australian & New Zealand "
    "Journal of Statistics* 56, 309-329.",
]


def recovery_markdown(rec: Recovery | None, command: str = "", note: str = "") -> str:
    """The docs section (between :data:`START` and :data:`END`): method, then results.

    Args:
        rec: The results (``None``: the method and the command only).
        command: The command that made (or makes) them.
        note: A paragraph after the command (e.g. what it costs).
    """
    lo, hi = CALIBRATED
    lines = [START, "## Recovery on synthetic data", ""]
    lines += _para(
        "Does the calibration find parameters it knows? The test draws parameter sets from the "
        "priors and simulates each one once on the spec's arms and team sizes (a reference "
        "table). It then takes some of them in turn as the truth: their simulated patterns "
        "become synthetic targets, ranges as wide as the real targets (a one-sided target: "
        "+- its distance scale), and the other sets are scored by the calibration's distance. "
        "The nearest sets are accepted (rejection ABC, cross-validated as in Csilléry et al. "
        "2012) and each parameter's 90 % interval is read from them. If the method is sound, "
        "that interval covers the truth about 90 % of the time (Prangle et al. 2014). It is "
        "the cheap stand-in for running the whole ABC-SMC calibration once per truth: both "
        "accept the parameter sets whose patterns fall near the targets, but it accepts looser "
        "matches (a fixed number of nearest sets), so its intervals are wider than the "
        "calibration's and its widths show what that many simulated sets can learn.")
    lines += _para(
        f"A parameter counts as **calibrated** when its coverage is between {_pct(lo)} and "
        f"{_pct(hi)}, **overconfident** below (its intervals are too narrow), **conservative** "
        f"above. The width says what the patterns teach: a uniform prior's own 90 % interval "
        f"spans 90 % of it, so a median width of {_pct(NOT_IDENTIFIED)} of the prior or more "
        "means the patterns hardly inform that parameter (**not identifiable**).")
    if command:
        lines += ["```sh", command, "```", ""]
    if note:
        lines += _para(note)
    if rec is None:
        lines += _para(
            "It writes `recovery.csv` (one row per parameter), `recovery.json` (settings, "
            "costs, verdict), `truths.parquet` (each truth's intervals) and the reference "
            "table `table.parquet` into its out directory; `--table` reuses a table (another "
            "k without simulating again), and `--docs` replaces this section with the results.")
    else:
        info = rec.info
        reps = info.get("replicates", "?")
        lines += _para(
            f"Reference table of {info['sets']:,} parameter sets ({reps} "
            f"{'run' if reps == 1 else 'runs'} per arm and team size), {info['truths']} "
            f"truths, the {info['k']} nearest sets accepted ("
            f"{'range distance' if info['distance'] == 'range' else 'standardised distance'}"
            f"). One set took {info.get('seconds_per_set', math.nan):.1f} s of one core on "
            f"average, the table {_minutes(60 * info.get('table_minutes', math.nan))} on "
            f"{info.get('workers', '?')} worker{'' if info.get('workers') == 1 else 's'}.")
        lines += ["| parameter | coverage of the 90 % interval (95 % interval) | median width, "
                  "share of the prior | verdict |", "|---|---|---|---|"]
        for r in rec.summary.itertuples():
            lines.append(f"| {r.parameter} | {_pct(r.coverage)} ({_pct(r.coverage_low)} to "
                         f"{_pct(r.coverage_high)}) | {_pct(r.median_width_share)} | "
                         f"{r.verdict} |")
        lines += [""] + _para(f"Overall: {info['verdict']}")
    for ref in REFERENCES:
        lines += textwrap.wrap(ref, 100, subsequent_indent="  ", break_on_hyphens=False)
    lines += ["", END]
    return "\n".join(lines) + "\n"


def write_docs_section(path: str | Path, section: str) -> None:
    """Replace the text between the markers in ``path`` (append the section if absent)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"docs: {str(path)!r} cannot be read ({exc.strerror}); expected a "
                         "Markdown file") from None
    write_text(path, replace_marked(text, section, START, END))


def load_table(path: str | Path, spec: Any) -> pd.DataFrame:
    """Read a reference table and check it has the spec's parameters and statistics."""
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"table: {str(path)!r} cannot be read ({exc}); expected a reference "
                         "table written by this command") from None
    need = [p.name for p in spec.priors] + list(spec.all_keys())
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"table: {str(path)!r} lacks the column {missing[0]!r}; expected a "
                         "table made from the same spec")
    return table


def run_recovery(spec: Any, out: str | Path, *, n: int = 400, truths: int = 100, k: int = 20,
                 replicates: int | None = None, workers: int = 1, seed: int | None = None,
                 distance: str = "auto", table: str | Path | None = None, force: bool = False,
                 executor: Executor | None = None, progress: bool | None = None,
                 docs: str | Path | None = None, command: str = "",
                 say: Callable[[str], None] = print) -> Recovery:
    """Build (or load) the reference table, run the recovery test, write ``out``.

    ``out`` gets ``table.parquet``, ``truths.parquet``, ``recovery.csv`` and
    ``recovery.json``, all at once (atomically); with ``docs`` that file's recovery section is
    replaced too.

    Raises:
        ValueError: Bad settings, an ``out`` that exists and is not empty (without
            ``force``), an unreadable or mismatched ``table`` or ``docs``, in one line; nothing
            is written.
    """
    check_settings(n, truths, k, replicates, 1 if executor is not None else workers, distance)
    out = Path(out)
    try:
        check_out(out, force=force)
    except (FileExistsError, NotADirectoryError) as exc:
        raise ValueError(str(exc)) from None
    if docs is not None and not Path(docs).is_file():
        raise ValueError(f"docs: {str(docs)!r} is not a file; expected the Markdown file to "
                         "hold the recovery section")
    master = spec.seed if seed is None else int(seed)
    stats = list(spec.distance_keys())
    targets = None if distance == "euclidean" else range_targets(stats)
    if distance == "range" and targets is None:
        raise ValueError("distance: 'range' is not possible; a statistic has no known target "
                         "range (use euclidean or auto)")
    if distance == "auto" and targets is None:
        say("Some statistic has no known target range: every statistic is standardised by its "
            "prior-predictive sd instead.")
    start = time.perf_counter()
    if table is not None:
        ref = load_table(table, spec)
        if len(ref) != n:
            raise ValueError(f"n: {n} does not match the table's {len(ref)} sets; expected "
                             f"n = {len(ref)}")
        known = int(ref.replicates.iloc[0]) if "replicates" in ref else None
        if replicates is not None and known is not None and replicates != known:
            raise ValueError(f"replicates: {replicates} does not match the table's "
                             f"{known}; leave it out to reuse the table")
        replicates = known or replicates or spec.budget.replicates
        say(f"Reference table read: {len(ref):,} sets.")
    else:
        replicates = spec.budget.replicates if replicates is None else replicates
        say(f"Simulating {n:,} parameter sets ({replicates} runs per arm and team size) on "
            f"{workers} worker(s) ...")
        ref = reference_table(spec, n, seed=master, replicates=replicates, workers=workers,
                              executor=executor, progress=progress)
    table_seconds = time.perf_counter() - start
    rec = recover(ref, spec.priors, stats, truths=truths, k=k, targets=targets)
    per_set = float(ref["seconds"].mean()) if "seconds" in ref else math.nan
    rec.info.update({"spec": spec.name, "sizes": list(spec.sizes), "replicates": replicates,
                     "seed": master, "workers": workers, "table_reused": table is not None,
                     "seconds_per_set": per_set,
                     "accepted_median": float(rec.truths.groupby("truth").accepted.first()
                                              .median()),
                     "table_minutes": table_seconds / 60 if table is None else math.nan,
                     "wall_minutes_400_on_2": 400 * per_set / 2 / 60})
    section = recovery_markdown(rec, command)
    with atomic_dir(out, force=force) as tmp:
        ref.to_parquet(tmp / TABLE, index=False)
        rec.truths.to_parquet(tmp / TRUTHS, index=False)
        rec.summary.to_csv(tmp / CSV, index=False)
        data = {**rec.info, "results": rec.summary.to_dict("records")}
        (tmp / JSON).write_text(json.dumps(_plain(data), indent=2) + "\n")
        (tmp / "recovery.md").write_text(section)
    if docs is not None:
        write_docs_section(docs, section)
    say(rec.info["verdict"])
    return rec


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities become ``None``, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
