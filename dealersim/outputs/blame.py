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

from dealersim.base.io import atomic_dir, write_text
from dealersim.model.kpis import fmt, kpi
from dealersim.model.strategies import strategy_title
from dealersim.outputs.plots import new_figure, tidy
from dealersim.outputs.report.charts import plot_effects
from dealersim.outputs.report.render import ENV, embed
from dealersim.studies.blame import Blame, defining_words, resolution, roman
from dealersim.studies.compare import Comparison
from dealersim.studies.culture import CULTURE, OBSERVE, culture_sentences, culture_table


def plot_cells(b: Blame, path: Path) -> Path:
    """Success rate of every combination, best first, with Wilson 95 % intervals.

    On the left, a grid of dots shows which factors each combination has in place (filled) or
    not (hollow), so the labels stay short however many factors there are.
    """
    rows = sorted(b.cells.to_dict("records"), key=lambda r: -r["rate"])
    total = len(rows)
    rows = rows[:MAX_CHART_CELLS]
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
    what = kpi(b.outcome).label
    ax.set_xlabel(f"{what.lower()} (95 % interval)")
    ax.grid(axis="x", color="0.92")
    tidy(ax)
    which = ("each combination" if total == len(rows)
             else f"the {len(rows)} best of {total} combinations")
    fig.suptitle(f"{what}: {which} ({b.replicates} simulated dealerships "
                 "each; filled dot: in place)", fontsize=11, fontweight="bold", x=0.02,
                 ha="left")
    fig.savefig(path, dpi=110)
    return path


MAX_CHART_CELLS = 64
"""The cell chart shows at most this many combinations (the best); the table has them all."""


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
    if b.measures is not None:
        out["factorial_effects.csv"] = b.measures
    return out


def blame_context(b: Blame, charts: dict[str, Path]) -> dict[str, Any]:
    """Everything ``blame.html.j2`` shows."""
    records = {name.removesuffix(".csv"): frame.to_dict("records")
               for name, frame in tables(b).items()}
    records["cells"].sort(key=lambda r: -r["rate"])
    return dict(records, logit=records.get("logit", []),
                sentences=b.sentences() + b.plan_sentences(),
                levels=b.level_text(), replicates=b.replicates, seed=b.seed,
                factors=[{"key": k, "title": b.factor(k).title} for k in b.factors],
                charts={name: embed(path) for name, path in charts.items()},
                command=b.command, version=b.version, uncertainty=b.uncertainty_note(),
                outcome_label=kpi(b.outcome).label, rate_words=b.rate_words)


def write_blame(b: Blame, out: str | Path, *, force: bool = False) -> Path:
    """Write runs, cells, effects, the logit table, charts and ``report.html`` atomically."""
    with atomic_dir(out, force=force) as tmp:
        b.runs.to_parquet(tmp / "runs.parquet", index=False)
        for name, frame in tables(b).items():
            frame.to_csv(tmp / name, index=False, float_format="%.6g")
        html = ENV.get_template("blame.html.j2").render(
            blame_context(b, blame_charts(b, tmp)))
        (tmp / "report.html").write_text(html, encoding="utf-8")
        if b.measures is not None:
            (tmp / "factorial.md").write_text(factorial_markdown(b), encoding="utf-8")
    return Path(out)


# ====================================================================== Markdown for the docs

def _diff(measure: str, x: float) -> str:
    """A difference in the KPI's format, with no sign on what rounds to zero."""
    text = fmt(measure, x, diff=True)
    bare = text.lstrip("+-")
    return bare if bare.strip("$0.,% pts") == "" else text


def _span(measure: str, est: float, low: float, high: float) -> str:
    """``+12 pts (+5 pts to +19 pts)`` in the KPI's own format."""
    if not np.isfinite(est):
        return "n/a"
    if not (np.isfinite(low) and np.isfinite(high)):
        return _diff(measure, est)
    return f"{_diff(measure, est)} ({_diff(measure, low)} to {_diff(measure, high)})"


def _clear(row: Any) -> bool:
    return bool(row.ci_low > 0 or row.ci_high < 0)


def factorial_markdown(b: Blame, *, heading: str = "##") -> str:
    """The factorial's effects on every measure as Markdown: the design, the verdict, the tables.

    Main effects are all listed; two-factor interactions only where at least one measure's
    interval excludes zero (the CSV has them all).
    """
    if b.measures is None:
        raise ValueError("blame: no per-measure effects; run it with run_blame")
    eff = b.measures
    measures = list(dict.fromkeys(eff.measure))
    k = len(b.factors)
    if b.design == "full":
        design = (f"the full design: all {2 ** k} combinations of the {k} levers, so every "
                  "effect and interaction is estimated without aliasing")
    else:
        words = ", ".join("I = " + "".join("ABCDEFGH"[i] for i in sorted(w))
                          for w in defining_words(k))
        design = (f"a resolution-{roman(resolution(k))} fraction: {b.fraction_size} of the "
                  f"{2 ** k} combinations ({words}), so no main effect or two-factor "
                  "interaction is aliased with another (only with interactions of three or more "
                  "levers)" + (f"; beside it, the {b.added_cells} combinations the verdict reads "
                               "(nothing, each lever alone, everything but each lever) that the "
                               "fraction lacks, run on the same seeds and left out of the "
                               "effects" if b.added_cells else ""))
    letters = ", ".join(f"{'ABCDEFGH'[i]} = {b.factor(f).title}"
                        for i, f in enumerate(b.factors))
    lines = [f"{heading} The plan's levers as a factorial experiment", "",
             f"Each lever at two levels, the story's launch (off) and the plan's value (on), in "
             f"{design}. Levers: {letters}. {b.replicates} simulated dealerships per "
             "combination, the same seeds in every combination (common random numbers), so "
             "each effect is a paired contrast computed per seed, with a Student-t 95 % "
             "interval over seeds. Main effect: on minus off, averaged over the other levers. "
             "Interaction a × b: the effect of a with b on minus its effect with b off.", ""]
    for t in (b.sentences()[-1:] if b.design != "full" else []) + b.plan_sentences():
        lines += [t, ""]
    head = "| effect | " + " | ".join(kpi(m).label for m in measures) + " |"
    lines += [head, "|" + "---|" * (len(measures) + 1)]
    by = {(r.measure, r.name): r for r in eff.itertuples()}
    shown = [r for r in eff[eff.measure == measures[0]].itertuples()
             if r.kind == "main" or (r.kind == "interaction" and any(
                 _clear(by[(m, r.name)]) for m in measures if (m, r.name) in by))]
    n_inter = int((eff[eff.measure == measures[0]].kind == "interaction").sum())
    for r in shown:
        cells = []
        for m in measures:
            e = by.get((m, r.name))
            text = "n/a" if e is None else _span(m, e.effect, e.ci_low, e.ci_high)
            cells.append(f"**{text}**" if e is not None and _clear(e) else text)
        lines.append(f"| {r.label} | " + " | ".join(cells) + " |")
    lines += ["", f"Bold: the 95 % interval excludes zero. Interactions are listed only where "
              f"one measure's interval excludes zero ({len(shown) - k} of {n_inter}); "
              "`factorial_effects.csv` has every effect.", ""]
    try:
        lines += _plan_cells(b)
    except KeyError:  # a fraction run without its plan cells (an older run)
        pass
    return "\n".join(lines)


def _plan_cells(b: Blame) -> list[str]:
    """Success of everything, nothing, each lever alone and everything but one lever."""
    rows = [("every lever", b.cell_with(b.factors)), ("no lever (the story's launch)",
                                                      b.cell_with(()))]
    rows += [(f"only {b.factor(k).title}", b.cell_with([k])) for k in b.factors]
    rows += [(f"every lever but {b.factor(k).title}",
              b.cell_with([o for o in b.factors if o != k])) for k in b.factors]
    out = [f"| combination | {kpi(b.outcome).label.lower()} (95 % interval) |", "|---|---|"]
    out += [f"| {name} | {c.rate:.0%} ({c.ci_low:.0%} to {c.ci_high:.0%}) |"
            for name, c in rows]
    return [*out, ""]


def culture_markdown(table: pd.DataFrame, titles: dict[str, str] | None = None, *,
                     heading: str = "##") -> str:
    """The culture table (:func:`dealersim.studies.culture.culture_table`) as Markdown."""
    titles = titles or {}
    lines = [f"{heading} How much the outcome depends on the team's culture", "", OBSERVE, ""]
    what = kpi(str(table.outcome.iloc[0])).label.lower() if len(table) else "launches"
    lines += ["| strategy | third of teams by day-0 guard | day-0 guard | " + what
              + " (95 % interval) |", "|---|---|---|---|"]
    for r in table.itertuples():
        name = titles.get(r.strategy, r.strategy)
        if r.third == "open - guarded":
            lines.append(f"| {name} | open minus guarded | | {r.rate * 100:+.0f} points "
                         f"({r.ci_low * 100:+.0f} to {r.ci_high * 100:+.0f}) |")
        else:
            lines.append(f"| {name} | {r.third} ({r.n} teams) | {r.wall_low:.2f} to "
                         f"{r.wall_high:.2f} | {r.rate:.0%} ({r.ci_low:.0%} to "
                         f"{r.ci_high:.0%}) |")
    lines += ["", "Day-0 guard: " + kpi(CULTURE).help.lower().rstrip(".")
              + f" ({kpi(CULTURE).unit}). The gap's interval is Newcombe's for two "
              "independent rates.", ""]
    lines += [f"- {t}" for t in culture_sentences(table, titles)]
    return "\n".join([*lines, ""])


def write_factorial_page(path: str | Path, b: Blame, comp: Comparison, command: str) -> Path:
    """Write the docs page: the plan's factorial and the culture table (atomically)."""
    table = culture_table(comp.runs, comp.strategies)
    titles = {s: strategy_title(s) for s in comp.strategies}
    p = comp.params(comp.strategies[0])
    text = "\n".join([
        "# The plan as a factorial, and the team's culture", "",
        f"Generated by `{command}` (dealersim {b.version}; {p.years:g} year(s) per run, "
        f"{p.n_reps} reps). Regenerate it with that command after any change to the model.", "",
        factorial_markdown(b),
        f"Culture: {comp.replicates} simulated dealerships per strategy on the same seeds (the "
        "same teams under both strategies).", "",
        culture_markdown(table, titles),
    ])
    write_text(path, text)
    return Path(path)
