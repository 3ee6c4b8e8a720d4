"""The HTML reports of ``compare`` and ``blame``: a context per report, rendered by Jinja2.

The templates live in ``dealersim/outputs/report/templates/`` (``compare.html.j2``,
``blame.html.j2``, the shared ``base.html.j2``, ``macros.html.j2`` and ``report.css``);
autoescaping is on, so every value from a run or a parameter reaches the page as text. The
charts are embedded as base64 PNGs and the styles inline: a report is one self-contained file.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from dealersim.base.stats import km_at, km_median
from dealersim.model import kpis
from dealersim.model.params import format_value, spec
from dealersim.model.results import simulate
from dealersim.model.strategies import strategy_doc
from dealersim.outputs.report.charts import (
    DAYS_PER_MONTH,
    blame_charts,
    color_of,
    compare_charts,
)
from dealersim.studies.compare import formatted_summary, representative, survival_curves

if TYPE_CHECKING:
    from dealersim.studies.blame import Blame
    from dealersim.studies.compare import Comparison


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _est(row: Mapping[str, Any], diff: bool = False) -> str:
    """A summary row's estimate (or paired difference) in its KPI's format."""
    return kpis.fmt(row["kpi"], row["diff"] if diff else row["estimate"], diff=diff)


def _ci(row: Mapping[str, Any], diff: bool = False) -> str:
    """A summary row's interval (or the difference's) as ``low to high``."""
    low, high = ("diff_ci_low", "diff_ci_high") if diff else ("ci_low", "ci_high")
    return kpis.kpi(row["kpi"]).format_interval(row[low], row[high], diff=diff)


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("dealersim.outputs.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
"""The report templates: filters ``pct``, ``kpi``, ``est``, ``ci``; the registry's ``label``
(a summary KPI) and ``series_label`` (a time-series column)."""
ENV.filters.update(pct=_pct, kpi=lambda value, name, diff=False: kpis.fmt(name, value, diff=diff),
                   est=_est, ci=_ci)
ENV.globals.update(label=kpis.label, series_label=lambda name: kpis.column(name).label)


def embed(path: Path) -> str:
    """A PNG file as base64 text, for a ``data:`` URL."""
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


def render(template: str, context: Mapping[str, Any]) -> str:
    """Render one of the report templates with ``context``."""
    return ENV.get_template(template).render(context)


# ====================================================================== compare report
def _value(v: Any) -> str:
    """A parameter value for a reader: yes/no for switches, else as on the command line."""
    return ("yes" if v else "no") if isinstance(v, bool) else format_value(v)


def _first_sentence(text: str) -> str:
    return text.split("\n\n")[0].replace("\n", " ")


def _story(comp: Comparison, strategy: str) -> dict[str, Any]:
    """The story of the representative run of ``strategy`` (re-run from its seed)."""
    row = representative(comp, strategy)
    result = simulate(strategy, seed=int(row.seed), params=comp.params(strategy))
    ev = result.events
    shown = ev[ev.kind != "deal"]
    s = result.summary
    return {
        "strategy": strategy,
        "replicate": int(row.replicate),
        "seed": int(row.seed),
        "verdict": "succeeded" if s["launch_succeeded"] else "failed",
        "specialists_hired": s["specialists_hired"],
        "deals": s["deals"],
        "managed_mrr": kpis.fmt("managed_mrr", s["managed_mrr"]),
        "gross_profit": kpis.fmt("gross_profit", s["gross_profit"]),
        "events": [{"day": int(d), "actor": a, "text": t}
                   for d, a, t in zip(shown.day, shown.actor, shown.text, strict=True)],
        "more_deals": int((ev.kind == "deal").sum()),
    }


def _assumptions(comp: Comparison) -> dict[str, Any]:
    """The parameters that differ between the strategies, the overrides and the presets' docs."""
    params = {s: comp.params(s).to_dict() for s in comp.strategies}
    first = params[comp.strategies[0]]
    differ = [k for k in first if len({repr(params[s][k]) for s in comp.strategies}) > 1]
    return {
        "differ": [{"name": k, "label": spec(k).label, "help": spec(k).help,
                    "source": spec(k).source,
                    "values": [_value(params[s][k]) for s in comp.strategies]}
                   for k in differ],
        "overrides": [f"{k}={_value(v)}" for k, v in sorted(comp.overrides.items())],
        "docs": [(s, _first_sentence(strategy_doc(s))) for s in comp.strategies],
    }


def compare_context(comp: Comparison, charts: Mapping[str, Path], *,
                    stories: bool = True) -> dict[str, Any]:
    """Everything ``compare.html.j2`` shows.

    Args:
        comp: The comparison.
        charts: Chart PNGs by name (see :func:`compare_charts`).
        stories: Re-run one representative run per strategy for its story.
    """
    p = comp.params(comp.strategies[0])
    rows: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in comp.strategies}
    for row in comp.summary().to_dict("records"):
        rows[row["strategy"]][row["kpi"]] = row
    tenure = []
    for s, km in survival_curves(comp).items():
        med = km_median(km)
        tenure.append({"strategy": s, "one_year": km_at(km, 365),
                       "median_month": None if med is None else med / DAYS_PER_MONTH})
    return {
        "strategies": comp.strategies,
        "ref": comp.strategies[0],
        "replicates": comp.replicates,
        "years": f"{p.years:g}",
        "target": kpis.money(p.launch_target_mrr),
        "cover": f"{p.launch_cover:g}",
        "colors": {s: color_of(s, comp.strategies) for s in comp.strategies},
        "r": rows,
        "tenure": tenure,
        "key_rows": formatted_summary(comp, kpis.KEY_KPIS),
        "other_rows": formatted_summary(comp, kpis.OTHER_KPIS),
        "charts": {name: embed(path) for name, path in charts.items()},
        "stories": [_story(comp, s) for s in comp.strategies] if stories else [],
        **_assumptions(comp),
        "command": comp.command,
        "version": comp.version,
        "seed": comp.seed,
        "stride": comp.series_stride if comp.series is not None else None,
    }


def compare_report(comp: Comparison, out: Path, *, stories: bool = True) -> Path:
    """Draw the charts and write ``report.html`` into ``out``."""
    context = compare_context(comp, compare_charts(comp, out), stories=stories)
    path = out / "report.html"
    path.write_text(render("compare.html.j2", context), encoding="utf-8")
    return path


# ====================================================================== blame report
def blame_context(b: Blame, charts: Mapping[str, Path]) -> dict[str, Any]:
    """Everything ``blame.html.j2`` shows (``charts``: see :func:`blame_charts`)."""
    return {
        "cells": b.cells.to_dict("records"),
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


def blame_report(b: Blame, out: Path) -> Path:
    """Draw the blame charts and write ``report.html`` into ``out``."""
    context = blame_context(b, blame_charts(b, out))
    path = out / "report.html"
    path.write_text(render("blame.html.j2", context), encoding="utf-8")
    return path
