"""Charts of a run's main curves, drawn on ``matplotlib.figure.Figure`` (no pyplot state).

``plot_run`` draws one run in four panels (managed services vs the hardware base, the pipeline,
the reps' walls, the specialist's pay against the quota) with the story's turning points as
vertical lines. ``plot_side_by_side`` lays two or more runs over each other on shared axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from dealersim.model import kpis

if TYPE_CHECKING:
    from dealersim.model.results import RunResult

STAGE_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name, kpis.column(name).short_label) for name in kpis.STAGE_SERIES)
"""Pipeline columns of the time series, in funnel order, with their legend labels (registry)."""

EVENT_STYLES: dict[str, dict[str, Any]] = {
    "first_deal": {"color": "tab:blue", "ls": ":", "lw": 1.2, "label": "first managed deal"},
    "intervention": {"color": "tab:purple", "ls": (0, (3, 1, 1, 1, 1, 1)), "lw": 1.2,
                     "label": "owner steps in"},
    "salary_cut": {"color": "tab:orange", "ls": "--", "lw": 1.2, "label": "salary cut"},
    "quit": {"color": "tab:red", "ls": "-", "lw": 1.2, "label": "specialist quits"},
    "fired": {"color": "darkred", "ls": "-.", "lw": 1.4, "label": "specialist let go"},
    "rehire": {"color": "tab:green", "ls": (0, (6, 2)), "lw": 1.2, "label": "successor hired"},
    "program_abandoned": {"color": "black", "ls": "-", "lw": 2.4, "label": "program abandoned"},
}
"""Event kinds marked as vertical lines, with their line style and legend label."""

_DPI = 110


def money_axis(axis: Any) -> None:
    """Label an axis (``ax.yaxis``/``ax.xaxis``) in dollars with :func:`kpis.money`."""
    axis.set_major_formatter(FuncFormatter(kpis.money))


def tidy(ax: Axes) -> None:
    """Hide the top and right spines of an axes."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def new_figure(
    width: float, height: float, layout: str | None = "constrained", dpi: float | None = None
) -> Figure:
    """A ``Figure`` with an Agg canvas (no pyplot state); ``layout=None`` draws faster."""
    fig = Figure(figsize=(width, height), layout=layout, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _headroom(ax: Axes, values: Any, *, floor: float, room: float = 1.45) -> None:
    """Start the y axis at 0 and leave room above the data for a legend (``floor``: min top)."""
    top = float(np.nanmax(values)) if np.size(values) else 0.0
    ax.set_ylim(0, max(floor, top) * room)


def _note(ax: Axes, text: str) -> None:
    """Write a grey note in the middle of an empty panel."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.45",
            fontsize=10)


def _day_axis(ax: Axes, horizon: int) -> None:
    """Days on the x axis, with a light line at every year boundary."""
    ax.set_xlim(0, horizon)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 3, 5, 6, 9, 10]))
    for year in range(365, horizon + 1, 365):
        ax.axvline(year, color="0.85", lw=0.8, zorder=0)
    ax.grid(axis="y", color="0.92", lw=0.8)


def _mark_events(ax: Axes, events: Any, *, color: str | None = None) -> set[str]:
    """Draw the marked event kinds as vertical lines; return the kinds drawn."""
    drawn: set[str] = set()
    if events is None or len(events) == 0:
        return drawn
    for day, kind in zip(events["day"], events["kind"], strict=True):
        style = EVENT_STYLES.get(kind)
        if style is None:
            continue
        # thick lines go underneath, so an event on the same day stays visible on top
        ax.axvline(day, color=color or style["color"], ls=style["ls"], lw=style["lw"],
                   alpha=0.8, zorder=1.0 - style["lw"] / 10)
        drawn.add(kind)
    return drawn


def _event_handles(kinds: set[str], *, color: str | None = None) -> list[Line2D]:
    return [
        Line2D([], [], color=color or s["color"], ls=s["ls"], lw=s["lw"], label=s["label"])
        for k, s in EVENT_STYLES.items()
        if k in kinds
    ]


def _run_title(result: RunResult) -> str:
    years = result.params.years
    s = result.summary
    p = result.params
    if p.specialist_seats == 0 and p.rep_managed_selling == 0:
        verdict = "no managed-services program"
    else:
        verdict = "launch succeeded" if s.get("launch_succeeded") else "launch failed"
    if s.get("program_abandoned"):
        verdict += ", program abandoned"
    return (
        f"dealersim {result.version}: '{result.strategy}' strategy, seed {result.seed}, "
        f"{years:g} years ({verdict}; {s.get('specialists_hired', 0)} specialists hired, "
        f"{s.get('specialists_lost', 0)} lost)"
    )


def booked_in_seat(ts: Any) -> np.ndarray:
    """Managed MRR booked since the sitting specialist was hired (NaN while the seat is empty).

    The time series only has the run's cumulative ``booked_mrr`` (all sellers, all
    specialists); this restarts it whenever the seat is filled again, so it can be read against
    ``quota_target``. Exact for one seat with a gap between specialists (``hiring_lag_days`` > 0)
    when reps do not sell managed services themselves.

    Args:
        ts: The run's time series (columns ``booked_mrr`` and ``specialist_employed``).

    Returns:
        One value per row of ``ts``.
    """
    booked = ts["booked_mrr"].to_numpy(dtype=float)
    employed = ts["specialist_employed"].to_numpy() > 0
    out = np.full(booked.shape, np.nan)
    base = 0.0
    for i in range(booked.size):
        if employed[i] and (i == 0 or not employed[i - 1]):
            base = booked[i - 1] if i > 0 else 0.0
        if employed[i]:
            out[i] = booked[i] - base
    return out


def plot_run(result: RunResult, path: str | Path) -> Path:
    """Draw one run's main curves in four panels and save them as a PNG.

    Panels: managed MRR against the hardware account base; open pipeline by stage; the reps'
    walls (each rep, mean and max, with the complaint and wall-off levels); the specialist's
    salary against the quota target and booked MRR. Salary cuts, quits, firings, rehires,
    interventions and the program's abandonment are marked as vertical lines on every panel.

    Args:
        result: A finished run (see :func:`dealersim.model.results.simulate`).
        path: Where to write the PNG.

    Returns:
        The path written.
    """
    ts, p = result.timeseries, result.params
    day = ts["day"].to_numpy()
    horizon = int(day[-1]) if len(day) else p.horizon_days
    fig = new_figure(13, 8.5)
    (ax_mrr, ax_pipe), (ax_wall, ax_pay) = fig.subplots(2, 2, sharex=True)
    kinds: set[str] = set()

    # 1. managed services vs the hardware base
    ax_mrr.plot(day, ts["managed_mrr"], color="tab:blue", lw=2, label="live managed MRR")
    ax_mrr.plot(day, ts["booked_mrr"], color="tab:blue", lw=1.2, ls="--",
                label="managed MRR booked (cumulative)")
    ax_mrr.set_ylabel("managed MRR ($/month)")
    money_axis(ax_mrr.yaxis)
    _headroom(ax_mrr, ts["booked_mrr"], floor=1000.0)
    ax_hw = ax_mrr.twinx()
    hw = ts["hardware_accounts"].to_numpy()
    ax_hw.plot(day, hw, color="tab:gray", lw=2, label="hardware accounts held (right axis)")
    ax_hw.set_ylabel("hardware accounts held")
    lo, hi = float(hw.min()), float(hw.max())
    span = max(hi - lo, 0.05 * hi, 1.0)
    ax_hw.set_ylim(lo - 0.05 * span, hi + 0.45 * span)
    ax_mrr.set_title("Managed services vs the hardware base")
    h1, l1 = ax_mrr.get_legend_handles_labels()
    h2, l2 = ax_hw.get_legend_handles_labels()
    ax_mrr.legend(h1 + h2, l1 + l2, loc="upper center", fontsize=8, framealpha=0.9, ncols=2)

    # 2. pipeline by stage
    stages = np.vstack([ts[c].to_numpy() for c, _ in STAGE_COLUMNS])
    ax_pipe.stackplot(day, stages, labels=[label for _, label in STAGE_COLUMNS], alpha=0.85,
                      colors=["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"])
    ax_pipe.set_ylabel("open opportunities (accounts)")
    ax_pipe.set_title("Managed-services pipeline by stage")
    ax_pipe.yaxis.set_major_locator(MaxNLocator(integer=True))
    _headroom(ax_pipe, stages.sum(axis=0), floor=4.0, room=1.3)
    ax_pipe.legend(loc="upper right", fontsize=8, framealpha=0.9)
    if not stages.any():
        _note(ax_pipe, "no managed-services opportunities in this run")

    # 3. walls
    walls = np.asarray(result.walls)
    wday = np.arange(walls.shape[0])
    if walls.size:
        ax_wall.plot(wday, walls, color="tab:brown", lw=0.6, alpha=0.35)
    ax_wall.plot([], [], color="tab:brown", lw=0.6, alpha=0.6, label="each rep")
    ax_wall.plot(day, ts["wall_mean"], color="tab:brown", lw=2.2, label="mean")
    ax_wall.plot(day, ts["wall_max"], color="tab:brown", lw=1.2, ls="--", label="max")
    ax_wall.axhline(p.complaint_level, color="tab:orange", lw=1, ls=":",
                    label=f"complaint level ({p.complaint_level:g})")
    ax_wall.axhline(p.wall_block_level, color="tab:red", lw=1, ls=":",
                    label=f"wall-off level ({p.wall_block_level:g})")
    ax_wall.set_ylim(0, 1)
    ax_wall.set_ylabel("wall (0 open - 1 closed)")
    ax_wall.set_title("Hardware reps' walls around their accounts")
    ax_wall.legend(loc="upper right", fontsize=8, framealpha=0.9, ncols=2)

    # 4. pay vs quota
    ax_pay.step(day, ts["specialist_salary"], where="post", color="tab:green", lw=2,
                label="specialist base salary ($/year)")
    ax_pay.set_ylabel("salary ($/year)")
    money_axis(ax_pay.yaxis)
    _headroom(ax_pay, ts["specialist_salary"], floor=10000.0)
    ax_q = ax_pay.twinx()
    ax_q.plot(day, ts["quota_target"], color="tab:purple", lw=1.5,
              label="quota target to date (right axis)")
    in_seat = booked_in_seat(ts)
    ax_q.plot(day, in_seat, color="tab:blue", lw=1.5, ls="--",
              label="MRR booked since the hire (right axis)")
    ax_q.set_ylabel("new MRR booked ($/month)")
    money_axis(ax_q.yaxis)
    _headroom(ax_q, np.fmax(ts["quota_target"].to_numpy(dtype=float), in_seat), floor=1000.0)
    ax_pay.set_title("Specialist pay vs quota")
    h1, l1 = ax_pay.get_legend_handles_labels()
    h2, l2 = ax_q.get_legend_handles_labels()
    ax_pay.legend(h1 + h2, l1 + l2, loc="upper center", fontsize=8, framealpha=0.9, ncols=2)
    if not ts["specialist_employed"].any():
        _note(ax_pay, "no specialist employed in this run")

    for ax in (ax_mrr, ax_pipe, ax_wall, ax_pay):
        _day_axis(ax, horizon)
        kinds |= _mark_events(ax, result.events)
    for ax in (ax_wall, ax_pay):
        ax.set_xlabel("day (grey lines: year ends)")

    fig.suptitle(_run_title(result), fontsize=11)
    handles = _event_handles(kinds)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9,
                   title="events", title_fontsize=9, frameon=False)
    path = Path(path)
    fig.savefig(path, dpi=_DPI)
    return path


_SIDE_BY_SIDE_EVENTS = ("salary_cut", "quit", "fired", "program_abandoned")


def plot_side_by_side(results: Sequence[RunResult], path: str | Path) -> Path:
    """Overlay two or more runs' main curves on shared axes and save them as a PNG.

    Panels: live managed MRR, cumulative booked MRR, hardware accounts held, the reps' mean
    wall (band: lowest to highest rep), the open pipeline, and cumulative gross profit (the
    one-series panels are titled with the KPI registry's labels and units). Each run
    has one colour; its salary cuts, quits, firings and abandonment are vertical lines in it.

    Args:
        results: The runs to compare (at least one), e.g. ``overlay`` and ``planned``.
        path: Where to write the PNG.

    Returns:
        The path written.

    Raises:
        ValueError: If ``results`` is empty.
    """
    if not results:
        raise ValueError("plot_side_by_side: no runs to plot")
    fig = new_figure(13, 10)
    axes = fig.subplots(3, 2, sharex=True)
    ax_mrr, ax_booked, ax_hw, ax_wall, ax_pipe, ax_gp = axes.ravel()
    single = {ax_mrr: "managed_mrr", ax_booked: "booked_mrr", ax_hw: "hardware_accounts",
              ax_gp: "cumulative_gross_profit"}  # one series each, titled by the registry
    colors = [f"C{i}" for i in range(10)]
    horizon = 0
    kinds: set[str] = set()
    run_handles = []
    for k, r in enumerate(results):
        ts, c = r.timeseries, colors[k % len(colors)]
        day = ts["day"].to_numpy()
        horizon = max(horizon, int(day[-1]) if len(day) else 0)
        label = f"{r.strategy} (seed {r.seed})"
        for ax, col in single.items():
            ax.plot(day, ts[col], color=c, lw=2)
        walls = np.asarray(r.walls)
        if walls.size:
            wday = np.arange(walls.shape[0])
            ax_wall.fill_between(wday, walls.min(axis=1), walls.max(axis=1), color=c, alpha=0.15,
                                 lw=0)
        ax_wall.plot(day, ts["wall_mean"], color=c, lw=2)
        open_pipe = sum(ts[col] for col, _ in STAGE_COLUMNS[:-1])
        ax_pipe.plot(day, open_pipe, color=c, lw=1.5)
        events = r.events[r.events["kind"].isin(_SIDE_BY_SIDE_EVENTS)] if len(r.events) else None
        for ax in axes.ravel():
            kinds |= _mark_events(ax, events, color=c)
        run_handles.append(Line2D([], [], color=c, lw=2.5, label=label))

    for ax, col in single.items():
        kpi = kpis.column(col)
        ax.set_title(kpi.label)
        ax.set_ylabel(kpi.unit)
        if kpi.kind == "money":
            money_axis(ax.yaxis)
    ax_wall.set_title("Reps' mean wall (band: lowest to highest rep)")
    ax_wall.set_ylabel("wall (0 open - 1 closed)")
    ax_wall.set_ylim(0, 1)
    ax_pipe.set_title("Open pipeline (booked meetings to proposals)")
    ax_pipe.set_ylabel("opportunities")
    ax_pipe.yaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in (ax_mrr, ax_booked, ax_pipe):
        ax.set_ylim(bottom=0)
    for ax in axes.ravel():
        _day_axis(ax, horizon)
    for ax in axes[-1]:
        ax.set_xlabel("day (grey lines: year ends)")

    names = " vs ".join(f"'{r.strategy}'" for r in results)
    seeds = sorted({r.seed for r in results}, key=str)
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))
    fig.suptitle(f"dealersim {results[0].version}: {names}, {seed_text}", fontsize=12)
    style_handles = [
        Line2D([], [], color="0.3", ls=EVENT_STYLES[k]["ls"], lw=EVENT_STYLES[k]["lw"],
               label=EVENT_STYLES[k]["label"])
        for k in _SIDE_BY_SIDE_EVENTS
        if k in kinds
    ]
    fig.legend(handles=run_handles + style_handles, loc="outside lower center",
               ncols=len(run_handles) + len(style_handles), fontsize=9, frameon=False,
               title="runs (colour) and events (line style, in the run's colour)",
               title_fontsize=9)
    path = Path(path)
    fig.savefig(path, dpi=_DPI)
    return path


def save_run(result: RunResult, out: str | Path) -> dict[str, Path]:
    """Write a run's data files (:meth:`RunResult.save`) and its chart ``main_curves.png``."""
    paths = result.save(out)
    paths["chart"] = plot_run(result, Path(out) / "main_curves.png")
    return paths
