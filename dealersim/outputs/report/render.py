"""The HTML report of ``compare``: its context, rendered by Jinja2.

The templates live in ``dealersim/outputs/report/templates/`` (``compare.html.j2``,
``blame.html.j2`` (rendered by :mod:`dealersim.outputs.blame`), the shared ``base.html.j2``,
``macros.html.j2`` and ``report.css``);
autoescaping is on, so every value from a run or a parameter reaches the page as text. The
charts are embedded as base64 PNGs and the styles inline: a report is one self-contained file.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pandas as pd

from dealersim.base.stats import km_at, km_median
from dealersim.model import kpis
from dealersim.model.ledger import judged_month
from dealersim.model.params import format_value, spec
from dealersim.model.results import simulate
from dealersim.model.strategies import strategy_doc, strategy_line
from dealersim.outputs.report.charts import (
    DAYS_PER_MONTH,
    DRIVER_LABELS,
    color_of,
    compare_charts,
)
from dealersim.studies.calibrate.predictions import PREDICTIONS_FILE, prediction_cells
from dealersim.studies.compare import (
    TABLE_KPIS,
    drivers,
    formatted_summary,
    owner_money,
    representative,
    survival_curves,
)
from dealersim.studies.culture import (
    MIN_RUNS,
    OBSERVE,
    OUTCOME,
    culture_sentences,
    culture_table,
)
from dealersim.studies.decision import Decision, decide, horizon_note, sell_words
from dealersim.studies.posterior import robustness

if TYPE_CHECKING:
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


GLOSSARY: tuple[tuple[str, str], ...] = (
    ("Specialist", "a salesperson hired to sell managed services (managed print and managed "
     "IT) to the dealership's customers and to new ones."),
    ("Overlay", "a specialist who sells into accounts the hardware reps already own, working "
     "through their relationships rather than a territory of his own."),
    ("Wall", "how hard a hardware rep guards his accounts from the specialist, from 0 (open: "
     "intros and access) to 1 (walled off: no calls into his book)."),
    ("MRR", "monthly recurring revenue: what the live managed contracts bill each month."),
    ("Managed print, managed IT", "contracts that run a customer's printers (supplies, "
     "service, monitoring) or IT for a monthly fee, usually for three to five years."),
    ("Doing nothing", "the same dealership, market and luck without the program: only the "
     "hardware business, which keeps eroding in the price war."),
    ("Cash curve (J-curve)", "the program's cash, month by month, added up since the launch "
     "and compared with doing nothing: it dips while the program costs more than it earns, "
     "then climbs as contracts go live."),
    ("Payback month", "the month from which the program is ahead of doing nothing for good."),
    ("Worth at the end", "the last year's earnings times what buyers pay per dollar of "
     "earnings: more for a business with a large share of contracted recurring revenue."),
    ("Launch succeeded", kpis.kpi("launch_succeeded").help),
)
"""The report's short glossary: term and plain meaning."""


def _share(x: float) -> str:
    """A share of runs as a whole percentage, never outside 0-100 %."""
    return f"{min(1.0, max(0.0, x)):.0%}"


def _money_word(x: float) -> str:
    """Dollars in round words for a sentence: ``$310,000`` / ``$1.2 million``."""
    a = abs(x)
    if a >= 1e6:
        return f"${a / 1e6:,.1f} million"
    return f"${round(a, -3 if a >= 10_000 else -2):,.0f}"


def _years(years: float) -> str:
    """A span of years in words: ``1 year``, ``2.5 years``."""
    return f"{years:g} year" + ("" if years == 1 else "s")


def _in_sentence(title: str) -> str:
    """A title inside a sentence: first letter lower case, unless the word is an acronym."""
    word = title.split(" ")[0]
    return title if word.isupper() else title[:1].lower() + title[1:]


GOOD, BAD, NEUTRAL = "#1e8449", "#c0392b", "#7f8c8d"
"""Colours by meaning on the first screen: a gain, a loss, neither."""


def _tone(x: float | None) -> str:
    """The colour of a money figure: a loss is never green."""
    if x is None or x != x or x == 0:
        return NEUTRAL
    return GOOD if x > 0 else BAD


def _spread(sp: Any) -> str:
    """A spread over the runs in words: ``$a to $b in 8 of 10 dealerships``."""
    return f"{kpis.money(sp.low)} to {kpis.money(sp.high)} in 8 of 10 dealerships"


def first_screen(comp: Comparison, d: Decision | None) -> dict[str, Any]:
    """The report's first screen from the decision: verdict, rule, keep and sell, robustness.

    Every figure comes from :func:`dealersim.studies.decision.decide`, as on the dashboard's
    verdict card; each card shows one number under its label. The plan shown is the one
    recommended, or else the one most often paid back (what the owner would launch anyway).
    """
    if d is None or not d.plans:
        return {"best": None, "headline": "None of these plans launches managed services.",
                "rule": "", "horizon": "", "cards": [], "sell": "", "robust": "",
                "tornado": "", "payback": None}
    best = d.recommendation or max(d.plans, key=lambda s: (d.keep[s].paid_back,
                                                          d.keep[s].npv.mean))
    k, sv = d.keep[best], d.sell[best]
    span = _years(d.horizon_years)
    shown = "" if d.recommendation else f", for {_in_sentence(comp.title(best))}"
    half = (f"half by month {k.median_payback}" if k.median_payback is not None
            else f"fewer than half within {span}")
    cards = [
        {"label": f"Keep the business: paid back within {span}{shown}",
         "value": _share(k.paid_back), "color": GOOD if k.paid_back >= 0.5 else BAD,
         "note": f"of simulated dealerships; {half}"},
        {"label": "Cash in today's dollars against doing nothing",
         "value": kpis.money(k.npv.mean), "color": _tone(k.npv.mean),
         "note": _spread(k.npv)},
        {"label": "Cash low point against doing nothing",
         "value": kpis.money(k.low_point.mean), "color": _tone(k.low_point.mean),
         "note": (f"typically in month {k.low_month}; " if k.low_month else "") +
         _spread(k.low_point)},
        {"label": f"Sell in year {d.horizon_years:g}: value added",
         "value": kpis.money(sv.value_added.mean), "color": _tone(sv.value_added.mean),
         "note": f"at {sv.multiple:.2f} times earnings against {sv.baseline_multiple:.2f} "
                 "doing nothing"},
    ]
    robust = ""
    if d.draws and best in d.robustness:
        share = d.robustness[best]
        cards.append({"label": "The verdict holds under", "value": _share(share),
                      "color": GOOD if share >= 0.8 else BAD if share < 0.5 else NEUTRAL,
                      "note": f"of {d.draws} plausible money assumptions"})
        robust = (f"Drawing the money assumptions (costs, discount rate, overhead and value "
                  f"multiples) over their plausible ranges {d.draws} times, the verdict on "
                  f"{_in_sentence(comp.title(best))} holds in {_share(share)} of them and "
                  f"the recommendation stays the same in {_share(d.recommendation_holds)}.")
    top = [t for t in d.tornado if t["high"] != t["low"] or t["npv_high"] != t["npv_low"]][:3]
    torn = ""
    if top:
        parts = [f"{t['label'].lower()} ("
                 + (f"paid back {_share(t['low'])} to {_share(t['high'])}, "
                    if t["low"] != t["high"] else "")
                 + f"today's cash {kpis.money(t['npv_low'])} to {kpis.money(t['npv_high'])})"
                 for t in top]
        moved = ("payback and cash" if any(t["low"] != t["high"] for t in top)
                 else "today's cash")
        torn = f"The money assumptions that move {moved} most: " + "; ".join(parts) + "."
    months = sorted({*range(12, d.horizon_months + 1, 12), d.horizon_months})
    payback = {"months": months,
               "rows": [{"plan": s, "title": comp.title(s),
                         "values": [_share(d.keep[s].payback_probability.get(m, 0.0))
                                    for m in months]} for s in d.plans]}
    return {"best": best, "headline": d.verdict, "rule": d.rule,
            "horizon": horizon_note(d.horizon_years), "cards": cards,
            "sell": sell_words(sv, d.horizon_years), "robust": robust, "tornado": torn,
            "payback": payback}


def _drivers_rows(comp: Comparison) -> list[dict[str, Any]]:
    """The driver table: a plain label and the average per strategy (formatted money)."""
    table = drivers(comp)
    if table.empty:
        return []
    return [{"label": DRIVER_LABELS[name],
             "values": [kpis.money(table.loc[s, name]) for s in comp.strategies]}
            for name in DRIVER_LABELS]


def culture_context(comp: Comparison) -> dict[str, Any] | None:
    """The culture paragraph of the methods appendix.

    The story's launch (the first specialist in the seat at month 12) by thirds of the team's
    day-0 guard per strategy, cut at the first strategy's runs
    (:func:`dealersim.studies.culture.culture_table`); ``None`` with fewer than ``MIN_RUNS``
    runs per strategy.
    """
    if comp.replicates < MIN_RUNS or "guard_day0" not in comp.runs:
        return None
    titles = {s: comp.title(s) for s in comp.strategies}
    table = culture_table(comp.runs, comp.strategies, reference=comp.strategies[0])
    rows = [dict(r, title=titles[r["strategy"]]) for r in table.to_dict("records")]
    return {"observe": OBSERVE, "sentences": culture_sentences(table, titles), "rows": rows,
            "outcome_label": kpis.label(OUTCOME).lower()}


def predictions_context(comp: Comparison) -> list[dict[str, Any]]:
    """The calibration's predictions for the methods appendix (none without a calibration).

    Read from the ``predictions.csv`` of the calibration the comparison drew its parameter
    sets from (``--posterior DIR``): planned's launch success and each lever's effect, prior
    against posterior, beside what the article claims.
    """
    if comp.posterior is None:
        return []
    path = Path(comp.posterior) / PREDICTIONS_FILE
    try:
        return prediction_cells(pd.read_csv(path))
    except (OSError, ValueError, KeyError, AttributeError):
        return []


def compare_context(comp: Comparison, charts: Mapping[str, Path], *,
                    stories: bool = True,
                    plans: Sequence[str] | None = None,
                    decision: Decision | None = None) -> dict[str, Any]:
    """Everything ``compare.html.j2`` shows.

    Args:
        comp: The comparison.
        charts: Chart PNGs by name (see :func:`compare_charts`).
        stories: Re-run one representative run per strategy for its story.
        plans: Plain-words plans for the optional "If you can only change three things"
            section (from ``dealersim advise``); none: the section is left out.
        decision: The decision of these runs (default: :func:`decide` on them).
    """
    if decision is None and comp.ledger is not None:
        decision = decide(comp)
    p = comp.params(comp.strategies[0])
    rows: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in comp.strategies}
    for row in comp.summary().to_dict("records"):
        rows[row["strategy"]][row["kpi"]] = row
    tenure = []
    for s, km in survival_curves(comp).items():
        med = km_median(km)
        tenure.append({"strategy": s, "one_year": km_at(km, 365),
                       "median_month": None if med is None else med / DAYS_PER_MONTH})
    money = owner_money(comp)
    robust = ([robustness(comp.runs, [comp.strategies[0], other]).sentence
               for other in comp.strategies[1:]] if comp.posterior is not None else [])
    return {
        "verdict": first_screen(comp, decision),
        "robustness": robust,
        "plans": list(plans or [])[:3],
        "titles": {s: comp.title(s) for s in comp.strategies},
        "lines": {s: strategy_line(s) for s in comp.strategies},
        "money": money,
        "money_rows": [
            {"label": "Recurring managed revenue a year at the end",
             "values": [kpis.money(money[s]["recurring_revenue_end"]) for s in comp.strategies]},
            {"label": "What the program cost over the run",
             "values": [kpis.money(money[s]["program_cost"]) for s in comp.strategies]},
            {"label": "What the business is worth at the end",
             "values": [kpis.money(money[s]["enterprise_value_end"]) for s in comp.strategies]},
            {"label": "Added to its worth, against doing nothing",
             "values": [kpis.money(money[s]["value_added"]) for s in comp.strategies]},
            {"label": "Cash in today's dollars, against doing nothing (net present value)",
             "values": [kpis.money(money[s]["npv"]) for s in comp.strategies]},
        ],
        "driver_rows": _drivers_rows(comp),
        "culture": culture_context(comp),
        "predictions": predictions_context(comp),
        "glossary": GLOSSARY,
        "money_keys": kpis.MONEY_KPIS + ("gross_profit",),
        "strategies": comp.strategies,
        "ref": comp.strategies[0],
        "replicates": comp.replicates,
        "years": f"{p.years:g}",
        "span": _years(p.years),
        "target": kpis.money(p.launch_target_mrr),
        "cover": f"{p.launch_cover:g}",
        "success_help": kpis.kpi("launch_succeeded").help,
        "success_month": judged_month(p),
        "colors": {s: color_of(s, comp.strategies) for s in comp.strategies},
        "r": rows,
        "tenure": tenure,
        "key_rows": formatted_summary(comp, TABLE_KPIS),
        "other_rows": formatted_summary(comp, kpis.OTHER_KPIS),
        "charts": {name: embed(path) for name, path in charts.items()},
        "stories": [_story(comp, s) for s in comp.strategies] if stories else [],
        **_assumptions(comp),
        "command": comp.command,
        "version": comp.version,
        "seed": comp.seed,
        "stride": comp.series_stride if comp.series is not None else None,
    }


def compare_report(comp: Comparison, out: Path, *, stories: bool = True,
                   plans: Sequence[str] | None = None,
                   decision: Decision | None = None) -> Path:
    """Draw the charts and write ``report.html`` into ``out``.

    ``plans`` and ``decision``: see :func:`compare_context`.
    """
    if decision is None and comp.ledger is not None:
        decision = decide(comp)
    context = compare_context(comp, compare_charts(comp, out, decision), stories=stories,
                              plans=plans, decision=decision)
    path = out / "report.html"
    path.write_text(render("compare.html.j2", context), encoding="utf-8")
    return path

