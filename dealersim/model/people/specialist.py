"""The managed-services specialist: prospects, meets, proposes, closes; or runs out of time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from dealersim.model.funnel import Source, Stage
from dealersim.model.market import COMPETITOR, MIT, MPS, US
from dealersim.model.people.hardware_rep import CREDIT_SHARE

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel

SPECIALIST_CREDIT = {"none": 1.0, "split": 0.5, "double": 1.0, "team": 1.0}
"""The specialist's quota credit on a deal in a rep's account, by credit policy."""


class Specialist(mesa.Agent):
    """One managed-services specialist, from hire to quit, firing or success.

    A workday: review the quota (milestones, salary cut, extension, quitting), spend part of
    the day on hardware in the open territory if the owner allows it, attend the meetings the
    pipeline brings, then prospect with what time is left: dials into our own customers (asking
    the rep first when the manager demands it) and cold calls into competitor accounts.
    """

    def __init__(self, model: DealershipModel, number: int) -> None:
        super().__init__(model)
        p = model.params
        self.number = number
        self.name = f"specialist {number}"
        self.hired_day = model.day
        self.left_day: int | None = None
        self.salary = p.base_salary
        self.booked_mrr = 0.0
        self.deals = 0
        self.commission = 0.0
        self.hw_commission = 0.0
        self.cut_applied = False
        self.in_extension = False
        self.asked_for_help = False
        self.next_review = p.first_milestone_day
        self.milestones_met = 0
        self.misses = 0
        self.first_milestone_met: bool | None = None
        self.meeting_minutes = 0.0
        self.dials = 0
        self.workdays = 0
        spread = p.skill_spread
        draw = model.rng.normal(0.0, spread) - spread**2 / 2
        self.skill = p.specialist_skill * float(np.exp(draw))

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """One workday, as the story tells it."""
        m = self.model
        if not m.workday or self.left_day is not None:
            return
        if not self.review_quota():
            return
        self.workdays += 1
        minutes = m.params.selling_minutes
        minutes -= minutes * self.hardware_share()
        minutes -= self.meeting_minutes
        self.meeting_minutes = 0.0
        if minutes > 0:
            self.prospect(minutes)

    @property
    def tenure(self) -> int:
        """Days since hire."""
        return self.model.day - self.hired_day

    def quota_target(self, tenure: int) -> float:
        """Cumulative booked MRR the comp plan expects by ``tenure`` days."""
        p = self.model.params
        return p.monthly_quota_mrr * max(0, tenure - p.quota_ramp_days) / 30.0

    def hardware_share(self) -> float:
        """Share of today spent selling hardware in the open territory."""
        p = self.model.params
        if not p.open_territory:
            return 0.0
        pressure = 1.5 if self.cut_applied else 1.0
        return min(0.8, p.hardware_time_share * pressure * (0.5 + self.model.owner.priority_today))

    # ------------------------------------------------------------------ comp plan
    def review_quota(self) -> bool:
        """Milestones, salary cut, extension, the call for help, quitting and firing.

        Returns:
            ``False`` if the specialist left today.
        """
        m, p = self.model, self.model.params
        t = self.tenure
        if (not self.asked_for_help and t >= p.first_milestone_day - 30
                and self.booked_mrr < 0.5 * self.quota_target(p.first_milestone_day)):
            self.asked_for_help = True
            m.log(self.name, "asks_for_help", "sees the quota is out of reach and asks for "
                  "leadership, cooperation from the reps and a comp adjustment")
            m.owner.answer_help(self)
        if self.cut_applied and t > 0 and t % 30 == 0 and self.expected_income() < (
            p.reservation_income
        ):
            self.leave("quit", f"quits: expected income ${self.expected_income():,.0f} a year "
                       "is below what he can accept, and he can't go back to his old job")
            return False
        if t < self.next_review:
            return True
        target = self.quota_target(t)
        met = self.booked_mrr >= target
        if self.first_milestone_met is None:
            self.first_milestone_met = met
        if met:
            self.milestones_met += 1
            self.misses = 0
            self.in_extension = False
            self.next_review = t + p.milestone_interval_days
            m.log(self.name, "milestone_met", f"meets the milestone after {t} days in the job: "
                  f"${self.booked_mrr:,.0f} booked MRR against ${target:,.0f}")
            return True
        self.misses += 1
        if self.misses >= p.fire_after_misses:
            self.leave("fired", f"is let go after {t} days and {self.misses} missed reviews: "
                       f"${self.booked_mrr:,.0f} booked against ${target:,.0f}")
            return False
        m.log(self.name, "milestone_missed", f"misses the milestone after {t} days in the job: "
              f"${self.booked_mrr:,.0f} booked MRR against ${target:,.0f}")
        if p.performance_cut > 0 and not self.cut_applied:
            self.cut_applied = True
            self.salary = p.base_salary * (1.0 - p.performance_cut)
            m.log(self.name, "salary_cut", f"has his base cut by {p.performance_cut:.0%} to "
                  f"${self.salary:,.0f}")
        if p.extension_days > 0 and not self.in_extension:
            self.in_extension = True
            self.next_review = t + p.extension_days
            m.log("owner", "extension", f"grants {p.extension_days} more days" + (
                ", with no change in how the team works" if p.intervention == "never" else ""))
        else:
            self.in_extension = False
            self.next_review = t + p.milestone_interval_days
        return True

    def expected_income(self) -> float:
        """Income he expects over the next year.

        Salary, plus commissions at the pace earned so far, plus the commission his open
        opportunities should bring (each weighted by its chance to close).
        """
        m, p = self.model, self.model.params
        mk = m.market
        earned = self.commission + self.hw_commission
        mine = np.flatnonzero(
            (mk.handler == self.number)
            & (mk.stage >= Stage.APPOINTMENT)
            & (mk.stage <= Stage.PROPOSAL)
        )
        pipeline = 0.0
        for i in mine.tolist():
            ahead = {Stage.APPOINTMENT: p.assessment_rate * p.proposal_rate,
                     Stage.ASSESSMENT: p.proposal_rate}.get(Stage(int(mk.stage[i])), 1.0)
            chance = ahead * m.close_rate(i, self.skill)
            pipeline += chance * p.commission_months * mk.deal_mrr(i)
        return self.salary + earned * 365.0 / max(self.tenure, 30) + pipeline

    def leave(self, kind: str, text: str) -> None:
        """Leave the dealership (``kind`` is ``"quit"`` or ``"fired"``); open deals are lost."""
        m = self.model
        self.left_day = m.day
        m.log(self.name, kind, text)
        m.specialist_left(self)

    # ------------------------------------------------------------------ prospecting
    def prospect(self, minutes: float) -> None:
        """Dial with the time left: own customers where reps are open, cold calls elsewhere."""
        m, p = self.model, self.model.params
        rng = m.rng
        ask = m.manager.ask_permission
        open_reps = [] if p.specialist_territory != "all" else [
            r for r in m.reps if not r.walled_off
        ]
        f_own = p.own_account_preference if open_reps else 0.0
        lookup = p.lookup_minutes if ask else 0.0
        c_cold = p.dial_minutes + lookup
        c_own = c_cold
        if ask:
            mean_wall = float(np.mean([r.wall for r in open_reps])) if open_reps else 0.0
            c_own += p.permission_minutes * (1.0 + mean_wall)
        n = int(minutes / (f_own * c_own + (1.0 - f_own) * c_cold))
        n_own = int(rng.binomial(n, f_own)) if f_own > 0 else 0
        n_cold = n - n_own

        own_dials = 0
        picks: list[tuple[int, int]] = []
        if n_own:
            per_rep = rng.multinomial(n_own, np.full(len(open_reps), 1.0 / len(open_reps)))
            for rep, k in zip(open_reps, per_rep.tolist(), strict=True):
                if k == 0:
                    continue
                calls = rep.answer_permission(k) if ask else k
                if calls:
                    rep.touched(calls, asked=ask, skill=self.skill)
                    own_dials += calls
                    picks.append((rep.index, calls))
        self.dials += n_cold + own_dials
        m.dials += n_cold + own_dials

        skill = self.skill
        conv_cold = int(rng.binomial(n_cold, p.cold_connect_rate * p.conversation_rate))
        warm_connect = min(1.0, p.cold_connect_rate * p.warm_multiplier)
        conv_own = int(rng.binomial(own_dials, warm_connect * p.conversation_rate))
        m.conversations += conv_cold + conv_own
        meet_cold = int(rng.binomial(conv_cold, min(1.0, p.cold_meeting_rate * skill)))
        meet_own = int(rng.binomial(conv_own, min(1.0, p.cold_meeting_rate * p.warm_multiplier
                                                   * skill)))
        for _ in range(meet_cold):
            i = m.market.sample_prospect(rng, m.market.competitor_pool, m.day, COMPETITOR)
            if i >= 0:
                self.book_meeting(i, Source.COLD)
        if meet_own:
            reps = np.array([r for r, _ in picks])
            weights = np.array([c for _, c in picks], dtype=float)
            for r in rng.choice(reps, size=meet_own, p=weights / weights.sum()).tolist():
                i = m.market.sample_prospect(rng, m.market.books[r], m.day, US)
                if i >= 0:
                    self.book_meeting(i, Source.DIRECT)

    def book_meeting(self, i: int, source: Source) -> None:
        """A first appointment is booked with account ``i``."""
        m = self.model
        mk = m.market
        mk.source[i] = source
        mk.handler[i] = self.number
        mk.product[i] = MIT if m.rng.random() < m.params.mit_share else MPS
        mk.move(i, Stage.CONVERSATION, m.day, due=m.day + int(m.rng.integers(2, 8)))

    # ------------------------------------------------------------------ deals
    def quota_credit(self, i: int, mrr: float) -> float:
        """Booked MRR credited to this specialist for a deal in account ``i``."""
        mk = self.model.market
        owned = mk.rep[i] >= 0 and mk.source[i] != Source.COLD
        share = SPECIALIST_CREDIT[self.model.params.credit_policy] if owned else 1.0
        return mrr * share

    def closed(self, i: int, mrr: float) -> None:
        """Account ``i`` signed a managed deal worth ``mrr`` a month."""
        m, p = self.model, self.model.params
        self.deals += 1
        self.booked_mrr += self.quota_credit(i, mrr)
        self.commission += p.commission_months * mrr
        m.program_cost += p.commission_months * mrr

    def credit_rep(self, i: int, mrr: float) -> None:
        """Pay the owning rep's credit on a deal in their account (a cost) and share the win."""
        m, p = self.model, self.model.params
        r = int(m.market.rep[i])
        if r < 0:
            return
        share = CREDIT_SHARE[p.credit_policy]
        m.program_cost += share * p.commission_months * mrr
        m.reps[r].shared_win()
