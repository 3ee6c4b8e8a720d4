"""The output directory of ``compare``: data files, charts and the HTML report.

* :mod:`.charts`: the report's matplotlib charts (PNG);
* :mod:`.render`: the context of each report, rendered with the Jinja2 templates in
  ``templates/`` (autoescaped; one self-contained HTML file with the charts embedded);
* here: :func:`write_compare`, which writes a whole output directory
  atomically (:func:`dealersim.base.io.atomic_dir`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dealersim.base.io import atomic_dir
from dealersim.outputs.report.charts import (
    color_of,
    compare_charts,
    plot_effects,
)
from dealersim.outputs.report.render import compare_report
from dealersim.studies.decision import decide

if TYPE_CHECKING:
    from dealersim.studies.compare import Comparison

__all__ = [
    "color_of",
    "compare_charts",
    "compare_report",
    "plot_effects",
    "write_compare",
]


def write_compare(comp: Comparison, out: str | Path, *, force: bool = False,
                  stories: bool = True, plans: Sequence[str] | None = None) -> Path:
    """Write runs, series, ledger, summary, the decision, charts and the HTML report (atomically).

    ``decision.json`` is :meth:`dealersim.studies.decision.Decision.to_dict` of the runs.

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
        decision = decide(comp) if comp.ledger is not None else None
        if decision is not None:
            (tmp / "decision.json").write_text(json.dumps(decision.to_dict(), indent=1) + "\n",
                                               encoding="utf-8")
        compare_report(comp, tmp, stories=stories, plans=plans, decision=decision)
    return Path(out)

