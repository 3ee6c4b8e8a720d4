"""The managed-services pipeline: from a booked first appointment to a live contract.

An opportunity moves through the funnel's stages (:class:`~dealersim.model.funnel.Stage`) on
the days its next step falls due: the first appointment is held, the customer agrees to an
assessment (booked in the specialist's diary), then to a proposal (booked too), then decides.
A signed contract waits for the service team's capacity, is handed off (booked in the diary)
and goes live ``implementation_days`` later. Every step reports to the books.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from dealersim.model.diary import DIARY_DAYS
from dealersim.model.funnel import SOURCE_NO, STAGE_NO, Source, Stage
from dealersim.model.market import COMPETITOR, MPS
from dealersim.model.people.hardware_rep import rep_credit

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel
    from dealersim.model.people import Specialist


class Pipeline:
    """The opportunities in the funnel, moved on the days their steps fall due.

    Args:
        model: The dealership (its market, its specialists, its books and its story).
    """

    def __init__(self, model: DealershipModel) -> None:
        self.model = model
        self.rng = model.rng.spawn(1)[0]
        """The stream of the funnel's steps (spawned from the model's generator)."""
        self.implementing: set[int] = set()
        self.queue: deque[int] = deque()
        self.service_day = -1
        """The day the service team's next start is on the event list."""

    # ------------------------------------------------------------------ rates
    def warm_opp_to_deal(self) -> float:
        """Opportunity-to-deal rate of our own customers.

        The cold rate times the warm advantage's close-stage part,
        ``warm_lead_ratio ** warm_close_share``.
        """
        p = self.model.params
        return p.opp_to_deal_cold * p.warm_lead_ratio ** p.warm_close_share

    def close_rate(self, i: int, skill: float) -> float:
        """Chance that a proposal to account ``i`` closes, for a seller of ``skill``."""
        p = self.model.params
        opp = (p.opp_to_deal_cold if self.model.market.source[i] == SOURCE_NO.COLD
               else self.warm_opp_to_deal())
        return min(1.0, opp / (p.assessment_rate * p.proposal_rate) * skill)

    # ------------------------------------------------------------------ the steps
    def advance(self) -> None:
        """Move every opportunity whose next step is due today.

        Each visit (assessment, proposal) is booked in the handling specialist's diary on the
        first day with room; a prospect who would wait longer than ``lead_patience_days`` is
        lost to capacity.
        """
        m = self.model
        mk, p, rng, day = m.market, m.params, self.rng, m.day
        due = mk.pipeline_due(day)
        if not due:
            return
        # each account's columns read as plain numbers (ndarray.item: cheaper than a numpy
        # scalar per read)
        stage_of, due_of, handler_of = mk.stage.item, mk.stage_due.item, mk.handler.item
        for i in sorted(set(due)):
            stage = stage_of(i)
            if stage == STAGE_NO.NONE or due_of(i) != day:
                continue
            s = m.specialist(handler_of(i))
            if stage == Stage.IMPLEMENTATION:
                self.implementing.discard(i)
                mk.move(i, Stage.LIVE, day)
                mk.start_managed(i, day)
                self.serve(day)  # capacity freed
                continue
            if s is None or s.left_day is not None:
                mk.move(i, Stage.NONE, day)
                continue
            if stage == Stage.CONVERSATION:  # the first appointment, booked in the diary
                if m.books.appointment(int(mk.source[i])) == 1:
                    m.log(s.name, "first_appointment", "holds his first appointment ("
                          f"{Source(mk.source[i]).name.lower()} lead)")
                mk.move(i, Stage.APPOINTMENT, day, due=day + p.discovery_days)
            elif stage == Stage.APPOINTMENT:
                if rng.random() >= p.assessment_rate:
                    self.rejected(i, s)
                    continue
                length = p.assessment_days if mk.product[i] == MPS else max(
                    p.assessment_days, p.mit_cycle_days - p.discovery_days - p.proposal_days
                )
                slot = self.book_visit(s, p.assessment_minutes)
                if slot < 0:
                    self.lost_to_capacity(i)
                    continue
                mk.move(i, Stage.ASSESSMENT, day, due=slot + length)
            elif stage == Stage.ASSESSMENT:
                if rng.random() >= p.proposal_rate:
                    self.rejected(i, s)
                    continue
                slot = self.book_visit(s, p.proposal_minutes)
                if slot < 0:
                    self.lost_to_capacity(i)
                    continue
                m.books.proposal()
                mk.move(i, Stage.PROPOSAL, day, due=slot + p.proposal_days)
            elif stage == Stage.PROPOSAL:
                self.decide(i, s)

    def book_visit(self, s: Specialist, minutes: float) -> int:
        """Book a customer visit of ``minutes`` (plus travel) in ``s``'s diary; -1 if no room."""
        m = self.model
        return s.diary.book(m.day + 1, m.day + m.params.lead_patience_days,
                            minutes + m.params.travel_minutes)

    def lost_to_capacity(self, i: int) -> None:
        """A prospect found no slot in the diary within his patience: the lead cools off."""
        m = self.model
        mk = m.market
        if m.books.lead_lost() == 1:
            m.log("specialist", "diary_full", "has no slot for a prospect within "
                  f"{m.params.lead_patience_days} days: the lead cools off")
        if mk.stage[i] != STAGE_NO.NONE:
            mk.move(i, Stage.NONE, m.day)
        else:
            mk.cooldown[i] = m.day + m.params.prospect_cooldown_days

    def rejected(self, i: int, s: Specialist) -> None:
        """The customer says no: the opportunity ends and the specialist's morale dips."""
        self.model.market.move(i, Stage.NONE, self.model.day)
        s.lose_morale(self.model.params.morale_rejection)

    def decide(self, i: int, s: Specialist) -> None:
        """The customer decides on a proposal, or postpones to the lease end."""
        m = self.model
        mk, p, rng = m.market, m.params, self.rng
        window_opens = int(mk.lease_end[i]) - p.close_window_days
        if window_opens > m.day and rng.random() < p.postpone_share:
            mk.stage_due[i] = window_opens
            mk.pipeline.add(window_opens, i)
            return
        if rng.random() < self.close_rate(i, s.skill):
            self.close_deal(i, s)
        else:
            self.rejected(i, s)

    def close_deal(self, i: int, s: Specialist | None) -> None:
        """Account ``i`` signs a managed contract (``s``: the specialist; ``None``: its rep).

        A competitor-held account comes over to us with a new lease; our own customer keeps
        the lease it has, which now renews with the managed contract's stickiness.
        """
        m = self.model
        mk, day = m.market, m.day
        mrr = mk.deal_mrr(i, m.volume_on(day))  # managed print: at today's billing
        m.ledger.signed(m, i, mrr)
        if mk.holder[i] == COMPETITOR:  # we take the account over: a new lease with us
            mk.gain(np.array([i]))
            mk.renew_lease(np.array([i]), day)
        mk.move(i, Stage.IMPLEMENTATION, day)
        self.queue.append(i)
        self.serve(day)
        first = m.books.deal(day, mrr)
        who = s.name if s is not None else f"rep {int(mk.rep[i]) + 1}"
        if s is not None:
            s.closed(i, mrr)
            self.credit_rep(i, mrr)
        else:
            m.books.paid(m.params.commission_months * mrr)
        if first:
            m.log(who, "first_deal", f"closes the first managed deal: ${mrr:,.0f} a month")
        else:
            m.log(who, "deal", f"closes a managed deal: ${mrr:,.0f} a month")

    def credit_rep(self, i: int, mrr: float) -> None:
        """Pay the owning rep his credit on a deal in his account (a cost); he sees the deal."""
        m = self.model
        r = int(m.market.rep[i])
        if r < 0:
            return
        m.books.paid(rep_credit(m.params) * m.params.commission_months * mrr)
        m.reps[r].deal_in_book()

    def serve(self, day: int) -> None:
        """Put the service team's start of signed contracts on ``day``'s events (once a day)."""
        if self.queue and self.service_day != day:
            self.service_day = day
            self.model.at(day, self.start_implementations, "service")

    def start_implementations(self) -> None:
        """The service team starts signed contracts as capacity frees up.

        A contract the specialist closed starts on the day of its hand-off, booked in his diary
        (``handoff_minutes``); it waits in the queue while his diary has no room or the team
        has no capacity, and the team tries again the next day.
        """
        m = self.model
        mk, p, day = m.market, m.params, m.day
        signed = STAGE_NO.IMPLEMENTATION
        self.implementing = {i for i in self.implementing if mk.stage[i] == signed}
        while self.queue and len(self.implementing) < p.implementation_capacity:
            i = self.queue[0]
            if mk.stage[i] != signed or i in self.implementing:
                self.queue.popleft()
                continue
            start = day
            s = m.specialist(int(mk.handler[i]))
            if s is not None and s.left_day is None and p.handoff_minutes > 0:
                start = s.diary.book(day + 1, day + DIARY_DAYS - 1, p.handoff_minutes)
                if start < 0:
                    break
            self.queue.popleft()
            self.implementing.add(i)
            mk.stage_due[i] = start + p.implementation_days
            mk.pipeline.add(start + p.implementation_days, i)
        self.serve(day + 1)
