"""Pure logic behind the dashboard: controls, runs with replay snapshots, cards, comparisons.

Nothing here imports Solara, so it is tested and reused (in notebooks) without a page. Every
default, bound, choice, unit and label comes from ``field_specs()``; this module
only decides which widget shows a field. A run is computed once, with the daily snapshots the
replay needs (:class:`Replay`), and cached: replay frames and comparisons never simulate again.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealersim.dashboard.words import is_percent
from dealersim.model import scenario as scenario_io
from dealersim.model.dealership import DealershipModel
from dealersim.model.funnel import Stage
from dealersim.model.kpis import PROGRAM_LINES, column, fmt, label, money
from dealersim.model.ledger import cash_bottom, judged_month, program_exists
from dealersim.model.market import OPEN_TERRITORY, US, month_start
from dealersim.model.params import GROUPS, FieldSpec, Params, field_specs
from dealersim.model.results import RunResult, ledger_frame, package_version, summarize
from dealersim.model.strategies import make_params, strategy_names
from dealersim.model.strategies import strategy_title as model_strategy_title
from dealersim.outputs.report import write_compare
from dealersim.outputs.report.render import BAD, GOOD, first_screen
from dealersim.studies.compare import Comparison, run_compare
from dealersim.studies.decision import decide

DEFAULT_STRATEGY = "overlay"
SAME = "= same as the baseline"

HORIZONS = (3.0, 5.0, 10.0)
"""The money horizons offered at the top of the page (years; every view uses the one chosen)."""

DEALERSHIP_FIELDS = (
    "n_reps",
    "accounts_per_rep",
    "lease_value_per_device",
    "hw_margin",
    "managed_margin",
    "lease_term_months",
    "base_salary",
    "monthly_quota_mrr",
)
"""The numbers an owner knows about their own dealership and history (``Params`` field names
only): picking a plan keeps them as the owner set them."""

REPORT_REPLICATES = 20
"""Replicate runs behind the verdict card, the 'How sure is that?' answer and the consultant's
report written from the page (the same runs, stated on the page)."""

ALL_ACTORS = "everyone"
ACTOR_GROUPS = ("owner", "manager", "specialists", "reps")


# ---------------------------------------------------------------------------- controls
@dataclass(frozen=True)
class Control:
    """How one ``Params`` field is shown.

    Attributes:
        spec: The field's metadata (default, bounds, choices, label, help).
        widget: ``"slider"``, ``"number"``, ``"switch"`` or ``"select"``.
        step: Slider step (numeric sliders only).
    """

    spec: FieldSpec
    widget: str
    step: float | None = None

    @property
    def name(self) -> str:
        """The ``Params`` field name."""
        return self.spec.name


def _on_grid(value: float, low: float, step: float) -> bool:
    k = (value - low) / step
    return abs(k - round(k)) < 1e-9


def control_for(s: FieldSpec) -> Control:
    """Pick the widget of one field from its kind and range."""
    if s.kind == "bool":
        return Control(s, "switch")
    if s.kind == "choice":
        return Control(s, "select")
    assert s.low is not None and s.high is not None
    width = s.high - s.low
    if s.kind == "int" and width <= 100:
        return Control(s, "slider", 1)
    if is_percent(s):
        return Control(s, "slider", 0.1)  # in percent
    if s.kind == "float" and width <= 1.0 and _on_grid(s.default, s.low, 0.01):
        return Control(s, "slider", 0.01)
    return Control(s, "number")


def controls_by_group() -> dict[str, list[Control]]:
    """Every ``Params`` field's control, grouped in ``GROUPS`` order."""
    out: dict[str, list[Control]] = {g: [] for g in GROUPS}
    for s in field_specs():
        out[s.group].append(control_for(s))
    return {g: cs for g, cs in out.items() if cs}


def default_values(strategy: str = DEFAULT_STRATEGY) -> dict[str, Any]:
    """Control values of a strategy preset: every field, from ``make_params``."""
    return make_params(strategy).to_dict()


def apply_preset(strategy: str, values: dict[str, Any]) -> dict[str, Any]:
    """Values after picking a preset: the preset's levers, keeping the owner's dealership numbers.

    Every lever the preset does not set goes back to its default; the dealership's numbers
    (``DEALERSHIP_FIELDS``) and the horizon stay as the owner set them.

    Args:
        strategy: The preset picked.
        values: The current control values.
    """
    new = default_values(strategy)
    for name in (*DEALERSHIP_FIELDS, "years"):
        new[name] = values[name]
    return new


def overrides_from(values: dict[str, Any], strategy: str) -> dict[str, Any]:
    """The fields of ``values`` that differ from the ``strategy`` preset."""
    preset = default_values(strategy)
    return {k: v for k, v in values.items() if preset.get(k) != v}


# ---------------------------------------------------------------------------- runs
class Cancelled(Exception):
    """A newer change made this run pointless: it stopped early."""


@dataclass(frozen=True)
class Replay:
    """What the replay needs on every day, stored once per run (one row a day).

    Attributes:
        hired: Specialists hired up to each day (rehires included).
        lost: Specialists who quit or were let go up to each day.
        accounts_lost: Our accounts lost to competitors up to each day.
        groups: The account map's groups: rep numbers (0-based), then ``OPEN_TERRITORY``.
        counts: Accounts per day, group and holder: shape ``(days + 1, groups, 3)``, holders in
            ``MAP_HOLDERS`` order (managed contract, our hardware account, competitor-held).
    """

    hired: np.ndarray
    lost: np.ndarray
    accounts_lost: np.ndarray
    groups: tuple[int, ...]
    counts: np.ndarray

    def at(self, day: int | None) -> int:
        """The row of ``day`` (``None``: the last day), clipped to the run."""
        last = len(self.hired) - 1
        return last if day is None else min(max(int(day), 0), last)


MAP_HOLDERS = ("managed", "us", "competitor")
"""The account map's holders, in ``Replay.counts`` order."""


class _Recorder:
    """Takes the replay's daily snapshot of a model (cheap: one ``bincount`` a day)."""

    def __init__(self, model: DealershipModel) -> None:
        mk = model.market
        reps = sorted(int(r) for r in np.unique(mk.rep) if r != OPEN_TERRITORY)
        has_open = bool((mk.rep == OPEN_TERRITORY).any())
        self.groups = (*reps, *((OPEN_TERRITORY,) if has_open else ()))
        index = {g: i for i, g in enumerate(self.groups)}
        self.group_of = np.array([index[int(r)] for r in mk.rep], dtype=np.int64) * 3
        days = model.horizon + 1
        self.counts = np.zeros((days, len(self.groups), 3), dtype=np.int32)
        self.people = np.zeros((days, 3), dtype=np.int64)
        self.take(model)

    def take(self, model: DealershipModel) -> None:
        mk = model.market
        # 0 managed contract (held by us), 1 our hardware account, 2 competitor-held
        code = self.group_of + 2
        code -= mk.holder == US
        code -= mk.stage >= Stage.IMPLEMENTATION
        flat = np.bincount(code, minlength=3 * len(self.groups))
        self.counts[model.day] = flat.reshape(-1, 3)
        self.people[model.day] = (model.specialists_hired, model.specialists_lost,
                                  model.books.accounts_lost)

    def replay(self) -> Replay:
        return Replay(self.people[:, 0], self.people[:, 1], self.people[:, 2], self.groups,
                      self.counts)


def simulate_with_replay(strategy: str, seed: int, params: Params,
                         stop: Callable[[], bool] | None = None) -> tuple[RunResult, Replay]:
    """Run the model to its horizon, keeping the replay's daily snapshots.

    The same run as ``results.simulate(strategy, seed=seed, params=params)`` (same steps,
    same draws); it also stops early, raising :class:`Cancelled`, when ``stop()`` turns true.
    """
    model = DealershipModel(strategy, rng=seed, params=params)
    rec = _Recorder(model)
    while model.running:
        model.step()
        rec.take(model)
        if stop is not None and model.day % 30 == 0 and stop():
            raise Cancelled
    mk = model.market
    frame = pd.DataFrame({"rep": mk.rep, "holder": mk.holder, "managed": mk.stage >= 5,
                          "stage": mk.stage})
    result = RunResult(strategy, model.params, model.seed, package_version(),
                       model.datacollector.get_model_vars_dataframe(), summarize(model),
                       model.events.to_frame(), model.wall_history, frame,
                       ledger_frame(model), model.weighings.frame())
    return result, rec.replay()


@dataclass(frozen=True)
class Outcome:
    """One computed configuration: the result or the error that stopped it.

    Attributes:
        strategy: The preset the values started from (a label).
        seed: The seed.
        result: The ``RunResult`` (``None`` on error).
        error: One-line error message (``None`` when the run worked).
        seconds: Wall-clock time of the run.
        replay: The daily snapshots of the replay (``None`` on error).
        key: The configuration's :func:`run_key`.
    """

    strategy: str
    seed: int
    result: Any = None
    error: str | None = None
    seconds: float = 0.0
    replay: Replay | None = None
    key: Any = None


RunKey = tuple[str, int, tuple[tuple[str, Any], ...]]
CACHE_SIZE = 24
"""Runs kept in memory: going back to earlier settings, or to the baseline, is instant."""
_cache: OrderedDict[RunKey, Outcome] = OrderedDict()
_cache_lock = threading.Lock()


def is_cached(strategy: str, seed: int, values: dict[str, Any]) -> bool:
    """Whether the run of this configuration is in the cache (picking it is instant)."""
    with _cache_lock:
        return run_key(strategy, seed, values) in _cache


def clear_cache() -> None:
    """Forget every cached run."""
    with _cache_lock:
        _cache.clear()


def run_key(strategy: str, seed: int, values: dict[str, Any]) -> RunKey:
    """The cache key of a configuration (hashable, order-independent)."""
    return strategy, int(seed), tuple(sorted(values.items()))


def run_config(strategy: str, seed: int, values: dict[str, Any],
               stop: Callable[[], bool] | None = None) -> Outcome:
    """Run one configuration to its horizon; never raises (errors come back in ``error``).

    Results are cached by configuration (``CACHE_SIZE`` runs).

    Args:
        strategy: Strategy label.
        seed: The seed.
        values: Every ``Params`` field (as the controls hold them).
        stop: Polled every 30 simulated days; when it returns true the run stops and
            :class:`Cancelled` is raised (a newer change replaced this one).
    """
    key = run_key(strategy, seed, values)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    start = time.perf_counter()
    try:
        params = Params(**values)
        result, replay = simulate_with_replay(strategy, int(seed), params, stop)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - a model error must reach the page, not kill it
        text = " ".join(str(exc).split()) or type(exc).__name__
        kind = "" if isinstance(exc, ValueError) else f"{type(exc).__name__}: "
        return Outcome(strategy, int(seed), error=f"{kind}{text}",
                       seconds=time.perf_counter() - start, key=key)
    out = Outcome(strategy, int(seed), result=result, seconds=time.perf_counter() - start,
                  replay=replay, key=key)
    with _cache_lock:
        _cache[key] = out
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return out


@dataclass(frozen=True)
class Card:
    """One headline card.

    Attributes:
        key: Stable identifier (used by tests and CSS classes).
        title: Card title.
        value: The big text.
        detail: A line under it.
        good: ``True`` green, ``False`` red, ``None`` neutral.
        change: The change against the baseline (``"▲ $12,000/mo"``), or ``""``.
        better: Whether that change is good news (``None``: neither).
    """

    key: str
    title: str
    value: str
    detail: str
    good: bool | None = None
    change: str = ""
    better: bool | None = None


@dataclass(frozen=True)
class Snapshot:
    """The numbers of the headline cards on one day (the replay's, or the last)."""

    day: int
    last: int
    verdict: str
    good: bool | None
    mrr: float
    contracts: int
    hired: int
    lost: int
    accounts_lost: int
    hardware_accounts: int
    gross_profit: float


def snapshot(result: Any, replay: Replay | None = None, day: int | None = None) -> Snapshot:
    """The card numbers of a run as of ``day`` (``None`` or the last day: the end).

    Every number is the value on that day: hires (rehires included), losses and accounts
    lost come from the replay's daily snapshots, the rest from the daily time series.
    """
    s, ts, p = result.summary, result.timeseries, result.params
    last = int(ts["day"].iloc[-1])
    end = day is None or day >= last
    row = ts.iloc[-1] if end else ts.iloc[min(max(int(day), 0), len(ts) - 1)]
    program = p.specialist_seats > 0 or p.rep_managed_selling > 0
    if not program:
        verdict, good = "No program", None
    elif not end:
        verdict, good = "Replaying", None
    else:
        verdict, good = ("Succeeded", True) if s["launch_succeeded"] else ("Failed", False)
    if replay is not None:
        i = replay.at(None if end else day)
        hired, lost, accounts = (int(replay.hired[i]), int(replay.lost[i]),
                                 int(replay.accounts_lost[i]))
    else:  # a plain RunResult: only the end is known
        hired, lost = s["specialists_hired"], s["specialists_lost"]
        accounts = s["accounts_lost_to_competitors"]
    return Snapshot(last if end else int(row["day"]), last, verdict, good,
                    float(row["managed_mrr"]), int(row["managed_contracts"]), hired, lost,
                    accounts, int(row["hardware_accounts"]),
                    float(row["cumulative_gross_profit"]))


def _change(now: float, then: float, fmt: Callable[[float], str],
            up_is_good: bool) -> tuple[str, bool | None]:
    """``("▲ $12,000/mo vs the baseline", True)``: one card's change against the baseline."""
    diff = now - then
    if abs(diff) < 1e-9:
        return SAME, None
    arrow = "▲" if diff > 0 else "▼"
    return f"{arrow} {fmt(abs(diff))} vs the baseline", (diff > 0) == up_is_good


def success_detail(result: Any) -> str:
    """The two halves of the launch's success, in words: the seat at month 12, the money later.

    What ``launch_succeeded`` tests (see its help): the first specialist still in the seat a
    year after the launch, and the managed gross profit against the program's running cost in
    the month the launch is judged on money (the last month of a shorter run).
    """
    s, p = result.summary, result.params
    month = judged_month(p)
    cover = s.get("run_rate_cover")
    if cover is not None and cover < 0:
        money_part = f"month {month}: managed gross profit below zero (success needs 100 %)"
    elif cover is not None:  # rounded down: a cover short of 1 never reads as 100 %
        money_part = (f"month {month}: managed gross profit {math.floor(cover * 100)} % of the "
                      "running cost (success needs 100 %)")
    else:  # no running cost: the program was given up before then
        money_part = f"month {month}: nothing left to judge"
    if p.specialist_seats == 0:
        return money_part
    seat = "still there" if s.get("first_specialist_year_one") else "gone"
    return f"first specialist {seat} at month 12; {money_part}"


def headline(result: Any, day: int | None = None, replay: Replay | None = None,
             baseline: Any = None, baseline_replay: Replay | None = None) -> list[Card]:
    """Headline cards of a run, at its end or (for the replay) as of ``day``.

    Args:
        result: A ``RunResult``.
        day: Replay day; ``None`` or the last day shows the end of the run.
        replay: The run's daily snapshots (hires, losses, accounts lost on the day).
        baseline: A baseline ``RunResult``: each card then shows the change against it on the
            same day.
        baseline_replay: The baseline's daily snapshots.
    """
    now = snapshot(result, replay, day)
    when = f"after {now.last:,} days" if now.day >= now.last else f"as of day {now.day:,}"
    if now.verdict == "No program":
        detail = "hardware only: no specialist, reps sell no managed services"
    elif now.verdict == "Replaying":
        detail = f"day {now.day:,} of {now.last:,}"
    else:
        detail = success_detail(result)
        if result.summary.get("program_abandoned"):
            detail += "; program abandoned"
    cards = [
        Card("launch", label("launch_succeeded").replace(" succeeded", ""), now.verdict, detail,
             now.good),
        Card("mrr", column("managed_mrr").label, f"{money(now.mrr)}/mo",
             f"{now.contracts:,} managed contracts {when}", None if now.mrr == 0 else True),
        Card("specialists", f"{label('specialists_hired')} / lost", f"{now.hired} / {now.lost}",
             "rehires included",
             None if now.lost == 0 else False),
        Card("lost", label("accounts_lost_to_competitors"), f"{now.accounts_lost:,}",
             f"hardware accounts {now.hardware_accounts:,} {when}", None),
        Card("gp", column("cumulative_gross_profit").label, money(now.gross_profit),
             f"after program costs, {when}", None),
    ]
    if baseline is None:
        return cards
    then = snapshot(baseline, baseline_replay, day)
    changes = {
        "launch": (f"baseline: {then.verdict.lower()}", None) if then.verdict != now.verdict
        else (SAME, None),
        "mrr": _change(now.mrr, then.mrr, lambda d: f"{money(d)}/mo", True),
        "specialists": _change(now.lost, then.lost, lambda d: f"{d:.0f} lost", False),
        "lost": _change(now.accounts_lost, then.accounts_lost, lambda d: f"{d:,.0f}", False),
        "gp": _change(now.gross_profit, then.gross_profit, money, True),
    }
    return [Card(c.key, c.title, c.value, c.detail, c.good, *changes[c.key]) for c in cards]


# ---------------------------------------------------------------------------- money
def months_done(result: Any, day: int | None = None) -> int:
    """Ledger months completed on ``day`` (``None`` or the last day: every month of the run).

    Month *k* ends on day ``month_start(k)`` (the last one on the run's last day); it counts
    once that day has been simulated.
    """
    n = len(result.ledger)
    horizon = int(result.timeseries["day"].iloc[-1])
    if day is None or day >= horizon:
        return n
    ends = np.minimum(month_start(np.arange(1, n + 1)), horizon)
    return int((ends <= int(day)).sum())


def cash_curve(result: Any) -> np.ndarray:
    """The J-curve: cumulative cash against the hardware-only twin at the end of each month.

    Element *k* is the end of month *k* (element 0, the launch, is 0): the run's net cash less
    that of the same dealership without the program on the same seed, added up. Its last
    element is ``summary["cash_vs_hardware_only"]``.
    """
    led = result.ledger
    diff = (led["net"] - led["baseline_net"]).to_numpy(dtype=float)
    return np.concatenate([[0.0], np.cumsum(diff)])


@dataclass(frozen=True)
class MoneySnapshot:
    """The money cards' figures on one day (cumulative ones to the months completed by then).

    Attributes:
        month: Ledger months completed on the day.
        months: Months in the run.
        end: Whether the day is the end of the run.
        program: Whether the run has a managed-services program.
        cost: What the program cost to date.
        cash: Cash against the hardware-only twin to date (``None``: no twin).
        low: The lowest that cash has been to date (0: never below).
        low_month: Its month (0: never below).
        payback: Payback month of the whole run (``None``: not within the run).
        value_added: Value added at the end of the whole run.
        worth: What the business is worth at the end of the run.
        worth_hardware_only: What the twin is worth then.
    """

    month: int
    months: int
    end: bool
    program: bool
    cost: float
    cash: float | None
    low: float | None
    low_month: int | None
    payback: int | None
    value_added: float | None
    worth: float
    worth_hardware_only: float | None


def money_at(result: Any, day: int | None = None) -> MoneySnapshot:
    """The money of a run as of ``day`` (``None`` or the last day: the whole run).

    Program cost, cash against doing nothing and its low point add up the ledger's
    months completed on the day (:func:`months_done`); at the end they are the run's summary
    figures. Payback and value at the end are whole-run figures.
    """
    s, led = result.summary, result.ledger
    m = months_done(result, day)
    cost = round(float(-led[list(PROGRAM_LINES)].to_numpy()[:m].sum()), 2) + 0.0
    diff = (led["net"] - led["baseline_net"]).to_numpy(dtype=float)[:m]
    cash = low = low_month = None
    if not np.isnan(diff).any():
        bottom, low_month = cash_bottom(diff)
        cash, low = round(float(diff.sum()), 2) + 0.0, round(bottom, 2) + 0.0
    added = s["enterprise_value_added"]
    worth = float(s["enterprise_value_end"])
    return MoneySnapshot(m, len(led), m == len(led), program_exists(result.params), cost,
                         cash, low, low_month, s["payback_month"], added, worth,
                         None if added is None else worth - float(added))


def _years(years: float) -> str:
    return f"{years:g} year" + ("" if years == 1 else "s")


def _good(x: float | None, program: bool) -> bool | None:
    """Green for a gain, red for a loss, grey without a program or a figure."""
    if not program or x is None or abs(x) < 0.5:
        return None
    return x > 0


def _payback_words(m: MoneySnapshot, years: float) -> str:
    if not m.program:
        return "no program"
    return f"month {m.payback}" if m.payback is not None else f"not within {_years(years)}"


def money_cards(result: Any, day: int | None = None, baseline: Any = None) -> list[Card]:
    """The money cards of a run, at its end or (for the replay) as of ``day``.

    Cumulative figures (program cost, cash against doing nothing, its low point) are
    those of the months completed on the replayed day; payback and value at the end are
    whole-run figures and say so while replaying.

    Args:
        result: A ``RunResult`` with its ledger.
        day: Replay day; ``None`` or the last day shows the whole run.
        baseline: A baseline ``RunResult``: each card then shows the change against it.
    """
    now = money_at(result, day)
    years = result.params.years
    span = f"over {_years(years)}" if now.end else f"to the end of month {now.month}"
    whole = "" if now.end else "whole run: "
    if now.low_month:
        low_value, low_detail = fmt("monthly_cash_flow_min", now.low), (
            f"in month {now.low_month}, against doing nothing")
    else:
        low_value = "never below"
        low_detail = "never behind doing nothing"
    if not now.end:
        low_detail += f" (to month {now.month})"
    base_worth = (money(now.worth_hardware_only) if now.worth_hardware_only is not None
                  else "n/a")
    cards = [
        Card("cost", "What the program costs", money(now.cost),
             f"pay, commissions, hiring, training and running costs {span}"),
        Card("cash", "Cash against doing nothing",
             fmt("cash_vs_hardware_only", now.cash, diff=True),
             f"{span}: your cash less the same dealership without the program",
             _good(now.cash, now.program)),
        Card("low", "Cash low point", low_value, low_detail,
             False if now.program and now.low_month else None),
        Card("payback", "Pays back", _payback_words(now, years),
             f"{whole}the month from which your cash stays ahead of doing nothing",
             None if not now.program else now.payback is not None),
        Card("value", "Value added to the business", fmt("enterprise_value_added",
                                                          now.value_added, diff=True),
             f"{whole}worth {money(now.worth)} after {_years(years)} against {base_worth} "
             "doing nothing", _good(now.value_added, now.program)),
    ]
    if baseline is None:
        return cards
    then = money_at(baseline, day)
    changes = {
        "cost": _change(now.cost, then.cost, money, False),
        "cash": _money_change(now.cash, then.cash),
        "low": _money_change(now.low, then.low),
        "payback": _payback_change(now, then, baseline.params.years),
        "value": _money_change(now.value_added, then.value_added),
    }
    return [replace(c, change=changes[c.key][0], better=changes[c.key][1]) for c in cards]


def _money_change(now: float | None, then: float | None) -> tuple[str, bool | None]:
    if now is None or then is None:
        return "", None
    return _change(now, then, money, True)


def _payback_change(now: MoneySnapshot, then: MoneySnapshot,
                    years: float) -> tuple[str, bool | None]:
    """Earlier is better; a plan that pays back beats one that does not."""
    if now.payback is not None and then.payback is not None:
        return _change(now.payback, then.payback, lambda d: f"{d:.0f} months", False)
    if now.payback == then.payback and now.program == then.program:
        return SAME, None
    return f"baseline: {_payback_words(then, years)}", (
        None if now.payback is None and then.payback is None else now.payback is not None)


# ---------------------------------------------------------------------------- story
def actor_options(events: pd.DataFrame) -> list[str]:
    """Filter choices of the story: everyone, the actor groups, then each actor."""
    actors = sorted(set(events["actor"]), key=_actor_key) if len(events) else []
    return [ALL_ACTORS, *ACTOR_GROUPS, *actors]


def _actor_key(name: str) -> tuple[int, int, str]:
    head, _, tail = name.partition(" ")
    order = {"owner": 0, "manager": 1, "specialist": 2, "rep": 3}.get(head, 4)
    return order, int(tail) if tail.isdigit() else 0, name


def filter_story(events: pd.DataFrame, actor: str = ALL_ACTORS,
                 upto_day: int | None = None) -> pd.DataFrame:
    """The story rows (day, who, what) for one actor or actor group, up to a day.

    Args:
        events: ``RunResult.events``.
        actor: ``"everyone"``, a group (``owner``, ``manager``, ``specialists``, ``reps``) or
            an actor name such as ``"rep 3"``.
        upto_day: Keep events on or before this day (the replay); ``None`` keeps all.
    """
    ev = events
    if upto_day is not None:
        ev = ev[ev["day"] <= upto_day]
    if actor == "specialists":
        ev = ev[ev["actor"].str.startswith("specialist")]
    elif actor == "reps":
        ev = ev[ev["actor"].str.startswith("rep ")]
    elif actor != ALL_ACTORS:
        ev = ev[ev["actor"] == actor]
    return ev.loc[:, ["day", "actor", "text"]].rename(
        columns={"actor": "who", "text": "what"}).reset_index(drop=True)


# ---------------------------------------------------------------------------- replicates
@dataclass(frozen=True)
class ReplicateSummary:
    """Success rate and managed revenue over the replicate runs of the verdict and the report.

    Attributes:
        n: Runs.
        successes: Runs whose launch succeeded.
        low: Wilson 95 % lower bound.
        high: Wilson 95 % upper bound.
        mean_mrr: Average managed MRR at the end (the report's figure).
        seconds: Wall-clock time of the runs.
    """

    n: int
    successes: int
    low: float
    high: float
    mean_mrr: float
    seconds: float

    @property
    def rate(self) -> float:
        """Share of runs that succeeded."""
        return self.successes / self.n if self.n else float("nan")

    def text(self) -> str:
        """One plain sentence for the page."""
        return (f"We ran your plan {self.n} times with different luck: the launch succeeded "
                f"in {self.successes} of them, so its chance is about {self.rate:.0%} (95 % "
                f"sure it lies between {self.low:.0%} and {self.high:.0%}), and on average the "
                f"runs end at {money(self.mean_mrr)}/mo of managed revenue.")


def run_replicates(strategy: str, seed: int, values: dict[str, Any],
                   n: int = REPORT_REPLICATES, workers: int | None = None) -> ReplicateSummary:
    """How often the settings' launch succeeds, over the runs of the verdict and the report.

    The runs are :func:`comparison_for`'s (cached), so the rate, its interval and the average
    managed revenue are the figures of the report's table for the same settings.

    Args:
        strategy: Strategy label.
        seed: Master seed.
        values: Every ``Params`` field.
        n: Replicates.
        workers: Worker processes (default: :func:`default_workers`).
    """
    comp = comparison_for(strategy, seed, values, n, workers)
    table = comp.summary().set_index(["strategy", "kpi"])
    _, low, high = table.loc[(strategy, "launch_succeeded"), ["estimate", "ci_low", "ci_high"]]
    flags = comp.arm(strategy)["launch_succeeded"]
    return ReplicateSummary(comp.replicates, int(flags.astype(bool).sum()), float(low),
                            float(high), float(table.loc[(strategy, "managed_mrr"), "estimate"]),
                            comp.seconds)


def default_workers() -> int:
    """Worker processes for the page's background studies: up to 4, at most the CPUs."""
    return max(1, min(4, os.cpu_count() or 1))


def report_command(strategy: str, seed: int, n: int, overrides: dict[str, Any]) -> str:
    """The Python lines that write the same report again (its methods appendix shows them)."""
    return ("from dealersim.outputs.report import write_compare\n"
            "from dealersim.studies.compare import run_compare\n"
            f"comp = run_compare([{strategy!r}], replicates={n}, seed={int(seed)}, "
            f"overrides={dict(sorted(overrides.items()))!r})\n"
            "write_compare(comp, 'report')")


_comparisons: OrderedDict[tuple[RunKey, int], Comparison] = OrderedDict()
_comparisons_lock = threading.Lock()
COMPARISONS_KEPT = 4
"""Replicated runs kept for the verdict card and the report (the same runs give both)."""


def comparison_for(strategy: str, seed: int, values: dict[str, Any], n: int = REPORT_REPLICATES,
                   workers: int | None = None) -> Comparison:
    """``n`` replicates of the settings against doing nothing, each with its ledgers (cached).

    Seeds come from ``engine.replicate_seeds(seed, n)``; each run has its hardware-only twin on
    the same seed (:func:`dealersim.studies.compare.run_compare`). The verdict card and the
    report of the same settings read the same runs.
    """
    Params(**values)  # fail fast, in this process, with a one-line message
    key = (run_key(strategy, seed, values), int(n))
    with _comparisons_lock:
        if key in _comparisons:
            _comparisons.move_to_end(key)
            return _comparisons[key]
    overrides = overrides_from(values, strategy)
    comp = run_compare([strategy], replicates=n, seed=int(seed), overrides=overrides,
                       workers=workers or default_workers(), progress=False,
                       command=report_command(strategy, seed, n, overrides))
    comp.titles[strategy] = plan_title(strategy, values)
    with _comparisons_lock:
        _comparisons[key] = comp
        while len(_comparisons) > COMPARISONS_KEPT:
            _comparisons.popitem(last=False)
    return comp


def horizon_words(years: float) -> str:
    """A money horizon in words: ``5 years``."""
    return f"{years:g} year" + ("" if years == 1 else "s")


def horizon_years(text: str) -> float:
    """The years of a horizon in words (:func:`horizon_words`)."""
    return float(text.split()[0])


def plan_title(strategy: str, values: dict[str, Any]) -> str:
    """The owner's plan in words: the preset's title, or "Your plan" when he changed a lever."""
    title = model_strategy_title(strategy)
    if apply_preset(strategy, dict(values)) == dict(values):
        return title
    return f"Your plan (started from {title[:1].lower() + title[1:]})"


@dataclass(frozen=True)
class Verdict:
    """The verdict card: the decision of the settings' replicates, as the report words it.

    Attributes:
        headline: The verdict (the report's first line).
        rule: Which view the recommendation follows and why.
        horizon: Which horizon the figures cover.
        cards: Keep the business, cash, low point, sell, how sure (one number each).
        sell: The sell view in a sentence.
        robust: How sure, in a sentence.
        runs: Replicates behind it.
    """

    headline: str
    rule: str
    horizon: str
    cards: list[Card]
    sell: str
    robust: str
    runs: int


def verdict_for(strategy: str, seed: int, values: dict[str, Any], n: int = REPORT_REPLICATES,
                workers: int | None = None) -> Verdict:
    """The verdict of these settings from :func:`dealersim.studies.decision.decide`.

    The words and figures are the report's first screen
    (:func:`dealersim.outputs.report.render.first_screen`) on the same runs
    (:func:`comparison_for`), so the card and the report never disagree.
    """
    comp = comparison_for(strategy, seed, values, n, workers)
    screen = first_screen(comp, decide(comp))
    tone = {GOOD: True, BAD: False}
    cards = [Card(f"verdict-{i}", c["label"], c["value"], c["note"], tone.get(c["color"]))
             for i, c in enumerate(screen["cards"])]
    return Verdict(screen["headline"], screen["rule"], screen["horizon"], cards,
                   screen["sell"], screen["robust"], comp.replicates)


def report_html(strategy: str, seed: int, values: dict[str, Any], n: int = REPORT_REPLICATES,
                plans: Sequence[str] | None = None, workers: int | None = None) -> bytes:
    """The consultant's report (``report.html``) for these settings, as ``compare`` writes it.

    Your plan against doing nothing: ``n`` replicates of the settings, each with its
    hardware-only twin (:func:`comparison_for`, the runs of the verdict card), rendered with
    :func:`dealersim.outputs.report.write_compare` in a temporary folder, which is removed.
    It recommends your plan or doing nothing, never a plan it did not run.

    Args:
        strategy: The preset the settings started from.
        seed: Master seed.
        values: Every ``Params`` field.
        n: Replicates.
        plans: The "If you can only change three things" sentences (from an advice folder).
        workers: Worker processes (default: :func:`default_workers`).

    Returns:
        The HTML file's bytes (self-contained: charts embedded).
    """
    comp = comparison_for(strategy, seed, values, n, workers)
    with tempfile.TemporaryDirectory(prefix="dealersim-report-") as tmp:
        out = write_compare(comp, Path(tmp) / "report", plans=plans)
        return (out / "report.html").read_bytes()


def scenario_text(strategy: str, seed: int, values: dict[str, Any]) -> str:
    """The current settings as a scenario file's text (``dealersim run --scenario``)."""
    params = Params(**values)
    return scenario_io.Scenario.from_params(strategy, int(seed), params).to_toml()


def strategy_choices() -> list[str]:
    """The strategy presets, for the picker."""
    return strategy_names()


# ---------------------------------------------------------------------------- comparisons
@dataclass(frozen=True)
class Plan:
    """A configuration to compare with: a title for the owner, a preset label and every field.

    Attributes:
        title: What the owner reads (``"Preset: Planned"``, ``"Pinned at 10:02"``).
        strategy: The preset label of the run.
        values: Every ``Params`` field.
    """

    title: str
    strategy: str
    values: dict[str, Any]

    def key(self, seed: int) -> RunKey:
        """The run's cache key on ``seed``."""
        return run_key(self.strategy, seed, self.values)


PRESET_PREFIX = "Preset: "


def compare_titles(pinned: Plan | None, previous: Plan | None, scenarios: dict[str, Plan],
                   titles: dict[str, str]) -> list[str]:
    """Everything the owner can compare his current settings with, by title."""
    own = [p.title for p in (pinned, previous) if p is not None]
    return [*own, *scenarios, *(f"{PRESET_PREFIX}{t}" for t in titles)]


def compare_plan(title: str, values: dict[str, Any], pinned: Plan | None,
                 previous: Plan | None, scenarios: dict[str, Plan],
                 titles: dict[str, str]) -> Plan | None:
    """The plan called ``title`` (``None`` when there is none).

    Presets keep the owner's dealership numbers (:func:`apply_preset`); a pinned plan, the
    previous try and loaded scenarios keep every field as they were, all levers included.

    Args:
        title: One of :func:`compare_titles`.
        values: The current settings.
        pinned: The plan pinned as the baseline, if any.
        previous: The settings before the last change, if any.
        scenarios: Loaded scenario files, by title.
        titles: Friendly preset names to preset names.
    """
    for plan in (pinned, previous, scenarios.get(title)):
        if plan is not None and plan.title == title:
            return plan
    name = titles.get(title.removeprefix(PRESET_PREFIX))
    if title.startswith(PRESET_PREFIX) and name is not None:
        return Plan(title, name, apply_preset(name, values))
    return None
