"""Dashboard charts as ``matplotlib.figure.Figure`` objects (no pyplot state, thread-safe).

Every chart takes ``upto`` (a replay day): data after that day is hidden while the axes keep the
full run's limits, so replay frames do not jump. Colours of the account map: our hardware
accounts blue, competitor-held red, managed contracts green; darker means a higher wall.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from dealersim.model import kpis
from dealersim.model.market import OPEN_TERRITORY, US
from dealersim.outputs import plots
from dealersim.outputs.plots import EVENT_STYLES, money_axis

FUNNEL_KEYS: tuple[tuple[str, str], ...] = tuple(
    (name, kpis.kpi(name).short_label) for name in kpis.FUNNEL_KPIS)
"""Summary keys of the specialist's funnel, top to bottom, with their labels (registry)."""

HOLDER_COLOURS = {
    "competitor": "#d9614c",
    "us": "#3274b5",
    "managed": "#2e9e4f",
}
MAX_CELLS_PER_GROUP = 1600
"""Above this many accounts a rep's block is drawn to scale with fewer cells (1 cell = k)."""

_MARKED = ("salary_cut", "quit", "fired", "rehire", "first_deal", "intervention",
           "program_abandoned")


def new_figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    """A dashboard ``Figure`` (90 dpi, no pyplot); ``layout=None`` is faster to draw."""
    return plots.new_figure(width, height, layout=layout, dpi=90)


def _horizon(result: Any) -> int:
    return int(result.timeseries["day"].iloc[-1])


def _cut(result: Any, upto: int | None) -> Any:
    ts = result.timeseries
    return ts if upto is None else ts[ts["day"] <= upto]


def _frame(ax: Axes, result: Any, upto: int | None) -> None:
    """Shared x axis: the full horizon, year lines, event marks up to ``upto``, a 'today' line."""
    horizon = _horizon(result)
    ax.set_xlim(0, horizon)
    for year in range(365, horizon + 1, 365):
        ax.axvline(year, color="0.88", lw=0.8, zorder=0)
    ax.grid(axis="y", color="0.93", lw=0.8)
    ev = result.events
    for day, kind in zip(ev["day"], ev["kind"], strict=True):
        if kind in _MARKED and (upto is None or day <= upto):
            st = EVENT_STYLES[kind]
            ax.axvline(day, color=st["color"], ls=st["ls"], lw=1.0, alpha=0.7, zorder=1)
    if upto is not None and upto < horizon:
        ax.axvline(upto, color="black", lw=1.5, alpha=0.6)


def draw_mrr(ax: Axes, result: Any, upto: int | None = None, mrr_top: float | None = None,
             hw_range: tuple[float, float] | None = None) -> None:
    """Managed MRR (left axis) and hardware accounts held (right axis) over time."""
    full, ts = result.timeseries, _cut(result, upto)
    ax.plot(ts["day"], ts["managed_mrr"], color=HOLDER_COLOURS["managed"], lw=2,
            label="managed MRR")
    top = mrr_top if mrr_top is not None else float(full["booked_mrr"].max())
    ax.set_ylim(0, max(top, 1000.0) * 1.3)
    money_axis(ax.yaxis)
    ax.set_ylabel("managed MRR ($/month)")
    hw = ax.twinx()
    hw.plot(ts["day"], ts["hardware_accounts"], color=HOLDER_COLOURS["us"], lw=2,
            label="hardware accounts (right)")
    lo, hi = hw_range or (float(full["hardware_accounts"].min()),
                          float(full["hardware_accounts"].max()))
    span = max(hi - lo, 0.05 * hi, 1.0)
    hw.set_ylim(lo - 0.1 * span, hi + 0.3 * span)
    hw.set_ylabel("hardware accounts held")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = hw.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8, framealpha=0.9)
    ax.set_title("Managed MRR and hardware accounts", fontsize=10)
    _frame(ax, result, upto)


def draw_funnel(ax: Axes, result: Any) -> None:
    """The specialist's funnel over the whole run (summary counts, log scale)."""
    s = result.summary
    labels = [label for _, label in FUNNEL_KEYS]
    counts = [int(s.get(k) or 0) for k, _ in FUNNEL_KEYS]
    y = np.arange(len(counts))[::-1]
    ax.barh(y, [max(c, 0.8) for c in counts], color=["#9ecae1", "#6baed6", "#4292c6",
                                                     "#2171b5", HOLDER_COLOURS["managed"]])
    ax.set_yticks(y, labels)
    ax.set_xscale("log")
    ax.set_xlim(0.7, max(max(counts), 10) * 4)
    for yi, c in zip(y, counts, strict=True):
        ax.text(max(c, 0.8) * 1.1, yi, f"{c:,}", va="center", fontsize=9)
    ax.set_title("Specialist's funnel (whole run)", fontsize=10)
    ax.grid(axis="x", color="0.93", lw=0.8)


def draw_walls(ax: Axes, result: Any, upto: int | None = None) -> None:
    """Each rep's wall over time, with the complaint and wall-off levels."""
    walls = np.asarray(result.walls)
    end = walls.shape[0] if upto is None else min(upto + 1, walls.shape[0])
    days = np.arange(end)
    cmap = _rep_colours(walls.shape[1] if walls.ndim == 2 else 0)
    for r in range(walls.shape[1] if walls.ndim == 2 else 0):
        ax.plot(days, walls[:end, r], lw=1.0, color=cmap[r], alpha=0.85,
                label=f"rep {r + 1}" if walls.shape[1] <= 12 else None)
    p = result.params
    ax.axhline(p.complaint_level, color="tab:orange", lw=1, ls=":", label="complaint level")
    ax.axhline(p.wall_block_level, color="tab:red", lw=1, ls="--", label="wall-off level")
    ax.set_ylim(0, 1)
    ax.set_ylabel("wall (0 open, 1 closed)")
    ax.set_title("Wall per rep", fontsize=10)
    ax.legend(loc="upper right", fontsize=7, ncols=4, framealpha=0.9)
    _frame(ax, result, upto)


def _rep_colours(n: int) -> list[tuple[float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(i % cmap.N)[:3] for i in range(n)]


def draw_pay(ax: Axes, result: Any, upto: int | None = None,
             salary_top: float | None = None, mrr_top: float | None = None) -> None:
    """Specialist salary (left) against the quota target and MRR booked in the seat (right)."""
    full, ts = result.timeseries, _cut(result, upto)
    ax.step(ts["day"], ts["specialist_salary"], where="post", color="tab:green", lw=2,
            label="salary")
    ax.set_ylim(0, max(salary_top or float(full["specialist_salary"].max()), 10000.0) * 1.35)
    money_axis(ax.yaxis)
    ax.set_ylabel("salary ($/year)")
    q = ax.twinx()
    q.plot(ts["day"], ts["quota_target"], color="tab:purple", lw=1.5, label="quota to date")
    q.plot(ts["day"], ts["specialist_booked_mrr"], color="tab:blue", lw=1.5, ls="--",
           label="booked MRR")
    top = mrr_top if mrr_top is not None else float(np.nanmax(np.fmax(
        full["quota_target"].to_numpy(float), full["specialist_booked_mrr"].to_numpy(float))))
    q.set_ylim(0, max(top, 1000.0) * 1.35)
    money_axis(q.yaxis)
    q.set_ylabel("new MRR ($/month)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = q.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper right", fontsize=7, ncols=3, framealpha=0.9)
    ax.set_title("Specialist salary vs milestones", fontsize=10)
    _frame(ax, result, upto)


def main_figure(result: Any, upto: int | None = None) -> Figure:
    """The four main charts of one run in a 2 x 2 grid."""
    fig = new_figure(11, 6.6, layout=None)  # a fixed layout draws twice as fast
    (a, b), (c, d) = fig.subplots(2, 2)
    fig.subplots_adjust(left=0.07, right=0.93, top=0.95, bottom=0.08, wspace=0.55, hspace=0.32)
    draw_mrr(a, result, upto)
    draw_funnel(b, result)
    draw_walls(c, result, upto)
    draw_pay(d, result, upto)
    for ax in (a, c, d):
        ax.set_xlabel("day", fontsize=8)
    return fig


# ---------------------------------------------------------------------------- account map
def account_cells(result: Any) -> list[dict[str, Any]]:
    """The account map's groups: one per rep (by number) and the open territory last.

    Each group has ``label``, ``rep`` (-1: open territory), ``counts`` (managed, us,
    competitor), ``n`` accounts and ``cells``: category codes (2 managed, 1 us, 0 competitor),
    sorted, downsampled to scale when ``n`` exceeds ``MAX_CELLS_PER_GROUP``.
    """
    am = result.account_map
    rep = am["rep"].to_numpy()
    cat = np.where(am["managed"].to_numpy(bool), 2,
                   np.where(am["holder"].to_numpy() == US, 1, 0)).astype(np.int8)
    groups = []
    reps = sorted(int(r) for r in np.unique(rep) if r != OPEN_TERRITORY)
    if (rep == OPEN_TERRITORY).any():
        reps.append(OPEN_TERRITORY)
    for r in reps:
        c = cat[rep == r]
        counts = np.array([(c == 2).sum(), (c == 1).sum(), (c == 0).sum()])
        n = int(counts.sum())
        if n > MAX_CELLS_PER_GROUP:
            scaled = np.floor(counts * MAX_CELLS_PER_GROUP / n).astype(int)
            rest = MAX_CELLS_PER_GROUP - scaled.sum()
            order = np.argsort(-(counts * MAX_CELLS_PER_GROUP / n - scaled))
            scaled[order[:rest]] += 1
            shown = scaled
        else:
            shown = counts
        cells = np.repeat(np.array([2, 1, 0], np.int8), shown)
        label = "open territory" if r == OPEN_TERRITORY else f"rep {r + 1}"
        groups.append({"label": label, "rep": r, "counts": counts, "n": n, "cells": cells})
    return groups


def account_map_figure(result: Any, upto: int | None = None) -> Figure:
    """Every account as a cell, grouped by owning rep; colour = holder, darker = higher wall.

    Holders are those at the end of the run (``RunResult.account_map``); the shading follows the
    rep's wall on day ``upto`` (the end when ``None``).
    """
    groups = account_cells(result)
    walls = np.asarray(result.walls)
    day = walls.shape[0] - 1 if upto is None else min(max(upto, 0), walls.shape[0] - 1)
    n_groups = max(len(groups), 1)
    biggest = max((len(g["cells"]) for g in groups), default=1)
    side = max(int(math.ceil(math.sqrt(biggest))), 1)
    ncols = min(n_groups, 9 if n_groups > 12 else 5)
    nrows = int(math.ceil(n_groups / ncols))
    gap = max(2, side // 6)
    title_h = max(3, side // 4)
    px = 4 if side <= 60 else 1  # pixels per cell; with a 1-pixel white grid when 4
    height = nrows * (side + gap + title_h) * px
    width = ncols * (side + gap) * px
    img = np.ones((height, width, 3))
    palette = np.array([to_rgb(HOLDER_COLOURS[k]) for k in ("competitor", "us", "managed")])
    fig = new_figure(11, max(2.5, 11 * height / width * 0.95 + 0.6))
    ax = fig.subplots()
    block = result.params.wall_block_level
    scaled_any = False
    for i, g in enumerate(groups):
        row, col = divmod(i, ncols)
        y0 = (row * (side + gap + title_h) + title_h) * px
        x0 = col * (side + gap) * px
        wall = float(walls[day, g["rep"]]) if g["rep"] >= 0 and walls.ndim == 2 else 0.0
        shade = 1.0 - 0.6 * wall
        cells = g["cells"]
        tile = np.ones((side * side, 3))
        tile[: len(cells)] = palette[cells] * shade
        tile = np.repeat(np.repeat(tile.reshape(side, side, 3), px, axis=0), px, axis=1)
        if px > 1:
            tile[px - 1 :: px, :, :] = 1.0
            tile[:, px - 1 :: px, :] = 1.0
        img[y0 : y0 + side * px, x0 : x0 + side * px] = tile
        scaled_any |= g["n"] > MAX_CELLS_PER_GROUP
        mark = " WALLED OFF" if g["rep"] >= 0 and wall >= block else ""
        wall_txt = f", wall {wall:.2f}{mark}" if g["rep"] >= 0 else ""
        ax.text(x0, y0 - 0.6 * px, f"{g['label']}{wall_txt}", fontsize=7.5, va="bottom",
                color="darkred" if mark else "black")
    ax.imshow(img, interpolation="nearest", aspect="equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    when = "end of run" if upto is None or day >= walls.shape[0] - 1 else f"day {day}"
    note = "; large books drawn to scale (1 cell = several accounts)" if scaled_any else ""
    ax.set_title(f"Account map: holders at the end of the run, shading = the rep's wall on "
                 f"{when}{note}", fontsize=9)
    ax.legend(handles=[Patch(color=HOLDER_COLOURS[k], label=lab) for k, lab in
                       (("us", "our hardware account"), ("competitor", "competitor-held"),
                        ("managed", "managed contract"))],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=3, fontsize=8, frameon=False)
    return fig


# ---------------------------------------------------------------------------- side by side
def side_by_side_figure(results: Sequence[Any], upto: int | None = None) -> Figure:
    """Two (or more) runs in aligned columns with shared y limits per row."""
    n = len(results)
    fig = new_figure(5.5 * n, 8.2, layout=None)
    axes = fig.subplots(3, n, squeeze=False, sharex=True)
    fig.subplots_adjust(left=0.08, right=0.92, top=0.93, bottom=0.06, wspace=0.45, hspace=0.3)
    mrr_top = max(float(r.timeseries["booked_mrr"].max()) for r in results)
    hw_lo = min(float(r.timeseries["hardware_accounts"].min()) for r in results)
    hw_hi = max(float(r.timeseries["hardware_accounts"].max()) for r in results)
    sal_top = max(float(r.timeseries["specialist_salary"].max()) for r in results)
    quota_top = max(float(np.nanmax(np.fmax(r.timeseries["quota_target"].to_numpy(float),
                                            r.timeseries["specialist_booked_mrr"].to_numpy(float))))
                    for r in results)
    for j, r in enumerate(results):
        draw_mrr(axes[0, j], r, upto, mrr_top=mrr_top, hw_range=(hw_lo, hw_hi))
        draw_walls(axes[1, j], r, upto)
        draw_pay(axes[2, j], r, upto, salary_top=sal_top, mrr_top=quota_top)
        verdict = "succeeded" if r.summary["launch_succeeded"] else "failed"
        axes[0, j].set_title(f"{r.strategy} (seed {r.seed}): launch {verdict}\n"
                             "Managed MRR and hardware accounts", fontsize=10)
        axes[2, j].set_xlabel("day", fontsize=8)
    return fig


__all__ = [
    "account_cells",
    "account_map_figure",
    "draw_funnel",
    "draw_mrr",
    "draw_pay",
    "draw_walls",
    "main_figure",
    "side_by_side_figure",
]
