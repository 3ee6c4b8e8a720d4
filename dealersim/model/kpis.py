"""The KPI registry: every output of a run, named once, with its kind, unit, label and format.

A KPI's *kind* decides how it is stored, formatted and aggregated across replicates:

========  =======================================  ==========================  =================
kind      values                                    across replicates           shown as
========  =======================================  ==========================  =================
flag      yes/no per run                           share of runs (Wilson)      ``54%``
share     a fraction per run (0-1)                 mean (Student t)            ``7.5%``
money     US dollars                               mean (Student t)            ``$12,300``
count     a whole number                           mean (Student t)            ``1,234``
days      a whole number of days                   mean (Student t)            ``120``
index     a unitless 0-1 index (the reps' wall)    mean (Student t)            ``0.32``
number    any other real number                    mean (Student t)            ``8.7``
========  =======================================  ==========================  =================

:meth:`KPI.interval` is the interval of a KPI over replicates
(:func:`dealersim.base.stats.interval`: Wilson for a flag, Student t otherwise), kept inside
:attr:`KPI.bounds` (a share stays in [0, 1]).
:func:`money` is the project's one money formatter.

Everything that lists, labels or formats KPIs (the CLI table, compare's summary and report, the
catalogue, sweeps' Parquet schema, analyze, the EMA adapter, the dashboard) reads this module.
The code that *computes* the summary is :func:`dealersim.model.results.summarize`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from dealersim.base.stats import LEVEL, interval

Kind = Literal["flag", "share", "money", "count", "days", "index", "number"]
KINDS: tuple[Kind, ...] = ("flag", "share", "money", "count", "days", "index", "number")


@dataclass(frozen=True)
class KPI:
    """One output of a run.

    Attributes:
        name: The key in ``RunResult.summary`` (or the time-series column).
        kind: One of :data:`KINDS`; decides format, storage type and aggregation.
        unit: Unit in words (``"US$"``, ``"accounts"``, ``"share of runs"``).
        label: Plain-language label for owners.
        help: One sentence on what it measures.
        key: Shown in the short tables (terminal, top of the report).
        optional: May be ``None`` (undefined in a run), e.g. days to a deal that never came.
        short: A short label for chart legends and ticks (default: ``label``).
        funnel: A stage of the specialist's funnel (:data:`FUNNEL_KPIS`, in registry order).
        low: Lowest possible value, when it is not the kind's (see :attr:`bounds`).
        high: Highest possible value, when it is not the kind's.
    """

    name: str
    kind: Kind
    unit: str
    label: str
    help: str
    key: bool = False
    optional: bool = False
    short: str = ""
    funnel: bool = False
    low: float | None = None
    high: float | None = None

    @property
    def is_flag(self) -> bool:
        """Whether replicates aggregate as a share of runs (Wilson interval)."""
        return self.kind == "flag"

    @property
    def arrow_type(self) -> str:
        """Storage type in Parquet: ``bool``, ``int64`` or ``float64``."""
        if self.kind == "flag":
            return "bool"
        if self.kind in ("count", "days"):
            return "int64"
        return "float64"

    @property
    def short_label(self) -> str:
        """The short label (chart legends and ticks), or the label."""
        return self.short or self.label

    @property
    def bounds(self) -> tuple[float, float]:
        """The range of possible values; intervals are clipped to it.

        Flags, shares and indexes lie in [0, 1], counts and days are never negative, money and
        other numbers are unbounded; ``low``/``high`` override the kind's range (a yearly
        decline can be negative, a loss rate a year can pass 1).
        """
        low, high = _KIND_BOUNDS[self.kind]
        return (low if self.low is None else self.low, high if self.high is None else self.high)

    def interval(self, values: Sequence[Any] | np.ndarray,
                 level: float = LEVEL) -> tuple[float, float, float]:
        """Estimate and interval over replicates (:func:`dealersim.base.stats.interval`).

        Args:
            values: One value per run; ``None``/NaN (undefined in a run) are dropped.
            level: Confidence level.

        Returns:
            ``(estimate, low, high)``: a share of runs with the Wilson interval for a flag, else
            a mean with the Student-t interval, inside :attr:`bounds`.
        """
        return interval(_floats(values), self.kind, level, self.bounds)

    def format(self, value: Any, *, diff: bool = False) -> str:
        """Format a value (or a difference between two, ``diff=True``) for a reader.

        Flags and shares print as percentages (a difference as percentage points), money as
        dollars, counts with thousands separators; ``None`` and NaN print as ``n/a``.
        """
        return format_kpi_value(self.kind, value, diff=diff)

    def format_interval(self, low: Any, high: Any, *, diff: bool = False) -> str:
        """An interval as ``"low to high"`` in this KPI's format."""
        return f"{self.format(low, diff=diff)} to {self.format(high, diff=diff)}"

    def format_with_interval(self, value: Any, low: Any, high: Any, *,
                             diff: bool = False) -> str:
        """A value and its interval as ``"value (low to high)"``."""
        return f"{self.format(value, diff=diff)} ({self.format_interval(low, high, diff=diff)})"


def _floats(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Values as floats: yes/no as 1/0, ``None``, ``pd.NA`` and NaN as NaN."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        out = []
        for v in values:
            try:
                out.append(float(v))
            except (TypeError, ValueError):
                out.append(math.nan)
        return np.asarray(out, dtype=float)


_KIND_BOUNDS: dict[str, tuple[float, float]] = {
    "flag": (0.0, 1.0),
    "share": (0.0, 1.0),
    "index": (0.0, 1.0),
    "count": (0.0, math.inf),
    "days": (0.0, math.inf),
    "money": (-math.inf, math.inf),
    "number": (-math.inf, math.inf),
}


def format_kpi_value(kind: str, value: Any, *, diff: bool = False) -> str:
    """Format ``value`` as a KPI of ``kind`` (see :meth:`KPI.format`)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) and not diff:
        if kind == "flag":
            return "yes" if value else "no"
        value = int(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return str(v)
    sign = "+" if diff and v > 0 else ("-" if v < 0 else "")
    a = abs(v)
    if kind == "flag":
        return f"{sign}{a * 100:.0f} pts" if diff else f"{a * 100:.0f}%"
    if kind == "share":
        return f"{sign}{a * 100:.1f}{' pts' if diff else '%'}"
    if kind == "money":
        return f"{sign}{money(a)}"
    if kind == "index":
        return f"{sign}{a:.2f}"
    if kind in ("count", "days") or a >= 100:
        return f"{sign}{a:,.0f}"
    return f"{sign}{a:,.1f}"


def money(x: float, _pos: Any = None) -> str:
    """Dollars for people: ``$1.25M``, ``$45,300``, ``-$900`` (also a matplotlib tick formatter).

    The one money formatter of the project: the report, the plots, the CLI and the dashboard use
    it.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    sign = "-" if x < 0 else ""
    a = abs(float(x))
    if a >= 1e6:
        return f"{sign}${a / 1e6:,.2f}M"
    return f"{sign}${a:,.0f}"


def _k(name: str, kind: Kind, unit: str, label: str, help: str, **extra: Any) -> KPI:
    return KPI(name, kind, unit, label, help, **extra)


SUMMARY: tuple[KPI, ...] = (
    _k("launch_succeeded", "flag", "share of runs", "Launch succeeded",
       "A year after the launch the first specialist is still in the seat (or the plan has no "
       "seat to fill), and in the month the launch is judged on money (month 36 unless "
       "changed, or the last month of a shorter run) the program still runs and earns its "
       "keep: over the three months up to it, the managed business's gross profit (after "
       "delivering the services and the service billing they replace, with the hardware of "
       "accounts won from competitors) covers what the program costs to run (the "
       "specialist's pay and payroll costs, the running costs and the managed-service "
       "overhead).", key=True),
    _k("year_one_bookings_milestone", "flag", "share of runs", "Year-one bookings milestone met",
       "At month 12 the program runs, the first specialist is still in the seat, and the deals "
       "signed in year one bring gross profit over their term of at least the launch bar "
       "(a number of years of his base salary, one unless changed): a sales bar, reported "
       "beside the launch's success, which is judged on money."),
    _k("first_specialist_year_one", "flag", "share of runs",
       "First specialist still in the seat at month 12",
       "At month 12 the program runs and the FIRST specialist is still in the seat: the "
       "launch survived its first year (the first half of a successful launch)."),
    _k("first_milestone_met", "flag", "share of runs", "First quota review met",
       "The first specialist met the first milestone at the first quota review.", key=True),
    _k("specialists_hired", "count", "people", "Specialists hired",
       "Specialists hired over the run, the first one included.", key=True),
    _k("specialists_lost", "count", "people", "Specialists lost",
       "Specialists who quit or were let go over the run."),
    _k("first_specialist_tenure_days", "days", "days", "First specialist's days in the seat",
       "Days from the first specialist's hire to leaving (or to the end of the run).", key=True,
       optional=True),
    _k("first_specialist_censored", "flag", "share of runs",
       "First specialist still there at the end",
       "The first specialist was still employed when the run ended.", optional=True),
    _k("days_to_first_managed_deal", "days", "days", "Days to the first managed deal",
       "Days from the launch to the first signed managed contract.", optional=True),
    _k("managed_contracts", "count", "contracts", "Managed contracts at the end",
       "Managed contracts signed or live on the last day.", key=True),
    _k("managed_mrr", "money", "US$ a month", "Managed revenue a month at the end",
       "Monthly recurring revenue of live managed contracts on the last day.", key=True,
       low=0.0),
    _k("booked_mrr_year1", "money", "US$ a month", "Managed revenue a month booked in year 1",
       "Monthly recurring revenue of the managed deals signed in the first 365 days.", key=True,
       low=0.0),
    _k("hardware_accounts_start", "count", "accounts", "Hardware accounts at the start",
       "Accounts whose copier lease is with the dealership on day 0."),
    _k("hardware_accounts_end", "count", "accounts", "Hardware accounts at the end",
       "Accounts whose copier lease is with the dealership on the last day.", key=True),
    _k("hardware_decline_per_year", "share", "share a year", "Hardware base decline a year",
       "Compound yearly decline of the dealership's hardware accounts (negative: growth).",
       low=-math.inf),
    _k("accounts_lost_to_competitors", "count", "accounts", "Accounts lost to competitors",
       "Accounts of ours that went to a competitor over the run."),
    _k("hardware_only_churn_per_year", "share", "share a year",
       "Loss rate of hardware-only accounts a year",
       "Losses of accounts without a managed contract per account-year.", optional=True,
       high=math.inf),
    _k("managed_churn_per_year", "share", "share a year", "Loss rate of managed accounts a year",
       "Losses of accounts with a managed contract per account-year.", optional=True,
       high=math.inf),
    _k("gross_profit", "money", "US$", "Gross profit over the run (after program costs)",
       "The ledger's net over the run: hardware and managed gross profit less every program "
       "cost (pay, burden, commissions, credit, training, hiring, implementation, running "
       "costs) and the service replaced by managed print.",
       key=True),
    _k("wall_mean_day0", "index", "0 = open, 1 = walled off", "Reps' wall on day 0",
       "How protective the reps are of their accounts on day 0, averaged over reps."),
    _k("guard_day0", "index", "0 = open, 1 = walled off", "Reps' guard before the launch",
       "Where the reps' walls settle once a specialist works their accounts (their culture "
       "and dispositions, before anything happens), averaged over reps: what an owner can "
       "learn of his team before he launches."),
    _k("wall_mean_day60", "index", "0 = open, 1 = walled off", "Reps' wall on day 60",
       "How protective the reps are of their accounts on day 60.", key=True, optional=True),
    _k("wall_mean_end", "index", "0 = open, 1 = walled off", "Reps' wall at the end",
       "How protective the reps are of their accounts on the last day."),
    _k("warm_intro_share", "share", "share of first meetings",
       "First appointments from rep intros",
       "Share of first appointments that came from a rep's warm introduction.", key=True),
    _k("specialist_dials_per_day", "number", "dials a workday", "Specialist dials a workday",
       "Cold and warm dials per specialist workday.", low=0.0),
    _k("permission_requests", "count", "requests", "Permission requests to reps",
       "Times a specialist asked a rep before calling into his accounts."),
    _k("permission_denied", "count", "requests", "Permission requests denied",
       "Permission requests the rep refused."),
    _k("permission_rule_day", "days", "days", "Day the ask-permission rule is imposed",
       "The day the sales manager imposes 'ask the rep before every call' while the first "
       "specialist is in the seat; none when he does not (or the rule is there from the "
       "start).", optional=True),
    _k("first_walloff_day", "days", "days", "First day a rep walls off",
       "The first day a hardware rep walls his accounts off while the first specialist is in "
       "the seat; none when no rep does in his time.", optional=True),
    _k("help_asked_day", "days", "days", "Day the specialist asks for help",
       "The first day the first specialist asks the owner for help; none when he never "
       "does (a successor's call for help is another launch's).", optional=True),
    _k("dials", "count", "dials", "Dials", "Calls placed by specialists.", short="dials",
       funnel=True),
    _k("conversations", "count", "conversations", "Conversations",
       "Dials that reached a decision maker and became a conversation.",
       short="conversations", funnel=True),
    _k("first_appointments", "count", "meetings", "First appointments",
       "First meetings held, from cold calls and from rep introductions.",
       short="first appointments", funnel=True),
    _k("proposals", "count", "proposals", "Proposals", "Managed-services proposals presented.",
       short="proposals", funnel=True),
    _k("deals", "count", "deals", "Managed deals", "Managed-services contracts signed.",
       short="deals", funnel=True),
    _k("program_abandoned", "flag", "share of runs", "Program abandoned",
       "The owner gave up on the managed-services program.", key=True),
    _k("program_succeeded", "flag", "share of runs", "Program succeeded (any specialist)",
       "As launch succeeded, but any specialist in the seat at month 12 counts (a successor "
       "too), or no seat at all when reps sell."),
    _k("specialist_utilisation", "share", "share of minutes", "Specialist time used",
       "Minutes booked (visits, hand-offs, hardware, dials, permission calls) over minutes "
       "available, across the specialists' workdays.", optional=True),
    _k("specialist_overbooked_days", "count", "days", "Overbooked specialist days",
       "Specialist workdays that booked more minutes than the day had (always 0)."),
    _k("leads_lost_to_capacity", "count", "leads", "Leads lost to a full diary",
       "Prospects who found no slot in the specialist's diary within their patience."),
    _k("program_cost", "money", "US$", "What the program cost",
       "Everything the managed-services program spent over the run: the specialist's salary "
       "and payroll burden, commissions and reps' credit, training, hiring, implementation "
       "labour and running costs (the program lines of the ledger).", key=True, low=0.0),
    _k("recurring_revenue_end", "money", "US$ a year", "Recurring managed revenue a year at "
       "the end", "Managed revenue of the live contracts on the last day, times 12.", low=0.0),
    _k("enterprise_value_end", "money", "US$", "What the business is worth at the end",
       "The last 12 months' earnings (gross profit after program costs, less overhead) times a "
       "multiple that rises from the hardware dealer's to the managed-services multiple with "
       "the share of revenue from managed contracts."),
    _k("cash_vs_hardware_only", "money", "US$", "Cash against doing nothing",
       "The run's cumulative cash (the ledger's net) less that of the same dealership without "
       "the program, on the same seed, at the end of the run.", key=True, optional=True),
    _k("monthly_cash_flow_min", "money", "US$", "Bottom of the cash curve",
       "The lowest point of the cumulative cash difference to the same dealership without the "
       "program (0 if it never dips): the most the owner is out of pocket.", key=True,
       optional=True, high=0.0),
    _k("cash_bottom_month", "count", "months", "Month of the bottom of the cash curve",
       "The month at the end of which the cumulative cash difference to doing nothing is "
       "lowest (0: it never dips).", optional=True),
    _k("payback_month", "count", "months", "Payback month",
       "The first month from which the cumulative cash difference to doing nothing stays "
       "above zero to the end of the run; none if it never does.", key=True, optional=True),
    _k("npv", "money", "US$", "Net present value against doing nothing",
       "The monthly cash differences to the same dealership without the program, discounted "
       "at the discount rate.", key=True, optional=True),
    _k("enterprise_value_added", "money", "US$", "Value added at the end",
       "What the business is worth at the end less what the same dealership without the "
       "program is worth then.", key=True, optional=True),
    _k("run_rate_cover", "number", "x running cost", "Managed gross profit over running cost",
       "The managed gross profit over the program's running cost in the three months up to "
       "the month the launch is judged on money (1 or more: it covers it).", optional=True,
       low=-math.inf),
    _k("managed_print_price_ratio", "share", "price over the billing it replaced",
       "Managed print price over the billing it replaced",
       "The monthly managed print price of the accounts that signed, over the same accounts' "
       "service and supplies billing on the day they signed (at most 1: managed print is sold "
       "on savings); none when no managed print contract was signed.", optional=True),
    _k("gross_margin_per_sales_pay", "number", "$ of gross margin per $ of pay",
       "Gross margin sold per dollar of sales pay",
       "First-year gross margin of the managed contracts signed over the run, per dollar of "
       "sales pay (the specialists' salaries and commissions and the reps' credit); the trade "
       "asks $7-9 of a managed-services seller.", optional=True),
)
"""Every key of ``RunResult.summary``, in a stable order."""

LEDGER: tuple[KPI, ...] = (
    _k("hardware_gp", "money", "US$", "Hardware lease and service gross profit",
       "Gross profit of the copier leases and service contracts held (those taken over with "
       "a managed deal apart)."),
    _k("takeover_hardware_gp", "money", "US$", "Leases taken over with a managed deal",
       "Gross profit of the copier leases that came with a competitor's account when it "
       "signed a managed contract."),
    _k("managed_print_gp", "money", "US$", "Managed print gross profit",
       "Gross profit of the live managed print contracts."),
    _k("managed_it_gp", "money", "US$", "Managed IT gross profit",
       "Gross profit of the live managed IT contracts."),
    _k("service_replaced", "money", "US$", "Service and supplies replaced",
       "Service and supplies gross profit that a managed print contract replaces on an "
       "account we hold (cannibalisation; a cost)."),
    _k("specialist_salary", "money", "US$", "Specialist salary",
       "Base salary paid to the specialists employed (a cost)."),
    _k("payroll_burden", "money", "US$", "Payroll burden",
       "Employer taxes and benefits on the specialists' salaries (a cost)."),
    _k("specialist_commission", "money", "US$", "Specialist commissions",
       "Commissions paid to specialists on managed deals and open-territory hardware (a cost)."),
    _k("rep_credit", "money", "US$", "Reps' credit and commissions",
       "Credit paid to reps on managed deals in their books, and commissions on deals reps "
       "close themselves (a cost)."),
    _k("training", "money", "US$", "Rep training", "Managed-services training of the "
       "hardware reps at the launch (a cost)."),
    _k("hiring", "money", "US$", "Hiring the specialists",
       "Recruiting and onboarding each specialist hired (a cost)."),
    _k("implementation", "money", "US$", "Implementation labour",
       "Onboarding and implementation labour of each managed contract signed (a cost)."),
    _k("program_running", "money", "US$", "Program running costs",
       "Tools, marketing and the proposal builder while the program runs (a cost)."),
    _k("managed_overhead", "money", "US$", "Managed services overhead",
       "Selling, service-management and administration cost of running the managed business, "
       "a share of managed revenue (a cost)."),
    _k("hardware_revenue", "money", "US$", "Hardware revenue (memo)",
       "Lease and service revenue billed, less the service replaced by managed print; not "
       "part of the net."),
    _k("managed_revenue", "money", "US$", "Managed revenue (memo)",
       "Revenue of the live managed contracts; not part of the net."),
)
"""The ledger's lines: gross profit (positive) and costs (negative), then two memo lines."""

SERIES: tuple[KPI, ...] = (
    _k("day", "days", "day", "Day", "Days since the launch."),
    _k("hardware_accounts", "count", "accounts", "Hardware accounts",
       "Accounts leasing from the dealership."),
    _k("competitor_accounts", "count", "accounts", "Competitors' accounts",
       "Accounts in the territory leasing from a competitor."),
    _k("managed_contracts", "count", "contracts", "Managed contracts",
       "Managed contracts signed or live."),
    _k("managed_mrr", "money", "US$ a month", "Managed revenue a month",
       "Monthly recurring revenue of live managed contracts."),
    _k("booked_mrr", "money", "US$ a month", "Managed revenue a month booked",
       "Monthly recurring revenue of every managed deal signed so far."),
    _k("specialist_booked_mrr", "money", "US$ a month", "Booked by the specialist in the seat",
       "Monthly recurring revenue booked by the specialists employed today."),
    _k("stage_conversation", "count", "accounts", "Conversations",
       "Open opportunities at the conversation stage.", short="meeting booked"),
    _k("stage_appointment", "count", "accounts", "Appointments",
       "Open opportunities at the first-appointment stage.",
       short="first appointment held"),
    _k("stage_assessment", "count", "accounts", "Assessments",
       "Open opportunities being assessed.", short="assessment"),
    _k("stage_proposal", "count", "accounts", "Proposals", "Open proposals.",
       short="proposal out"),
    _k("stage_implementation", "count", "accounts", "Implementation",
       "Signed contracts being implemented.", short="signed, implementing"),
    _k("wall_mean", "index", "0 = open, 1 = walled off", "Reps' wall (mean)",
       "How protective the reps are of their accounts, averaged over reps."),
    _k("wall_max", "index", "0 = open, 1 = walled off", "Reps' wall (highest)",
       "The most protective rep's wall."),
    _k("specialist_employed", "count", "people", "Specialists employed",
       "Specialists in the seat today."),
    _k("specialist_salary", "money", "US$ a year", "Specialist salary",
       "Yearly base salary of the specialists employed today."),
    _k("quota_target", "money", "US$ a month", "Quota target",
       "Booked monthly revenue the specialists in the seat are measured against today."),
    _k("dials", "count", "dials", "Dials to date", "Calls placed so far."),
    _k("conversations", "count", "conversations", "Conversations to date",
       "Conversations so far."),
    _k("first_appointments_total", "count", "meetings", "First appointments to date",
       "First meetings held so far."),
    _k("proposals", "count", "proposals", "Proposals to date", "Proposals presented so far."),
    _k("deals", "count", "deals", "Managed deals to date", "Managed contracts signed so far."),
    _k("permission_requests", "count", "requests", "Permission requests to date",
       "Permission requests to reps so far."),
    _k("cumulative_gross_profit", "money", "US$", "Gross profit to date",
       "Cumulative gross profit after program costs (the ledger's net to date)."),
    _k("specialist_minutes_booked", "number", "minutes", "Specialist minutes booked",
       "Minutes the specialists used today: visits, hand-offs, hardware, dials."),
    _k("specialist_minutes_available", "number", "minutes", "Specialist minutes available",
       "Selling minutes the specialists had today (0 on weekends)."),
)
"""Every column of the daily time series, in a stable order."""

_SUMMARY = {k.name: k for k in SUMMARY}
LEDGER_MEMO: tuple[str, ...] = ("hardware_revenue", "managed_revenue")
"""Ledger lines shown for reference only: revenue, not part of the net."""
LEDGER_LINES: tuple[str, ...] = tuple(k.name for k in LEDGER if k.name not in LEDGER_MEMO)
"""Ledger lines that add up to the run's net cash (``gross_profit``)."""
PROGRAM_LINES: tuple[str, ...] = (
    "specialist_salary", "payroll_burden", "specialist_commission", "rep_credit", "training",
    "hiring", "implementation", "program_running", "managed_overhead",
)
"""Ledger lines that are the program's costs (``program_cost`` is minus their sum)."""
MONEY_KPIS: tuple[str, ...] = (
    "program_cost", "recurring_revenue_end", "enterprise_value_end", "cash_vs_hardware_only",
    "monthly_cash_flow_min", "cash_bottom_month", "payback_month", "npv",
    "enterprise_value_added",
)
"""The money KPIs: what the owner weighs (see docs/money.md)."""
_SERIES = {k.name: k for k in SERIES}

SUMMARY_KEYS: tuple[str, ...] = tuple(_SUMMARY)
"""Names of the summary KPIs (the keys of ``RunResult.summary``)."""
SERIES_COLUMNS: tuple[str, ...] = tuple(_SERIES)
"""Names of the daily time-series columns."""
FLAG_KPIS: tuple[str, ...] = tuple(k.name for k in SUMMARY if k.is_flag)
"""Yes/no KPIs: aggregated as shares of runs with Wilson intervals."""
KEY_KPIS: tuple[str, ...] = tuple(k.name for k in SUMMARY if k.key)
"""The KPIs of the short tables (terminal, top of the report, the catalogue)."""
OTHER_KPIS: tuple[str, ...] = tuple(k.name for k in SUMMARY if not k.key)
"""The summary KPIs that are not key KPIs (the report's 'every KPI' table)."""
FUNNEL_KPIS: tuple[str, ...] = tuple(k.name for k in SUMMARY if k.funnel)
"""The specialist's funnel, top to bottom: dials to deals."""
STAGE_SERIES: tuple[str, ...] = tuple(k.name for k in SERIES if k.name.startswith("stage_"))
"""The open pipeline by stage (series columns), in funnel order."""


def kpi(name: str) -> KPI:
    """The summary KPI (or, failing that, the series column) called ``name``.

    Raises:
        ValueError: One line naming the unknown KPI and the known ones.
    """
    found = _SUMMARY.get(name) or _SERIES.get(name)
    if found is None:
        raise ValueError(f"kpi: {name!r} is not a KPI; expected one of {', '.join(SUMMARY_KEYS)}")
    return found


def column(name: str) -> KPI:
    """The time-series column called ``name`` (a summary KPI may share its name).

    Raises:
        ValueError: One line naming the unknown column and the known ones.
    """
    found = _SERIES.get(name)
    if found is None:
        raise ValueError(f"column: {name!r} is not a time-series column; expected one of "
                         f"{', '.join(SERIES_COLUMNS)}")
    return found


def label(name: str) -> str:
    """Plain-language label of a KPI."""
    return kpi(name).label


def fmt(name: str, value: Any, *, diff: bool = False) -> str:
    """Format ``value`` as the KPI ``name`` (see :meth:`KPI.format`)."""
    return kpi(name).format(value, diff=diff)
