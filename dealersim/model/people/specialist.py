"""The managed-services specialist: finite minutes in a diary, a comp plan, morale, a choice."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import mesa
import numpy as np

from dealersim.model.clock import DAYS_PER_MONTH, DAYS_PER_YEAR, WORKDAY
from dealersim.model.diary import Diary
from dealersim.model.funnel import SOURCE_NO, STAGE_NO, Source, Stage
from dealersim.model.market import COMPETITOR, MIT, MPS
from dealersim.model.params import Params
from dealersim.model.people.hardware_rep import specialist_credit
from dealersim.model.sums import numpy_sum

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel

class Exit(StrEnum):
    """How a specialist left (also the kind of the story's event)."""

    QUIT = "quit"
    FIRED = "fired"


def search_effort(gap: float, morale_deficit: float, params: Params) -> float:
    """How hard a specialist looks for another job (0: not at all, 1: full time).

    ``1 - exp(-(quit_gap_weight * gap + quit_morale_weight * morale_deficit))``: it rises with
    the gap between the income he can accept and the income he expects, and with lost morale.
    """
    p = params
    return 1.0 - math.exp(-(p.quit_gap_weight * gap + p.quit_morale_weight * morale_deficit))


def accept_chance(expected_income: float, reservation: float, morale_deficit: float,
                  params: Params) -> float:
    """Chance that an outside offer beats staying.

    Offers pay his reservation income times a log-normal draw (spread ``offer_spread``, mean
    one). He takes one that pays more than he expects here, discounted by the morale he lost:
    ``offer > expected_income * (1 - morale_deficit)``.
    """
    threshold = expected_income * (1.0 - morale_deficit)
    sigma = params.offer_spread
    if threshold <= 0.0:
        return 1.0
    if sigma <= 0.0:
        return 1.0 if reservation > threshold else 0.0
    z = (math.log(threshold / reservation) + sigma**2 / 2.0) / sigma
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@functools.cache
def _even_shares(k: int) -> np.ndarray:
    """``np.full(k, 1 / k)``, made once per ``k`` (read-only)."""
    shares = np.full(k, 1.0 / k)
    shares.flags.writeable = False
    return shares


def base_hazard(params: Params) -> float:
    """Quits a year for reasons of his own (``quit_base_rate`` as a yearly hazard)."""
    return -math.log(1.0 - min(params.quit_base_rate, 0.999))


@dataclass(frozen=True)
class Weighing:
    """What a specialist weighed on a workday when deciding whether to stay."""

    day: int
    morale: float
    expected_income: float
    """Dollars a year he expects (salary, commission at his pace, his pipeline's worth)."""
    reservation_income: float
    """Dollars a year he can accept (drawn at hire)."""
    income_gap: float
    """Relative shortfall of expected below reservation income (0 when none)."""
    morale_deficit: float
    """Morale lost below the starting level."""
    search_effort: float
    """How hard he looks for another job (0-1): from the gap and lost morale."""
    gap_part: float
    """The share of his search effort that comes from the income gap (the rest: morale)."""
    offer_rate: float
    """Outside offers a year he gets (``job_offer_rate`` times his search effort)."""
    accept_chance: float
    """Chance that an offer beats staying."""
    base_hazard: float
    """Quits a year for reasons of his own."""

    @classmethod
    def of(cls, **fields: float) -> Weighing:
        """``Weighing(**fields)`` without the frozen dataclass's checked ``__init__``.

        Every field is given; the instance is the same (equal, same attributes), made several
        times faster (a specialist weighs every workday).
        """
        w = object.__new__(cls)
        w.__dict__.update(fields)
        return w

    @property
    def quit_hazard(self) -> float:
        """Departures a year at this rate: his own reasons, plus offers he would take."""
        return self.base_hazard + self.offer_rate * self.accept_chance

    def why(self, offer: float | None) -> str:
        """Why he leaves: the offer he takes, then the causes, the larger first, with numbers."""
        causes = []
        if self.income_gap > 0:
            causes.append((self.gap_part, f"the income gap (${self.expected_income:,.0f} a year "
                           f"expected against the ${self.reservation_income:,.0f} he can "
                           f"accept: {self.gap_part:.0%} of why he looks)"))
        if self.morale_deficit > 0:
            causes.append((1.0 - self.gap_part, f"lost morale (down {self.morale_deficit:.2f} to "
                           f"{self.morale:.2f}: {1.0 - self.gap_part:.0%} of why he looks)"))
        causes.sort(key=lambda c: -c[0])
        said = "; ".join(text for _, text in causes)
        if offer is None:
            return (f"leaves for reasons of his own ({self.base_hazard:.2f} such departures a "
                    "year)" + (f"; {said}" if said else ""))
        head = f"takes a job offer of ${offer:,.0f} a year"
        return f"{head}: {said}" if said else head


class Specialist(mesa.Agent):
    """One managed-services specialist, from hire to quitting, firing or success.

    Each workday has ``selling_minutes``. Visits and hand-offs are booked ahead in a
    :class:`~dealersim.model.diary.Diary`; what the day's bookings leave goes first to
    open-territory hardware (when the owner grants it) and then to dials. Each hire draws a
    reservation income; morale falls with rejections, denied permission, the salary cut and
    help that never comes, and recovers slowly. Every workday he decides whether to quit, with a
    hazard that rises with the gap between expected and acceptable income and with lost morale.
    """

    def __init__(self, model: DealershipModel, number: int) -> None:
        super().__init__(model)
        p = model.params
        self.number = number
        self.name = f"specialist {number}"
        self.hired_day = model.day
        self.left_day: int | None = None
        self.left_as: Exit | None = None
        self.salary = p.base_salary
        self.booked_mrr = 0.0
        self.deals = 0
        self.commission = 0.0
        self.hw_commission = 0.0
        self.cut_applied = False
        self.told_to_survive = False
        """Whether the owner answered his call for help by pointing to hardware."""
        self.grace_until: int | None = None
        self.asked_for_help = False
        self.searching = False
        self.offers_declined = 0
        self.milestones_met = 0
        self.misses = 0
        self.first_milestone_met: bool | None = None
        self.dials = 0
        self.workdays = 0
        spread = p.skill_spread
        draw = model.rng.normal(0.0, spread) - spread**2 / 2
        self.skill = p.specialist_skill * float(np.exp(draw))
        r_spread = p.reservation_spread
        r_draw = model.rng.normal(0.0, r_spread) - r_spread**2 / 2
        self.reservation = p.reservation_income * float(np.exp(r_draw))
        self.mind, self.funnel = model.rng.spawn(2)
        self.next_review = p.first_milestone_day + self.review_delay()
        """His tenure on the day of his next quota review."""
        """His own stream of the model's generator, for his decisions (asking for help,
        offers and leaving): spawned from it without drawing, so a mechanism that changes how
        often he decides leaves every other draw of the run where it was (common random
        numbers for knock-outs and levers). His dials and meetings draw from ``funnel``, his
        second stream."""
        self.morale = p.morale_initial
        self.weighed: Weighing | None = None
        """What he weighed on his latest workday (``None`` before his first)."""
        self.diary = Diary(p.selling_minutes * p.diary_meeting_share, model.day)
        self.minutes_available_today = 0.0
        self.minutes_booked_today = 0.0
        self.hardware_minutes_today = 0.0
        self.overbooked_days = 0
        self._terms: dict[int, float] = {}
        """His open deals' weighted MRR (:meth:`weighted_mrr`) by account."""
        self._pipeline_mrr = 0.0
        """Their sum (:meth:`pipeline_mrr`)."""

    # ------------------------------------------------------------------ the day
    def start_day(self) -> None:
        """The start of each day in the seat: morale recovers a little, the diary turns a page."""
        p = self.model.params
        self.minutes_available_today = self.minutes_booked_today = 0.0
        self.hardware_minutes_today = 0.0
        self.morale += (p.morale_initial - self.morale) / p.morale_recovery_days
        self.diary.advance(self.model.day)

    def workday(self) -> None:
        """A workday: the reps' intros, the comp plan's review, the decision, the minutes.

        The reps' part (:meth:`Team.workday`) runs once a day, before the first specialist's.
        Schedules his next workday while he stays.
        """
        m = self.model
        if self.left_day is not None:
            return
        m.team.workday()
        if not self.review_quota() or not self.decide_to_stay():
            return
        m.at(m.next_workday(), self.workday, "specialists")
        self.workdays += 1
        self.spend_day()

    def spend_day(self) -> None:
        """Spend today's minutes: booked visits, then hardware time, then dials."""
        m, p = self.model, self.model.params
        available = p.selling_minutes
        meetings = self.diary.booked(m.day)
        left = max(0.0, available - meetings)
        hardware = min(left, available * self.hardware_share())
        left -= hardware
        spent = self.prospect(left) if left > 0 else 0.0
        booked = meetings + hardware + spent
        self.minutes_available_today = available
        self.minutes_booked_today = booked
        self.hardware_minutes_today = hardware
        if booked > available + 1e-6:
            self.overbooked_days += 1

    @property
    def tenure(self) -> int:
        """Days since hire."""
        return self.model.day - self.hired_day

    def quota_target(self, tenure: int) -> float:
        """Cumulative booked MRR the comp plan expects by ``tenure`` days."""
        p = self.model.params
        return p.monthly_quota_mrr * max(0, tenure - p.quota_ramp_days) / DAYS_PER_MONTH

    def hardware_share(self) -> float:
        """Share of today's selling minutes planned for hardware in the open territory."""
        p = self.model.params
        if not p.open_territory:
            return 0.0
        pressure = p.cut_hardware_pressure if self.cut_applied or self.told_to_survive else 1.0
        return min(1.0, p.hardware_time_share * pressure)

    # ------------------------------------------------------------------ morale
    def lose_morale(self, amount: float) -> None:
        """Morale falls by ``amount`` (negative: rises), kept in [0, 1]."""
        self.morale = min(1.0, max(0.0, self.morale - amount))

    def income_gap(self) -> float:
        """Relative shortfall of expected income below this hire's reservation income (>= 0)."""
        return max(0.0, 1.0 - self.expected_income() / self.reservation)

    def weigh(self) -> Weighing:
        """Weigh staying today: expected income against the reservation, and morale lost."""
        p = self.model.params
        income = self.expected_income()
        gap = max(0.0, 1.0 - income / self.reservation)
        deficit = max(0.0, p.morale_initial - self.morale)
        push_gap, push_morale = p.quit_gap_weight * gap, p.quit_morale_weight * deficit
        effort = search_effort(gap, deficit, p)
        self.weighed = Weighing.of(
            day=self.model.day, morale=self.morale, expected_income=income,
            reservation_income=self.reservation, income_gap=gap, morale_deficit=deficit,
            search_effort=effort,
            gap_part=push_gap / (push_gap + push_morale) if push_gap + push_morale > 0 else 0.0,
            offer_rate=p.job_offer_rate * effort,
            accept_chance=accept_chance(income, self.reservation, deficit, p),
            base_hazard=base_hazard(p))
        return self.weighed

    def decide_to_stay(self) -> bool:
        """Each workday: leave for reasons of his own, or get an outside offer and weigh it.

        Offers arrive at ``job_offer_rate`` a year times his search effort (a Poisson process;
        a workday carries a fifth of a week). An offer pays his reservation income times a
        log-normal draw; he takes it if it pays more than he expects here, discounted by the
        morale he lost, and declines it otherwise. So departures are spread out over weeks
        after what drives them (the cut, a missed review), not on the day of it.

        Returns:
            ``False`` if the specialist quit today.
        """
        m, p = self.model, self.model.params
        if self.tenure == 0:
            return True
        w = self.weigh()
        if w.search_effort >= 0.5 and not self.searching:
            self.searching = True
            m.log(self.name, "job_search", "starts looking for another job")
        rate = w.base_hazard + w.offer_rate
        if self.mind.random() >= 1.0 - math.exp(-rate * WORKDAY / DAYS_PER_YEAR):
            return True
        if self.mind.random() * rate < w.base_hazard:
            self.leave(Exit.QUIT, f"quits after {self.tenure} days: {w.why(None)}")
            return False
        sigma = p.offer_spread
        offer = self.reservation * math.exp(float(self.mind.normal(0.0, sigma)) - sigma**2 / 2)
        if offer > w.expected_income * (1.0 - w.morale_deficit):
            self.leave(Exit.QUIT, f"quits after {self.tenure} days: {w.why(offer)}")
            return False
        self.offers_declined += 1
        if self.offers_declined == 1:
            m.log(self.name, "offer_declined", f"turns down an outside offer of ${offer:,.0f} a "
                  f"year: he still expects ${w.expected_income:,.0f} here")
        return True

    # ------------------------------------------------------------------ comp plan
    def review_quota(self) -> bool:
        """Milestones, the grace period before the cut, the call for help, firing.

        Returns:
            ``False`` if the specialist was let go today.
        """
        m, p = self.model, self.model.params
        t = self.tenure
        if not self.asked_for_help and self.feels_behind():
            self.asked_for_help = True
            m.log(self.name, "asks_for_help", "sees the quota is out of reach and asks for "
                  "leadership, cooperation from the reps and a comp adjustment")
            m.owner.answer_help(self)
        if self.grace_until is not None and t >= self.grace_until:
            self.end_grace(t)
        if t < self.next_review:
            return True
        target = self.quota_target(t)
        met = self.booked_mrr >= target
        if self.first_milestone_met is None:
            self.first_milestone_met = met
        self.next_review = t + p.milestone_interval_days + self.review_delay()
        if met:
            self.milestones_met += 1
            self.misses = 0
            m.log(self.name, "milestone_met", f"meets the milestone after {t} days in the job: "
                  f"${self.booked_mrr:,.0f} booked MRR against ${target:,.0f}")
            return True
        self.misses += 1
        if self.misses >= p.fire_after_misses:
            self.leave(Exit.FIRED, f"is let go after {t} days and {self.misses} missed reviews: "
                       f"${self.booked_mrr:,.0f} booked against ${target:,.0f}")
            return False
        m.log(self.name, "milestone_missed", f"misses the milestone after {t} days in the job: "
              f"${self.booked_mrr:,.0f} booked MRR against ${target:,.0f}")
        if p.performance_cut > 0 and not self.cut_applied and self.grace_until is None:
            if p.extension_days > 0 and self.asked_for_help:  # the reply to his call for help
                self.grace_until = t + p.extension_days
                m.log("owner", "extension", f"grants {p.extension_days} more days before the "
                      "cut" + (", with no change in how the team works"
                               if p.intervention == "never" else ""))
            else:
                self.apply_cut()
        return True

    def review_delay(self) -> int:
        """Days after its date that the owner holds a review: 0 to ``review_delay_days``."""
        return int(self.mind.integers(0, self.model.params.review_delay_days + 1))

    def end_grace(self, t: int) -> None:
        """The grace period ends: back on target keeps the salary, otherwise the cut."""
        m = self.model
        self.grace_until = None
        if self.booked_mrr >= self.quota_target(t):
            self.misses = 0
            m.log(self.name, "caught_up", f"is back on target after the extension: "
                  f"${self.booked_mrr:,.0f} booked MRR")
        else:
            self.apply_cut()

    def apply_cut(self) -> None:
        """Cut the base salary by ``performance_cut`` (once); morale takes the blow."""
        m, p = self.model, self.model.params
        self.cut_applied = True
        self.salary = p.base_salary * (1.0 - p.performance_cut)
        self.lose_morale(p.morale_cut)
        m.log(self.name, "salary_cut", f"has his base cut by {p.performance_cut:.0%} to "
              f"${self.salary:,.0f}")

    def forecast_mrr(self) -> float:
        """Booked MRR he counts on: booked, plus his open deals' MRR weighted by their chances.

        Quota credit only (his share of each deal).
        """
        return self.booked_mrr + self.pipeline_mrr()

    def feels_behind(self) -> bool:
        """Whether today he sees the quota out of reach and asks for help (a chance a workday).

        He compares his forecast (:meth:`forecast_mrr`) with where the comp plan's pace puts
        him today: ``help_threshold`` of the target for his tenure so far. His shortfall from
        that pace, as a share of what his next review needs, sets how likely he asks today:
        ``help_rate`` asks a month at a shortfall of the whole review. Nothing is behind on
        his first day, and a pipeline that keeps up with the pace keeps him from asking; the
        shortfall grows with each week his bookings fall behind. So he asks when results are
        behind, weeks into the job, not on a date.
        """
        p = self.model.params
        review = p.help_threshold * self.quota_target(self.next_review)
        if review <= 0.0:
            return False
        short = p.help_threshold * self.quota_target(self.tenure) - self.forecast_mrr()
        if short <= 0.0:
            return False
        return bool(self.mind.random() < 1.0 - math.exp(
            -p.help_rate * min(1.0, short / review) * WORKDAY / DAYS_PER_MONTH))

    def expected_income(self) -> float:
        """Income he expects over the next year.

        Salary, plus commissions at the pace earned so far, plus the commission his open
        opportunities should bring (each weighted by its chance to close).
        """
        earned = self.commission + self.hw_commission
        return (self.salary + earned * DAYS_PER_YEAR / max(self.tenure, DAYS_PER_MONTH)
                + self.pipeline_value())

    def pipeline_value(self) -> float:
        """The commission his open opportunities should bring, each weighted by its chance."""
        return self.model.params.commission_months * self.pipeline_mrr()

    def pipeline_mrr(self) -> float:
        """His credited MRR in open opportunities, each weighted by its chance to close.

        Kept up to date as his deals move: a deal's weighted MRR depends only on its stage
        while it is open (its source, product, size and owner are fixed), so only the deals that
        moved since the last call are worked out again (their old terms out, the new ones in).
        """
        mk = self.model.market
        moved = mk.take_moved(self.number)
        if not moved:
            return self._pipeline_mrr
        terms, total = self._terms, self._pipeline_mrr
        first, last = STAGE_NO.APPOINTMENT, STAGE_NO.PROPOSAL
        for i in sorted(set(moved)):
            total -= terms.pop(i, 0.0)
            if first <= mk.stage[i] <= last and mk.handler[i] == self.number:
                terms[i] = self.weighted_mrr(i)
                total += terms[i]
        self._pipeline_mrr = total if terms else 0.0
        return self._pipeline_mrr

    def weighted_mrr(self, i: int) -> float:
        """His credited MRR of the open deal in account ``i``, weighted by its chance to close."""
        m, p = self.model, self.model.params
        stage = m.market.stage[i]
        ahead = (p.assessment_rate * p.proposal_rate if stage == STAGE_NO.APPOINTMENT
                 else p.proposal_rate if stage == STAGE_NO.ASSESSMENT else 1.0)
        return (ahead * m.pipeline.close_rate(i, self.skill) * m.market.deal_mrr(i)
                * self.credit_share(i))

    def leave(self, kind: Exit, text: str) -> None:
        """Leave the dealership (he quit, or was fired); open deals are lost."""
        m = self.model
        self.left_day = m.day
        self.left_as = kind
        m.log(self.name, kind.value, text)
        m.specialist_left(self)

    # ------------------------------------------------------------------ prospecting
    def prospect(self, minutes: float) -> float:
        """Dial with ``minutes``: own customers where reps are open, cold calls elsewhere.

        Returns:
            The minutes spent (never more than ``minutes``).
        """
        m, p = self.model, self.model.params
        rng, team = self.funnel, m.team
        ask = m.manager.ask_permission
        # the open reps (team.open_reps()) and their mean wall, in plain numbers
        open_reps = [r for r, off in enumerate(team.walled_off.tolist()) if not off] if (
            p.specialist_territory == "all") else []
        f_own = p.own_account_preference if open_reps else 0.0
        lookup = p.lookup_minutes if ask else 0.0
        c_cold = p.dial_minutes + lookup
        c_own = c_cold
        if ask:
            walls = team.wall.tolist()  # their mean: np.mean's sum / count, as numpy adds
            mean_wall = (numpy_sum([walls[r] for r in open_reps]) / len(open_reps)
                         if open_reps else 0.0)
            c_own += p.permission_minutes * (1.0 + mean_wall)
        n = int(minutes / (f_own * c_own + (1.0 - f_own) * c_cold))
        n_own = int(rng.binomial(n, f_own)) if f_own > 0 else 0
        n_cold = n - n_own
        spent = n_own * c_own + n_cold * c_cold
        if spent > minutes:  # the binomial drew more own-account calls than the mean: trim
            n_own = min(n_own, int(minutes // c_own))
            n_cold = min(n_cold, int((minutes - n_own * c_own) // c_cold))
            spent = n_own * c_own + n_cold * c_cold

        own_dials = 0
        denied = False
        picks: list[tuple[int, int]] = []
        if n_own:
            per_rep = rng.multinomial(n_own, _even_shares(len(open_reps)))
            for r, k in zip(open_reps, per_rep.tolist(), strict=True):
                if k == 0:
                    continue
                rep = m.reps[r]
                calls = rep.answer_permission(k) if ask else k
                denied = denied or calls < k
                rep.touched(k, asked=ask)  # each call, and each ask, reminds him of it
                if calls:
                    own_dials += calls
                    picks.append((r, calls))
        if denied:
            self.lose_morale(p.morale_denied)
        self.dials += n_cold + own_dials

        skill = self.skill
        dial_warm = p.warm_lead_ratio ** (1.0 - p.warm_close_share)
        conv_cold = int(rng.binomial(n_cold, p.cold_connect_rate * p.conversation_rate))
        conv_own = int(rng.binomial(own_dials, p.cold_connect_rate * p.conversation_rate))
        m.books.dialled(n_cold + own_dials, conv_cold + conv_own)
        meet_cold = int(rng.binomial(conv_cold, min(1.0, p.cold_meeting_rate * skill)))
        meet_own = int(rng.binomial(conv_own, min(1.0, p.cold_meeting_rate * skill * dial_warm)))
        for _ in range(meet_cold):
            i = m.market.sample_prospect(rng, m.market.competitor_pool, m.day, COMPETITOR)
            if i >= 0:
                self.book_meeting(i, Source.COLD)
        if meet_own:
            reps = np.array([r for r, _ in picks])
            weights = np.array([c for _, c in picks], dtype=float)
            for r in rng.choice(reps, size=meet_own, p=weights / weights.sum()).tolist():
                i = m.market.sample_intro(rng, m.market.books[r], m.day)
                if i >= 0:
                    self.book_meeting(i, Source.DIRECT)
        return spent

    def book_meeting(self, i: int, source: Source) -> bool:
        """Book a first appointment with account ``i`` in the diary, or lose the lead.

        Returns:
            ``True`` if a slot was found within the prospect's patience.
        """
        m, p = self.model, self.model.params
        slot = self.diary.book(m.day + p.meeting_lead_days, m.day + p.lead_patience_days,
                               p.appointment_minutes + p.travel_minutes,
                               limit=self.diary.capacity * p.new_meeting_share)
        if slot < 0:
            m.pipeline.lost_to_capacity(i)
            return False
        mk = m.market
        mk.source[i] = int(source)
        mk.handler[i] = self.number
        mk.product[i] = MIT if self.funnel.random() < p.mit_share else MPS
        mk.move(i, Stage.CONVERSATION, m.day, due=slot)
        return True

    # ------------------------------------------------------------------ deals
    def credit_share(self, i: int) -> float:
        """This specialist's share of quota credit (and commission) on a deal in account ``i``."""
        mk = self.model.market
        owned = mk.rep[i] >= 0 and mk.source[i] != SOURCE_NO.COLD
        return specialist_credit(self.model.params) if owned else 1.0

    def closed(self, i: int, mrr: float) -> None:
        """Account ``i`` signed a managed deal worth ``mrr`` a month."""
        m, p = self.model, self.model.params
        share = self.credit_share(i)
        self.deals += 1
        self.booked_mrr += mrr * share
        self.commission += p.commission_months * mrr * share
        m.books.paid(p.commission_months * mrr * share)
        self.lose_morale(-p.morale_deal)

    def earned_hardware(self, amount: float) -> None:
        """He won open-territory hardware worth ``amount`` dollars of commission."""
        self.hw_commission += amount
        self.model.books.paid(amount)
