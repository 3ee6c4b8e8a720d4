"""The books: what a run counted and what it earned and spent, in one place.

The people and the pipeline do not write to the model: they *report* here (a dial, a permission
asked, a commission paid, a deal, an account lost). :class:`Books` keeps the running counts and
money totals the summary and the daily series read, and holds the :class:`Ledger` (money by
month and line), which it books day by day or, for a stretch of days on which nothing but the
market's daily money changes, in one go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dealersim.model.clock import DAYS_PER_YEAR
from dealersim.model.funnel import STAGE_NO, Source, Stage
from dealersim.model.ledger import Ledger
from dealersim.model.params import Params

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel


def print_volume(p: Params, day: int) -> float:
    """Print volume on ``day`` relative to day 0 (falls ``print_volume_decline`` a year)."""
    return (1.0 - p.print_volume_decline) ** (day / DAYS_PER_YEAR)


def hardware_margin(p: Params, day: int | np.ndarray) -> float | np.ndarray:
    """Hardware gross margin on ``day`` (or on each of an array of days), after erosion."""
    margin = np.maximum(0.0, p.hw_margin - p.hw_margin_erosion * day / DAYS_PER_YEAR)
    return margin if isinstance(day, np.ndarray) else float(margin)


class Books:
    """The run's counts and money: every agent reports here.

    Attributes:
        ledger: Money by month and line.
        dials, conversations, proposals, deals: Funnel counts so far.
        first_appointments: First appointments held, by :class:`~dealersim.model.funnel.Source`.
        permission_requests, permission_denied: Asks to call a rep's account, and the noes.
        booked_total, booked_year1: Managed MRR signed so far, and within the first year.
        first_deal_day: Day of the first managed deal (``None``: none yet).
        accounts_lost, losses_hw_only, losses_managed: Accounts lost to competitors or churn.
        exposure_hw_only, exposure_managed: Account-days held without / with a managed contract.
        program_cost: Commissions and rep credit paid so far (salaries are ``salaries_paid``).
        leads_lost_to_capacity: Prospects lost because the diary had no slot in time.
        minutes_available_total, minutes_booked_total: Specialist minutes over the run.
    """

    def __init__(self, params: Params, n_accounts: int) -> None:
        self.params = params
        self.ledger = Ledger(params, n_accounts)
        self.dials = 0
        self.conversations = 0
        self.permission_requests = 0
        self.permission_denied = 0
        self.first_appointments = np.zeros(len(Source), dtype=np.int64)
        self.first_appointments_total = 0
        """Their sum (kept as they are counted)."""
        self.proposals = 0
        self.deals = 0
        self.booked_total = 0.0
        self.booked_year1 = 0.0
        self.first_deal_day: int | None = None
        self.accounts_lost = 0
        self.losses_hw_only = 0
        self.losses_managed = 0
        self.exposure_hw_only = 0.0
        self.exposure_managed = 0.0
        self.program_cost = 0.0
        self.salaries_paid = 0.0
        self.leads_lost_to_capacity = 0
        self.minutes_available_total = 0.0
        self.minutes_booked_total = 0.0
        self.minutes_available_today = 0.0
        self.minutes_booked_today = 0.0

    # ------------------------------------------------------------------ reports
    def dialled(self, dials: int, conversations: int) -> None:
        """A specialist dialled ``dials`` numbers and had ``conversations``."""
        self.dials += dials
        self.conversations += conversations

    def asked_permission(self, requests: int, granted: int) -> None:
        """A rep answered ``requests`` asks to call his accounts, granting ``granted``."""
        self.permission_requests += requests
        self.permission_denied += requests - granted

    def paid(self, amount: float) -> None:
        """A commission or a rep's credit of ``amount`` dollars was paid."""
        self.program_cost += amount

    def appointment(self, source: int) -> int:
        """A first appointment was held with a lead from ``source``; returns how many so far."""
        self.first_appointments[source] += 1
        self.first_appointments_total += 1
        return self.first_appointments_total

    def proposal(self) -> None:
        """A proposal went out."""
        self.proposals += 1

    def deal(self, day: int, mrr: float) -> bool:
        """A managed deal worth ``mrr`` a month was signed on ``day``; ``True`` if the first."""
        self.deals += 1
        self.booked_total += mrr
        if day <= DAYS_PER_YEAR:
            self.booked_year1 += mrr
        first = self.first_deal_day is None
        if first:
            self.first_deal_day = day
        return first

    def accounts_gone(self, n_hw_only: int, n_managed: int) -> None:
        """Accounts went to a competitor (or a managed customer left at contract end)."""
        self.accounts_lost += n_hw_only + n_managed
        self.losses_hw_only += n_hw_only
        self.losses_managed += n_managed

    def lead_lost(self) -> int:
        """A prospect found no slot in the diary in time; returns how many so far."""
        self.leads_lost_to_capacity += 1
        return self.leads_lost_to_capacity

    def minutes(self, available: float, booked: float) -> None:
        """Today's specialist minutes: available, and booked (meetings, hardware, dials)."""
        self.minutes_available_today = available
        self.minutes_booked_today = booked
        self.minutes_available_total += available
        self.minutes_booked_total += booked

    # ------------------------------------------------------------------ the day's money
    def close_day(self, model: DealershipModel) -> None:
        """Book one day: salaries, churn exposure and the ledger's money."""
        mk = model.market
        self.salaries_paid += sum(s.salary for s in model.employed_specialists) / DAYS_PER_YEAR
        signed = mk.stage_counts.item(STAGE_NO.IMPLEMENTATION) + mk.stage_counts.item(STAGE_NO.LIVE)
        self.exposure_managed += signed
        self.exposure_hw_only += mk.n_held - signed
        self.ledger.day(model)

    def close_days(self, model: DealershipModel, days: np.ndarray) -> np.ndarray:
        """Book a stretch of ``days`` on which only the market's daily money accrues.

        The same terms as :meth:`close_day` on each of those days, added in day order (a
        running sum adds in sequence), so the totals match booking them one by one exactly.

        Returns:
            The cumulative net cash at the end of each day.
        """
        mk = model.market
        k = days.size
        signed = int(mk.stage_counts[Stage.IMPLEMENTATION] + mk.stage_counts[Stage.LIVE])
        self.exposure_managed += k * signed
        self.exposure_hw_only += k * (mk.n_held - signed)
        self.minutes_available_today = self.minutes_booked_today = 0.0
        return self.ledger.quiet_days(model, days)
