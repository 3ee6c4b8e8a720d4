"""Replicated, paired comparison of launch strategies (``dealersim compare``).

Every strategy runs the same replicates: replicate *i* uses ``seed_for(S, i)`` for every
strategy (common random numbers), so differences between strategies are paired. Runs go
through the shared engine (:func:`dealersim.studies.engine.execute`); results never depend on the
number of workers. :func:`write_compare` writes the output directory atomically.

Output directory:

* ``runs.parquet``: one row per run (strategy, replicate, seed, version, every summary KPI).
* ``timeseries.parquet``: the time series of every run, one row per run and recorded day
  (every ``series_stride`` days plus the last day), with ``strategy`` and ``replicate``.
* ``ledger.parquet``: every run's monthly ledger (one row per run and month: every line,
  ``net``, ``cumulative``, the hardware-only twin's ``baseline_net`` and the cumulative
  difference ``cash_vs_hardware_only``), with ``strategy`` and ``replicate``.
* ``summary.csv``: per strategy and KPI the mean (rates: the share) with a 95 % interval
  (Wilson for rates, Student-t for means) and the paired difference against the first
  strategy with a 95 % t interval.
* PNG charts and ``report.html`` (see :mod:`dealersim.outputs.report`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealersim.base.stats import kaplan_meier, paired_diff
from dealersim.model import kpis
from dealersim.model.params import Params
from dealersim.model.results import package_version
from dealersim.model.strategies import make_params, strategy_title
from dealersim.studies.engine import (
    RunSpec,
    execute,
    ledger_frame,
    replicate_seeds,
    run_ledger_task,
    series_frame,
)
from dealersim.studies.posterior import (
    draw_label,
    drawn_overrides,
    load_posterior,
    replicate_draws,
)

DEFAULT_STRIDE = 7
"""Days between recorded time-series points in a comparison (weekly; the last day is kept)."""


def run_id(arm: int, strategy: str, replicate: int) -> str:
    """The stable run id: sorts by arm, then replicate."""
    return f"{arm:02d}-{strategy}-{replicate:06d}"


def compare_specs(strategies: Sequence[str], replicates: int, seed: int,
                  overrides: dict[str, Any] | None = None,
                  posterior: pd.DataFrame | None = None) -> list[RunSpec]:
    """The runs of a comparison: every strategy on the same ``replicates`` seeds.

    Args:
        strategies: Strategy names (the first is the reference for paired differences).
        replicates: Runs per strategy.
        seed: Master seed; replicate *i* uses ``seed_for(seed, i)`` in every strategy.
        overrides: ``Params`` overrides applied to every strategy.
        posterior: A calibration's posterior (``studies.posterior.load_posterior``): replicate
            *i* draws one parameter set from it with its seed, the same for every strategy
            (a ``draw`` label); the strategy's preset and ``overrides`` win over it.
    """
    seeds = replicate_seeds(seed, replicates)
    fixed = dict(overrides or {})
    drawn = replicate_draws(posterior, seeds)
    specs = []
    # replicate by replicate, so that a task holds every strategy of its replicates and their
    # runs share one baseline (hardware-only) run in the worker (``results.baseline_ledger``)
    for i in range(replicates):
        for a, s in enumerate(strategies):
            index, values = drawn[i]
            specs.append(RunSpec(run_id(a, s, i), s, seeds[i], drawn_overrides(values, s, fixed),
                                 labels=(("replicate", i), *draw_label(index))))
    return specs


@dataclass
class Comparison:
    """The result of a replicated comparison.

    Attributes:
        strategies: Strategy names in the order given (the first is the reference).
        replicates: Runs per strategy.
        seed: Master seed.
        overrides: ``Params`` overrides applied to every strategy (``--set``, ``--years``).
        runs: One row per run (see ``runs.parquet``).
        series: Time series of every run (``None`` when not recorded).
        series_stride: Days between recorded series points (0: none).
        ledger: Monthly ledger of every run (see ``ledger.parquet``; ``None`` when not kept).
        version: dealersim version.
        command: The command line that reproduces it.
        seconds: Wall time of the runs.
        posterior: The calibration directory replicates drew parameter sets from (``None``:
            the ``Params`` defaults).
        titles: Plain names of the plans for a reader, where the preset's title would mislead
            (e.g. "your plan" for settings changed from a preset); see :meth:`title`.
    """

    strategies: list[str]
    replicates: int
    seed: int
    overrides: dict[str, Any]
    runs: pd.DataFrame
    series: pd.DataFrame | None
    series_stride: int
    ledger: pd.DataFrame | None
    version: str
    command: str
    seconds: float = 0.0
    posterior: str | None = None
    titles: dict[str, str] = field(default_factory=dict)
    _summary: pd.DataFrame | None = field(default=None, repr=False)

    def title(self, strategy: str) -> str:
        """The plan's plain name: :attr:`titles`, else the preset's title."""
        return self.titles.get(strategy) or strategy_title(strategy)

    def params(self, strategy: str) -> Params:
        """The full parameter set of ``strategy`` in this comparison."""
        return make_params(strategy, **self.overrides)

    def summary(self) -> pd.DataFrame:
        """Per strategy and KPI: estimate, interval, paired difference (see ``summary.csv``)."""
        if self._summary is None:
            self._summary = summarize_runs(self.runs, self.strategies)
        return self._summary

    def arm(self, strategy: str) -> pd.DataFrame:
        """The runs of one strategy, by replicate."""
        return self.runs[self.runs.strategy == strategy].sort_values("replicate")


def default_command(strategies: Sequence[str], replicates: int, seed: int,
                    overrides: dict[str, Any] | None = None) -> str:
    """The ``dealersim compare`` command line for these settings."""
    parts = ["dealersim", "compare", *strategies, "--replicates", str(replicates),
             "--seed", str(seed)]
    for k, v in sorted((overrides or {}).items()):
        parts += ["--set", f"{k}={str(v).lower() if isinstance(v, bool) else v}"]
    return " ".join(parts)


def run_compare(
    strategies: Sequence[str],
    *,
    replicates: int,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    series_stride: int = DEFAULT_STRIDE,
    progress: bool | None = None,
    command: str | None = None,
    posterior: str | Path | None = None,
) -> Comparison:
    """Run every strategy on the same replicate seeds.

    Args:
        strategies: Strategy names; the first is the reference for paired differences.
        replicates: Runs per strategy (>= 1).
        seed: Master seed.
        overrides: ``Params`` overrides for every strategy.
        workers: Local worker processes.
        executor: Any ``concurrent.futures.Executor`` instead of the local pool.
        series_stride: Keep the time series every this many days (0: summaries only).
        progress: Show a progress bar (default: when stderr is a terminal).
        command: The command line to record (default: the equivalent ``dealersim compare``).
        posterior: A calibration directory: each replicate draws its parameter set from its
            posterior (see :func:`compare_specs`).

    Returns:
        The :class:`Comparison`.

    Raises:
        ValueError: One line for an unknown strategy, a bad override or ``replicates < 1``.
    """
    strategies = list(strategies)
    overrides = dict(overrides or {})
    if replicates < 1:
        raise ValueError(f"replicates: {replicates} is not allowed; expected an integer >= 1")
    if not strategies:
        raise ValueError("strategies: none given; expected at least one strategy name")
    if len(set(strategies)) != len(strategies):
        raise ValueError(f"strategies: {' '.join(strategies)} repeats a name")
    for s in strategies:
        make_params(s, **overrides)  # validate before running anything
    drawn = load_posterior(posterior) if posterior is not None else None
    specs = compare_specs(strategies, replicates, seed, overrides, drawn)
    for spec in specs[:: max(1, replicates)]:
        make_params(spec.strategy, **dict(spec.overrides))
    start = time.perf_counter()
    rows, arrays, ledgers = [], [], []
    for batch in execute(specs, executor=executor, workers=workers, series_stride=series_stride,
                         progress=progress, task_fn=run_ledger_task):
        for row, extra in batch:
            rows.append(row)
            ledgers.append((row["run_id"], extra["ledger"]))
            if extra["series"] is not None:
                arrays.append((row["run_id"], extra["series"]))
    seconds = time.perf_counter() - start
    runs = runs_frame(rows)
    series, ledger = series_frame(arrays), ledger_frame(ledgers)
    ids = runs.set_index("run_id")
    for frame in (series, ledger):  # runs arrive as arrays; one frame, sorted by run and day
        if frame is not None:
            frame.insert(1, "strategy", frame.run_id.map(ids.strategy))
            frame.insert(2, "replicate", frame.run_id.map(ids.replicate).astype("int64"))
    return Comparison(
        strategies=strategies,
        replicates=replicates,
        seed=seed,
        overrides=overrides,
        runs=runs,
        series=series,
        series_stride=series_stride,
        ledger=ledger,
        version=package_version(),
        command=command or default_command(strategies, replicates, seed, overrides),
        seconds=seconds,
        posterior=None if posterior is None else str(posterior),
    )


def runs_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Summary rows as a DataFrame sorted by run id, with stable column types."""
    runs = pd.DataFrame(sorted(rows, key=lambda r: r["run_id"]))
    for k in kpis.SUMMARY:
        if k.is_flag:
            runs[k.name] = runs[k.name].astype("boolean")
        elif runs[k.name].dtype == object:
            runs[k.name] = pd.to_numeric(runs[k.name], errors="coerce").astype("float64")
    return runs.reset_index(drop=True)


def numeric(column: pd.Series) -> np.ndarray:
    """A KPI column as floats (yes/no as 1/0, missing as NaN)."""
    return pd.to_numeric(column.astype("Float64"), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )


def summarize_runs(runs: pd.DataFrame, strategies: Sequence[str],
                   keys: Sequence[str] = kpis.SUMMARY_KEYS) -> pd.DataFrame:
    """Estimates with 95 % intervals per strategy and KPI, and paired differences.

    Args:
        runs: One row per run with ``strategy``, ``replicate`` and the KPI columns.
        strategies: Strategy order; the first is the reference of the differences.
        keys: KPI columns to summarise.

    Returns:
        Columns ``strategy, kpi, kind, n, estimate, ci_low, ci_high, reference, diff,
        diff_ci_low, diff_ci_high, n_pairs``; ``kind`` is ``rate`` (a flag: Wilson interval)
        or ``mean`` (Student-t interval), both from :meth:`KPI.interval` and inside the KPI's
        bounds; differences are ``strategy - reference`` over replicates present in both
        (paired t, empty for the reference itself).
    """
    ref = strategies[0]
    by = {s: runs[runs.strategy == s].set_index("replicate").sort_index() for s in strategies}
    out = []
    for s in strategies:
        arm = by[s]
        for key in keys:
            k = kpis.kpi(key)
            x = numeric(arm[key])
            est, lo, hi = k.interval(x)
            row = dict(strategy=s, kpi=key, kind="rate" if k.is_flag else "mean",
                       n=int((~np.isnan(x)).sum()), estimate=est,
                       ci_low=lo, ci_high=hi, reference=ref, diff=np.nan, diff_ci_low=np.nan,
                       diff_ci_high=np.nan, n_pairs=0)
            if s != ref:
                common = arm.index.intersection(by[ref].index)
                d, dlo, dhi, n = paired_diff(numeric(by[ref].loc[common, key]),
                                             numeric(arm.loc[common, key]), bounds=k.bounds)
                row.update(diff=d, diff_ci_low=dlo, diff_ci_high=dhi, n_pairs=n)
            out.append(row)
    return pd.DataFrame(out)


def representative(comp: Comparison, strategy: str) -> pd.Series:
    """The run that best represents ``strategy``: typical outcome, median managed MRR.

    Among the runs with the more common launch outcome (success or failure), the one whose
    final managed MRR is closest to their median (ties: the lowest replicate).
    """
    arm = comp.arm(strategy)
    ok = numeric(arm.launch_succeeded)
    typical = 1.0 if ok.mean() >= 0.5 else 0.0
    pool = arm[ok == typical]
    if pool.empty:
        pool = arm
    gap = (pool.managed_mrr - pool.managed_mrr.median()).abs()
    return pool.loc[gap.sort_values(kind="stable").index[0]]


def formatted_summary(comp: Comparison, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The summary of ``keys`` formatted for a reader (terminal table, HTML report).

    Returns:
        One dict per KPI: ``kpi``, ``label``, ``flag`` (a share of runs) and ``cells``: the
        formatted ``(estimate, low, high)`` of every strategy, then ``(diff, low, high)`` of
        every strategy but the reference against it.
    """
    summ = comp.summary().set_index(["strategy", "kpi"])
    out = []
    for key in keys:
        k = kpis.kpi(key)
        cells = [tuple(k.format(v) for v in summ.loc[(s, key), ["estimate", "ci_low", "ci_high"]])
                 for s in comp.strategies]
        cells += [tuple(k.format(v, diff=True)
                        for v in summ.loc[(s, key), ["diff", "diff_ci_low", "diff_ci_high"]])
                  for s in comp.strategies[1:]]
        out.append({"kpi": key, "label": k.label, "flag": k.is_flag, "cells": cells})
    return out


TABLE_KPIS: tuple[str, ...] = tuple(k for k in kpis.KEY_KPIS if k != "payback_month")
"""The KPIs of the summary tables: the key KPIs but the payback month, whose average over the
runs that pay back mixes different subsets; payback is shown as the share of runs paid back by
each month (:mod:`dealersim.studies.decision`)."""


def terminal_table(comp: Comparison, keys: Sequence[str] = TABLE_KPIS) -> str:
    """The summary as a plain-text table: estimate [95 % CI] per strategy, difference vs ref."""
    ref = comp.strategies[0]
    head = ["KPI", *comp.strategies]
    head += [f"{s} - {ref}" for s in comp.strategies[1:]]
    rows = [head]
    for r in formatted_summary(comp, keys):
        rows.append([r["label"], *(f"{v} [{lo}, {hi}]" for v, lo, hi in r["cells"])])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in
                                                          zip(r[1:], widths[1:], strict=True)]))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def survival_curves(comp: Comparison) -> dict[str, pd.DataFrame]:
    """Kaplan-Meier curve of the first specialist's tenure per strategy (with a specialist)."""
    curves = {}
    for s in comp.strategies:
        arm = comp.arm(s)
        t = pd.to_numeric(arm.first_specialist_tenure_days, errors="coerce").to_numpy(float)
        c = arm.first_specialist_censored.astype("boolean").fillna(True).to_numpy(bool)
        if np.isnan(t).all():
            continue
        curves[s] = kaplan_meier(t, c)
    return curves




# ====================================================================== the owner's money
def cash_curves(comp: Comparison) -> pd.DataFrame:
    """The J-curve per strategy: the cumulative cash difference to doing nothing by month.

    Returns:
        Columns ``strategy, month, mean, low, high`` (``low``/``high``: the 10th and 90th
        percentiles over replicates); empty when the comparison kept no ledger.
    """
    cols = ["strategy", "month", "mean", "low", "high"]
    if comp.ledger is None:
        return pd.DataFrame(columns=cols)
    g = comp.ledger.groupby(["strategy", "month"], sort=False).cash_vs_hardware_only
    out = pd.DataFrame({"mean": g.mean(), "low": g.quantile(0.1), "high": g.quantile(0.9)})
    return out.reset_index()[cols]


def owner_money(comp: Comparison) -> dict[str, dict[str, Any]]:
    """The money table of the report, per strategy: averages over the replicates.

    The verdict, payback and low point come from :mod:`dealersim.studies.decision` (one rule,
    shared by the report's first screen and the page); this table adds the averages beside it.

    Returns:
        Per strategy: ``recurring_revenue_end``, ``program_cost``, ``enterprise_value_end``,
        ``value_added`` and ``npv`` (means over replicates).
    """
    out: dict[str, dict[str, Any]] = {}
    for s in comp.strategies:
        arm = comp.arm(s)
        out[s] = {
            "recurring_revenue_end": float(np.nanmean(numeric(arm.recurring_revenue_end))),
            "program_cost": float(np.nanmean(numeric(arm.program_cost))),
            "enterprise_value_end": float(np.nanmean(numeric(arm.enterprise_value_end))),
            "value_added": float(np.nanmean(numeric(arm.enterprise_value_added))),
            "npv": float(np.nanmean(numeric(arm.npv))),
        }
    return out


DRIVERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("managed", ("managed_print_gp", "managed_it_gp")),
    ("hardware", ("hardware_gp", "takeover_hardware_gp")),
    ("replaced", ("service_replaced",)),
    ("specialist", ("specialist_salary", "payroll_burden", "specialist_commission")),
    ("reps", ("rep_credit", "training")),
    ("running", ("hiring", "implementation", "program_running", "managed_overhead")),
)
"""What drives the cash difference to doing nothing: groups of ledger lines. The hardware
group is counted against the baseline's net (which is all hardware gross profit), so the
groups add up to the run's ``cash_vs_hardware_only``."""


def drivers(comp: Comparison) -> pd.DataFrame:
    """Mean total of each driver group over the run, per strategy (rows) and group (columns)."""
    if comp.ledger is None:
        return pd.DataFrame()
    led = comp.ledger
    runs = led.groupby(["strategy", "replicate"], sort=False)
    sums = runs[[c for _, lines in DRIVERS for c in lines] + ["baseline_net"]].sum()
    table = pd.DataFrame({name: sums[list(lines)].sum(axis=1) for name, lines in DRIVERS})
    table["hardware"] -= sums["baseline_net"]
    return table.groupby(level="strategy", sort=False).mean().reindex(comp.strategies)
