"""The owner's decision from a set of runs: keep the business, sell it, the rule and how sure.

One module turns a comparison (every plan on the same seeds, each run with its hardware-only
twin, see :mod:`dealersim.studies.compare`) into the decision that the report, the dashboard
and ``dealersim advise`` show, so the same runs give the same words and numbers everywhere:

* **keep the business** (:class:`Keep`): the probability of having paid back by each month of
  the runs (a run pays back in the month from which its cumulative cash against doing nothing
  stays above zero; a run that never does counts as not paid back), the net present value and
  the cash low point and its month, each with its spread over the runs;
* **sell in the last year** (:class:`Sell`): the value added at exit, with the multiple and the
  recurring share it assumes, and how much of it is the hardware business's own earnings
  re-rated by the higher multiple;
* **the rule** (:func:`decide`): the recommendation follows the keep view by default (an owner
  who keeps the business lives on its cash): the plan with the highest net present value
  against doing nothing, if that is above zero. Under the sell view it is the plan with the
  highest net present value plus the discounted value added at exit. When only the sale makes
  a plan worth doing, the rule says that the case rests on the sale;
* **robustness** (:func:`robustness`): the share of plausible money assumptions under which the
  verdict holds, and a tornado of the assumptions that move payback most.

The horizon is the runs' horizon: the probability curve covers their months and the decision
says so (``horizon_years``); a 10-year payback view needs runs of 10 years (``--years 10``).

Recomputing money without new runs: the money parameters below change no behaviour (the
model reads them only in its ledger), so a draw of them is applied to the ledgers the runs
kept. Each *line* parameter scales one ledger line in proportion (its cost is the parameter
times quantities the runs fixed); each *valuation* parameter enters only through the ledger's
own :func:`~dealersim.model.ledger.npv` and :func:`~dealersim.model.ledger.enterprise_value`,
which are called with the drawn values. Money parameters not listed here are held at their
values (``held`` in the output).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from dealersim.model import kpis
from dealersim.model.ledger import (
    COLUMNS,
    Ledger,
    enterprise_value,
    npv,
    payback_month,
    program_exists,
    value_multiple,
)
from dealersim.model.params import Params, field_specs, spec
from dealersim.model.strategies import strategy_title

if TYPE_CHECKING:
    from dealersim.studies.compare import Comparison

LINE_PARAMS: dict[str, str] = {
    "payroll_burden": "payroll_burden",
    "rep_training_cost": "training",
    "hiring_cost": "hiring",
    "program_cost_monthly": "program_running",
}
"""Money parameters that scale one ledger line in proportion (parameter: line). The share of
service replaced is not one of them: it moves the hardware revenue too (and with it the
overhead and the recurring share), so it is held."""
VALUE_PARAMS: tuple[str, ...] = (
    "discount_rate", "overhead_share", "hardware_multiple", "managed_multiple",
    "recurring_share_full",
)
"""Money parameters that enter only the net present value and the value at exit."""
VIEWS: tuple[str, ...] = ("keep", "sell")
"""The views a recommendation can follow."""
DRAWS = 200
"""Money assumptions drawn for the robustness share (a Latin hypercube over their bounds)."""
SPREAD = (0.1, 0.9)
"""The spread shown with every figure: the 10th and 90th percentiles over the runs."""


def money_fields() -> list[str]:
    """The money parameters recomputed from the ledgers (those ``Params`` still has)."""
    names = {s.name for s in field_specs()}
    return [n for n in (*LINE_PARAMS, *VALUE_PARAMS) if n in names
            and (n not in LINE_PARAMS or LINE_PARAMS[n] in COLUMNS)]


def held_fields() -> list[str]:
    """Money parameters that are not redrawn (their effect is not a pure ledger line)."""
    drawn = set(money_fields())
    return [s.name for s in field_specs() if s.group == "money" and s.name not in drawn]


# ====================================================================== figures
@dataclass(frozen=True)
class Spread:
    """A figure over the runs: the mean and the 10th and 90th percentiles."""

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: np.ndarray) -> Spread:
        """The spread of ``values`` (NaN ignored; all NaN: NaN)."""
        v = np.asarray(values, dtype=float)
        v = v[~np.isnan(v)]
        if v.size == 0:
            return cls(math.nan, math.nan, math.nan)
        lo, hi = np.quantile(v, SPREAD)
        return cls(float(v.mean()), float(lo), float(hi))

    def to_dict(self) -> dict[str, float | None]:
        """As JSON: ``mean``, ``low``, ``high`` (None for NaN)."""
        return {k: _num(getattr(self, k)) for k in ("mean", "low", "high")}


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 2)


@dataclass
class Keep:
    """Keeping the business: payback, net present value and the cash low point of one plan.

    Attributes:
        payback_probability: ``{month: share of runs paid back by then}`` over the runs'
            months; never decreases.
        npv: Net present value of the cash against doing nothing.
        low_point: The cash low point against doing nothing (0 when it never dips).
        low_month: The month of the low point (median over the runs that dip; 0: none dips).
        cash_end: Cumulative cash against doing nothing at the end.
        median_payback: The first month by which half the runs have paid back (None: never).
    """

    payback_probability: dict[int, float]
    npv: Spread
    low_point: Spread
    low_month: int
    cash_end: Spread
    median_payback: int | None

    @property
    def paid_back(self) -> float:
        """Share of runs paid back by the end of the runs."""
        return self.payback_probability[max(self.payback_probability)] if (
            self.payback_probability) else 0.0

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "payback_probability": {str(m): round(p, 4)
                                    for m, p in self.payback_probability.items()},
            "paid_back_by_end": round(self.paid_back, 4),
            "median_payback_month": self.median_payback,
            "npv": self.npv.to_dict(),
            "low_point": {**self.low_point.to_dict(), "month": self.low_month},
            "cash_end": self.cash_end.to_dict(),
        }


@dataclass
class Sell:
    """Selling the business at the end of the runs: what the plan adds to its value.

    Attributes:
        value_added: Value at exit less that of the same dealership doing nothing.
        value_end: The plan's value at exit.
        multiple: The multiple of earnings a buyer pays for the plan's business (mean).
        baseline_multiple: The multiple doing nothing earns (mean).
        recurring_share: Managed revenue over all revenue in the last year (mean).
        rerating: Part of the value at exit that is the multiple's rise applied to the
            earnings (mean): what a buyer pays for the recurring share rather than for cash.
    """

    value_added: Spread
    value_end: Spread
    multiple: float
    baseline_multiple: float
    recurring_share: float
    rerating: float

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "value_added": self.value_added.to_dict(),
            "value_end": self.value_end.to_dict(),
            "multiple": round(self.multiple, 3),
            "baseline_multiple": round(self.baseline_multiple, 3),
            "recurring_share": round(self.recurring_share, 4),
            "rerating": _num(self.rerating),
        }


# ====================================================================== the runs' money
@dataclass
class Books:
    """The ledgers of one plan's runs as arrays, ready to be recomputed under other money.

    Attributes:
        params: The plan's parameters.
        lines: ``(runs, months, len(COLUMNS))`` the plan's ledger lines.
        base: The same for each run's hardware-only twin.
        replicates: The replicate of each run.
    """

    params: Params
    lines: np.ndarray
    base: np.ndarray
    replicates: np.ndarray

    @property
    def months(self) -> int:
        """Months in the runs."""
        return self.lines.shape[1]


def books(comp: Comparison, strategy: str) -> Books:
    """The ledgers of ``strategy`` in ``comp`` (needs the ledger with its ``baseline_`` lines).

    Raises:
        ValueError: One line when the comparison kept no ledger.
    """
    led = comp.ledger
    if led is None or f"baseline_{COLUMNS[0]}" not in led.columns:
        raise ValueError("decision: the comparison kept no ledger with its baseline lines; "
                         "expected runs from dealersim.studies.compare.run_compare")
    arm = led[led.strategy == strategy].sort_values(["replicate", "month"])
    reps = arm.replicate.unique()
    n, m = len(reps), len(arm) // max(1, len(reps))
    lines = arm[list(COLUMNS)].to_numpy(float).reshape(n, m, len(COLUMNS))
    base = arm[[f"baseline_{c}" for c in COLUMNS]].to_numpy(float).reshape(n, m, len(COLUMNS))
    return Books(comp.params(strategy), lines, base, np.asarray(reps))


def _ledger(rows: np.ndarray, params: Params) -> Ledger:
    """A finished ledger with these rows, for the ledger's own valuation functions."""
    led = Ledger.__new__(Ledger)
    led.params, led.months, led.rows = params, rows.shape[0], rows
    led.net_total = float(rows[:, [COLUMNS.index(c) for c in kpis.LEDGER_LINES]].sum())
    return led


_NET = np.array([COLUMNS.index(c) for c in kpis.LEDGER_LINES])
_MEMO = {c: COLUMNS.index(c) for c in kpis.LEDGER_MEMO}


@dataclass
class RunMoney:
    """The money of each run of one plan under one set of money assumptions (arrays by run)."""

    diff: np.ndarray  # (runs, months): monthly cash against doing nothing
    payback: np.ndarray  # month, or inf when it never pays back
    npv: np.ndarray
    low: np.ndarray
    low_month: np.ndarray
    value_end: np.ndarray
    value_added: np.ndarray
    multiple: np.ndarray
    baseline_multiple: np.ndarray
    recurring_share: np.ndarray
    rerating: np.ndarray


def run_money(b: Books, values: Mapping[str, float] | None = None,
              valuation: bool = True) -> RunMoney:
    """Recompute every run's money under the money assumptions ``values`` (none: the runs').

    Args:
        b: The plan's ledgers.
        values: Money parameters to apply (a subset of :func:`money_fields`).
        valuation: Also compute the values at exit (the slowest part).
    """
    values = dict(values or {})
    p = b.params.replace(**values) if values else b.params
    lines, base = b.lines, b.base
    scaled = [(COLUMNS.index(LINE_PARAMS[k]), v / getattr(b.params, k))
              for k, v in values.items() if k in LINE_PARAMS and getattr(b.params, k) != 0]
    if scaled:
        lines, base = lines.copy(), base.copy()
        for j, factor in scaled:
            lines[:, :, j] *= factor
            base[:, :, j] *= factor
    diff = lines[:, :, _NET].sum(axis=2) - base[:, :, _NET].sum(axis=2)
    cum = np.cumsum(diff, axis=1)
    n, m = diff.shape
    pay = np.array([payback_month(d) or np.inf for d in diff], dtype=float)
    low = np.minimum(cum.min(axis=1), 0.0)
    low_month = np.where(low < 0, cum.argmin(axis=1) + 1, 0)
    rate = p.discount_rate
    pv = np.array([npv(d, rate) for d in diff])
    nan = np.full(n, np.nan)
    value_end = added = mult = bmult = share = rerate = nan
    if valuation:
        value_end, base_end, mult, bmult, share = (np.empty(n) for _ in range(5))
        k = min(12, m)
        for i in range(n):
            value_end[i] = enterprise_value(_ledger(lines[i], p))
            base_end[i] = enterprise_value(_ledger(base[i], p))
            hw, mr = (lines[i, -k:, _MEMO[c]].sum() for c in kpis.LEDGER_MEMO)
            share[i] = mr / (hw + mr) if hw + mr > 0 else 0.0
            mult[i] = value_multiple(share[i], p)
            bhw, bmr = (base[i, -k:, _MEMO[c]].sum() for c in kpis.LEDGER_MEMO)
            bmult[i] = value_multiple(bmr / (bhw + bmr) if bhw + bmr > 0 else 0.0, p)
        added = value_end - base_end
        rerate = value_end * (1.0 - bmult / np.where(mult > 0, mult, np.nan))
    return RunMoney(diff, pay, pv, low, low_month, value_end, added, mult, bmult, share, rerate)


def keep_view(r: RunMoney) -> Keep:
    """The keep view of one plan from its runs' money."""
    months = np.arange(1, r.diff.shape[1] + 1)
    prob = (r.payback[None, :] <= months[:, None]).mean(axis=1)
    curve = {int(mo): float(pr) for mo, pr in zip(months, prob, strict=True)}
    half = np.flatnonzero(prob >= 0.5)
    dips = r.low_month[r.low_month > 0]
    return Keep(
        payback_probability=curve,
        npv=Spread.of(r.npv),
        low_point=Spread.of(r.low),
        low_month=int(np.median(dips)) if dips.size else 0,
        cash_end=Spread.of(r.diff.sum(axis=1)),
        median_payback=int(months[half[0]]) if half.size else None,
    )


def keep_of_runs(rows: Sequence[Mapping[str, Any]], months: int) -> Keep:
    """The keep view from runs' summary KPIs (when the ledgers were not kept, e.g. ``advise``).

    The same definitions as :func:`keep_view`: ``payback_month`` (None: never, so not paid
    back), ``npv``, ``monthly_cash_flow_min``, ``cash_bottom_month`` and
    ``cash_vs_hardware_only`` of each run, over ``months`` months.
    """
    def col(name: str) -> np.ndarray:
        return np.array([np.nan if r.get(name) is None else float(r[name]) for r in rows])

    pay = col("payback_month")
    r = RunMoney(diff=np.zeros((len(rows), months)), payback=np.where(np.isnan(pay), np.inf, pay),
                 npv=col("npv"), low=col("monthly_cash_flow_min"),
                 low_month=np.nan_to_num(col("cash_bottom_month")).astype(int),
                 value_end=col("enterprise_value_end"),
                 value_added=col("enterprise_value_added"), multiple=np.full(len(rows), np.nan),
                 baseline_multiple=np.full(len(rows), np.nan),
                 recurring_share=np.full(len(rows), np.nan),
                 rerating=np.full(len(rows), np.nan))
    k = keep_view(r)
    k.cash_end = Spread.of(col("cash_vs_hardware_only"))
    return k


def sell_view(r: RunMoney) -> Sell:
    """The sell view of one plan from its runs' money."""
    return Sell(
        value_added=Spread.of(r.value_added),
        value_end=Spread.of(r.value_end),
        multiple=float(np.nanmean(r.multiple)),
        baseline_multiple=float(np.nanmean(r.baseline_multiple)),
        recurring_share=float(np.nanmean(r.recurring_share)),
        rerating=float(np.nanmean(r.rerating)),
    )


def owner_value(r: RunMoney, params: Params, view: str) -> float:
    """What ranks the plans: mean net present value (keep), plus discounted value added (sell)."""
    value = float(np.nanmean(r.npv))
    if view == "sell":
        years = r.diff.shape[1] / 12.0
        value += float(np.nanmean(r.value_added)) * (1.0 + params.discount_rate) ** (-years)
    return value


def pick(values: Mapping[str, float]) -> str | None:
    """The plan with the highest value, or None when none is above zero (doing nothing)."""
    if not values:
        return None
    best = max(values, key=lambda s: values[s])
    return best if values[best] > 0 else None


# ====================================================================== the decision
@dataclass
class Decision:
    """The decision from a set of runs (see the module docstring).

    Attributes:
        plans: The plans that launch a program, in the comparison's order.
        view: The view the recommendation follows (``keep`` or ``sell``).
        recommendation: The plan to do, or None (doing nothing is better on this view).
        keep_pick: The plan the keep view picks (None: none pays in cash).
        sell_pick: The plan the sell view picks (None: not even a sale makes one worth it).
        rule: The rule in one sentence.
        verdict: The headline in an owner's words (same on every screen).
        keep: Keep view per plan.
        sell: Sell view per plan.
        success: Share of runs whose launch succeeded, per plan.
        robustness: Per plan, the share of money assumptions under which its verdict holds.
        recommendation_holds: Share of money assumptions that recommend the same plan.
        tornado: The money assumptions that move payback most (see :func:`tornado`).
        horizon_years: The runs' horizon (every figure is over it).
        replicates: Runs per plan.
        draws: Money assumptions drawn for the robustness share.
        held: Money parameters held at their values in the draws.
        titles: The plans' plain names.
    """

    plans: list[str]
    view: str
    recommendation: str | None
    keep_pick: str | None
    sell_pick: str | None
    rule: str
    verdict: str
    keep: dict[str, Keep]
    sell: dict[str, Sell]
    success: dict[str, float]
    robustness: dict[str, float] = field(default_factory=dict)
    recommendation_holds: float = math.nan
    tornado: list[dict[str, Any]] = field(default_factory=list)
    horizon_years: float = 0.0
    replicates: int = 0
    draws: int = 0
    held: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def horizon_months(self) -> int:
        """Months in the runs."""
        return round(self.horizon_years * 12)

    def to_dict(self) -> dict[str, Any]:
        """The decision as JSON (``decision.json``)."""
        return {
            "recommendation": self.recommendation,
            "view": self.view,
            "rule": self.rule,
            "verdict": self.verdict,
            "horizon_years": self.horizon_years,
            "horizon_note": horizon_note(self.horizon_years),
            "replicates": self.replicates,
            "plans": self.plans,
            "titles": {s: self.titles.get(s) or strategy_title(s) for s in self.plans},
            "keep": {s: self.keep[s].to_dict() for s in self.plans},
            "sell": {s: {**self.sell[s].to_dict(), "words": sell_words(self.sell[s],
                                                                       self.horizon_years)}
                     for s in self.plans},
            "success": {s: round(v, 4) for s, v in self.success.items()},
            "robustness": {s: _num(v) if math.isnan(v) else round(v, 4)
                           for s, v in self.robustness.items()},
            "recommendation_holds": None if math.isnan(self.recommendation_holds)
            else round(self.recommendation_holds, 4),
            "draws": self.draws,
            "drawn": [{"parameter": n, "label": spec(n).label, "low": spec(n).low,
                       "high": spec(n).high} for n in money_fields()],
            "held": self.held,
            "tornado": self.tornado,
        }


def horizon_note(years: float) -> str:
    """Which horizon the figures show, in words."""
    span = f"{years:g} year" + ("" if years == 1 else "s")
    note = f"Every figure covers the {span} the runs were simulated for"
    if years < 10:
        note += "; payback later than that is not seen (simulate 10 years for the full view)"
    return note + "."


def _money(x: float) -> str:
    """Dollars in a sentence: the cards' figure (:func:`kpis.money`), millions in words."""
    a = abs(x)
    if a >= 1e6:
        return f"{'-' if x < 0 else ''}${a / 1e6:,.2f} million"
    return kpis.money(x)


def _pct(x: float) -> str:
    """A share in words: one decimal below 10 %."""
    return f"{x:.1%}" if 0 < x < 0.1 else f"{x:.0%}"


def _name(s: str, titles: Mapping[str, str] | None = None) -> str:
    title = (titles or {}).get(s) or strategy_title(s)
    word = title.split(" ")[0]
    return title if word.isupper() else title[:1].lower() + title[1:]


def sell_words(s: Sell, years: float) -> str:
    """The sell view in one sentence: the value added and what it assumes."""
    added = s.value_added.mean
    change = (f"adds {_money(added)} to" if added >= 0 else f"takes {_money(-added)} off")
    return (f"Sold in year {years:g}, the plan {change} what the business is worth "
            f"(against doing nothing): a buyer pays {s.multiple:.2f} times a year's earnings "
            f"because {_pct(s.recurring_share)} of its revenue is recurring managed contracts, "
            f"against {s.baseline_multiple:.2f} times for the hardware business alone; "
            f"{_money(s.rerating)} of its worth is that higher multiple.")


def _rule(view: str, keep_pick: str | None, sell_pick: str | None, years: float,
          titles: Mapping[str, str] | None = None) -> str:
    span = f"{years:g} year" + ("" if years == 1 else "s")
    if view == "keep":
        rule = ("The recommendation follows the keep view, because you keep the business and "
                "live on its cash: a plan must earn more cash than doing nothing over "
                f"{span}, counted in today's dollars (net present value above zero)")
        if keep_pick is None and sell_pick is not None:
            rule += (f"; only a sale in year {years:g} would make {_name(sell_pick, titles)} worth "
                     "doing, so that case rests on the sale")
        return rule + "."
    rule = (f"The recommendation follows the sell view, because you mean to sell in year "
            f"{years:g}: a plan's cash in today's dollars plus what it adds to the price must "
            "beat doing nothing")
    if sell_pick is not None and keep_pick != sell_pick:
        rule += "; the case rests on the sale, not on cash"
    return rule + "."


def _verdict(view: str, rec: str | None, d_keep: Mapping[str, Keep], years: float,
             titles: Mapping[str, str] | None = None) -> str:
    span = f"{years:g} year" + ("" if years == 1 else "s")
    if rec is None:
        if view == "keep":
            return (f"Do nothing for now: if you keep the business, no plan earns more cash "
                    f"than doing nothing within {span}.")
        return (f"Do nothing for now: even if you sell in year {years:g}, no plan beats doing "
                "nothing.")
    k = d_keep[rec]
    return (f"Do this: {_name(rec, titles)}. {k.paid_back:.0%} of simulated dealerships have paid "
            f"back within {span}; the cash low point is {_money(k.low_point.mean)}.")


def decide(comp: Comparison, *, view: str = "keep", draws: int = DRAWS,
           seed: int = 0) -> Decision:
    """The decision from a comparison's runs (every plan against doing nothing).

    Args:
        comp: A comparison run by :func:`dealersim.studies.compare.run_compare` (its ledger).
        view: ``keep`` (the owner keeps the business) or ``sell`` (he sells at the end).
        draws: Money assumptions drawn for the robustness share (0: none).
        seed: Seed of the draws.

    Raises:
        ValueError: One line for an unknown view or a comparison without ledgers.
    """
    if view not in VIEWS:
        raise ValueError(f"view: {view!r} is not allowed; expected one of {', '.join(VIEWS)}")
    plans = [s for s in comp.strategies if program_exists(comp.params(s))]
    bks = {s: books(comp, s) for s in plans}
    money = {s: run_money(b) for s, b in bks.items()}
    years = (next(iter(bks.values())).months / 12.0 if bks else comp.params(
        comp.strategies[0]).years)
    years = round(years, 2)
    keeps = {s: keep_view(r) for s, r in money.items()}
    sells = {s: sell_view(r) for s, r in money.items()}
    keep_pick = pick({s: owner_value(money[s], bks[s].params, "keep") for s in plans})
    sell_pick = pick({s: owner_value(money[s], bks[s].params, "sell") for s in plans})
    rec = keep_pick if view == "keep" else sell_pick
    success = {s: float(np.nanmean(comp.arm(s).launch_succeeded.astype("Float64")
                                   .to_numpy(dtype=float, na_value=np.nan))) for s in plans}
    titles = {s: comp.title(s) for s in plans}
    d = Decision(plans=plans, view=view, recommendation=rec, keep_pick=keep_pick,
                 sell_pick=sell_pick, rule=_rule(view, keep_pick, sell_pick, years, titles),
                 verdict=_verdict(view, rec, keeps, years, titles), keep=keeps, sell=sells,
                 success=success, horizon_years=years, replicates=comp.replicates,
                 held=held_fields(), titles=titles)
    if plans and draws > 0:
        d.robustness, d.recommendation_holds = robustness(bks, view, rec, draws, seed)
        d.draws = draws
        d.tornado = tornado(bks[rec or max(plans, key=lambda s: keeps[s].paid_back)])
    return d


def money_draws(n: int, seed: int = 0) -> list[dict[str, float]]:
    """``n`` money assumptions over the bounds of :func:`money_fields` (a Latin hypercube)."""
    names = money_fields()
    lows = [spec(k).low for k in names]
    highs = [spec(k).high for k in names]
    unit = qmc.LatinHypercube(d=len(names), seed=seed).random(n)
    points = qmc.scale(unit, lows, highs)
    return [dict(zip(names, map(float, row), strict=True)) for row in points]


def robustness(bks: Mapping[str, Books], view: str, rec: str | None, n: int,
               seed: int = 0) -> tuple[dict[str, float], float]:
    """How often the verdict holds over ``n`` drawn money assumptions.

    A plan's verdict is whether it beats doing nothing on the view; it holds under a draw when
    the draw gives the same answer. The recommendation holds when the draw recommends the same
    plan (or none when none was).

    Returns:
        ``({plan: share of draws}, share of draws with the same recommendation)``.
    """
    base = {s: owner_value(run_money(b, valuation=view == "sell"), b.params, view) > 0
            for s, b in bks.items()}
    held = dict.fromkeys(bks, 0)
    same = 0
    for values in money_draws(n, seed):
        worth = {}
        for s, b in bks.items():
            r = run_money(b, values, valuation=view == "sell")
            worth[s] = owner_value(r, b.params.replace(**values), view)
            held[s] += (worth[s] > 0) == base[s]
        same += pick(worth) == rec
    return {s: held[s] / n for s in bks}, same / n


def tornado(b: Books) -> list[dict[str, Any]]:
    """The money assumptions that move payback most, for one plan, largest first.

    Each assumption goes to the low and the high end of its bounds, the others staying at the
    plan's values. Payback is the share of runs paid back by the end of the runs; the net
    present value's mean is given too (it ranks ties, e.g. when no run pays back).

    Returns:
        ``[{parameter, label, low, high, low_value, high_value, base, npv_low, npv_high}]``:
        ``low``/``high`` are the shares paid back at the low and the high value.
    """
    base_r = run_money(b, valuation=False)
    base_share = float(np.isfinite(base_r.payback).mean())
    rows = []
    for name in money_fields():
        s = spec(name)
        out = {}
        for end, value in (("low", s.low), ("high", s.high)):
            r = run_money(b, {name: value}, valuation=False)
            out[end] = float(np.isfinite(r.payback).mean())
            out["npv_" + end] = float(np.nanmean(r.npv))
        rows.append({"parameter": name, "label": s.label, "low": round(out["low"], 4),
                     "high": round(out["high"], 4), "low_value": s.low, "high_value": s.high,
                     "base": round(base_share, 4), "npv_low": _num(out["npv_low"]),
                     "npv_high": _num(out["npv_high"])})
    return sorted(rows, key=lambda r: (-abs(r["high"] - r["low"]),
                                       -abs((r["npv_high"] or 0) - (r["npv_low"] or 0))))


def payback_table(d: Decision, every: int = 12) -> pd.DataFrame:
    """The probability of having paid back at every ``every``-th month and the last, per plan."""
    months = sorted({*range(every, d.horizon_months + 1, every), d.horizon_months})
    return pd.DataFrame({s: [d.keep[s].payback_probability.get(m, np.nan) for m in months]
                         for s in d.plans}, index=pd.Index(months, name="month"))


__all__ = [
    "DRAWS", "VIEWS", "Books", "Decision", "Keep", "RunMoney", "Sell", "Spread", "books",
    "decide", "held_fields", "horizon_note", "keep_of_runs", "keep_view", "money_draws",
    "money_fields", "payback_table", "robustness", "run_money", "sell_view", "sell_words",
    "tornado",
]
