"""The output directory of ``dealersim blame``: data files, two charts and the HTML report.

The factors are whatever the study used (``--factors``), so the cell chart and the tables are
drawn from the factor list rather than from fixed columns. The page extends the report's
``base.html.j2`` and ``macros.html.j2`` (same styles, autoescaping and filters: the report
environment; its template sits with them in ``outputs/report/templates/``).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from dealersim.base.io import atomic_dir
from dealersim.outputs.plots import new_figure, tidy
from dealersim.outputs.report.charts import plot_effects
from dealersim.outputs.report.render import ENV, embed
from dealersim.studies.blame import Blame


def plot_cells(b: Blame, path: Path) -> Path:
    """Success rate of every combination, best first, with Wilson 95 % intervals.

    On the left, a grid of dots shows which factors each combination has in place (filled) or
    not (hollow), so the labels stay short however many factors there are.
    """
    rows = sorted(b.cells.to_dict("records"), key=lambda r: -r["rate"])
    factors = [b.factor(k) for k in b.factors]
    fig = new_figure(9.0, 1.9 + 0.24 * len(rows))
    grid, ax = fig.subplots(1, 2, sharey=True,
                            gridspec_kw={"width_ratios": [0.55 * len(factors) + 0.4, 6]})
    y = np.arange(len(rows))[::-1]
    for j, f in enumerate(factors):
        on = np.array([r[f.key] == f.levels[1] for r in rows])
        grid.scatter(np.full(on.sum(), j), y[on], s=34, color="#1f618d")
        grid.scatter(np.full((~on).sum(), j), y[~on], s=34, facecolor="none", edgecolor="0.75")
    grid.set_xticks(range(len(factors)), [f.title for f in factors], rotation=40, ha="right",
                    fontsize=8)
    grid.set_xlim(-0.6, len(factors) - 0.4)
    grid.set_yticks([])
    grid.tick_params(axis="x", length=0)
    for side in ("top", "right", "left", "bottom"):
        grid.spines[side].set_visible(False)
    rate = np.array([r["rate"] for r in rows])
    err = np.clip(np.vstack([rate - [r["ci_low"] for r in rows],
                             np.array([r["ci_high"] for r in rows]) - rate]), 0, None)
    ax.errorbar(rate, y, xerr=err, fmt="o", color="#1f618d", capsize=2, ms=4)
    ax.set_xlim(-0.02, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("launches that succeed (95 % interval)")
    ax.grid(axis="x", color="0.92")
    tidy(ax)
    fig.suptitle(f"Success rate of each combination ({b.replicates} simulated dealerships "
                 "each; filled dot: in place)", fontsize=11, fontweight="bold", x=0.02,
                 ha="left")
    fig.savefig(path, dpi=110)
    return path


def blame_charts(b: Blame, out: Path) -> dict[str, Path]:
    """Draw ``cells`` and ``effects`` (main effects and interactions) into ``out``."""
    shown = SimpleNamespace(effects=b.effects[b.effects.kind != "conditional"])
    return {"cells": plot_cells(b, out / "blame_cells.png"),
            "effects": plot_effects(shown, out / "blame_effects.png")}  # type: ignore[arg-type]


def tables(b: Blame) -> dict[str, pd.DataFrame]:
    """The CSV tables of a blame directory, by file name."""
    out = {"cells.csv": b.cells, "effects.csv": b.effects}
    if b.logit is not None:
        out["logit.csv"] = b.logit.table()
    return out


def blame_context(b: Blame, charts: dict[str, Path]) -> dict[str, Any]:
    """Everything ``blame.html.j2`` shows."""
    records = {name.removesuffix(".csv"): frame.to_dict("records")
               for name, frame in tables(b).items()}
    records["cells"].sort(key=lambda r: -r["rate"])
    return dict(records, logit=records.get("logit", []), sentences=b.sentences(),
                levels=b.level_text(), replicates=b.replicates, seed=b.seed,
                factors=[{"key": k, "title": b.factor(k).title} for k in b.factors],
                charts={name: embed(path) for name, path in charts.items()},
                command=b.command, version=b.version, uncertainty=b.uncertainty_note())


def write_blame(b: Blame, out: str | Path, *, force: bool = False) -> Path:
    """Write runs, cells, effects, the logit table, charts and ``report.html`` atomically."""
    with atomic_dir(out, force=force) as tmp:
        b.runs.to_parquet(tmp / "runs.parquet", index=False)
        for name, frame in tables(b).items():
            frame.to_csv(tmp / name, index=False, float_format="%.6g")
        html = ENV.get_template("blame.html.j2").render(
            blame_context(b, blame_charts(b, tmp)))
        (tmp / "report.html").write_text(html, encoding="utf-8")
    return Path(out)
