"""``DealershipModel``: the dealership, its market and its people, as a plain ``mesa.Model``.

The model is the schedule and the wiring. The people (:mod:`dealersim.model.people`) act; the
pipeline (:mod:`dealersim.model.pipeline`) moves opportunities; the market's calendar
(:mod:`dealersim.model.renewals`) ends leases and contracts; everything counted or paid is
reported to the books (:mod:`dealersim.model.books`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np
from mesa.time import Event, Priority

from dealersim.model import series
from dealersim.model.books import Books, hardware_margin, print_volume
from dealersim.model.clock import is_workday
from dealersim.model.events import EventLog
from dealersim.model.funnel import Stage
from dealersim.model.kpis import SERIES_COLUMNS
from dealersim.model.market import Market
from dealersim.model.params import SEED_MAX, SEED_RANGE, Params, check_int
from dealersim.model.people import HardwareRep, Owner, SalesManager, Specialist
from dealersim.model.people.hardware_rep import Team, draw_culture, initial_walls, team_goodwill
from dealersim.model.pipeline import Pipeline
from dealersim.model.recorder import SpecialistRecorder
from dealersim.model.renewals import Renewals
from dealersim.model.strategies import model_params

TIMESERIES_COLUMNS = SERIES_COLUMNS
"""Columns of the daily time series (the KPI registry's series)."""

PHASES = {"turn": 0.05, "launch": 0.1, "owner": 0.5, "manager": 0.6, "specialists": 0.8,
          "service": 0.9}
"""When in its day (a fraction of it) each kind of event runs: the day's turn (it opens, the
market moves, the pipeline steps), then the people act, then the service team starts signed
contracts."""


_TURN = PHASES["turn"]
_DEFAULT_PRIORITY = Priority.DEFAULT.value


class _Call(Event):
    """A Mesa event that holds its action directly.

    What ``schedule_event`` puts on the event list, at a fraction of its cost: the same time,
    priority and place in Mesa's order of events (``unique_id`` from Mesa's own counter), but
    the action is held by a plain reference instead of two weak references made and checked
    per event (the model keeps every agent that has events alive for the whole run anyway).
    """

    CANCELED = False  # shadows Event's property: set on the instance by cancel()

    def __init__(self, time: float, action: Callable[[], object]) -> None:  # noqa: D107
        self.time = time
        self.priority = _DEFAULT_PRIORITY
        self._canceled = False
        self.action = action
        self.fn = itertools.repeat(action).__next__  # what Mesa calls to get the callable
        self.unique_id = next(Event._ids)
        self.function_args = []
        self.function_kwargs = {}

    def execute(self) -> None:
        """Run the action (unless cancelled)."""
        if not self._canceled:
            self.action()

    def cancel(self) -> None:
        """Cancel the event (Mesa's ``Event.cancel``)."""
        super().cancel()
        self.CANCELED = True

    def __getstate__(self) -> dict[str, Any]:  # noqa: D105
        state = self.__dict__.copy()
        state["fn"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:  # noqa: D105
        self.__dict__.update(state)
        if not self._canceled:
            self.fn = itertools.repeat(self.action).__next__


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
        params = model_params(strategy, kwargs)
        if not isinstance(rng, None | np.random.Generator | np.random.BitGenerator
                          | np.random.SeedSequence):
            rng = check_int(rng, "rng", 0, SEED_MAX,
                            f"None, {SEED_RANGE} or a numpy Generator/SeedSequence")
        record_every = check_int(record_every, "record_every", 0, 2**31 - 1,
                                 "an integer >= 0 (0: only the first and last day)")
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
        self.renewals = Renewals(self)
        self.books = Books(params, self.market.n)
        self.ledger = self.books.ledger
        self.pipeline = Pipeline(self)
        self.owner = Owner(self)
        self.manager = SalesManager(self)
        culture = draw_culture(self)
        self.team_goodwill = team_goodwill(params, culture)
        walls, guards = initial_walls(self, culture)
        self.team = Team(self, params.n_reps)
        self.reps = [HardwareRep(self, r, float(w), float(g))
                     for r, (w, g) in enumerate(zip(walls, guards, strict=True))]
        self.guard_day0 = float(guards.mean())
        self.team.reps = self.reps
        self.specialists: list[Specialist] = []
        self.employed_specialists: list[Specialist] = []
        self.wall_history = np.full((self.horizon + 1, params.n_reps), np.nan)
        self.wall_mean_day60 = float("nan")
        self.record_every = int(record_every)
        self.weighings = SpecialistRecorder()

        # the days run on Mesa's event list: each agent and calendar puts its moments there;
        # Mesa's daily step event is not needed, and step() is this class's (see step)
        self._default_schedule.stop()
        del self.step
        self._busy: set[int] = set()
        self._is_open = False
        for calendar in (self.market.leases, self.market.contracts, self.market.pipeline):
            calendar.on_new_day = functools.partial(self.at, action=None)
            for day in calendar.days():
                self.at(day, None)
        self.at(1, self.owner.launch, "launch")
        if self.manager.leads:
            self.at(1, self.manager.coach, "manager")
        self.at(60, None)  # day 60's wall reading

        self.datacollector = series.recorder(self)
        series.record(self)
        self.wall_mean_day0 = self.wall_mean

    # ================================================================== state
    @property
    def specialists_hired(self) -> int:
        """Specialists hired so far in this run."""
        return len(self.specialists)

    @property
    def specialists_lost(self) -> int:
        """Specialists who quit or were let go so far."""
        return len(self.specialists) - len(self.employed_specialists)

    @property
    def specialist_present(self) -> bool:
        """Whether a specialist is working the territory now."""
        return bool(self.employed_specialists)

    @property
    def program_abandoned(self) -> bool:
        """Whether the owner has given up on managed services."""
        return self.owner.abandoned

    @property
    def program_running(self) -> bool:
        """Whether the managed-services program exists and has not been abandoned."""
        p = self.params
        return (p.specialist_seats > 0 or p.rep_managed_selling > 0) and not self.owner.abandoned

    @property
    def program_cost(self) -> float:
        """Commissions and rep credit paid so far (what the ledger reads)."""
        return self.books.program_cost

    @property
    def overbooked_days(self) -> int:
        """Specialist workdays on which more minutes were booked than the day had."""
        return sum(s.overbooked_days for s in self.specialists)

    def specialist(self, number: int) -> Specialist | None:
        """Specialist ``number`` (1 is the first hired), or ``None``."""
        return self.specialists[number - 1] if 0 < number <= len(self.specialists) else None

    def volume_on(self, day: int) -> float:
        """Print volume on ``day`` relative to day 0 (falls ``print_volume_decline`` a year)."""
        return float(self.volume[day]) if day < self.volume.size else print_volume(
            self.params, day)

    def hw_margin_now(self) -> float:
        """Hardware gross margin today, after erosion."""
        d = self.day
        return float(self.margin[d]) if d < self.margin.size else self.margin_on(d)

    def margin_on(self, day: int) -> float:
        """Hardware gross margin on ``day``, after erosion."""
        return hardware_margin(self.params, day)

    def log(self, actor: str, kind: str, text: str) -> None:
        """Add an event to the story."""
        self.events.add(self.day, actor, kind, text)

    # ================================================================== the days
    def at(self, day: int, action: Callable[[], object] | None, phase: str = "turn") -> None:
        """Put ``day`` on Mesa's event list, and ``action`` at its ``phase`` of that day.

        Day ``d`` takes the time ``(d - 1, d]``. Its first event is its turn (:meth:`_turn`):
        the days before it are closed, the day opens, leases and contracts due end and the
        pipeline steps; then the people's events run in the order of :data:`PHASES`. A day is
        closed (the books, the record) just before the next day's turn, or at the end of
        ``step()`` and ``run()``. ``action=None`` only makes ``day`` a day with a turn.
        """
        # what schedule_event(fn, at=...) does, without its weak references (see _Call)
        if day not in self._busy:
            self._busy.add(day)
            self._schedule(day - 1 + _TURN, self._turn)
        if action is not None:
            self._schedule(day - 1 + PHASES[phase], action)

    def _schedule(self, time: float, action: Callable[[], object]) -> None:
        """Put ``action`` on Mesa's event list at ``time`` (``schedule_event(action, at=time)``)."""
        if time < self.time:
            raise ValueError(f"Cannot schedule event in the past. Scheduled time is {time}, "
                             f"but current time is {self.time}")
        self._event_list.add_event(_Call(time, action))

    def next_workday(self, after: int | None = None) -> int:
        """The first workday after ``after`` (default: today)."""
        day = (self.day if after is None else after) + 1
        while not is_workday(day):
            day += 1
        return day

    def step(self) -> None:
        """One calendar day: Mesa's event list run through the next day (``run_for(1)``).

        (Mesa's own ``step`` does the same: it advances the event list by one time unit.)
        """
        self._advance_time(self.time + 1)
        self._settle(int(self.time))

    def run(self) -> DealershipModel:
        """Run the event list to the horizon and return ``self``: the same run as stepping.

        Work is in proportion to events: a stretch of days with no event is closed in one go
        when the next event comes (:meth:`_settle`).
        """
        self._advance_time(float(self.horizon))
        self._settle(self.horizon)
        return self

    def _turn(self) -> None:
        """A day with events begins: close the days before it, open it, the market moves."""
        day = int(self.time) + 1
        self._settle(day - 1)
        self._open(day)
        self.renewals.leases_end()
        self.renewals.contracts_end()
        self.pipeline.advance()

    def _open(self, day: int) -> None:
        """Start ``day``: walls settle and reps react, morale recovers, diaries turn a page."""
        self.day, self.workday, self._is_open = day, is_workday(day), True
        self.team.start_day()
        for s in self.employed_specialists:
            s.start_day()

    def _close(self) -> None:
        """Close today: the specialists' minutes, the books, the record."""
        self._is_open = False
        self.count_minutes()
        self.books.close_day(self)
        self.steps = self.day
        if self.day > self.horizon:  # stepped past the end: nothing more is recorded
            return
        if self.day == 60:
            self.wall_mean_day60 = self.wall_mean
        if self.day >= self.horizon:
            self.running = False
        every = self.record_every
        if not self.running or (every > 0 and self.day % every == 0):
            series.record(self)

    def _settle(self, last: int) -> None:
        """Close today if it is open, then the days from tomorrow to ``last`` (no events).

        With a specialist in a seat each such day (a weekend) is opened and closed in full.
        With nobody in a seat the stretch is closed in one go: the walls settle (up to the
        first day a rep reacts, which is opened and closed in full), the books accrue, the
        series records its days. Either way the result is the same as closing day by day.
        """
        if self._is_open:
            self._close()
        while self.day < last:
            if not self.employed_specialists:
                walls = self.team.quiet_walls(last - self.day)
                if walls.shape[0]:
                    self._quiet_stretch(walls)
                    continue
            self._open(self.day + 1)
            self._close()

    def _quiet_stretch(self, walls: np.ndarray) -> None:
        """Close the days ahead with nobody in a seat, at once; ``walls`` are theirs."""
        k = walls.shape[0]
        days = np.arange(self.day + 1, self.day + 1 + k)
        last = int(days[-1])
        if last >= self.volume.size:  # stepped past the horizon: extend the day tables
            more = np.arange(self.volume.size, last + 1)
            self.volume = np.concatenate((self.volume, [print_volume(self.params, d)
                                                        for d in more]))
            self.margin = np.concatenate((self.margin, hardware_margin(self.params, more)))
        self.team.wall[:] = walls[-1]
        self.team.minutes_left[:] = self.params.rep_program_minutes if is_workday(last) else 0.0
        net = self.books.close_days(self, days)
        self.day, self.workday = last, is_workday(last)
        self.steps = last
        if last > self.horizon:
            return
        if last >= self.horizon:
            self.running = False
        every = self.record_every
        on = (days % every == 0) if every > 0 else np.zeros(k, dtype=bool)
        on[-1] |= not self.running
        if on.any():
            series.record_days(self, days[on], walls[on], net[on])

    def count_minutes(self) -> None:
        """Report today's specialist minutes to the books: available, and booked."""
        if self.specialists:
            active = [s for s in self.specialists if s.left_day is None or s.left_day == self.day]
            self.books.minutes(sum(s.minutes_available_today for s in active),
                               sum(s.minutes_booked_today for s in active))

    # ================================================================== staffing
    def hire_specialist(self) -> Specialist:
        """Put a new specialist in a seat."""
        s = Specialist(self, number=len(self.specialists) + 1)
        self.specialists.append(s)
        self.employed_specialists.append(s)
        self.at(self.next_workday(self.day - 1), s.workday, "specialists")
        if s.number == 1:
            self.log(s.name, "hired", "starts: two weeks on the phones, every call logged in "
                     "the CRM")
        return s

    def specialist_left(self, s: Specialist) -> None:
        """A specialist quit or was fired: open deals walk out with them."""
        self.employed_specialists.remove(s)
        mk = self.market
        open_deals = np.flatnonzero(
            (mk.handler == s.number) & (mk.stage > Stage.NONE) & (mk.stage < Stage.IMPLEMENTATION)
        )
        mk.drop_many(open_deals, self.day)
        self.pipeline.serve(self.day)  # contracts waiting for his hand-off start without it
        self.owner.lost_specialist(s)

    # ================================================================== reporting
    @property
    def wall_mean(self) -> float:
        """The reps' wall today, averaged over reps."""
        return float(self.team.wall.mean())

    @property
    def wall_max(self) -> float:
        """The most protective rep's wall today."""
        return float(self.team.wall.max())
