"""Charts and the self-contained HTML report of ``compare`` and ``blame``.

Charts are drawn on ``matplotlib.figure.Figure`` objects (no pyplot state) and saved as PNG;
the HTML report embeds them as base64 so it is one file to mail or print.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from dealersim.base.io import atomic_dir
from dealersim.base.stats import km_at, km_median
from dealersim.model.kpis import FLAG_KPIS as RATE_KPIS
from dealersim.model.kpis import KEY_KPIS, SUMMARY_KEYS
from dealersim.model.kpis import fmt as fmt_kpi
from dealersim.model.kpis import label as kpi_label
from dealersim.model.params import spec
from dealersim.model.strategies import strategy_doc
from dealersim.outputs.plots import dollars, new_figure
from dealersim.studies.compare import survival_curves

if TYPE_CHECKING:
    from dealersim.studies.blame import Blame
    from dealersim.studies.compare import Comparison

DPI = 110
DAYS_PER_MONTH = 365 / 12

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
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _err(est: Any, low: Any, high: Any) -> np.ndarray:
    """Error-bar half-widths from an interval (never negative, NaN as 0)."""
    e = np.asarray(est, dtype=float)
    lo = np.nan_to_num(e - np.asarray(low, dtype=float))
    hi = np.nan_to_num(np.asarray(high, dtype=float) - e)
    return np.clip(np.vstack([lo, hi]), 0.0, None)


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


# ====================================================================== compare charts
FANS = (
    ("managed_mrr", "fan_managed_mrr.png", "Managed-services revenue a month",
     "monthly recurring revenue from live managed contracts"),
    ("hardware_accounts", "fan_hardware_accounts.png", "Hardware accounts we still hold",
     "customers renew, leave to a competitor, or are won at lease end"),
    ("cumulative_gross_profit", "fan_gross_profit.png", "Cumulative gross profit",
     "hardware + managed gross profit, minus specialist pay and commissions"),
)
"""Fan charts: series column, file name, title, subtitle."""


def plot_fan(comp: Comparison, column: str, title: str, subtitle: str, path: Path) -> Path:
    """Median and 10-90 % band of one series column over time, one colour per strategy."""
    assert comp.series is not None
    fig = new_figure(8.0, 3.9)
    ax = fig.add_subplot()
    q = comp.series.groupby(["strategy", "day"])[column].quantile([0.1, 0.5, 0.9]).unstack()
    for s in comp.strategies:
        d = q.loc[s]
        x = d.index.to_numpy() / DAYS_PER_MONTH
        c = color_of(s, comp.strategies)
        ax.fill_between(x, d[0.1], d[0.9], color=c, alpha=0.18, lw=0)
        ax.plot(x, d[0.5], color=c, lw=2.2, label=f"{s} (median)")
    _month_axis(ax, float(comp.series.day.max()))
    if column != "hardware_accounts":
        ax.yaxis.set_major_formatter(FuncFormatter(dollars))
    ax.set_title(f"{title}\n", loc="left", fontsize=12, fontweight="bold")
    ax.text(0, 1.02, f"{subtitle}; line = median run, band = 10-90 % of runs "
            f"({comp.replicates} per strategy)", transform=ax.transAxes, fontsize=8.5,
            color="0.35")
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
    ax.set_yticks(y, rows.index)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    if "overlay" in comp.strategies:
        ax.axvline(0.2, color="0.4", ls=":", lw=1.2)
        ax.text(0.205, y.max() + 0.45, "author's guess for overlay: 2 in 10 succeed",
                fontsize=8, color="0.35", va="center")
    ax.set_title("How often the launch succeeds (with 95 % interval)", loc="left",
                 fontsize=12, fontweight="bold")
    ax.set_xlabel(f"share of {comp.replicates} simulated launches that succeed")
    ax.set_ylim(-0.6, len(rows) - 0.2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _save(fig, path)


def plot_survival(comp: Comparison, path: Path) -> Path:
    """Kaplan-Meier survival of the first specialist in the seat, censored at the horizon."""
    fig = new_figure(8.0, 3.9)
    ax = fig.add_subplot()
    curves = survival_curves(comp)
    for s, km in curves.items():
        c = color_of(s, comp.strategies)
        x = km.time.to_numpy() / DAYS_PER_MONTH
        ax.step(x, km.survival, where="post", color=c, lw=2.2, label=s)
        ax.fill_between(x, km.low, km.high, step="post", color=c, alpha=0.15, lw=0)
    horizon = comp.params(comp.strategies[0]).horizon_days
    _month_axis(ax, horizon)
    p = comp.params(comp.strategies[0])
    ax.axvline(p.first_milestone_day / DAYS_PER_MONTH, color="0.5", ls="--", lw=1)
    ax.text(p.first_milestone_day / DAYS_PER_MONTH + 0.3, 0.5,
            f"first quota review\n({comp.strategies[0]})", fontsize=8, color="0.35")
    ax.set_ylim(0, 1.03)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("still in the seat")
    ax.set_title("How long the first specialist stays\n", loc="left", fontsize=12,
                 fontweight="bold")
    ax.text(0, 1.02, "Kaplan-Meier estimate with 95 % band; specialists still there at the end "
            "are censored", transform=ax.transAxes, fontsize=8.5, color="0.35")
    if curves:
        ax.legend(loc="upper right", frameon=False, fontsize=9)
    return _save(fig, path)


def plot_wall(comp: Comparison, path: Path) -> Path:
    """The reps' mean wall over time: median and 10-90 % band, with the reaction levels."""
    assert comp.series is not None
    fig = new_figure(8.0, 3.9)
    ax = fig.add_subplot()
    q = comp.series.groupby(["strategy", "day"])["wall_mean"].quantile([0.1, 0.5, 0.9]).unstack()
    for s in comp.strategies:
        d = q.loc[s]
        x = d.index.to_numpy() / DAYS_PER_MONTH
        c = color_of(s, comp.strategies)
        ax.fill_between(x, d[0.1], d[0.9], color=c, alpha=0.18, lw=0)
        ax.plot(x, d[0.5], color=c, lw=2.2, label=s)
    p = comp.params(comp.strategies[0])
    for level, text in ((p.complaint_level, "a rep complains to the manager"),
                        (p.wall_block_level, "a rep walls off his accounts")):
        ax.axhline(level, color="0.45", ls=":", lw=1)
        ax.text(0.3, level + 0.012, text, fontsize=8, color="0.35")
    _month_axis(ax, float(comp.series.day.max()))
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean wall (0 open, 1 shut)")
    ax.set_title("The wall: how hard the reps guard their accounts\n", loc="left", fontsize=12,
                 fontweight="bold")
    ax.text(0, 1.02, "mean over the reps; line = median run, band = 10-90 % of runs",
            transform=ax.transAxes, fontsize=8.5, color="0.35")
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    return _save(fig, path)


FUNNEL = ("dials", "conversations", "first_appointments", "proposals", "deals")


def plot_funnel(comp: Comparison, path: Path) -> Path:
    """The specialist's funnel, mean per run and stage (log scale), one bar per strategy."""
    fig = new_figure(8.0, 4.0)
    ax = fig.add_subplot()
    n = len(comp.strategies)
    width = 0.8 / n
    x = np.arange(len(FUNNEL))
    top = 1.0
    for k, s in enumerate(comp.strategies):
        arm = comp.arm(s)
        means = np.array([arm[f].astype(float).mean() for f in FUNNEL])
        pos = x - 0.4 + width * (k + 0.5)
        c = color_of(s, comp.strategies)
        ax.bar(pos, np.maximum(means, 0.1), width=width * 0.92, color=c, alpha=0.85, label=s)
        for xi, m in zip(pos, means, strict=True):
            ax.text(xi, max(m, 0.1) * 1.12, f"{m:,.0f}" if m >= 10 else f"{m:.1f}",
                    ha="center", va="bottom", fontsize=7.5, rotation=90 if n > 3 else 0)
        top = max(top, float(means.max()))
    ax.set_yscale("log")
    ax.set_ylim(0.1, top * (12 if n > 3 else 4))
    ax.set_xticks(x, ["dials", "conversations", "first\nappointments", "proposals", "deals"])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.set_ylabel("per run (log scale)")
    ax.set_title("The specialist's funnel over the whole run\n", loc="left", fontsize=12,
                 fontweight="bold")
    ax.text(0, 1.02, "mean per simulated dealership; deals include those closed by reps "
            "where reps sell", transform=ax.transAxes, fontsize=8.5, color="0.35")
    ax.legend(loc="upper right", frameon=False, fontsize=9, ncols=min(n, 4))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _save(fig, path)


def compare_charts(comp: Comparison, out: Path) -> dict[str, Path]:
    """Draw every compare chart into ``out``; return their paths by name."""
    charts: dict[str, Path] = {"success": plot_success(comp, out / "launch_success.png")}
    if comp.series is not None:
        for column, name, title, sub in FANS:
            charts[column] = plot_fan(comp, column, title, sub, out / name)
    charts["survival"] = plot_survival(comp, out / "specialist_survival.png")
    if comp.series is not None:
        charts["wall"] = plot_wall(comp, out / "wall.png")
    charts["funnel"] = plot_funnel(comp, out / "funnel.png")
    return charts


# ====================================================================== HTML helpers
CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222;
max-width:1000px;margin:24px auto;padding:0 20px;line-height:1.45}
h1{font-size:26px;margin-bottom:4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;
margin-top:34px}h3{margin-bottom:6px}.sub{color:#666;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{flex:1 1 200px;border:1px solid #ddd;border-left:6px solid #999;border-radius:6px;
padding:10px 14px;background:#fafafa}.card .big{font-size:30px;font-weight:700}
.card .small{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}
td.l,th.l{text-align:left}.ci{color:#777;font-size:11px}
img{max-width:100%;display:block;margin:10px 0 2px}.cap{color:#555;font-size:13px;
margin:0 0 18px}.story td{text-align:left}.story td:first-child{text-align:right;color:#777}
code,pre{background:#f4f4f4;border-radius:4px;padding:1px 4px;font-size:13px}
pre{padding:8px;white-space:pre-wrap}ul.bottom li{margin-bottom:6px}
details summary{cursor:pointer;color:#1a5276}.note{color:#666;font-size:13px}
@media print{body{max-width:none}h2{page-break-before:auto}img{page-break-inside:avoid}}
"""


def esc(text: Any) -> str:
    """HTML-escape a value."""
    return html.escape(str(text))


def img(path: Path, alt: str) -> str:
    """An ``<img>`` tag with the PNG embedded as base64."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML page."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n{body}\n"
            f"</body></html>\n")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _first_sentence(text: str) -> str:
    return text.split("\n\n")[0].replace("\n", " ")


# ====================================================================== compare report
def _ci(key: str, lo: float, hi: float, diff: bool = False) -> str:
    return f"{fmt_kpi(key, lo, diff=diff)} to {fmt_kpi(key, hi, diff=diff)}"


def bottom_line(comp: Comparison) -> list[str]:
    """Plain-language findings (HTML fragments) for a dealer principal."""
    summ = comp.summary().set_index(["strategy", "kpi"])
    ref = comp.strategies[0]
    p = comp.params(ref)
    out = []
    for s in comp.strategies:
        r = summ.loc[(s, "launch_succeeded")]
        out.append(f"<b>{esc(s)}</b>: <b>{r.estimate:.0%}</b> of launches succeed "
                   f"(95 % interval {r.ci_low:.0%} to {r.ci_high:.0%}); it ends with "
                   f"{fmt_kpi('managed_mrr', summ.loc[(s, 'managed_mrr')].estimate)} a month "
                   f"of managed revenue on average.")
    for s in comp.strategies[1:]:
        r = summ.loc[(s, "launch_succeeded")]
        m = summ.loc[(s, "managed_mrr")]
        g = summ.loc[(s, "gross_profit")]
        h = summ.loc[(s, "hardware_accounts_end")]
        out.append(
            f"On the same simulated markets, <b>{esc(s)}</b> instead of {esc(ref)} changes the "
            f"success rate by <b>{fmt_kpi('launch_succeeded', r['diff'], diff=True)}</b> "
            f"({_ci('launch_succeeded', r.diff_ci_low, r.diff_ci_high, True)}), managed revenue "
            f"at the end by <b>{fmt_kpi('managed_mrr', m['diff'], diff=True)} a month</b>, the "
            f"hardware accounts kept by {fmt_kpi('hardware_accounts_end', h['diff'], diff=True)},"
            f" and gross profit over {p.years:g} years, after paying the specialist and the "
            f"commissions, by <b>{fmt_kpi('gross_profit', g['diff'], diff=True)}</b> "
            f"({_ci('gross_profit', g.diff_ci_low, g.diff_ci_high, True)}).")
    for s, km in survival_curves(comp).items():
        med = km_median(km)
        one = km_at(km, 365)
        when = (f"half of them are gone by month {med / DAYS_PER_MONTH:.0f}" if med is not None
                else "more than half are still in the seat at the end")
        out.append(f"<b>{esc(s)}</b>: {one:.0%} of first specialists are still in the seat "
                   f"after a year; {when}.")
    if "overlay" in comp.strategies:
        r = summ.loc[("overlay", "launch_succeeded")]
        out.append(f"Calibration: the article's author guesses that 8 in 10 dealerships have "
                   f"these problems (an opinion, not a survey). The model's overlay launch "
                   f"fails in {1 - r.estimate:.0%} of runs.")
    return out


def _summary_table(comp: Comparison, keys: Sequence[str]) -> str:
    summ = comp.summary().set_index(["strategy", "kpi"])
    ref = comp.strategies[0]
    head = "".join(f"<th>{esc(s)}</th>" for s in comp.strategies)
    head += "".join(f"<th>{esc(s)} &minus; {esc(ref)}</th>" for s in comp.strategies[1:])
    rows = []
    for k in keys:
        cells = []
        for s in comp.strategies:
            r = summ.loc[(s, k)]
            cells.append(f"<td>{fmt_kpi(k, r.estimate)}<br><span class=ci>"
                         f"{_ci(k, r.ci_low, r.ci_high)}</span></td>")
        for s in comp.strategies[1:]:
            r = summ.loc[(s, k)]
            cells.append(f"<td>{fmt_kpi(k, r['diff'], diff=True)}<br><span class=ci>"
                         f"{_ci(k, r.diff_ci_low, r.diff_ci_high, True)}</span></td>")
        kind = " (share of runs)" if k in RATE_KPIS else ""
        rows.append(f"<tr><td>{esc(kpi_label(k))}{kind}</td>{''.join(cells)}</tr>")
    return (f"<table><tr><th>per simulated dealership</th>{head}</tr>{''.join(rows)}"
            f"</table>")


def _assumptions(comp: Comparison) -> str:
    params = {s: comp.params(s).to_dict() for s in comp.strategies}
    first = params[comp.strategies[0]]
    differ = [k for k in first if len({repr(params[s][k]) for s in comp.strategies}) > 1]
    parts = []
    if differ:
        head = "".join(f"<th>{esc(s)}</th>" for s in comp.strategies)
        rows = "".join(
            f"<tr><td class=l>{esc(spec(k).label)} <code>{esc(k)}</code><br>"
            f"<span class=ci>{esc(spec(k).help)} Source: {esc(spec(k).source)}</span></td>"
            + "".join(f"<td>{esc(_value(params[s][k]))}</td>" for s in comp.strategies)
            + "</tr>"
            for k in differ)
        parts.append(f"<table><tr><th class=l>parameter</th>{head}</tr>{rows}</table>")
    else:
        parts.append("<p>The strategies share every parameter.</p>")
    if comp.overrides:
        items = ", ".join(f"<code>{esc(k)}={esc(_value(v))}</code>"
                          for k, v in sorted(comp.overrides.items()))
        parts.append(f"<p>Applied to every strategy (<code>--set</code>/<code>--years</code>): "
                     f"{items}.</p>")
    parts.append("<p class=note>Every other parameter is at its default "
                 "(<code>dealersim params</code> lists them with their sources; most are "
                 "estimates, grade U).</p>")
    for s in comp.strategies:
        parts.append(f"<p><b>{esc(s)}</b>: {esc(_first_sentence(strategy_doc(s)))}</p>")
    return "\n".join(parts)


def _story(comp: Comparison, strategy: str) -> str:
    from dealersim.model.results import simulate
    from dealersim.studies.compare import representative

    row = representative(comp, strategy)
    result = simulate(strategy, seed=int(row.seed), params=comp.params(strategy))
    ev = result.events
    deals = ev[ev.kind == "deal"]
    shown = ev[ev.kind != "deal"]
    s = result.summary
    verdict = "succeeded" if s["launch_succeeded"] else "failed"
    lines = "".join(f"<tr><td>day {int(d)}</td><td>{esc(a)}</td><td>{esc(t)}</td></tr>"
                    for d, a, t in zip(shown.day, shown.actor, shown.text, strict=True))
    more = (f"<p class=note>Plus {len(deals)} further managed deals (not listed one by one)."
            f"</p>" if len(deals) else "")
    return (f"<h3>{esc(strategy)}: replicate {int(row.replicate)}, seed {int(row.seed)}</h3>"
            f"<p>The launch {verdict}: {s['specialists_hired']} specialist(s) hired, "
            f"{s['deals']} managed deals, {fmt_kpi('managed_mrr', s['managed_mrr'])} a month "
            f"of managed revenue at the end, "
            f"{fmt_kpi('gross_profit', s['gross_profit'])} gross profit over the run.</p>"
            f"<details open><summary>what happened</summary><table class=story>{lines}"
            f"</table>{more}</details>")


CAPTIONS = {
    "success": "A launch succeeds when the program books its year-one target of monthly "
    "managed revenue within 12 months, with a specialist still in the seat at month 12 and "
    "the program not abandoned. Bars: share of runs; whiskers: Wilson 95 % interval.",
    "managed_mrr": "Monthly managed revenue from live contracts. A failed launch stays near "
    "zero; a working one compounds as contracts go live.",
    "hardware_accounts": "Managed contracts are sticky: accounts under contract rarely leave at "
    "lease end, so a working program slows the hardware base's erosion.",
    "cumulative_gross_profit": "All gross profit since the launch, minus the specialist's pay "
    "and the commissions and credits the program costs.",
    "survival": "Share of first specialists still in the seat, month by month. A drop around "
    "the first quota review means the quota and the salary cut drive them out.",
    "wall": "How hard the hardware reps guard their accounts (0: open, 1: shut). Above the "
    "upper line a rep refuses all calls into his book: the specialist is left with cold calls.",
    "funnel": "Activity per simulated dealership over the whole run. Warm access (intros, our "
    "own customers) converts far better than cold calls.",
}


def compare_report(comp: Comparison, out: Path, *, stories: bool = True) -> Path:
    """Draw the charts and write ``report.html`` into ``out``."""
    charts = compare_charts(comp, out)
    ref = comp.strategies[0]
    p = comp.params(ref)
    cards = []
    summ = comp.summary().set_index(["strategy", "kpi"])
    for s in comp.strategies:
        r = summ.loc[(s, "launch_succeeded")]
        c = color_of(s, comp.strategies)
        cards.append(f'<div class=card style="border-left-color:{c}"><div class=small>'
                     f'{esc(s)}: launches that succeed</div><div class=big>{r.estimate:.0%}'
                     f'</div><div class=small>95 % interval {r.ci_low:.0%} to {r.ci_high:.0%}'
                     f' ({comp.replicates} runs)</div></div>')
    body = [
        f"<h1>Launching managed services: {' vs '.join(esc(s) for s in comp.strategies)}</h1>",
        f"<p class=sub>{comp.replicates} simulated dealerships per strategy, each run for "
        f"{p.years:g} years; every strategy faces the same {comp.replicates} markets, teams "
        f"and hires (paired comparison).</p>",
        f"<div class=cards>{''.join(cards)}</div>",
        "<h2>The bottom line</h2><ul class=bottom>"
        + "".join(f"<li>{t}</li>" for t in bottom_line(comp)) + "</ul>",
        f"<p class=note>A launch succeeds when the program books at least "
        f"${p.launch_target_mrr:,.0f} of new monthly managed revenue in its first 12 months, "
        f"with the first specialist still in the seat at month 12 and the program not "
        f"abandoned. "
        f"Intervals are 95 %: Wilson for shares, Student-t for averages and for paired "
        f"differences (each replicate's difference between two strategies on the same seed)."
        f"</p>",
        "<h2>Key numbers</h2>",
        _summary_table(comp, KEY_KPIS),
        "<details><summary>every KPI</summary>"
        + _summary_table(comp, [k for k in SUMMARY_KEYS if k not in KEY_KPIS]) + "</details>",
        "<h2>Charts</h2>",
    ]
    titles = {"success": "Launch success", "managed_mrr": "Managed revenue",
              "hardware_accounts": "Hardware base", "cumulative_gross_profit": "Gross profit",
              "survival": "The specialist's tenure", "wall": "The reps' wall",
              "funnel": "The specialist's funnel"}
    for name, path in charts.items():
        body.append(img(path, titles[name]))
        body.append(f"<p class=cap>{esc(CAPTIONS[name])}</p>")
    if stories:
        body.append("<h2>One typical run of each strategy, told as a story</h2>"
                    "<p class=note>For each strategy, the run with the more common outcome "
                    "whose final managed revenue is closest to the median.</p>")
        body += [_story(comp, s) for s in comp.strategies]
    body.append("<h2>Assumptions: what differs between the strategies</h2>")
    body.append(_assumptions(comp))
    series_note = (f"<code>timeseries.parquet</code>: every run's series (one row per run and "
                   f"recorded day: every {comp.series_stride} days and the last day), not "
                   f"quantiles." if comp.series is not None else
                   "No time series were recorded.")
    body.append(
        "<h2>How to reproduce</h2>"
        f"<pre>{esc(comp.command)}</pre>"
        f"<p>dealersim version <b>{esc(comp.version)}</b>; master seed <b>{comp.seed}</b>; "
        f"replicate <i>i</i> uses seed <code>seed_for({comp.seed}, i)</code> "
        f"(<code>numpy.random.SeedSequence({comp.seed}, spawn_key=(i,))</code>) in every "
        f"strategy. Results do not depend on the number of workers.</p>"
        f"<p class=note>Files: <code>runs.parquet</code> (one row per run, every KPI), "
        f"{series_note} <code>summary.csv</code> (estimates, intervals, paired differences "
        f"against {esc(ref)}), the charts as PNG, and this report.</p>")
    text = page(f"dealersim compare: {' vs '.join(comp.strategies)}", "\n".join(body))
    path = out / "report.html"
    path.write_text(text, encoding="utf-8")
    return path


# ====================================================================== blame report
def plot_blame(b: Blame, path: Path) -> Path:
    """Success rate per cell of the blame factorial, with Wilson 95 % intervals."""
    cells = b.cells
    fig = new_figure(9.0, 4.2)
    axes = fig.subplots(1, 2, sharey=True)
    skills = list(dict.fromkeys(cells.skill))
    managers = list(dict.fromkeys(cells.manager))
    markers = {managers[0]: "o", managers[-1]: "s"}
    for ax, owner in zip(axes, list(dict.fromkeys(cells.owner)), strict=True):
        for mgr in managers:
            d = cells[(cells.owner == owner) & (cells.manager == mgr)].set_index("skill").loc[
                skills]
            x = np.arange(len(skills)) + (0.06 if mgr == managers[-1] else -0.06)
            c = "#1e8449" if mgr == managers[-1] else "#c0392b"
            ax.errorbar(x, d.rate, yerr=_err(d.rate, d.ci_low, d.ci_high), color=c,
                        marker=markers[mgr], lw=1.8, capsize=4, label=f"manager {mgr}")
        ax.set_xticks(np.arange(len(skills)), [f"{s}\nskill" for s in skills])
        ax.set_title(f"owner preparation: {owner}", fontsize=11)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(axis="y", color="0.92")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel("launches that succeed")
    axes[0].legend(loc="upper left", frameon=False, fontsize=9)
    fig.suptitle(f"Whose fault is it? Success rate per combination ({b.replicates} runs each, "
                 f"95 % intervals)", fontsize=12, fontweight="bold", x=0.02, ha="left")
    return _save(fig, path)


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
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _save(fig, path)


def blame_report(b: Blame, out: Path) -> Path:
    """Draw the blame charts and write ``report.html`` into ``out``."""
    cell_png = plot_blame(b, out / "blame_cells.png")
    eff_png = plot_effects(b, out / "blame_effects.png")
    rows = "".join(
        f"<tr><td class=l>{esc(r.skill)}</td><td class=l>{esc(r.manager)}</td>"
        f"<td class=l>{esc(r.owner)}</td><td>{r.rate:.0%}<br><span class=ci>"
        f"{r.ci_low:.0%} to {r.ci_high:.0%}</span></td><td>{fmt_kpi('managed_mrr', r.managed_mrr)}"
        f"</td><td>{r.tenure_1y:.0%}</td></tr>"
        for r in b.cells.itertuples())
    eff_rows = "".join(
        f"<tr><td class=l>{esc(r.label)}</td><td>{r.effect * 100:+.1f} pts</td>"
        f"<td>{r.ci_low * 100:+.1f} to {r.ci_high * 100:+.1f}</td></tr>"
        for r in b.effects.itertuples())
    logit = b.logit.table() if b.logit is not None else None
    logit_html = ""
    if logit is not None:
        logit_html = (
            "<details><summary>logistic regression (main effects, log-odds)</summary><table>"
            "<tr><th class=l>term</th><th>coefficient</th><th>95 % interval</th>"
            "<th>odds ratio</th></tr>" + "".join(
                f"<tr><td class=l>{esc(r.term)}</td><td>{r.coef:+.2f}</td>"
                f"<td>{r.ci_low:+.2f} to {r.ci_high:+.2f}</td><td>{r.odds_ratio:.3g}</td></tr>"
                for r in logit.itertuples())
            + "</table><p class=note>Fitted by IRLS with a tiny ridge penalty (1e-3) so that a "
            "factor level with no successes gives a large but finite coefficient.</p>"
            "</details>")
    levels = "".join(f"<li><b>{esc(f)}</b>: {esc(t)}</li>" for f, t in b.level_text().items())
    body = [
        "<h1>Whose fault is it?</h1>",
        f"<p class=sub>The article's closing question as a designed experiment: specialist "
        f"skill &times; sales manager style &times; owner preparation, {len(b.cells)} "
        f"combinations, {b.replicates} simulated dealerships each, starting from the story's "
        f"overlay launch. Every combination faces the same {b.replicates} markets (paired).</p>",
        "<h2>The answer</h2><ul class=bottom>"
        + "".join(f"<li>{esc(t)}</li>" for t in b.sentences()) + "</ul>",
        img(eff_png, "effects"),
        "<p class=cap>Main effect: the change in the success rate from the factor, averaged "
        "over the levels of the other two. Interaction: how much the effect of one factor "
        "depends on the other. Intervals: Student-t over the paired per-replicate contrasts.</p>",
        img(cell_png, "cells"),
        "<h2>Success rate per combination</h2><table><tr><th class=l>specialist skill</th>"
        "<th class=l>manager</th><th class=l>owner preparation</th><th>launch succeeded</th>"
        "<th>managed revenue a month at the end</th><th>first specialist still there after a "
        f"year</th></tr>{rows}</table>",
        "<h2>Effects</h2><table><tr><th class=l>effect on the success rate</th>"
        f"<th>estimate</th><th>95 % interval</th></tr>{eff_rows}</table>",
        logit_html,
        f"<h2>The factors</h2><ul>{levels}</ul>",
        "<h2>How to reproduce</h2>"
        f"<pre>{esc(b.command)}</pre><p>dealersim version <b>{esc(b.version)}</b>; master "
        f"seed <b>{b.seed}</b>; replicate <i>i</i> uses seed <code>seed_for({b.seed}, i)</code>"
        " in every combination.</p><p class=note>Files: <code>runs.parquet</code> (one row "
        "per run), <code>cells.csv</code>, <code>effects.csv</code>, "
        "<code>logit.csv</code>, the charts and this report.</p>",
    ]
    path = out / "report.html"
    path.write_text(page("dealersim blame: whose fault is it?", "\n".join(body)),
                    encoding="utf-8")
    return path


def write_compare(comp: Comparison, out: str | Path, *, force: bool = False,
                  stories: bool = True) -> Path:
    """Write runs, series, summary, charts and the HTML report into ``out`` (atomically).

    Args:
        comp: The comparison.
        out: Output directory (must not exist, or be empty, unless ``force``).
        force: Replace a non-empty ``out``.
        stories: Re-run one representative run per strategy for its story in the report.

    Returns:
        The output directory.
    """
    with atomic_dir(out, force=force) as tmp:
        comp.runs.to_parquet(tmp / "runs.parquet", index=False)
        if comp.series is not None:
            comp.series.to_parquet(tmp / "timeseries.parquet", index=False)
        comp.summary().to_csv(tmp / "summary.csv", index=False, float_format="%.6g")
        compare_report(comp, tmp, stories=stories)
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


