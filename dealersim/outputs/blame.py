"""The output directory of ``dealersim blame``: data files, two charts and the HTML report.

The factors are whatever the study used (``--factors``), so the cell chart and the tables are
drawn from the factor list rather than from fixed columns. The page extends the report's
``base.html.j2`` and ``macros.html.j2`` (same styles, autoescaping and filters: the report
environment, overlaid with this package's ``templates/`` folder).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import jinja2
import numpy as np
from matplotlib.ticker import PercentFormatter

from dealersim.base.io import atomic_dir
from dealersim.outputs.plots import new_figure, tidy
from dealersim.outputs.report.charts import plot_effects
from dealersim.outputs.report.render import ENV, embed
from dealersim.studies.blame import Blame

BLAME_ENV = ENV.overlay(loader=jinja2.ChoiceLoader([
    jinja2.PackageLoader("dealersim.outputs", "templates"), ENV.loader]))
"""The report environment with this package's templates first (``blame.html.j2``)."""


def cell_label(b: Blame, row: dict) -> str:
    """A cell as the factors that are on, e.g. ``credit for reps + quota timing``."""
    on = [b.factor(k).title for k in b.factors if row[k] == b.factor(k).levels[1]]
    return " + ".join(on) if on else "nothing in place"


def plot_cells(b: Blame, path: Path) -> Path:
    """Success rate of every combination, best first, with Wilson 95 % intervals."""
    rows = sorted(b.cells.to_dict("records"), key=lambda r: -r["rate"])
    fig = new_figure(9.0, 1.2 + 0.26 * len(rows))
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    rate = np.array([r["rate"] for r in rows])
    err = np.clip(np.vstack([rate - [r["ci_low"] for r in rows],
                             np.array([r["ci_high"] for r in rows]) - rate]), 0, None)
    ax.errorbar(rate, y, xerr=err, fmt="o", color="#1f618d", capsize=2, ms=4)
    ax.set_yticks(y, [cell_label(b, r) for r in rows], fontsize=8)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("launches that succeed (95 % interval)")
    ax.grid(axis="x", color="0.92")
    ax.set_title(f"Success rate of each combination ({b.replicates} simulated dealerships each)",
                 loc="left", fontsize=11, fontweight="bold")
    tidy(ax)
    fig.savefig(path, dpi=110)
    return path


def blame_charts(b: Blame, out: Path) -> dict[str, Path]:
    """Draw ``cells`` and ``effects`` (main effects and interactions) into ``out``."""
    shown = SimpleNamespace(effects=b.effects[b.effects.kind != "conditional"])
    return {"cells": plot_cells(b, out / "blame_cells.png"),
            "effects": plot_effects(shown, out / "blame_effects.png")}  # type: ignore[arg-type]


def blame_context(b: Blame, charts: dict[str, Path]) -> dict:
    """Everything ``blame.html.j2`` shows."""
    return {
        "factors": [{"key": k, "title": b.factor(k).title} for k in b.factors],
        "cells": sorted(b.cells.to_dict("records"), key=lambda r: -r["rate"]),
        "effects": b.effects.to_dict("records"),
        "logit": b.logit.table().to_dict("records") if b.logit is not None else [],
        "replicates": b.replicates,
        "sentences": b.sentences(),
        "levels": b.level_text(),
        "charts": {name: embed(path) for name, path in charts.items()},
        "command": b.command,
        "version": b.version,
        "seed": b.seed,
    }


def write_blame(b: Blame, out: str | Path, *, force: bool = False) -> Path:
    """Write runs, cells, effects, the logit table, charts and ``report.html`` atomically."""
    with atomic_dir(out, force=force) as tmp:
        b.runs.to_parquet(tmp / "runs.parquet", index=False)
        b.cells.to_csv(tmp / "cells.csv", index=False, float_format="%.6g")
        b.effects.to_csv(tmp / "effects.csv", index=False, float_format="%.6g")
        if b.logit is not None:
            b.logit.table().to_csv(tmp / "logit.csv", index=False, float_format="%.6g")
        context = blame_context(b, blame_charts(b, tmp))
        html = BLAME_ENV.get_template("blame.html.j2").render(context)
        (tmp / "report.html").write_text(html, encoding="utf-8")
    return Path(out)
