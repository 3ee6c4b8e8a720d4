"""The ledger: every dollar a run earns or spends, by line and by month, and what it is worth.

:class:`Ledger` keeps one row per month and one column per line of
:data:`dealersim.model.kpis.LEDGER` (gross profit positive, costs negative, two memo revenue
lines). The model calls :meth:`Ledger.day` once a day (from ``accrue``) and
:meth:`Ledger.signed` for each managed deal; everything else (salaries, commissions, credit,
hiring, training) the ledger reads from the model's own running totals, so the model's code
is not repeated here. A day costs a few array operations; the per-account sums (managed print
vs managed IT, leases taken over, service replaced) are recomputed only on the days the held
accounts or the live contracts change.

The functions below the class turn monthly cash into the money KPIs: :func:`payback_month`,
:func:`npv`, :func:`cash_bottom`, :func:`value_multiple` and :func:`enterprise_value`.
See docs/money.md.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dealersim.model.clock import DAYS_PER_MONTH, month_start
from dealersim.model.economics import mps_margin, replaced_margin
from dealersim.model.kpis import LEDGER, LEDGER_LINES, LEDGER_MEMO, PROGRAM_LINES
from dealersim.model.market import COMPETITOR, MIT, MPS, US
from dealersim.model.params import Params
from dealersim.model.sums import numpy_sum

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel

COLUMNS: tuple[str, ...] = tuple(k.name for k in LEDGER)
"""Every column of the ledger, in registry order (the net lines, then the memo lines)."""
_COL = {name: j for j, name in enumerate(COLUMNS)}
_NET = np.array([_COL[c] for c in LEDGER_LINES])
_N_NET = len(LEDGER_LINES)
assert (_NET == np.arange(_N_NET)).all()  # the net lines come first: a row's net is row[:_N_NET]
_MARKET = [_COL[c] for c in (
    "hardware_gp", "takeover_hardware_gp", "service_replaced", "managed_print_gp", "managed_it_gp",
    "program_running", "managed_overhead", "hardware_revenue", "managed_revenue")]
"""The columns of the lines :meth:`Ledger._market_lines` returns, in its order."""
_PROGRAM = np.array([_COL[c] for c in PROGRAM_LINES])
_RUN_GP = np.array([_COL[c] for c in (
    "managed_print_gp", "managed_it_gp", "takeover_hardware_gp", "service_replaced")])
"""The program's managed gross profit: managed contracts after delivery, the leases taken over
with them, less the service and supplies they replace."""
_RUN_COST = np.array([_COL[c] for c in (
    "specialist_salary", "payroll_burden", "program_running", "managed_overhead")])
"""The program's running cost a month: pay with burden, running costs, managed overhead."""
_PAY = np.array([_COL[c] for c in ("specialist_salary", "specialist_commission", "rep_credit")])
"""Sales pay: the specialists' salaries and commissions and the reps' credit."""


def n_months(horizon_days: int) -> int:
    """Months in a run of ``horizon_days`` (the last one may be short)."""
    return max(1, math.ceil(horizon_days / DAYS_PER_MONTH - 1e-9))


def judged_month(p: Params) -> int:
    """The month the launch is judged on money: ``success_month``, or a shorter run's last."""
    return min(p.success_month, n_months(p.horizon_days))


def program_exists(p: Params) -> bool:
    """Whether these parameters run a managed-services program (a seat or reps selling)."""
    return p.specialist_seats > 0 or p.rep_managed_selling > 0


class Ledger:
    """Money of one run by month (rows) and line (columns of :data:`COLUMNS`).

    Args:
        params: The run's parameters.
        n_accounts: Accounts in the market (for the taken-over flags).

    Attributes:
        rows: ``(months, len(COLUMNS))`` array of dollars.
        net_total: The net of every line so far (the run's cumulative cash).
    """

    def __init__(self, params: Params, n_accounts: int) -> None:
        self.params = params
        horizon = params.horizon_days
        self.months = n_months(horizon)
        starts = month_start(np.arange(self.months + 1))
        # day d accrues over (d - 1, d]: it belongs to the month whose start is before d
        self._month = np.clip(np.searchsorted(starts, np.arange(horizon + 1), side="left") - 1,
                              0, self.months - 1)
        self.rows = np.zeros((self.months, len(COLUMNS)))
        self.net_total = 0.0
        self.taken_over = np.zeros(n_accounts, dtype=bool)
        self._key: tuple[float, ...] = (-1.0,)
        self._split = (0.0, 0.0, 0.0)  # live managed IT MRR, held taken-over value, MPS value
        self._paid = 0.0  # specialist commissions booked so far
        self._program = 0.0  # the model's program_cost booked so far
        self._hired = 0
        self.mps_price = 0.0
        """Monthly price of every managed print contract signed (its MRR at signing), summed."""
        self.mps_billing_before = 0.0
        """The same accounts' service and supplies billing a month on the day they signed."""
        self.signed_year_gm = 0.0
        """First-year gross margin of every managed contract signed (12 months at its margin)."""

    # ------------------------------------------------------------------ booking
    def add(self, line: str, amount: float, day: int) -> None:
        """Book ``amount`` dollars (a cost negative) on ``line`` in the month of ``day``."""
        self.rows[self._month[min(day, self._month.size - 1)], _COL[line]] += amount
        if line not in LEDGER_MEMO:
            self.net_total += amount

    def _refresh(self, model: DealershipModel) -> None:
        """Recompute the per-account sums when the held accounts or live contracts changed."""
        mk = model.market
        key = (float(mk.n_held), mk.held_value, mk.live_mrr, float(mk.n_live))
        if key == self._key:
            return
        self._key = key
        live = mk.managed != 0
        mit = float(mk.managed_mrr[live & (mk.managed == MIT)].sum()) if mk.n_live else 0.0
        held = mk.holder == US
        taken = float(mk.lease_value[held & self.taken_over].sum()) if self.taken_over.any() \
            else 0.0
        mps = float(mk.lease_value[held & (mk.managed == MPS)].sum()) if mk.n_live else 0.0
        self._split = (mit, taken, mps)

    def _market_lines(self, model: DealershipModel, per_day: float | np.ndarray,
                      margin: float | np.ndarray) -> tuple[float | np.ndarray, ...]:
        """The lines the accounts and the program drive, in the order of :data:`_MARKET`.

        For one day (``per_day`` and ``margin`` scalars: scalars) or a block of days
        (``per_day`` and ``margin`` arrays, one entry per day: arrays or scalars): the same
        operations either way, so a block holds exactly the rows that booking its days one by
        one would hold.
        """
        p, mk = self.params, model.market
        self._refresh(model)
        mit_mrr, taken_value, mps_value = self._split
        replaced = p.service_share * mps_value * per_day  # service and supplies billing replaced
        managed = mk.live_mrr / DAYS_PER_MONTH
        return (
            (mk.held_value - taken_value) * per_day * margin,  # hardware_gp
            taken_value * per_day * margin,  # takeover_hardware_gp
            -replaced * replaced_margin(p, margin),  # service_replaced, at the service margin
            (mk.live_mrr - mit_mrr) / DAYS_PER_MONTH * mps_margin(p),  # managed_print_gp
            mit_mrr / DAYS_PER_MONTH * p.managed_margin,  # managed_it_gp, after delivery
            -p.program_cost_monthly / DAYS_PER_MONTH if model.program_running else 0.0,
            -managed * p.managed_overhead_share,  # managed_overhead
            mk.held_value * per_day - replaced,  # hardware_revenue
            managed,  # managed_revenue
        )

    def day(self, model: DealershipModel) -> None:
        """Book one day: gross profit, service replaced, pay, commissions, costs."""
        p, d = self.params, model.day
        volume = model.volume.item(d) if d < model.volume.size else model.volume_on(d)
        row = [0.0] * len(COLUMNS)  # filled as a list, one array at the end: cheaper per day
        lines = self._market_lines(model, volume / DAYS_PER_MONTH, model.hw_margin_now())
        for column, value in zip(_MARKET, lines, strict=True):
            row[column] = value
        salary = sum(s.salary for s in model.employed_specialists) / 365.0
        row[_COL["specialist_salary"]] = -salary
        row[_COL["payroll_burden"]] = -salary * p.payroll_burden
        paid = sum(s.commission + s.hw_commission for s in model.specialists)
        row[_COL["specialist_commission"]] = -(paid - self._paid)
        row[_COL["rep_credit"]] = -((model.program_cost - self._program) - (paid - self._paid))
        self._paid, self._program = paid, model.program_cost
        hired = len(model.specialists)
        row[_COL["hiring"]] = -(hired - self._hired) * p.hiring_cost
        self._hired = hired
        if d == 1 and program_exists(p):
            row[_COL["training"]] = -p.rep_training * p.n_reps * p.rep_training_cost
        self.rows[self._month.item(min(d, self._month.size - 1))] += row
        self.net_total += numpy_sum(row[:_N_NET])  # = float(np.array(row)[:_N_NET].sum())

    def quiet_days(self, model: DealershipModel, days: np.ndarray) -> np.ndarray:
        """Book the quiet ``days`` at once, exactly as :meth:`day` would book them one by one.

        On a quiet day (see ``DealershipModel.run``) no account, contract, specialist or
        commission changes, so only the market lines are booked (:meth:`_market_lines`, built
        as a block) and they are added in day order (``cumsum`` adds in sequence), so the books
        match to the last bit.

        Returns:
            The cumulative net cash (:attr:`net_total`) at the end of each day.
        """
        block = np.zeros((days.size, len(COLUMNS)))
        lines = self._market_lines(model, model.volume[days] / DAYS_PER_MONTH, model.margin[days])
        for column, values in zip(_MARKET, lines, strict=True):
            block[:, column] = values
        months = self._month[np.minimum(days, self._month.size - 1)]
        first, last = int(months[0]), int(months[-1])  # days ascend, so months do
        for m in range(first, last + 1):
            rows = block if first == last else block[months == m]
            self.rows[m] = np.cumsum(np.vstack([self.rows[m], rows]), axis=0)[-1]
        net = np.cumsum(np.concatenate(([self.net_total], block[:, :_N_NET].sum(axis=1))))[1:]
        self.net_total = float(net[-1])
        return net

    def signed(self, model: DealershipModel, i: int, mrr: float) -> None:
        """Account ``i`` signs a managed contract worth ``mrr`` a month (before it is taken over).

        Books its implementation labour; a competitor's account is flagged as taken over, so
        the gross profit of its lease goes to the takeover line while we hold it.
        """
        mk, p = model.market, self.params
        it = mk.product[i] == MIT
        months = p.implementation_months_mit if it else p.implementation_months_mps
        self.add("implementation", -months * mrr, model.day)
        if mk.holder[i] == COMPETITOR:
            self.taken_over[i] = True
        self.signed_year_gm += 12.0 * mrr * (p.managed_margin if it else mps_margin(p))
        if not it:
            self.mps_price += mrr
            self.mps_billing_before += p.service_share * float(mk.lease_value[i]) * (
                model.volume_on(model.day))

    # ------------------------------------------------------------------ reading
    def monthly_net(self) -> np.ndarray:
        """The net cash of each month (the sum of the net lines)."""
        return self.rows[:, _NET].sum(axis=1)

    def program_cost(self) -> float:
        """What the program cost over the run (positive)."""
        return float(-self.rows[:, _PROGRAM].sum())

    def run_rate(self, month: int) -> tuple[float, float]:
        """The program's managed gross profit and its running cost near ``month``.

        Both over the three months up to ``month`` (1-based; the last month when the run is
        shorter), in positive dollars.
        """
        k = max(1, min(int(month), self.months))
        rows = self.rows[max(0, k - 3):k]
        return float(rows[:, _RUN_GP].sum()), float(-rows[:, _RUN_COST].sum())

    def sales_pay(self) -> float:
        """Sales pay over the run (positive): specialists' salaries, commissions, reps' credit."""
        return float(-self.rows[:, _PAY].sum())

    def mps_price_ratio(self) -> float | None:
        """Managed print's monthly price over the billing it replaced.

        The price of every managed print contract signed over the same accounts' service and
        supplies billing on the day they signed; ``None`` when none was signed.
        """
        if self.mps_billing_before <= 0.0:
            return None
        return self.mps_price / self.mps_billing_before

    def last_year(self, line: str) -> float:
        """A line's total over the last 12 months (annualised when the run is shorter)."""
        k = min(12, self.months)
        return float(self.rows[-k:, _COL[line]].sum()) * 12.0 / k

    def frame(self) -> pd.DataFrame:
        """The ledger as a DataFrame: ``month`` (1..), every line, ``net`` and ``cumulative``."""
        df = pd.DataFrame(self.rows, columns=list(COLUMNS))
        df.insert(0, "month", np.arange(1, self.months + 1, dtype=np.int64))
        df["net"] = self.monthly_net()
        df["cumulative"] = df["net"].cumsum()
        return df


# ====================================================================== money KPIs
def payback_month(diff: np.ndarray) -> int | None:
    """First month (1-based) from which the cumulative ``diff`` stays above zero to the end.

    Args:
        diff: Monthly cash differences (strategy minus baseline), month 1 first.

    Returns:
        The month, or ``None`` when the cumulative difference at the end is not positive.
    """
    cum = np.cumsum(np.asarray(diff, dtype=float))
    if cum.size == 0 or cum[-1] <= 0:
        return None
    not_positive = np.flatnonzero(cum <= 0)
    return int(not_positive[-1]) + 2 if not_positive.size else 1


def cash_bottom(diff: np.ndarray) -> tuple[float, int]:
    """The lowest cumulative ``diff`` and its month; ``(0.0, 0)`` when it never goes below 0."""
    cum = np.cumsum(np.asarray(diff, dtype=float))
    if cum.size == 0 or cum.min() >= 0:
        return 0.0, 0
    k = int(np.argmin(cum))
    return float(cum[k]), k + 1


def npv(diff: np.ndarray, rate: float) -> float:
    """Net present value of monthly cash ``diff`` at a yearly ``rate``.

    Month *m*'s cash arrives at its end and is discounted by ``(1 + rate) ** (-m / 12)``.
    """
    diff = np.asarray(diff, dtype=float)
    months = np.arange(1, diff.size + 1)
    return float((diff * (1.0 + rate) ** (-months / 12.0)).sum())


def value_multiple(recurring_share: float, p: Params) -> float:
    """The multiple of earnings a buyer pays, rising with the share of recurring revenue.

    From ``hardware_multiple`` at no managed revenue to ``managed_multiple`` at
    ``recurring_share_full`` and above, in proportion between.
    """
    reach = min(1.0, max(0.0, recurring_share) / p.recurring_share_full)
    return p.hardware_multiple + (p.managed_multiple - p.hardware_multiple) * reach


def enterprise_value(ledger: Ledger) -> float:
    """What the business is worth at the end: last year's earnings times the multiple.

    Earnings are the last 12 months' net cash (gross profit after program costs) less the
    hardware business's overhead (``overhead_share`` of hardware revenue; the managed business's
    delivery cost is in its margin, its selling and service-management overhead in the
    ``managed_overhead`` line and the program lines); the recurring share
    is managed revenue over all revenue in those months. A business that earns nothing is
    valued at 0 here.
    """
    p = ledger.params
    hardware = ledger.last_year("hardware_revenue")
    managed = ledger.last_year("managed_revenue")
    revenue = hardware + managed
    net = float(ledger.monthly_net()[-min(12, ledger.months):].sum()) * 12.0 / min(
        12, ledger.months)
    earnings = net - p.overhead_share * hardware
    share = managed / revenue if revenue > 0 else 0.0
    return max(0.0, earnings) * value_multiple(share, p)
