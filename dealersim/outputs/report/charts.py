"""Charts of the ``compare`` report (and the effects chart ``blame`` shares), saved as PNG.

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
from dealersim.model.clock import DAYS_PER_MONTH
from dealersim.model.strategies import strategy_title
from dealersim.outputs.plots import money_axis, new_figure, tidy
from dealersim.studies.compare import DRIVERS, cash_curves, drivers, survival_curves
from dealersim.studies.decision import decide

if TYPE_CHECKING:
    from dealersim.studies.blame import Blame
    from dealersim.studies.compare import Comparison
    from dealersim.studies.decision import Decision

DPI = 110

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


SUBTITLE_CHARS = 105
"""Characters per subtitle line on an 8-inch chart (8.5 pt): longer subtitles wrap."""


def name_of(strategy: str) -> str:
    """The plain title of a strategy for legends and ticks (never its code name)."""
    return strategy_title(strategy)


def _titled(ax: Axes, title: str, subtitle: str, width: int = SUBTITLE_CHARS) -> None:
    """A bold title with a grey subtitle under it, both left-aligned; the subtitle wraps."""
    text = textwrap.fill(subtitle, width)
    ax.set_title(title + "\n" * (text.count("\n") + 1), loc="left", fontsize=12,
                 fontweight="bold")
    ax.text(0, 1.02, text, transform=ax.transAxes, fontsize=8.5, color="0.35", va="bottom")


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


# ====================================================================== compare charts
FANS = (
    ("managed_mrr", "fan_managed_mrr.png", "Managed-services revenue a month",
     "monthly recurring revenue from live managed contracts"),
    ("hardware_accounts", "fan_hardware_accounts.png", "Hardware accounts we still hold",
     "customers renew, leave to a competitor, or are won at lease end"),
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
        ax.plot(x, d[0.5], color=c, lw=2.2, label=label.format(comp.title(s)))
    _month_axis(ax, float(comp.series.day.max()))


def plot_fan(comp: Comparison, column: str, title: str, subtitle: str, path: Path) -> Path:
    """Median and 10-90 % band of one series column over time, one colour per strategy."""
    fig = new_figure(8.0, 3.9)
    ax = fig.add_subplot()
    _bands(ax, comp, column, "{} (median)")
    if kpis.column(column).kind == "money":
        money_axis(ax.yaxis)
    _titled(ax, title, f"{subtitle}; line: the middle dealership, band: 8 in 10 of "
            f"{comp.replicates} simulated dealerships")
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
    ax.set_yticks(y, [textwrap.fill(comp.title(s), 28) for s in rows.index])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    if "overlay" in comp.strategies:
        ax.axvline(0.2, color="0.4", ls=":", lw=1.2)
        ax.text(0.205, y.max() + 0.45, "the article's author guesses 2 in 10 such launches "
                "succeed", fontsize=8, color="0.35", va="center")
    ax.set_title("How often the launch succeeds", loc="left", fontsize=12, fontweight="bold")
    ax.set_xlabel(f"share of {comp.replicates} simulated launches that succeed (whisker: the "
                  "likely range)")
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
        ax.step(x, km.survival, where="post", color=c, lw=2.2, label=comp.title(s))
        ax.fill_between(x, km.low, km.high, step="post", color=c, alpha=0.15, lw=0)
    p = comp.params(comp.strategies[0])
    _month_axis(ax, p.horizon_days)
    ax.axvline(p.first_milestone_day / DAYS_PER_MONTH, color="0.5", ls="--", lw=1)
    ax.text(p.first_milestone_day / DAYS_PER_MONTH + 0.3, 0.5,
            f"first quota review\n({comp.title(comp.strategies[0])})", fontsize=8, color="0.35")
    ax.set_ylim(0, 1.03)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("still in the seat")
    _titled(ax, "How long the first specialist stays", "share of first specialists still in "
            "the seat, month by month; band: the likely range")
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
            "average over the reps; line: the middle dealership, band: 8 in 10 dealerships")
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    return _save(fig, path)


def plot_funnel(comp: Comparison, path: Path) -> Path:
    """The specialist's funnel: one panel per stage, each on its own linear scale from 0.

    Bars within a panel compare the strategies honestly (a bar twice as long is twice as many);
    the panels' scales differ, which each panel's own axis shows.
    """
    stages = kpis.FUNNEL_KPIS
    n = len(comp.strategies)
    fig = new_figure(8.0, 0.9 + len(stages) * (0.28 * n + 0.45))
    axes = fig.subplots(len(stages), 1)
    y = np.arange(n)[::-1]
    for ax, stage in zip(axes, stages, strict=True):
        means = np.array([float(np.nanmean(comp.arm(s)[stage].astype(float)))
                          for s in comp.strategies])
        colors = [color_of(s, comp.strategies) for s in comp.strategies]
        ax.barh(y, means, color=colors, alpha=0.85, height=0.7)
        top = max(float(means.max()), 1.0)
        for yi, m in zip(y, means, strict=True):
            ax.text(m + top * 0.01, yi, f"{m:,.0f}" if m >= 10 else f"{m:.1f}", va="center",
                    fontsize=8)
        ax.set_xlim(0, top * 1.15)
        ax.set_yticks(y, [comp.title(s) for s in comp.strategies], fontsize=8)
        ax.set_title(kpis.kpi(stage).label, loc="left", fontsize=10)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
        tidy(ax)
    fig.suptitle("The specialist's funnel over the whole run (average per dealership)",
                 x=0.02, ha="left", fontsize=12, fontweight="bold")
    return _save(fig, path)


def plot_jcurve(comp: Comparison, path: Path, decision: Decision) -> Path:
    """The J-curve: cumulative cash against doing nothing, by month, per strategy.

    Line: the average over replicates; band: 10th to 90th percentile. The marks are the first
    screen's figures (``decision``): a dot at the cash low point (the runs' low points
    averaged, at their typical month) and a dotted line at the month by which half the runs
    have paid back.
    """
    curves = cash_curves(comp)
    fig = new_figure(8.0, 4.2)
    ax = fig.add_subplot()
    horizon = 0.0
    for s in comp.strategies:
        d = curves[curves.strategy == s].sort_values("month")
        if d.empty or not np.any(d["mean"].to_numpy()):
            continue  # doing nothing is the zero line itself
        x = d.month.to_numpy(float)
        c = color_of(s, comp.strategies)
        ax.fill_between(x, d["low"], d["high"], color=c, alpha=0.15, lw=0)
        ax.plot(x, d["mean"], color=c, lw=2.2, label=comp.title(s))
        keep = decision.keep.get(s)  # every plan that launches a program has one
        if keep is not None and keep.low_month:
            ax.plot([keep.low_month], [keep.low_point.mean], "o", color=c, ms=6)
        if keep is not None and keep.median_payback is not None:
            ax.axvline(keep.median_payback, color=c, ls=":", lw=1.2)
        horizon = max(horizon, float(x.max()))
    ax.axhline(0, color="black", lw=0.9, label="doing nothing")
    ax.set_xlim(0, max(horizon, 1.0))
    step = 6 if horizon > 18 else 3
    ax.set_xticks(np.arange(0, horizon + 0.01, step))
    ax.set_xlabel("months after the launch")
    money_axis(ax.yaxis)
    ax.grid(axis="y", color="0.92", lw=0.8)
    tidy(ax)
    _titled(ax, "Cash against doing nothing, month by month",
            "cumulative cash of the plan less that of the same dealership without it; line: "
            "average, band: 8 in 10 dealerships, dot: the low point (the dealerships' own low "
            "points, averaged, in their typical month), dotted line: half have paid back")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", frameon=False, fontsize=9)
    return _save(fig, path)


DRIVER_LABELS = {
    "managed": "Managed services gross profit",
    "hardware": "Hardware customers kept or taken over",
    "replaced": "Service and supplies replaced",
    "specialist": "Specialist pay, burden and commissions",
    "reps": "Reps' credit and training",
    "running": "Hiring, implementation, running costs and overhead",
}
"""Plain labels of :data:`dealersim.studies.compare.DRIVERS`."""


def plot_drivers(comp: Comparison, path: Path) -> Path:
    """What drives the cash difference to doing nothing: one bar per driver and strategy."""
    table = drivers(comp)
    shown = [s for s in comp.strategies if s in table.index and table.loc[s].abs().sum() > 0]
    names = [name for name, _ in DRIVERS]
    fig = new_figure(8.0, 0.9 + 0.32 * len(names) * max(len(shown), 1))
    ax = fig.add_subplot()
    n = max(len(shown), 1)
    height = 0.8 / n
    y = np.arange(len(names))[::-1]
    for k, s in enumerate(shown):
        vals = table.loc[s, names].to_numpy(float)
        pos = y + 0.4 - height * (k + 0.5)
        ax.barh(pos, vals, height=height * 0.92, color=color_of(s, comp.strategies),
                alpha=0.85, label=comp.title(s))
    ax.axvline(0, color="black", lw=0.9)
    ax.set_yticks(y, [textwrap.fill(DRIVER_LABELS[n_], 26) for n_ in names], fontsize=8.5)
    money_axis(ax.xaxis)
    ax.set_xlabel("over the whole run, against the same dealership without the program "
                  "(average)")
    ax.set_title("What drives the money", loc="left", fontsize=12, fontweight="bold")
    if shown:
        ax.legend(loc="lower right", frameon=False, fontsize=9)
    tidy(ax)
    return _save(fig, path)


def compare_charts(comp: Comparison, out: Path,
                   decision: Decision | None = None) -> dict[str, Path]:
    """Draw every compare chart into ``out``; return their paths by name.

    ``decision``: the first screen's, whose low point and payback the J-curve marks
    (default: :func:`~dealersim.studies.decision.decide` on ``comp``).

    Names: ``jcurve`` and ``drivers`` (with a ledger), ``success``, the fan columns of
    :data:`FANS` (with series), ``survival``, ``wall`` (with series) and ``funnel``, in the
    report's order.
    """
    charts: dict[str, Path] = {}
    if comp.ledger is not None:
        charts["jcurve"] = plot_jcurve(comp, out / "cash_vs_doing_nothing.png",
                                       decision if decision is not None else decide(comp))
        charts["drivers"] = plot_drivers(comp, out / "money_drivers.png")
    charts["success"] = plot_success(comp, out / "launch_success.png")
    if comp.series is not None:
        for column, name, title, sub in FANS:
            charts[column] = plot_fan(comp, column, title, sub, out / name)
    charts["survival"] = plot_survival(comp, out / "specialist_survival.png")
    if comp.series is not None:
        charts["wall"] = plot_wall(comp, out / "wall.png")
    charts["funnel"] = plot_funnel(comp, out / "funnel.png")
    return charts


# ====================================================================== blame charts
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

