"""``simulate``: one run, returned with its time series, summary KPIs, story and provenance."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealersim.model.clock import month_start
from dealersim.model.dealership import DealershipModel
from dealersim.model.funnel import Source
from dealersim.model.ledger import (
    Ledger,
    cash_bottom,
    enterprise_value,
    judged_month,
    npv,
    payback_month,
    program_exists,
)
from dealersim.model.params import Params, check_seed
from dealersim.model.strategies import strategy_names, strategy_overrides


def package_version() -> str:
    """The installed dealersim version."""
    try:
        return version("dealersim")
    except PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
        return "0+unknown"


BASELINE = "hardware_only"
"""The strategy every money difference is measured against: the same dealership, no program."""


@functools.cache
def _lever_defaults() -> dict[str, Any]:
    """Every field a strategy preset sets, at its ``Params`` default."""
    levers = sorted(set().union(*(strategy_overrides(s) for s in strategy_names())))
    defaults = Params()
    return {name: getattr(defaults, name) for name in levers}


def baseline_params(params: Params) -> Params:
    """The same dealership with the program switched off (the ``hardware_only`` levers).

    Every other strategy lever goes back to its default: without a program a lever has
    nothing to act on (tests/test_money.py checks that the books do not change), so the
    runs of all strategies on one dealership and seed share one baseline run.
    """
    return params.replace(**(_lever_defaults() | strategy_overrides(BASELINE)))


@functools.lru_cache(maxsize=64)
def baseline_ledger(params: Params, seed: int) -> Ledger:
    """The ledger of the same dealership without the program, on the same seed (cached).

    A run without a program is the cheapest run there is (no specialist, no pipeline), and
    runs of several strategies on one seed share it while the parameters agree.
    """
    twin = DealershipModel(BASELINE, rng=seed, params=baseline_params(params), record_every=0)
    return twin.run().ledger


def _baseline_of(model: DealershipModel) -> Ledger | None:
    """The run's baseline ledger: itself without a program, ``None`` without a seed."""
    if not program_exists(model.params):
        return model.ledger
    if model.seed is None:
        return None
    return baseline_ledger(model.params, model.seed)


def ledger_frame(model: DealershipModel) -> pd.DataFrame:
    """The run's monthly ledger with the baseline beside it.

    Columns: ``month``, every ledger line, ``net``, ``cumulative``, then ``baseline_net`` (the
    same dealership without the program, same seed) and ``cash_vs_hardware_only`` (the
    cumulative difference of the nets: the J-curve); both NaN without a baseline.
    """
    df = model.ledger.frame()
    base = _baseline_of(model)
    df["baseline_net"] = base.monthly_net() if base is not None else np.nan
    df["cash_vs_hardware_only"] = (df["net"] - df["baseline_net"]).cumsum()
    return df


def money_summary(model: DealershipModel) -> dict[str, Any]:
    """The money KPIs of a finished run (see docs/money.md).

    The differences are to :func:`baseline_ledger` on the run's seed; a run without a program
    is its own baseline (every difference 0, no payback). A run started from a generator
    rather than a seed has no reproducible baseline: its differences are ``None``.
    """
    ledger = model.ledger
    out: dict[str, Any] = {
        "program_cost": round(ledger.program_cost(), 2) + 0.0,  # never "-0.0"
        "recurring_revenue_end": round(float(model.market.live_mrr) * 12.0, 2),
        "enterprise_value_end": round(enterprise_value(ledger), 2),
    }
    keys = ("cash_vs_hardware_only", "monthly_cash_flow_min", "cash_bottom_month",
            "payback_month", "npv", "enterprise_value_added")
    base = _baseline_of(model)
    if base is None:
        return {**out, **dict.fromkeys(keys)}
    diff = ledger.monthly_net() - base.monthly_net()
    bottom, month = cash_bottom(diff)
    return {
        **out,
        "cash_vs_hardware_only": round(float(diff.sum()), 2),
        "monthly_cash_flow_min": round(bottom, 2),
        "cash_bottom_month": month,
        "payback_month": payback_month(diff),
        "npv": round(npv(diff, model.params.discount_rate), 2),
        "enterprise_value_added": round(enterprise_value(ledger) - enterprise_value(base), 2),
    }


def summarize(model: DealershipModel) -> dict[str, Any]:
    """Compute the summary KPIs of a finished run.

    Args:
        model: A model stepped to its horizon.

    Returns:
        A dict with exactly the keys in ``SUMMARY_KEYS``. Undefined values are ``None``.
    """
    p = model.params
    first = model.specialists[0] if model.specialists else None
    horizon_years = model.day / 365.0
    books = model.books
    appts = books.first_appointments
    n_appts = int(appts.sum())
    workdays = sum(s.workdays for s in model.specialists)
    judge_day = min(365, model.horizon)
    program = p.specialist_seats > 0 or p.rep_managed_selling > 0
    abandoned_by_judge = model.events.first("program_abandoned")
    running = program and (abandoned_by_judge is None or abandoned_by_judge[0] > judge_day)
    bar_met = books.booked_year1 >= p.launch_target_mrr
    money_month = judged_month(p)
    money_day = min(month_start(money_month), model.horizon)
    running_then = program and (abandoned_by_judge is None or abandoned_by_judge[0] > money_day)
    gp, cost = model.ledger.run_rate(money_month)
    covered = running_then and cost > 0 and gp >= cost

    def seated(s: Any) -> bool:
        return s.hired_day <= judge_day and (s.left_day is None or s.left_day > judge_day)

    first_seated = first is not None and seated(first)
    any_seated = any(seated(s) for s in model.specialists)
    no_seat = p.specialist_seats == 0
    milestone = running and bar_met and (first_seated or no_seat)
    succeeded = running and covered and (first_seated or no_seat)
    program_succeeded = running and covered and (any_seated or no_seat)
    start, end = model.market.n_own_start, model.market.n_held
    decline = 1.0 - (end / start) ** (1.0 / horizon_years) if horizon_years > 0 else 0.0
    first_tenure = None
    censored = None
    if first is not None:
        left = first.left_day if first.left_day is not None else model.day
        first_tenure = int(left - first.hired_day)
        censored = first.left_day is None
    return {
        "launch_succeeded": bool(succeeded),
        "year_one_bookings_milestone": bool(milestone),
        "first_specialist_year_one": bool(running and first_seated),
        "first_milestone_met": bool(first is not None and first.first_milestone_met),
        "specialists_hired": model.specialists_hired,
        "specialists_lost": model.specialists_lost,
        "first_specialist_tenure_days": first_tenure,
        "first_specialist_censored": censored,
        "days_to_first_managed_deal": books.first_deal_day,
        "managed_contracts": int(model.managed_contracts),
        "managed_mrr": round(float(model.market.live_mrr), 2),
        "booked_mrr_year1": round(float(books.booked_year1), 2),
        "hardware_accounts_start": int(start),
        "hardware_accounts_end": int(end),
        "hardware_decline_per_year": round(float(decline), 6),
        "accounts_lost_to_competitors": int(books.accounts_lost),
        "hardware_only_churn_per_year": _rate(books.losses_hw_only, books.exposure_hw_only),
        "managed_churn_per_year": _rate(books.losses_managed, books.exposure_managed),
        "gross_profit": round(float(model.ledger.net_total), 2),
        "wall_mean_day0": round(float(model.wall_mean_day0), 6),
        "guard_day0": round(float(model.guard_day0), 6),
        "wall_mean_day60": _round(model.wall_mean_day60),
        "wall_mean_end": round(float(model.wall_mean), 6),
        "warm_intro_share": round(float(appts[Source.INTRO]) / n_appts, 6) if n_appts else 0.0,
        "specialist_dials_per_day": round(books.dials / workdays, 4) if workdays else 0.0,
        "permission_requests": int(books.permission_requests),
        "permission_denied": int(books.permission_denied),
        "permission_rule_day": _beat_day(model, "permission_rule"),
        "first_walloff_day": _beat_day(model, "walled_off"),
        "help_asked_day": _beat_day(model, "asks_for_help", own=True),
        "dials": int(books.dials),
        "conversations": int(books.conversations),
        "first_appointments": n_appts,
        "proposals": int(books.proposals),
        "deals": int(books.deals),
        "program_abandoned": bool(model.program_abandoned),
        "program_succeeded": bool(program_succeeded),
        "specialist_utilisation": (
            round(books.minutes_booked_total / books.minutes_available_total, 6)
            if books.minutes_available_total > 0 else None
        ),
        "specialist_overbooked_days": int(model.overbooked_days),
        "leads_lost_to_capacity": int(books.leads_lost_to_capacity),
        **money_summary(model),
        "run_rate_cover": round(gp / cost, 6) if program and cost > 0 else None,
        "managed_print_price_ratio": _round_or_none(model.ledger.mps_price_ratio()),
        "gross_margin_per_sales_pay": (
            round(model.ledger.signed_year_gm / pay, 6) if (pay := model.ledger.sales_pay()) > 0
            else None),
    }


def _beat_day(model: DealershipModel, kind: str, *, own: bool = False) -> int | None:
    """The first day of an event of ``kind`` while the first specialist was in the seat.

    The story's beats (the rule, the first wall-off, the call for help) are the first
    specialist's launch: what happens in a successor's time is another launch. With ``own``,
    only the first specialist's own events count (he asks for help, not a successor). None
    if it did not happen in his time, or if no specialist was hired.
    """
    if not model.specialists:
        return None
    first = model.specialists[0]
    end = first.left_day if first.left_day is not None else math.inf
    return next((int(day) for day, actor, k, _ in model.events.rows
                 if k == kind and first.hired_day <= day <= end
                 and (not own or actor == first.name)), None)


def _round_or_none(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def _rate(losses: int, exposure_days: float) -> float | None:
    if exposure_days <= 0:
        return None
    return round(losses / (exposure_days / 365.0), 6)


def _round(x: float) -> float | None:
    return None if math.isnan(x) else round(float(x), 6)


@dataclass
class RunResult:
    """Everything one run produced, with what is needed to reproduce it.

    Attributes:
        strategy: Strategy preset the run started from.
        params: The full parameter set used.
        seed: The seed (``rng``) of the run.
        version: dealersim version that produced it.
        timeseries: Daily DataFrame (one row per day, day 0 included).
        summary: Summary KPIs (``SUMMARY_KEYS``).
        events: The story: DataFrame with day, actor, kind, text.
        walls: Wall of each rep per day, shape ``(days + 1, n_reps)``.
        account_map: End-of-run account columns for the account map (rep, holder, managed).
        ledger: Money by month and line (:meth:`dealersim.model.ledger.Ledger.frame`): one row
            per month, a column per line, ``net`` and ``cumulative``; its net lines add up to
            ``summary["gross_profit"]``.
        specialists: Why each specialist stayed or left: one row per specialist and recorded
            day (``number``, ``day``, ``morale``, ``expected_income``, ``reservation_income``,
            ``income_gap``, ``quit_hazard`` and the factors behind it; see
            :class:`dealersim.model.recorder.SpecialistRecorder`).
    """

    strategy: str
    params: Params
    seed: int | None
    version: str
    timeseries: pd.DataFrame
    summary: dict[str, Any]
    events: pd.DataFrame
    walls: np.ndarray = field(repr=False)
    account_map: pd.DataFrame = field(repr=False)
    ledger: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    specialists: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def story(self, limit: int | None = None) -> str:
        """The event log as readable lines."""
        rows = self.events if limit is None else self.events.head(limit)
        return "\n".join(
            f"day {d:>4}  {a:<13} {t}" for d, a, t in zip(rows.day, rows.actor, rows.text,
                                                             strict=True)
        )

    def provenance(self) -> dict[str, Any]:
        """Strategy, seed, version and every parameter: enough to rerun it exactly."""
        return {
            "strategy": self.strategy,
            "seed": self.seed,
            "version": self.version,
            "params": self.params.to_dict(),
        }

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write timeseries.csv, summary.json, events.csv and ledger.parquet into ``out``.

        Returns:
            The paths written, by name.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "timeseries": out / "timeseries.csv",
            "summary": out / "summary.json",
            "events": out / "events.csv",
            "ledger": out / "ledger.parquet",
        }
        self.timeseries.to_csv(paths["timeseries"], index=False)
        doc = {"summary": self.summary, **self.provenance()}
        paths["summary"].write_text(json.dumps(doc, indent=2) + "\n")
        self.events.to_csv(paths["events"], index=False)
        self.ledger.to_parquet(paths["ledger"], index=False)
        return paths


def simulate(
    strategy: str = "overlay",
    *,
    seed: int | None = 0,
    years: float | None = None,
    params: Params | None = None,
    **overrides: Any,
) -> RunResult:
    """Run the model to its horizon and collect the result.

    Args:
        strategy: Strategy preset name.
        seed: Seed of the run's generator (``None`` draws one from OS entropy, recorded).
        years: Horizon in years (default: the ``years`` parameter, 3).
        params: A complete parameter set to use instead of the preset.
        **overrides: ``Params`` field overrides.

    Returns:
        The run's :class:`RunResult`.

    Raises:
        ValueError: One line for an unknown strategy or field, or a value out of range.
    """
    if seed is not None:
        seed = check_seed(seed)
    if years is not None:
        overrides["years"] = years
    kwargs = dict(overrides)
    if params is not None:
        kwargs["params"] = params
    model = DealershipModel(strategy, rng=seed, **kwargs)
    model.run()
    mk = model.market
    account_map = pd.DataFrame(
        {"rep": mk.rep, "holder": mk.holder, "managed": mk.stage >= 5, "stage": mk.stage}
    )
    return RunResult(
        strategy=strategy,
        params=model.params,
        seed=model.seed,
        version=package_version(),
        timeseries=model.datacollector.get_model_vars_dataframe(),
        summary=summarize(model),
        events=model.events.to_frame(),
        walls=model.wall_history,
        account_map=account_map,
        ledger=ledger_frame(model),
        specialists=model.weighings.frame(),
    )
