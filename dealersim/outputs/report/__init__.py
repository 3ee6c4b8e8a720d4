"""The output directories of ``compare`` and ``blame``: data files, charts and the HTML report.

* :mod:`.charts`: the report's matplotlib charts (PNG);
* :mod:`.render`: the context of each report, rendered with the Jinja2 templates in
  ``templates/`` (autoescaped; one self-contained HTML file with the charts embedded);
* here: :func:`write_compare` and :func:`write_blame`, which write a whole output directory
  atomically (:func:`dealersim.base.io.atomic_dir`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dealersim.base.io import atomic_dir
from dealersim.outputs.report.charts import (
    blame_charts,
    color_of,
    compare_charts,
    plot_blame,
    plot_effects,
)
from dealersim.outputs.report.render import blame_report, compare_report

if TYPE_CHECKING:
    from dealersim.studies.blame import Blame
    from dealersim.studies.compare import Comparison

__all__ = [
    "blame_charts",
    "blame_report",
    "color_of",
    "compare_charts",
    "compare_report",
    "plot_blame",
    "plot_effects",
    "write_blame",
    "write_compare",
]


def write_compare(comp: Comparison, out: str | Path, *, force: bool = False,
                  stories: bool = True, plans: Sequence[str] | None = None) -> Path:
    """Write runs, series, ledger, summary, charts and the HTML report into ``out`` (atomically).

    Args:
        comp: The comparison.
        out: Output directory (must not exist, or be empty, unless ``force``).
        force: Replace a non-empty ``out``.
        stories: Re-run one representative run per strategy for its story in the report.
        plans: Plain-words plans for the report's "If you can only change three things"
            section (e.g. from ``dealersim advise``); none: no such section.

    Returns:
        The output directory.
    """
    with atomic_dir(out, force=force) as tmp:
        comp.runs.to_parquet(tmp / "runs.parquet", index=False)
        if comp.series is not None:
            comp.series.to_parquet(tmp / "timeseries.parquet", index=False)
        if comp.ledger is not None:
            comp.ledger.to_parquet(tmp / "ledger.parquet", index=False)
        comp.summary().to_csv(tmp / "summary.csv", index=False, float_format="%.6g")
        compare_report(comp, tmp, stories=stories, plans=plans)
    return Path(out)


def write_blame(b: Blame, out: str | Path, *, force: bool = False) -> Path:
    """Write runs, cells, effects, the logit table, charts and ``report.html`` atomically."""
    with atomic_dir(out, force=force) as tmp:
        b.runs.to_parquet(tmp / "runs.parquet", index=False)
        b.cells.to_csv(tmp / "cells.csv", index=False, float_format="%.6g")
        b.effects.to_csv(tmp / "effects.csv", index=False, float_format="%.6g")
        if b.logit is not None:
            b.logit.table().to_csv(tmp / "logit.csv", index=False, float_format="%.6g")
        blame_report(b, tmp)
    return Path(out)
