"""Charts of the ``compare`` and ``blame`` reports, saved as PNG.

Charts are drawn on ``matplotlib.figure.Figure`` objects (no pyplot state) with the shared
figure and axis helpers of :mod:`dealersim.outputs.plots`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from dealersim.model import kpis
from dealersim.outputs.plots import money_axis, new_figure, tidy
from dealersim.studies.compare import survival_curves

if TYPE_CHECKING:
    from dealersim.studies.blame import Blame
    from dealersim.studies.compare import Comparison

DPI = 110
DAYS_PER_MONTH = 365 / 12

STRATEGY_COLORS = {
    "overlay": "#c0392b",
    "planned": "#1e8449",
    "hardware_only": "#7f8c8d",
    "rep_led": "#8e44ad",
    "hunter": "#d68910",
    "comp_only": "#2874a6",
    "leadership_only": "#17a589",
    "mandate": "#6e2c00",
}
_EXTRA = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"]


def color_of(strategy: str, strategies: Sequence[str]) -> str:
    """A stable colour per strategy."""
    if strategy in STRATEGY_COLORS:
        return STRATEGY_COLORS[strategy]
    return _EXTRA[list(strategies).index(strategy) % len(_EXTRA)]


def _month_axis(ax: Axes, horizon_days: float) -> None:
    months = horizon_days / DAYS_PER_MONTH
    ax.set_xlim(0, months)
    step = 6 if months > 18 else 3
    ax.set_xticks(np.arange(0, months + 0.01, step))
    ax.set_xlabel("months after the launch")
    for year in range(12, int(months) + 1, 12):
        ax.axvline(year, color="0.85", lw=0.8, zorder=0)
    ax.grid(axis="y", color="0.92", lw=0.8)
    tidy(ax)


def _err(est: Any, low: Any, high: Any) -> np.ndarray:
    """Error-bar half-widths from an interval (never negative, NaN as 0)."""
    e = np.asarray(est, dtype=float)
    lo = np.nan_to_num(e - np.asarray(low, dtype=float))
    hi = np.nan_to_num(np.asarray(high, dtype=float) - e)
    return np.clip(np.vstack([lo, hi]), 0.0, None)


def _titled(ax: Axes, title: str, subtitle: str) -> None:
    """A bold title with a grey subtitle under it, both left-aligned."""
    ax.set_title(f"{title}\n", loc="left", fontsize=12, fontweight="bold")
    ax.text(0, 1.02, subtitle, transform=ax.transAxes, fontsize=8.5, color="0.35")


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


# ====================================================================== compare charts
FANS = (
    ("managed_mrr", "fan_managed_mrr.png", "Managed-services revenue a month",
     "monthly recurring revenue from live managed contracts"),
    ("hardware_accounts", "fan_hardware_accounts.png", "Hardware accounts we still hold",
     "customers renew, leave to a competitor, or are won at lease end"),
    ("cumulative_gross_profit", "fan_gross_profit.png", "Cumulative gross profit",
     "hardware + managed gross profit, minus specialist pay and commissions"),
)
"""Fan charts: series column, file name, title, subtitle."""


def _bands(ax: Axes, comp: Comparison, column: str, label: str = "{}") -> None:
    """Median line and 10-90 % band of a series column over months, one colour per strategy."""
    assert comp.series is not None
    q = comp.series.groupby(["strategy", "day"])[column].quantile([0.1, 0.5, 0.9]).unstack()
    for s in comp.strategies:
        d = q.loc[s]
        x = d.index.to_numpy() / DAYS_PER_MONTH
        c = color_of(s, comp.strategies)
        ax.fill_between(x, d[0.1], d[0.9], color=c, alpha=0.18, lw=0)
        ax.plot(x, d[0.5], color=c, lw=2.2, label=label.format(s))
    _month_axis(ax, float(comp.series.day.max()))


def plot_fan(comp: Comparison, column: str, title: str, subtitle: str, path: Path) -> Path:
    """Median and 10-90 % band of one series column over time, one colour per strategy."""
    fig = new_figure(8.0, 3.9)
    ax = fig.add_subplot()
    _bands(ax, comp, column, "{} (median)")
    if kpis.column(column).kind == "money":
        money_axis(ax.yaxis)
    _titled(ax, title, f"{subtitle}; line = median run, band = 10-90 % of runs "
            f"({comp.replicates} per strategy)")
    ax.legend(loc="best", frameon=False, fontsize=9)
    return _save(fig, path)


def plot_success(comp: Comparison, path: Path) -> Path:
    """Launch success rate per strategy with its Wilson 95 % interval."""
    summ = comp.summary()
    rows = summ[summ.kpi == "launch_succeeded"].set_index("strategy").loc[comp.strategies]
    fig = new_figure(8.0, 0.7 + 0.55 * len(rows))
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    colors = [color_of(s, comp.strategies) for s in rows.index]
    ax.barh(y, rows.estimate, color=colors, alpha=0.85, height=0.6)
    ax.errorbar(rows.estimate, y, xerr=_err(rows.estimate, rows.ci_low, rows.ci_high),
                fmt="none", ecolor="black", capsize=4, lw=1.2)
    for yi, est, lo, hi in zip(y, rows.estimate, rows.ci_low, rows.ci_high, strict=True):
        if lo >= 0.12:  # inside the bar, left of the whisker
            ax.text(0.015, yi, f"{est:.0%}", va="center", fontsize=10, fontweight="bold",
                    color="white")
        else:
            ax.text(hi + 0.015, yi, f"{est:.0%}", va="center", fontsize=10, fontweight="bold")
    ax.set_yticks(y, rows.index)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    if "overlay" in comp.strategies:
        ax.axvline(0.2, color="0.4", ls=":", lw=1.2)
        ax.text(0.205, y.max() + 0.45, "author's guess for overlay: 2 in 10 succeed",
                fontsize=8, color="0.35", va="center")
    ax.set_title("How often the launch succeeds (with 95 % interval)", loc="left",
                 fontsize=12, fontweight="bold")
    ax.set_xlabel(f"share of {comp.replicates} simulated launches that succeed")
    ax.set_ylim(-0.6, len(rows) - 0.2)
    tidy(ax)
    return _save(fig, path)


def plot_survival(comp: Comparison, path: Path) -> Path:
    """Kaplan-Meier survival of the first specialist in the seat, censored at the horizon."""
    fig = new_figure(8.0, 3.9)
    ax = fig.add_subplot()
    curves = survival_curves(comp)
    for s, km in curves.items():
        c = color_of(s, comp.strategies)
        x = km.time.to_numpy() / DAYS_PER_MONTH
        ax.step(x, km.survival, where="post", color=c, lw=2.2, label=s)
        ax.fill_between(x, km.low, km.high, step="post", color=c, alpha=0.15, lw=0)
    p = comp.params(comp.strategies[0])
    _month_axis(ax, p.horizon_days)
    ax.axvline(p.first_milestone_day / DAYS_PER_MONTH, color="0.5", ls="--", lw=1)
    ax.text(p.first_milestone_day / DAYS_PER_MONTH + 0.3, 0.5,
            f"first quota review\n({comp.strategies[0]})", fontsize=8, color="0.35")
    ax.set_ylim(0, 1.03)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("still in the seat")
    _titled(ax, "How long the first specialist stays", "Kaplan-Meier estimate with 95 % band; "
            "specialists still there at the end are censored")
    if curves:
        ax.legend(loc="upper right", frameon=False, fontsize=9)
    return _save(fig, path)


def plot_wall(comp: Comparison, path: Path) -> Path:
    """The reps' mean wall over time: median and 10-90 % band, with the reaction levels."""
    fig = new_figure(8.0, 3.9)
    ax = fig.add_subplot()
    _bands(ax, comp, "wall_mean")
    p = comp.params(comp.strategies[0])
    for level, text in ((p.complaint_level, "a rep complains to the manager"),
                        (p.wall_block_level, "a rep walls off his accounts")):
        ax.axhline(level, color="0.45", ls=":", lw=1)
        ax.text(0.3, level + 0.012, text, fontsize=8, color="0.35")
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean wall (0 open, 1 shut)")
    _titled(ax, "The wall: how hard the reps guard their accounts",
            "mean over the reps; line = median run, band = 10-90 % of runs")
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    return _save(fig, path)


def plot_funnel(comp: Comparison, path: Path) -> Path:
    """The specialist's funnel, mean per run and stage (log scale), one bar per strategy."""
    stages = kpis.FUNNEL_KPIS
    fig = new_figure(8.0, 4.0)
    ax = fig.add_subplot()
    n = len(comp.strategies)
    width = 0.8 / n
    x = np.arange(len(stages))
    top = 1.0
    for k, s in enumerate(comp.strategies):
        arm = comp.arm(s)
        means = np.array([arm[f].astype(float).mean() for f in stages])
        pos = x - 0.4 + width * (k + 0.5)
        c = color_of(s, comp.strategies)
        ax.bar(pos, np.maximum(means, 0.1), width=width * 0.92, color=c, alpha=0.85, label=s)
        for xi, m in zip(pos, means, strict=True):
            ax.text(xi, max(m, 0.1) * 1.12, f"{m:,.0f}" if m >= 10 else f"{m:.1f}",
                    ha="center", va="bottom", fontsize=7.5, rotation=90 if n > 3 else 0)
        top = max(top, float(means.max()))
    ax.set_yscale("log")
    ax.set_ylim(0.1, top * (12 if n > 3 else 4))
    ax.set_xticks(x, [textwrap.fill(kpis.kpi(f).short_label, 12, break_long_words=False)
                      for f in stages])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.set_ylabel("per run (log scale)")
    _titled(ax, "The specialist's funnel over the whole run", "mean per simulated dealership; "
            "deals include those closed by reps where reps sell")
    ax.legend(loc="upper right", frameon=False, fontsize=9, ncols=min(n, 4))
    tidy(ax)
    return _save(fig, path)


def compare_charts(comp: Comparison, out: Path) -> dict[str, Path]:
    """Draw every compare chart into ``out``; return their paths by name.

    Names: ``success``, the fan columns of :data:`FANS` (with series), ``survival``, ``wall``
    (with series) and ``funnel``, in the report's order.
    """
    charts: dict[str, Path] = {"success": plot_success(comp, out / "launch_success.png")}
    if comp.series is not None:
        for column, name, title, sub in FANS:
            charts[column] = plot_fan(comp, column, title, sub, out / name)
    charts["survival"] = plot_survival(comp, out / "specialist_survival.png")
    if comp.series is not None:
        charts["wall"] = plot_wall(comp, out / "wall.png")
    charts["funnel"] = plot_funnel(comp, out / "funnel.png")
    return charts


# ====================================================================== blame charts
def plot_blame(b: Blame, path: Path) -> Path:
    """Success rate per cell of the blame factorial, with Wilson 95 % intervals."""
    cells = b.cells
    fig = new_figure(9.0, 4.2)
    axes = fig.subplots(1, 2, sharey=True)
    skills = list(dict.fromkeys(cells.skill))
    managers = list(dict.fromkeys(cells.manager))
    markers = {managers[0]: "o", managers[-1]: "s"}
    for ax, owner in zip(axes, list(dict.fromkeys(cells.owner)), strict=True):
        for mgr in managers:
            d = cells[(cells.owner == owner) & (cells.manager == mgr)].set_index("skill").loc[
                skills]
            x = np.arange(len(skills)) + (0.06 if mgr == managers[-1] else -0.06)
            c = "#1e8449" if mgr == managers[-1] else "#c0392b"
            ax.errorbar(x, d.rate, yerr=_err(d.rate, d.ci_low, d.ci_high), color=c,
                        marker=markers[mgr], lw=1.8, capsize=4, label=f"manager {mgr}")
        ax.set_xticks(np.arange(len(skills)), [f"{s}\nskill" for s in skills])
        ax.set_title(f"owner preparation: {owner}", fontsize=11)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(axis="y", color="0.92")
        tidy(ax)
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel("launches that succeed")
    axes[0].legend(loc="upper left", frameon=False, fontsize=9)
    fig.suptitle(f"Whose fault is it? Success rate per combination ({b.replicates} runs each, "
                 f"95 % intervals)", fontsize=12, fontweight="bold", x=0.02, ha="left")
    return _save(fig, path)


def plot_effects(b: Blame, path: Path) -> Path:
    """Main effects and interactions on the success rate, with 95 % intervals."""
    eff = b.effects
    fig = new_figure(8.0, 0.9 + 0.45 * len(eff))
    ax = fig.add_subplot()
    y = np.arange(len(eff))[::-1]
    colors = ["#34495e" if k == "main" else "#95a5a6" for k in eff.kind]
    ax.barh(y, eff.effect, color=colors, height=0.6)
    ax.errorbar(eff.effect, y, xerr=_err(eff.effect, eff.ci_low, eff.ci_high),
                fmt="none", ecolor="black", capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, eff.label)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v * 100:+.0f} pts"))
    ax.set_xlabel("change in the success rate (percentage points)")
    ax.set_title("How much each factor moves the success rate", loc="left", fontsize=12,
                 fontweight="bold")
    tidy(ax)
    return _save(fig, path)


def blame_charts(b: Blame, out: Path) -> dict[str, Path]:
    """Draw the blame charts into ``out``: ``cells`` and ``effects``."""
    return {"cells": plot_blame(b, out / "blame_cells.png"),
            "effects": plot_effects(b, out / "blame_effects.png")}
