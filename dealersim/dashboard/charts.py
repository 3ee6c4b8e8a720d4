"""Dashboard charts as ECharts options: data sent to the browser, which draws them.

Every function returns a plain JSON-able ``dict`` for Solara's ``FigureEcharts``. Time runs in
months since the launch (as in the report), sampled weekly. Every chart takes ``upto`` (a
replay day): data after that day is hidden while the axes keep the whole run's limits, so
replay frames do not jump. Labels come from the KPI registry and ``Params`` metadata; event
marks from ``outputs.plots.EVENT_STYLES`` (with a legend).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from dealersim.dashboard.state import cash_curve, months_done
from dealersim.model import kpis
from dealersim.model.clock import DAYS_PER_MONTH
from dealersim.model.market import OPEN_TERRITORY
from dealersim.model.params import spec
from dealersim.outputs.plots import EVENT_STYLES

SAMPLE_DAYS = 7
"""Chart points are weekly (plus the last day and the replay day)."""

HOLDER_COLOURS = {"managed": "#2e9e4f", "us": "#3274b5", "competitor": "#d9614c"}
"""The account map's colours: managed contracts green, our hardware blue, competitors red."""
HOLDER_NAMES = {"managed": "managed contract", "us": "our hardware account",
                "competitor": "competitor-held"}
FUNNEL_NOTE = "Reps' introductions skip the call, so meetings can outnumber conversations."
RUN_COLOURS = ("#3274b5", "#9a9a9a")
"""Lines of the current settings and of the baseline in comparisons."""

_DASH = {"-": "solid", "--": "dashed", ":": "dotted"}


def months(days: Any) -> list[float]:
    """Days since the launch as months, rounded for the page."""
    return np.round(np.asarray(days, dtype=float) / DAYS_PER_MONTH, 2).tolist()


def _rows(n_days: int, upto: int | None) -> np.ndarray:
    """The sampled day indices up to ``upto`` (weekly, with the last one included)."""
    last = n_days - 1 if upto is None else min(max(int(upto), 0), n_days - 1)
    rows = np.arange(0, last + 1, SAMPLE_DAYS)
    return rows if rows[-1] == last else np.append(rows, last)


def _points(x: list[float], y: Any) -> list[list[float]]:
    return [[a, b] for a, b in zip(x, np.asarray(y, dtype=float).round(2).tolist(), strict=True)]


def _base(title: str, subtitle: str = "") -> dict[str, Any]:
    return {
        "animation": False,
        "title": {"text": title, "subtext": subtitle, "left": 4, "top": 0,
                  "textStyle": {"fontSize": 13, "width": 380, "overflow": "truncate"},
                  "subtextStyle": {"fontSize": 11, "width": 340, "overflow": "break",
                                   "lineHeight": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "bottom": 0, "textStyle": {"fontSize": 11}},
        "grid": {"left": 8, "right": 8, "top": 74 if subtitle else 44, "bottom": 52,
                 "containLabel": True},
    }


def _month_axis(horizon: int) -> dict[str, Any]:
    top = horizon / DAYS_PER_MONTH
    return {"type": "value", "min": 0, "max": round(top) if abs(top - round(top)) < 0.1
            else round(top, 1), "name": "months since the launch", "nameLocation": "middle",
            "nameGap": 20, "interval": 6 if top > 12 else 3,
            "splitLine": {"show": False}, "nameTextStyle": {"fontSize": 10},
            "axisLabel": {"fontSize": 10}}


def _value_axis(name: str, top: float, money_axis: bool = False, **extra: Any) -> dict[str, Any]:
    axis = {"type": "value", "name": name, "min": 0, "max": float(top),
            "nameTextStyle": {"fontSize": 10, "align": "left"},
            "axisLabel": {"fontSize": 10, **({"formatter": "${value}"} if money_axis else {})},
            "splitLine": {"lineStyle": {"color": "#eee"}}}
    axis.update(extra)
    return axis


def _nice(top: float, floor: float) -> float:
    """A round axis top above ``top`` (at least ``floor``): 1, 1.5, 2, 3, ... 10 x 10^k."""
    top = max(float(top), floor) * 1.15
    step = 10 ** np.floor(np.log10(top))
    step = step / 2 if top / step < 2 else step
    return float(np.ceil(top / step) * step)


def _floor(low: float) -> float:
    """A round axis bottom below ``low`` (0 for small values)."""
    if low <= 0:
        return 0.0
    step = 10 ** np.floor(np.log10(low)) / 2
    return float(np.floor(low / step) * step)


def event_series(result: Any, upto: int | None) -> list[dict[str, Any]]:
    """One empty series per kind of event that happened, carrying its vertical marks.

    The series' names put the events in the legend (colour and line as drawn).
    """
    ev = result.events
    out = []
    for kind, style in EVENT_STYLES.items():
        days = ev["day"][ev["kind"] == kind].to_numpy()
        if upto is not None:
            days = days[days <= upto]
        if not len(days):
            continue
        colour = to_hex(style["color"])
        line = {"color": colour, "width": 1.2,
                "type": _DASH.get(style["ls"], "dashed") if isinstance(style["ls"], str)
                else "dashed"}
        out.append({"name": style["label"], "type": "line", "data": [], "color": colour,
                    "lineStyle": line, "markLine": {
                        "symbol": "none", "silent": True, "label": {"show": False},
                        "lineStyle": line, "data": [{"xAxis": m} for m in months(days)]}})
    return out


def _today(upto: int | None, horizon: int) -> dict[str, Any]:
    """A 'today' mark for the replay (added to a chart's first series)."""
    if upto is None or upto >= horizon:
        return {}
    return {"markLine": {"symbol": "none", "silent": True,
                         "label": {"formatter": f"day {upto}", "fontSize": 10},
                         "lineStyle": {"color": "#222", "width": 1.5, "type": "solid"},
                         "data": [{"xAxis": months([upto])[0]}]}}


def mrr_chart(result: Any, upto: int | None = None) -> dict[str, Any]:
    """Managed revenue a month (left axis) and hardware accounts held (right axis)."""
    ts = result.timeseries
    horizon = len(ts) - 1
    rows = _rows(len(ts), upto)
    x = months(ts["day"].to_numpy()[rows])
    mrr, hw = kpis.column("managed_mrr"), kpis.column("hardware_accounts")
    hw_all = ts["hardware_accounts"].to_numpy(float)
    opt = _base(f"{mrr.label} and accounts held")
    opt["xAxis"] = _month_axis(horizon)
    opt["yAxis"] = [
        _value_axis("$ a month", _nice(ts["booked_mrr"].max(), 1000), money_axis=True),
        _value_axis("accounts", _nice(hw_all.max(), 10), min=_floor(hw_all.min() * 0.9),
                    splitLine={"show": False}),
    ]
    opt["series"] = [
        {"name": mrr.label, "type": "line", "showSymbol": False, "color": HOLDER_COLOURS["managed"],
         "data": _points(x, ts["managed_mrr"].to_numpy()[rows]), **_today(upto, horizon)},
        {"name": f"{hw.label} (right)", "type": "line", "showSymbol": False, "yAxisIndex": 1,
         "color": HOLDER_COLOURS["us"], "data": _points(x, hw_all[rows])},
        *event_series(result, upto),
    ]
    return opt


def funnel_counts(result: Any, upto: int | None = None) -> list[tuple[str, int]]:
    """The specialist's funnel to date (the whole run when ``upto`` is ``None``)."""
    ts = result.timeseries
    row = ts.iloc[-1] if upto is None else ts.iloc[min(max(int(upto), 0), len(ts) - 1)]
    out = []
    for name in kpis.FUNNEL_KPIS:
        col = name if name in ts.columns else f"{name}_total"
        out.append((kpis.kpi(name).short_label, int(row[col])))
    return out


def funnel_chart(result: Any, upto: int | None = None) -> dict[str, Any]:
    """The specialist's funnel to date: dials down to deals, on a plain (linear) scale."""
    now, end = funnel_counts(result, upto), funnel_counts(result)
    opt = _base("Specialist's funnel to date" if upto is not None else
                "Specialist's funnel (whole run)", FUNNEL_NOTE)
    opt["tooltip"] = {"trigger": "item"}
    opt["legend"] = {"show": False}
    opt["grid"]["right"] = 48
    opt["xAxis"] = _value_axis("", _nice(max(c for _, c in end), 10))
    opt["yAxis"] = {"type": "category", "inverse": True, "data": [n for n, _ in now],
                    "axisLabel": {"fontSize": 11}}
    shades = ("#9ecae1", "#6baed6", "#4292c6", "#2171b5", HOLDER_COLOURS["managed"])
    opt["series"] = [{"type": "bar", "name": "to date", "label": {
        "show": True, "position": "right", "fontSize": 11},
        "data": [{"value": c, "itemStyle": {"color": shades[i % len(shades)]}}
                 for i, (_, c) in enumerate(now)]}]
    return opt


def walls_chart(result: Any, upto: int | None = None) -> dict[str, Any]:
    """Each rep's wall over time, with the complaint and wall-off levels."""
    walls = np.asarray(result.walls, dtype=float)
    rows = _rows(walls.shape[0], upto)
    x = months(rows)
    p = result.params
    wall = kpis.column("wall_mean")
    opt = _base("Wall per rep", wall.unit)
    opt["xAxis"] = _month_axis(walls.shape[0] - 1)
    opt["yAxis"] = _value_axis("wall", 1.0, max=1.0)
    levels = {"symbol": "none", "silent": True, "label": {"show": False}, "data": [
        {"yAxis": p.complaint_level, "name": spec("complaint_level").label,
         "lineStyle": {"color": "#f28e2b", "type": "dotted"}},
        {"yAxis": p.wall_block_level, "name": spec("wall_block_level").label,
         "lineStyle": {"color": "#c0392b", "type": "dashed"}}]}
    series = [{"name": f"rep {r + 1}", "type": "line", "showSymbol": False,
               "lineStyle": {"width": 1.2}, "data": _points(x, walls[rows, r])}
              for r in range(walls.shape[1])]
    if series:
        series[0] |= {"markLine": levels}
        if (today := _today(upto, walls.shape[0] - 1)):
            series[-1] |= today
    opt["series"] = series + [
        {"name": spec(n).label, "type": "line", "data": [], "color": c,
         "lineStyle": {"type": t, "color": c}}
        for n, c, t in (("complaint_level", "#f28e2b", "dotted"),
                        ("wall_block_level", "#c0392b", "dashed"))]
    return opt


def pay_chart(result: Any, upto: int | None = None) -> dict[str, Any]:
    """The specialist's salary (left) against the quota to date and what he booked (right)."""
    ts = result.timeseries
    horizon = len(ts) - 1
    rows = _rows(len(ts), upto)
    x = months(ts["day"].to_numpy()[rows])
    salary, quota, booked = (kpis.column(n) for n in
                             ("specialist_salary", "quota_target", "specialist_booked_mrr"))
    top = np.nanmax(np.fmax(ts["quota_target"].to_numpy(float),
                            ts["specialist_booked_mrr"].to_numpy(float)))
    opt = _base(f"{salary.label} vs quota")
    opt["xAxis"] = _month_axis(horizon)
    opt["yAxis"] = [
        _value_axis("$ a year", _nice(ts["specialist_salary"].max(), 10000), money_axis=True),
        _value_axis("$ a month", _nice(top, 1000), money_axis=True, splitLine={"show": False}),
    ]
    opt["series"] = [
        {"name": salary.label, "type": "line", "step": "end", "showSymbol": False,
         "color": "#2ca02c", "data": _points(x, ts["specialist_salary"].to_numpy()[rows]),
         **_today(upto, horizon)},
        {"name": f"{quota.label} (right)", "type": "line", "showSymbol": False,
         "yAxisIndex": 1, "color": "#9467bd",
         "data": _points(x, ts["quota_target"].to_numpy()[rows])},
        {"name": f"{booked.label} (right)", "type": "line", "showSymbol": False,
         "yAxisIndex": 1, "color": "#1f77b4", "lineStyle": {"type": "dashed"},
         "data": _points(x, ts["specialist_booked_mrr"].to_numpy()[rows])},
    ]
    return opt


def morale_chart(result: Any, upto: int | None = None) -> dict[str, Any]:
    """Each specialist's morale and income gap over time: why he stays or leaves."""
    df = result.specialists
    horizon = len(result.timeseries) - 1
    if df.empty:
        df = pd.DataFrame({"number": [], "day": [], "morale": [], "income_gap": []})
    if upto is not None:
        df = df[df["day"] <= upto]
    opt = _base("Specialist's morale and income gap", "0 to 1")
    opt["xAxis"] = _month_axis(horizon)
    opt["yAxis"] = _value_axis("0 to 1", 1.0, max=1.0)
    colours = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
    opt["series"] = [
        {"name": f"specialist {n}: {what}", "type": "line", "showSymbol": False,
         "color": colours[(n - 1) % len(colours)],
         "lineStyle": {"type": "solid" if column == "morale" else "dashed"},
         "data": _points(months(rows["day"].to_numpy()), rows[column].to_numpy())}
        for n, rows in df.groupby("number")
        for column, what in (("morale", "morale"), ("income_gap", "income gap"))]
    return opt


def account_map_chart(result: Any, replay: Any, upto: int | None = None) -> dict[str, Any]:
    """Every account on the replayed day, by owning rep: managed, our hardware, competitor.

    One stacked bar per rep (and the open territory), labelled with the rep's wall that day.
    """
    i = replay.at(upto)
    counts = replay.counts[i]
    walls = np.asarray(result.walls, dtype=float)
    block = result.params.wall_block_level
    names = []
    for g in replay.groups:
        if g == OPEN_TERRITORY:
            names.append("open territory")
            continue
        w = float(walls[min(i, walls.shape[0] - 1), g])
        names.append(f"rep {g + 1} · wall {w:.2f}" + (" · walled off" if w >= block else ""))
    when = "at the end of the run" if upto is None or i >= len(replay.hired) - 1 else f"on day {i}"
    opt = _base(f"Accounts by rep {when}", f"wall: {kpis.column('wall_mean').unit}")
    opt["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}}
    opt["xAxis"] = _value_axis("accounts", _nice(replay.counts.sum(axis=2).max(), 10))
    opt["yAxis"] = {"type": "category", "inverse": True, "data": names,
                    "axisLabel": {"fontSize": 10}}
    opt["series"] = [
        {"name": HOLDER_NAMES[h], "type": "bar", "stack": "all", "color": HOLDER_COLOURS[h],
         "data": counts[:, j].tolist()} for j, h in enumerate(("managed", "us", "competitor"))]
    return opt


CASH_TITLE = "Cash against doing nothing (J-curve)"


def _thousands(x: Any) -> list[float]:
    return np.round(np.asarray(x, dtype=float) / 1000.0, 1).tolist()


def cash_chart(runs: Sequence[tuple[str, Any]], upto: int | None = None) -> dict[str, Any]:
    """The J-curve: each run's cash against the same dealership without the program, by month.

    One point per month end (month 0 is the launch), in thousands of dollars; the first run's
    payback month and low point are marked once the replay has reached them. The axes hold
    the whole runs, so replay frames do not jump.

    Args:
        runs: ``(title, RunResult)`` pairs; the first is the current settings (solid).
        upto: Replay day; months completed by then are shown.
    """
    curves = [cash_curve(r) for _, r in runs]
    horizon = max(len(r.timeseries) - 1 for _, r in runs)
    low = min(float(np.nanmin(c)) for c in curves)
    top = max(float(np.nanmax(c)) for c in curves)
    opt = _base(CASH_TITLE, "your cash less the same dealership without the program, "
                "added up since the launch")
    opt["xAxis"] = _month_axis(horizon)
    opt["yAxis"] = _value_axis("$ thousand", _nice(top / 1000, 10),
                               min=-_nice(-low / 1000, 10) if low < 0 else 0,
                               axisLabel={"fontSize": 10, "formatter": "{value}k"})
    series = []
    for j, ((title, r), curve) in enumerate(zip(runs, curves, strict=True)):
        m = months_done(r, upto)
        series.append({"name": title, "type": "line", "showSymbol": False,
                       "color": RUN_COLOURS[j % len(RUN_COLOURS)],
                       "lineStyle": {"type": "solid" if j == 0 else "dashed", "width": 2},
                       "data": [[k, v] for k, v in enumerate(_thousands(curve[:m + 1]))]})
    first, r = series[0], runs[0][1]
    marks: list[dict[str, Any]] = [{"yAxis": 0, "lineStyle": {"color": "#888", "type": "solid",
                                                              "width": 1},
                                    "label": {"show": False}}]
    payback, m = r.summary["payback_month"], months_done(r, upto)
    if payback is not None and payback <= m:
        marks.append({"xAxis": payback, "lineStyle": {"color": HOLDER_COLOURS["managed"],
                                                      "type": "dashed", "width": 1.5},
                      "label": {"formatter": f"pays back: month {payback}", "fontSize": 10,
                                "position": "insideEndTop"}})
    if (today := _today(upto, horizon)):
        marks += today["markLine"]["data"]
        marks[-1] = {**marks[-1], "lineStyle": today["markLine"]["lineStyle"],
                     "label": today["markLine"]["label"]}
    first["markLine"] = {"symbol": "none", "silent": True, "data": marks}
    if len(first["data"]) > 1:
        k = int(np.argmin([v for _, v in first["data"]]))
        if first["data"][k][1] < 0:
            first["markPoint"] = {"symbol": "circle", "symbolSize": 8, "data": [
                {"coord": first["data"][k], "itemStyle": {"color": "#b3261e"},
                 "label": {"show": True, "formatter": f"low point: month {k}",
                           "position": "bottom", "fontSize": 10, "color": "#b3261e"}}]}
    opt["series"] = series
    opt["tooltip"] = {"trigger": "axis"}
    return opt


COMPARED = ("managed_mrr", "hardware_accounts", "cumulative_gross_profit")
"""The time series drawn in the comparison view, one chart each."""


def compare_chart(name: str, runs: Sequence[tuple[str, Any]],
                  upto: int | None = None) -> dict[str, Any]:
    """One time series of several runs on one chart (the current settings first, solid)."""
    col = kpis.column(name)
    money_axis = col.kind == "money"
    top = max(float(r.timeseries[name].max()) for _, r in runs)
    low = min(float(r.timeseries[name].min()) for _, r in runs)
    opt = _base(col.label)
    horizon = max(len(r.timeseries) - 1 for _, r in runs)
    opt["xAxis"] = _month_axis(horizon)
    floor = 0 if money_axis or low < top * 0.5 else _floor(low * 0.9)
    opt["yAxis"] = _value_axis(col.unit.replace("US$", "$"), _nice(top, 10), money_axis,
                               min=floor)
    series = []
    for j, (title, r) in enumerate(runs):
        ts = r.timeseries
        rows = _rows(len(ts), upto)
        x = months(ts["day"].to_numpy()[rows])
        series.append({"name": title, "type": "line", "showSymbol": False,
                       "color": RUN_COLOURS[j % len(RUN_COLOURS)],
                       "lineStyle": {"type": "solid" if j == 0 else "dashed", "width": 2},
                       "data": _points(x, ts[name].to_numpy()[rows]),
                       **(_today(upto, horizon) if j == 0 else {})})
    opt["series"] = series
    return opt


def main_charts(result: Any, upto: int | None = None) -> dict[str, dict[str, Any]]:
    """The charts of the main view, by key: the J-curve first, then the launch's five."""
    return {"cash": cash_chart([("your plan", result)], upto), "mrr": mrr_chart(result, upto),
            "funnel": funnel_chart(result, upto), "walls": walls_chart(result, upto),
            "pay": pay_chart(result, upto), "morale": morale_chart(result, upto)}


__all__ = [
    "account_map_chart",
    "cash_chart",
    "compare_chart",
    "event_series",
    "funnel_chart",
    "funnel_counts",
    "main_charts",
    "morale_chart",
    "mrr_chart",
    "pay_chart",
    "walls_chart",
]
