"""``DealershipModel``: the dealership, its market and its people, as a plain ``mesa.Model``."""

from __future__ import annotations

import operator
from collections import deque
from typing import Any

import mesa
import numpy as np
from mesa.time import Schedule

from dealersim.model.diary import DIARY_DAYS, is_workday
from dealersim.model.events import EventLog
from dealersim.model.funnel import SOURCE_NO, STAGE_NO, Source, Stage
from dealersim.model.kpis import SERIES_COLUMNS
from dealersim.model.ledger import Ledger
from dealersim.model.market import COMPETITOR, DAYS_PER_MONTH, MPS, US, Market, months_later
from dealersim.model.params import SEED_MAX, SEED_RANGE, Params, check_int, shown
from dealersim.model.people import HardwareRep, Owner, SalesManager, Specialist
from dealersim.model.people.hardware_rep import (
    Team,
    draw_culture,
    initial_walls,
    rep_credit,
    team_goodwill,
)
from dealersim.model.recorder import SeriesRecorder, recorded_rows
from dealersim.model.strategies import make_params, strategy_names

TIMESERIES_COLUMNS = SERIES_COLUMNS
"""Columns of the daily time series (the KPI registry's series; each one a model attribute)."""

_WALL_COLUMNS = ("wall_mean", "wall_max")
"""Series derived from ``wall_history`` when read, not copied every recorded day."""

_STAGE_COLUMNS = tuple(
    (f"stage_{stage.name.lower()}", int(stage))
    for stage in (Stage.CONVERSATION, Stage.APPOINTMENT, Stage.ASSESSMENT, Stage.PROPOSAL,
                  Stage.IMPLEMENTATION)
)
"""Series counting the open opportunities at each funnel stage, with the stage's index."""
_STAGE_NAMES = tuple(column for column, _ in _STAGE_COLUMNS)
_STAGE_COUNTS = operator.itemgetter(*(stage for _, stage in _STAGE_COLUMNS))

_SIGNED = (int(Stage.IMPLEMENTATION), int(Stage.LIVE))
"""Stages of a signed managed contract (``managed_contracts`` counts both)."""


def _in_order(total: float, terms: np.ndarray | list[float]) -> float:
    """``total`` plus ``terms`` added one at a time, in order (as daily ``+=`` would add them)."""
    for term in terms.tolist() if isinstance(terms, np.ndarray) else terms:
        total += term
    return total


def print_volume(p: Params, day: int) -> float:
    """Print volume on ``day`` relative to day 0 (falls ``print_volume_decline`` a year)."""
    return (1.0 - p.print_volume_decline) ** (day / 365.0)


def hardware_margin(p: Params, day: int | np.ndarray) -> float | np.ndarray:
    """Hardware gross margin on ``day`` (or on each of an array of days), after erosion."""
    margin = np.maximum(0.0, p.hw_margin - p.hw_margin_erosion * day / 365.0)
    return margin if isinstance(day, np.ndarray) else float(margin)


def new_seed() -> int:
    """A fresh 63-bit seed from OS entropy, for runs started without one."""
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))


class DealershipModel(mesa.Model):
    """An office-equipment dealership launching managed services, one step per calendar day.

    Args:
        strategy: Name of a strategy preset (see ``dealersim strategies``).
        rng: Seed or generator, as for ``mesa.Model``. Every random draw goes through
            ``self.rng``. When ``None`` a seed is drawn from OS entropy and recorded in
            ``self.seed``.
        record_every: Collect the daily time series every this many days (1: every day;
            0: only day 0 and the last day, for sweeps that keep summaries only). Results do
            not depend on it.
        **kwargs: ``Params`` field overrides (e.g. ``n_reps=12``), or ``params=`` a complete
            ``Params`` object to use instead of the strategy preset.

    Example:
        >>> model = DealershipModel("planned", rng=1, years=1)
        >>> while model.running:
        ...     model.step()
    """

    def __init__(
        self, strategy: str = "overlay", *, rng: Any = None, record_every: int = 1, **kwargs: Any
    ) -> None:
        if not isinstance(strategy, str) or strategy not in strategy_names():
            raise ValueError(f"strategy: {shown(strategy)} is unknown; "
                             f"expected one of {', '.join(strategy_names())}")
        if not isinstance(rng, None | np.random.Generator | np.random.BitGenerator
                          | np.random.SeedSequence):
            rng = check_int(rng, "rng", 0, SEED_MAX,
                            f"None, {SEED_RANGE} or a numpy Generator/SeedSequence")
        record_every = check_int(record_every, "record_every", 0, 2**31 - 1,
                                 "an integer >= 0 (0: only the first and last day)")
        params = kwargs.pop("params", None)
        if params is not None and not isinstance(params, Params):
            raise ValueError(f"params: {shown(params)} is not allowed; expected a Params object")
        if params is None:
            params = make_params(strategy, **kwargs)
        elif kwargs:
            params = params.replace(**kwargs)
        if rng is None:
            rng = new_seed()
        super().__init__(rng=rng)
        self.seed: int | None = int(rng) if isinstance(rng, int | np.integer) else None
        self.strategy = strategy
        self.params: Params = params
        self.horizon = params.horizon_days
        self.events = EventLog()
        self.day = 0
        self.workday = False

        # the day's print volume and hardware margin, as the day's books use them
        self.volume = np.array([print_volume(params, d) for d in range(self.horizon + 1)])
        self.margin = hardware_margin(params, np.arange(self.horizon + 1))
        self.market = Market(params, self.rng)
        # renewal luck has its own stream, one draw per account and lease end, so that two
        # strategies on the same seed meet the same price war (common random numbers)
        cycles = int(params.horizon_days / (30 * params.lease_term_months)) + 3
        self._renewal_u = self.rng.spawn(1)[0].random((self.market.n, cycles))
        self._lease_ends = np.zeros(self.market.n, dtype=np.int64)
        self.ledger = Ledger(params, self.market.n)
        self.owner = Owner(self)
        self.manager = SalesManager(self)
        culture = draw_culture(self)
        self.team_goodwill = team_goodwill(params, culture)
        walls = initial_walls(self, culture)
        self.team = Team(self, params.n_reps)
        self.reps = [HardwareRep(self, r, float(w)) for r, w in enumerate(walls)]
        self.team.reps = self.reps
        self.specialists: list[Specialist] = []
        self.employed_specialists: list[Specialist] = []
        self._by_number: dict[int, Specialist] = {}

        self.program_abandoned = False
        self.specialists_lost = 0
        self.program_cost = 0.0
        self.salaries_paid = 0.0
        self.hw_gp = 0.0
        self.managed_gp = 0.0
        self.dials = 0
        self.conversations = 0
        self.permission_requests = 0
        self.permission_denied = 0
        self.first_appointments = np.zeros(len(Source), dtype=np.int64)
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
        self._implementing: set[int] = set()
        self._impl_queue: deque[int] = deque()
        self.wall_history = np.full((self.horizon + 1, params.n_reps), np.nan)
        self.wall_mean_day60 = float("nan")
        self.record_every = int(record_every)
        self.leads_lost_to_capacity = 0
        self.minutes_booked_total = 0.0
        self.minutes_available_total = 0.0
        self.minutes_booked_today = 0.0
        self.minutes_available_today = 0.0

        self.datacollector = SeriesRecorder(
            TIMESERIES_COLUMNS, capacity=recorded_rows(self.horizon, self.record_every),
            derived=_WALL_COLUMNS, derive=self._wall_series,
        )
        self._record()
        self.wall_mean_day0 = self.wall_mean
        self.datacollector.collect(self)

    # ================================================================== state
    @property
    def specialists_hired(self) -> int:
        """Specialists hired so far in this run."""
        return len(self.specialists)

    @property
    def specialist_present(self) -> bool:
        """Whether a specialist is working the territory now."""
        return bool(self.employed_specialists)

    @property
    def program_running(self) -> bool:
        """Whether the managed-services program exists and has not been abandoned."""
        p = self.params
        return (p.specialist_seats > 0 or p.rep_managed_selling > 0) and not self.program_abandoned

    def log(self, actor: str, kind: str, text: str) -> None:
        """Add an event to the story."""
        self.events.add(self.day, actor, kind, text)

    # ================================================================== the day
    def step(self) -> None:
        """One calendar day: the market moves, then the people act, then the books close."""
        self.day += 1
        self.workday = is_workday(self.day)
        if self.day == 1:
            self.owner.launch()
        for specialist in self.employed_specialists:
            specialist.diary.advance(self.day)
        self.resolve_lease_ends()
        self.resolve_contract_ends()
        self.advance_pipeline()
        self.owner.step()
        self.manager.step()
        self.team.step()
        for specialist in list(self.employed_specialists):
            specialist.step()
        self.count_minutes()
        self.start_implementations()
        self.accrue()
        if self.day == 60:
            self.wall_mean_day60 = self.wall_mean
        if self.day >= self.horizon:
            self.running = False
        every = self.record_every
        if not self.running or (every > 0 and self.day % every == 0):
            self._record()
            self.datacollector.collect(self)

    def count_minutes(self) -> None:
        """Add up today's specialist minutes: available, and booked (meetings, hardware, dials)."""
        if not self.specialists:
            return
        active = [s for s in self.specialists if s.left_day is None or s.left_day == self.day]
        self.minutes_available_today = sum(s.minutes_available_today for s in active)
        self.minutes_booked_today = sum(s.minutes_booked_today for s in active)
        self.minutes_available_total += self.minutes_available_today
        self.minutes_booked_total += self.minutes_booked_today

    @property
    def overbooked_days(self) -> int:
        """Specialist workdays on which more minutes were booked than the day had."""
        return sum(s.overbooked_days for s in self.specialists)

    def lost_to_capacity(self, i: int) -> None:
        """A prospect found no slot in the diary within his patience: the lead cools off."""
        mk = self.market
        self.leads_lost_to_capacity += 1
        if self.leads_lost_to_capacity == 1:
            self.log("specialist", "diary_full", "has no slot for a prospect within "
                     f"{self.params.lead_patience_days} days: the lead cools off")
        if mk.stage[i] != STAGE_NO.NONE:
            mk.move(i, Stage.NONE, self.day)
        else:
            mk.cooldown[i] = self.day + self.params.prospect_cooldown_days

    def run(self) -> DealershipModel:
        """Step until the horizon and return ``self``: the same run as calling :meth:`step`.

        The days are stepped directly, keeping Mesa's clock (``steps``, ``time``) exactly as
        :meth:`step` would, without scheduling one event per day on Mesa's event list; the
        daily schedule is restarted afterwards, so :meth:`step` still works on the returned
        model. (``mesa.batch_run`` and SolaraViz call :meth:`step` and are unaffected.)

        Work is in proportion to events: a stretch of **quiet days** (no specialist at work, no
        opportunity open, no lease, contract or pipeline step due, no seat to fill, no rep
        whose wall crosses a level he reacts to) is passed in one go by
        :meth:`pass_quiet_days`, which books exactly what stepping those days would book.
        """
        daily = self._default_schedule
        daily.stop()
        try:
            while self.running:
                quiet = self.quiet_days_ahead()
                if quiet and self.pass_quiet_days(quiet):
                    continue
                self.time += 1
                self.steps += 1
                self._user_step()
        finally:
            daily.schedule = Schedule(interval=1.0, start=self.time + 1)
            daily.start()
        return self

    def quiet_days_ahead(self) -> int:
        """How many days from tomorrow on are quiet (see :meth:`run`); 0 if tomorrow is not.

        The day a stretch ends on (an event, day 60's wall reading, the last day) is stepped.
        """
        if self.employed_specialists or self._impl_queue or self._implementing:
            return 0
        mk = self.market
        if mk.stage_counts[Stage.CONVERSATION:Stage.LIVE].any():
            return 0
        first = self.day + 1
        last = self.horizon - 1
        if first < 2 or first > last:
            return 0
        if first <= 60 <= last:
            last = 59
        for calendar in (mk.leases, mk.contracts, mk.pipeline):
            due = calendar.next_day(first)
            if due is not None:
                last = min(last, due - 1)
        vacant = self.owner.vacant_since
        if vacant:
            last = min(last, vacant[0] + self.params.hiring_lag_days - 1)
        return max(0, last - first + 1)

    def pass_quiet_days(self, n: int) -> int:
        """Pass up to ``n`` quiet days at once; return how many were passed.

        What a stepped quiet day does, for the whole stretch: the walls settle (up to the first
        day a rep reacts, which is stepped instead), the books accrue, the series records its
        days, and Mesa's clock moves on. Results match :meth:`step` day by day exactly.
        """
        walls = self.team.quiet_walls(n)
        k = walls.shape[0]
        if k == 0:
            return 0
        p, mk = self.params, self.market
        days = np.arange(self.day + 1, self.day + 1 + k)
        last = int(days[-1])
        self.team.wall[:] = walls[-1]
        self.team.minutes_left[:] = p.rep_program_minutes if is_workday(last) else 0.0
        self.hw_gp = _in_order(self.hw_gp, mk.held_value * self.volume[days] / DAYS_PER_MONTH
                               * self.margin[days])
        self.managed_gp = _in_order(self.managed_gp,
                                    [mk.live_mrr / DAYS_PER_MONTH * p.managed_margin] * k)
        signed = int(mk.stage_counts[Stage.IMPLEMENTATION] + mk.stage_counts[Stage.LIVE])
        self.exposure_managed += k * signed
        self.exposure_hw_only += k * (mk.n_held - signed)
        net = self.ledger.quiet_days(self, days)
        self.minutes_available_today = self.minutes_booked_today = 0.0
        self.day, self.workday = last, is_workday(last)
        self.time += k
        self.steps += k
        every = self.record_every
        if every > 0:
            on = (days % every) == 0
            if on.any():
                self.wall_history[days[on]] = walls[on]
                self._series_attributes()
                self.datacollector.collect_days(self, days[on], {
                    "day": days[on], "cumulative_gross_profit": net[on]})
        return k

    # ================================================================== staffing
    def hire_specialist(self) -> Specialist:
        """Put a new specialist in a seat."""
        s = Specialist(self, number=len(self.specialists) + 1)
        self.specialists.append(s)
        self.employed_specialists.append(s)
        self._by_number[s.number] = s
        if s.number == 1:
            self.log(s.name, "hired", "starts: two weeks on the phones, every call logged in "
                     "the CRM")
        return s

    def specialist_left(self, s: Specialist) -> None:
        """A specialist quit or was fired: open deals walk out with them."""
        self.employed_specialists.remove(s)
        self.specialists_lost += 1
        mk = self.market
        open_deals = np.flatnonzero(
            (mk.handler == s.number) & (mk.stage > Stage.NONE) & (mk.stage < Stage.IMPLEMENTATION)
        )
        mk.drop_many(open_deals, self.day)
        self.owner.lost_specialist(s)

    # ================================================================== market events
    def open_territory_win_rate(self) -> float:
        """Chance that an open-territory account is won for us at its lease end."""
        p = self.params
        if not p.open_territory or p.hardware_time_share == 0:
            return 0.0
        share = sum(s.hardware_share() for s in self.employed_specialists)
        return min(1.0, p.hardware_win_rate * share / p.hardware_time_share)

    def resolve_lease_ends(self) -> None:
        """The price war: every lease ending today renews with us, goes, or is won."""
        mk, p = self.market, self.params
        idx = mk.leases_due(self.day)
        if idx.size == 0:
            return
        ours_before = mk.holder[idx] == US
        signed_before = mk.stage[idx] >= STAGE_NO.IMPLEMENTATION
        win_prob = np.where(mk.rep[idx] >= 0, p.competitor_win_rate, self.open_territory_win_rate())
        u = self._renewal_u[idx, np.minimum(self._lease_ends[idx], self._renewal_u.shape[1] - 1)]
        self._lease_ends[idx] += 1
        lost, won = mk.apply_renewals(self.day, idx, u, win_prob)
        lost_mask = ours_before & (mk.holder[idx] == COMPETITOR)
        self.accounts_lost += lost.size
        n_signed_lost = int((lost_mask & signed_before).sum())
        self.losses_managed += n_signed_lost
        self.losses_hw_only += lost.size - n_signed_lost
        open_won = won[mk.rep[won] < 0]
        if open_won.size and self.employed_specialists:
            earned = float(mk.lease_value[open_won].sum()) * 12 * self.hw_margin_now() * (
                p.hardware_commission
            )
            self.employed_specialists[0].hw_commission += earned
            self.program_cost += earned
        if p.rep_managed_selling > 0 and self.program_running:
            self.reps_pitch_managed(idx[ours_before & ~lost_mask & ~signed_before])

    def reps_pitch_managed(self, kept: np.ndarray) -> None:
        """Trained reps pitch managed services at the renewals they just kept."""
        mk, p = self.market, self.params
        kept = kept[mk.stage[kept] == STAGE_NO.NONE]
        chance = p.rep_managed_selling * p.rep_managed_effectiveness * self.warm_opp_to_deal()
        for i in kept[self.rng.random(kept.size) < chance].tolist():
            mk.source[i] = SOURCE_NO.REP
            mk.product[i] = MPS
            self.close_deal(i, None)

    def resolve_contract_ends(self) -> None:
        """Managed contracts ending today renew, or the customer leaves us."""
        mk, p = self.market, self.params
        idx = mk.contracts_due(self.day)
        if idx.size == 0:
            return
        churn = self.rng.random(idx.size) < p.managed_renewal_churn
        gone = idx[churn]
        mk.lose(gone, self.day)
        self.accounts_lost += gone.size
        self.losses_managed += gone.size
        for i in idx[~churn].tolist():
            mk.managed_end[i] = months_later(self.day, p.managed_term_months)
            mk.contracts.add(int(mk.managed_end[i]), i)

    # ================================================================== pipeline
    def warm_opp_to_deal(self) -> float:
        """Opportunity-to-deal rate of our own customers.

        The cold rate times the warm advantage's close-stage part,
        ``warm_lead_ratio ** warm_close_share``.
        """
        p = self.params
        return p.opp_to_deal_cold * p.warm_lead_ratio ** p.warm_close_share

    def close_rate(self, i: int, skill: float) -> float:
        """Chance that a proposal to account ``i`` closes, for a seller of ``skill``."""
        return float(self.close_rates(np.array([i]), skill)[0])

    def close_rates(self, idx: np.ndarray, skill: float) -> np.ndarray:
        """:meth:`close_rate` of every account in ``idx`` at once."""
        p, mk = self.params, self.market
        opp = np.where(mk.source[idx] == SOURCE_NO.COLD, p.opp_to_deal_cold,
                       self.warm_opp_to_deal())
        return np.minimum(1.0, opp / (p.assessment_rate * p.proposal_rate) * skill)

    def advance_pipeline(self) -> None:
        """Move every opportunity whose next step is due today.

        Each visit (assessment, proposal) is booked in the handling specialist's diary on the
        first day with room; a prospect who would wait longer than ``lead_patience_days`` is
        lost to capacity.
        """
        mk, p, rng = self.market, self.params, self.rng
        due = mk.pipeline_due(self.day)
        if due.size == 0:
            return
        for i in sorted(set(due.tolist())):
            stage = int(mk.stage[i])
            if stage == Stage.NONE or mk.stage_due[i] != self.day:
                continue
            s = self._by_number.get(int(mk.handler[i]))
            if stage == Stage.IMPLEMENTATION:
                self._implementing.discard(i)
                mk.move(i, Stage.LIVE, self.day)
                mk.start_managed(i, self.day)
                continue
            if s is None or s.left_day is not None:
                mk.move(i, Stage.NONE, self.day)
                continue
            if stage == Stage.CONVERSATION:  # the first appointment, booked in the diary
                self.first_appointments[mk.source[i]] += 1
                if self.first_appointments.sum() == 1:
                    self.log(s.name, "first_appointment", "holds his first appointment ("
                             f"{Source(mk.source[i]).name.lower()} lead)")
                mk.move(i, Stage.APPOINTMENT, self.day, due=self.day + p.discovery_days)
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
                mk.move(i, Stage.ASSESSMENT, self.day, due=slot + length)
            elif stage == Stage.ASSESSMENT:
                if rng.random() >= p.proposal_rate:
                    self.rejected(i, s)
                    continue
                slot = self.book_visit(s, p.proposal_minutes)
                if slot < 0:
                    self.lost_to_capacity(i)
                    continue
                self.proposals += 1
                mk.move(i, Stage.PROPOSAL, self.day, due=slot + p.proposal_days)
            elif stage == Stage.PROPOSAL:
                self.decide(i, s)

    def book_visit(self, s: Specialist, minutes: float) -> int:
        """Book a customer visit of ``minutes`` (plus travel) in ``s``'s diary; -1 if no room."""
        p = self.params
        return s.diary.book(self.day + 1, self.day + p.lead_patience_days,
                            minutes + p.travel_minutes)

    def rejected(self, i: int, s: Specialist) -> None:
        """The customer says no: the opportunity ends and the specialist's morale dips."""
        self.market.move(i, Stage.NONE, self.day)
        s.lose_morale(self.params.morale_rejection)

    def decide(self, i: int, s: Specialist) -> None:
        """The customer decides on a proposal, or postpones to the lease end."""
        mk, p, rng = self.market, self.params, self.rng
        window_opens = int(mk.lease_end[i]) - p.close_window_days
        if window_opens > self.day and rng.random() < p.postpone_share:
            mk.stage_due[i] = window_opens
            mk.pipeline.add(window_opens, i)
            return
        if rng.random() < self.close_rate(i, s.skill):
            self.close_deal(i, s)
        else:
            self.rejected(i, s)

    def close_deal(self, i: int, s: Specialist | None) -> None:
        """Account ``i`` signs a managed contract.

        A competitor-held account comes over to us with a new lease; our own customer keeps
        the lease it has, which now renews with the managed contract's stickiness.
        """
        mk = self.market
        mrr = mk.deal_mrr(i, self.volume_on(self.day))  # managed print: at today's billing
        self.ledger.signed(self, i, mrr)
        if mk.holder[i] == COMPETITOR:  # we take the account over: a new lease with us
            mk.gain(np.array([i]))
            mk.renew_lease(np.array([i]), self.day)
        mk.move(i, Stage.IMPLEMENTATION, self.day)
        self._impl_queue.append(i)
        self.deals += 1
        self.booked_total += mrr
        if self.day <= 365:
            self.booked_year1 += mrr
        who = s.name if s is not None else f"rep {int(mk.rep[i]) + 1}"
        if s is not None:
            s.closed(i, mrr)
            self.credit_rep(i, mrr)
        else:
            self.program_cost += self.params.commission_months * mrr
        if self.first_deal_day is None:
            self.first_deal_day = self.day
            self.log(who, "first_deal", f"closes the first managed deal: ${mrr:,.0f} a month")
        else:
            self.log(who, "deal", f"closes a managed deal: ${mrr:,.0f} a month")

    def credit_rep(self, i: int, mrr: float) -> None:
        """Pay the owning rep his credit on a deal in his account (a cost); he sees the deal."""
        r = int(self.market.rep[i])
        if r < 0:
            return
        self.program_cost += rep_credit(self.params) * self.params.commission_months * mrr
        self.reps[r].deal_in_book()

    def start_implementations(self) -> None:
        """The service team starts signed contracts as capacity frees up.

        A contract the specialist closed starts on the day of its hand-off, booked in his diary
        (``handoff_minutes``); it waits in the queue while his diary has no room.
        """
        if not (self._impl_queue or self._implementing):
            return
        mk, p = self.market, self.params
        signed = STAGE_NO.IMPLEMENTATION
        self._implementing = {i for i in self._implementing if mk.stage[i] == signed}
        while self._impl_queue and len(self._implementing) < p.implementation_capacity:
            i = self._impl_queue[0]
            if mk.stage[i] != signed or i in self._implementing:
                self._impl_queue.popleft()
                continue
            start = self.day
            s = self._by_number.get(int(mk.handler[i]))
            if s is not None and s.left_day is None and p.handoff_minutes > 0:
                start = s.diary.book(self.day + 1, self.day + DIARY_DAYS - 1, p.handoff_minutes)
                if start < 0:
                    break
            self._impl_queue.popleft()
            self._implementing.add(i)
            mk.stage_due[i] = start + p.implementation_days
            mk.pipeline.add(start + p.implementation_days, i)

    # ================================================================== money
    def volume_on(self, day: int) -> float:
        """Print volume on ``day`` relative to day 0 (falls ``print_volume_decline`` a year)."""
        return print_volume(self.params, day)

    def margin_on(self, day: int) -> float:
        """Hardware gross margin on ``day``, after erosion."""
        return hardware_margin(self.params, day)

    def hw_margin_now(self) -> float:
        """Hardware gross margin today, after erosion."""
        d = self.day
        return float(self.margin[d]) if d < self.margin.size else self.margin_on(d)

    def accrue(self) -> None:
        """Book one day of gross profit and costs (and in the ledger), and of churn exposure."""
        p, mk, d = self.params, self.market, self.day
        volume = float(self.volume[d]) if d < self.volume.size else self.volume_on(d)
        self.hw_gp += mk.held_value * volume / DAYS_PER_MONTH * self.hw_margin_now()
        self.managed_gp += mk.live_mrr / DAYS_PER_MONTH * p.managed_margin
        self.salaries_paid += sum(s.salary for s in self.employed_specialists) / 365.0
        signed = int(mk.stage_counts[Stage.IMPLEMENTATION] + mk.stage_counts[Stage.LIVE])
        self.exposure_managed += signed
        self.exposure_hw_only += mk.n_held - signed
        self.ledger.day(self)

    # ================================================================== reporting
    def _record(self) -> None:
        """Keep today's walls and refresh the attributes the recorder copies."""
        self.wall_history[self.day] = self.team.wall
        self._series_attributes()

    def _series_attributes(self) -> None:
        """Refresh the attributes the recorder copies (cheap: all are incremental)."""
        mk = self.market
        counts = mk.stage_counts.tolist()
        self.hardware_accounts = mk.n_held
        self.competitor_accounts = mk.n - mk.n_held
        self.managed_contracts = counts[_SIGNED[0]] + counts[_SIGNED[1]]
        self.managed_mrr = mk.live_mrr
        self.booked_mrr = self.booked_total
        vars(self).update(zip(_STAGE_NAMES, _STAGE_COUNTS(counts), strict=True))
        self.first_appointments_total = sum(self.first_appointments.tolist())
        staff = self.employed_specialists
        self.specialist_employed = len(staff)
        if staff:
            self.specialist_salary = sum(s.salary for s in staff)
            self.specialist_booked_mrr = sum(s.booked_mrr for s in staff)
            self.quota_target = sum(s.quota_target(s.tenure) for s in staff)
        else:
            self.specialist_salary = self.specialist_booked_mrr = self.quota_target = 0
        self.specialist_minutes_booked = self.minutes_booked_today
        self.specialist_minutes_available = self.minutes_available_today
        self.cumulative_gross_profit = self.ledger.net_total

    @property
    def wall_mean(self) -> float:
        """The reps' wall today, averaged over reps."""
        return float(self.team.wall.mean())

    @property
    def wall_max(self) -> float:
        """The most protective rep's wall today."""
        return float(self.team.wall.max())

    def _wall_series(self, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``wall_mean`` and ``wall_max`` on the recorded days, from ``wall_history``."""
        walls = self.wall_history[columns["day"]]
        return {"wall_mean": walls.mean(axis=1), "wall_max": walls.max(axis=1)}
