"""A hardware rep: works a book of accounts and guards it with a wall."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from dealersim.model.clock import DAYS_PER_WEEK
from dealersim.model.funnel import Source
from dealersim.model.params import Params

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel

REP_PAID = {"none": False, "split": True, "double": True, "team": True}
"""Whether reps earn credit on managed deals in their books, by credit policy."""


def rep_credit(params: Params) -> float:
    """The share of a managed deal's commission a rep earns on a deal in his book.

    This one number is how credit acts: it sets the rep's resting wall, his motivation to
    introduce, whether a deal in his book is a shared win or a deal taken, and the commission
    the dealership pays him.
    """
    return params.rep_credit_share if REP_PAID[params.credit_policy] else 0.0


def specialist_credit(params: Params) -> float:
    """The specialist's share of quota credit on a deal in a rep's book (split: the rest)."""
    return 1.0 - params.rep_credit_share if params.credit_policy == "split" else 1.0


class HardwareRep(mesa.Agent):
    """A hardware rep with a book of accounts and a wall (protectiveness, 0-1) around it.

    The wall drifts toward a resting level: the rep's own guard (culture, history of failed
    specialists) less the relief from what he earns on managed deals in his book (credit). It
    rises with what the specialist does (each call into his accounts, each deal taken without
    credit) and with a surprise launch; it falls after shared wins, a leading manager's coaching
    and stepping in, and the owner's interventions. A high wall means complaints, denied
    permission and no warm intros. The rep gives the program a few minutes a workday.
    """

    def __init__(self, model: DealershipModel, index: int, wall: float,
                 guard: float | None = None) -> None:
        super().__init__(model)
        self.index = index
        self.name = f"rep {index + 1}"
        self.book = model.market.books[index]
        self.team = model.team
        self.team.base_wall[index] = wall if guard is None else guard
        self.team.wall[index] = wall
        self.denied_once = False
        self.intros = 0

    # The rep's state lives in the team's columns (see :class:`Team`), so that the whole team's
    # day is a handful of numpy operations; these properties read and write his entry.
    wall = property(lambda self: float(self.team.wall[self.index]),
                    lambda self, v: self.team.wall.__setitem__(self.index, v),
                    doc="How protective he is of his accounts today (0 open, 1 walled off).")
    base_wall = property(lambda self: float(self.team.base_wall[self.index]),
                         lambda self, v: self.team.base_wall.__setitem__(self.index, v),
                         doc="His own guard: where his wall rests with no credit.")
    complained = property(lambda self: bool(self.team.complained[self.index]),
                          lambda self, v: self.team.complained.__setitem__(self.index, v),
                          doc="Whether he has complained to the manager (and not calmed down).")
    walled_off = property(lambda self: bool(self.team.walled_off[self.index]),
                          lambda self, v: self.team.walled_off.__setitem__(self.index, v),
                          doc="Whether his accounts are closed to the specialist.")
    minutes_left = property(lambda self: float(self.team.minutes_left[self.index]),
                            lambda self, v: self.team.minutes_left.__setitem__(self.index, v),
                            doc="Minutes of today's program time he has left.")

    # ------------------------------------------------------------------ wall
    @property
    def credit(self) -> float:
        """This rep's share of the commission on managed deals in his accounts."""
        return rep_credit(self.model.params)

    def resting_wall(self) -> float:
        """Where the wall settles: his guard less the relief from his credit."""
        return float(self.team.resting_walls(np.array([self.index]))[0])

    def raise_wall(self, amount: float) -> None:
        """Move the wall by ``amount`` (negative lowers it), kept in [0, 1]."""
        wall, r = self.team.wall, self.index
        x = wall.item(r) + amount  # min(1.0, max(0.0, x)) by comparisons, the same value
        x = x if x > 0.0 else 0.0
        wall[r] = x if x < 1.0 else 1.0

    def shift_guard(self, amount: float) -> None:
        """A lasting change of his guard, and his wall with it (negative lowers both).

        What the owner does to the team's norms lasts: a launch the reps learn of on the day
        breeds distrust, objectives driven through the team before the launch build trust.
        """
        guard, r = self.team.base_wall, self.index
        guard[r] = min(1.0, max(0.0, float(guard[r]) + amount))
        self.raise_wall(amount)

    def touched(self, n: int, asked: bool) -> None:
        """The specialist called ``n`` of this rep's accounts (``asked``: with permission).

        Each call raises the wall by ``wall_touch_shock``, times ``rules_touch_factor`` under
        written rules of engagement, or ``asked_touch_factor`` when the rep was asked first.
        """
        p = self.model.params
        shock = p.wall_touch_shock * n
        if p.rules_of_engagement:
            shock *= p.rules_touch_factor
        elif asked:
            shock *= p.asked_touch_factor
        self.raise_wall(shock)

    def deal_in_book(self) -> None:
        """A managed deal closed in this rep's account: a shared win if he earns from it."""
        p = self.model.params
        self.raise_wall(-p.shared_win_relief if self.credit > 0 else p.deal_taken_shock)

    def complaint_due(self) -> bool:
        """Whether a week has passed since his last complaint (he complains again)."""
        return self.model.day - float(self.team.last_complaint[self.index]) >= DAYS_PER_WEEK

    def react_to_wall(self) -> None:
        """Complain at the complaint level (again each week); wall off at the wall-off level."""
        p, m = self.model.params, self.model
        if (self.wall >= p.complaint_level and m.specialist_present
                and (not self.complained or self.complaint_due())):
            if not self.complained:
                m.log(self.name, "wall_up", "tells the manager nobody works his accounts "
                      f"without his permission (wall {self.wall:.2f})")
            self.complained = True
            self.team.last_complaint[self.index] = m.day
            m.manager.hear_complaint(self)
        elif self.complained and self.wall < p.complaint_level - p.wall_hysteresis:
            self.complained = False
        if not self.walled_off and self.wall >= p.wall_block_level:
            self.walled_off = True
            m.log(self.name, "walled_off", "walls off his accounts: the specialist is left "
                  f"with cold calls there (wall {self.wall:.2f})")
        elif self.walled_off and self.wall < p.wall_block_level - p.wall_hysteresis:
            self.walled_off = False
            m.log(self.name, "wall_down", f"opens his accounts again (wall {self.wall:.2f})")

    # ------------------------------------------------------------------ cooperation
    def motivation(self) -> float:
        """How much this rep wants to bring the specialist in (0-1).

        The team's goodwill, plus what he earns from a managed deal (credit), plus joint account
        planning with a leading manager. (Training acts on what he notices: :meth:`spotting`.)
        """
        p, m = self.model.params, self.model
        planning = m.manager.leadership if m.manager.leads else 0.0
        drive = (
            m.team_goodwill
            + p.credit_motivation_weight * self.credit
            + p.planning_motivation_weight * planning
        )
        return min(1.0, drive)

    def spotting(self) -> float:
        """Share of managed-services opportunities in his book this rep notices (training)."""
        p = self.model.params
        return p.untrained_spotting + (1.0 - p.untrained_spotting) * p.rep_training

    def spend_minutes(self, minutes: float) -> bool:
        """Take ``minutes`` from today's program time; ``False`` if there is not enough left."""
        left, r = self.team.minutes_left, self.index
        now = left.item(r)
        if minutes > now + 1e-9:
            return False
        left[r] = now - minutes
        return True

    def introduce(self) -> None:
        """Introduce the specialist to one of our customers nearing lease end, if time allows."""
        m, p = self.model, self.model.params
        rng = self.team.rng
        i = m.market.sample_intro(rng, self.book, m.day)
        if i < 0 or not self.spend_minutes(p.intro_minutes):
            return
        seated = m.employed_specialists
        # with one in a seat there is nothing to draw: the generator's integers over a single
        # value returns it without taking a number from the stream, so skipping it is the same run
        specialist = seated[int(rng.integers(len(seated)))] if len(seated) > 1 else seated[0]
        if rng.random() < p.intro_meeting_rate and specialist.book_meeting(i, Source.INTRO):
            self.intros += 1
            specialist.lose_morale(-p.morale_intro)

    def answer_permission(self, requests: int) -> int:
        """Answer ``requests`` asks to call this rep's accounts; return how many are granted.

        Each answer takes ``permission_answer_minutes`` of the rep's program time; requests he
        has no time for go unanswered (not granted).
        """
        m, p = self.model, self.model.params
        if requests <= 0:
            return 0
        team, r = self.team, self.index  # his entries in the team's columns, read directly
        per = p.permission_answer_minutes
        left = team.minutes_left.item(r)
        answered = requests if per <= 0 else min(requests, int(left // per))
        team.minutes_left[r] = left - answered * per
        granted = 0 if team.walled_off.item(r) else int(
            team.rng.binomial(answered, 1.0 - team.wall.item(r)))
        m.books.asked_permission(requests, granted)
        if granted < requests and not self.denied_once:
            self.denied_once = True
            m.log(self.name, "permission_denied", "says no when asked before a call: "
                  '"not my accounts, not now"')
        return granted


def _unit(x: np.ndarray) -> np.ndarray:
    """``x`` kept in [0, 1] (two ufuncs: cheaper than ``np.clip`` on a handful of reps)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


class Team:
    """The hardware reps' state as columns (one entry per rep), and the team's day.

    Each :class:`HardwareRep` reads and writes his own entry; the day's routine for all reps
    (the wall settles, the reps react to it, the motivated ones offer intros) runs here on
    whole columns, so its cost does not grow with a Python loop over reps. What the team
    derives (resting walls, open reps, reaction levels) is read from the columns as they are.
    """

    def __init__(self, model: DealershipModel, n_reps: int) -> None:
        self.model = model
        self.rng = model.rng.spawn(1)[0]
        """The reps' stream (intros, answers to permission requests), spawned from the model's
        generator."""
        self.reps: list[HardwareRep] = []
        self.wall = np.zeros(n_reps)
        self.base_wall = np.zeros(n_reps)
        self.complained = np.zeros(n_reps, dtype=bool)
        self.walled_off = np.zeros(n_reps, dtype=bool)
        self.minutes_left = np.zeros(n_reps)
        self.last_complaint = np.full(n_reps, -np.inf)
        """The day each rep last complained to the manager."""
        self.worked = -1
        """The last day the reps did their part of a workday (:meth:`workday`)."""

    def intro_chance(self) -> float:
        """Chance a rep with no wall introduces the specialist today (motivation and spotting).

        Motivation and spotting are the same for every rep (credit, planning and training are
        team policies), so one rep's chance is this times one minus his wall.
        """
        rep = self.reps[0]
        return self.model.params.intro_rate * rep.motivation() * rep.spotting()

    def open_reps(self) -> np.ndarray:
        """The reps who have not walled off their accounts, in team order."""
        return np.flatnonzero(~self.walled_off)

    def resting_walls(self, idx: np.ndarray | slice) -> np.ndarray:
        """Where the walls of reps ``idx`` settle: each rep's guard less his credit's relief."""
        p = self.model.params
        return _unit(self.base_wall[idx] - p.credit_wall_weight * rep_credit(p))

    def reaction_edges(self, present: bool) -> tuple[np.ndarray, np.ndarray]:
        """Per rep, the wall levels at which he reacts: at or above ``hi``, or below ``lo``.

        ``hi`` is the complaint level (for a rep who has not complained, while a specialist is
        present) or the wall-off level (for a rep who has not walled off), whichever is lower;
        ``lo`` is the level at which a rep who complained calms down or a walled-off rep opens
        up, whichever is higher. So "he reacts today" is two comparisons.
        """
        p = self.model.params
        c, b, inf = self.complained, self.walled_off, np.inf
        hi = np.minimum(np.where(~c & bool(present), p.complaint_level, inf),
                        np.where(~b, p.wall_block_level, inf))
        lo = np.maximum(np.where(c, p.complaint_level - p.wall_hysteresis, -inf),
                        np.where(b, p.wall_block_level - p.wall_hysteresis, -inf))
        return hi, lo

    def start_day(self) -> None:
        """The start of a day: minutes reset, walls settle one day, reps react.

        Each rep's program minutes are reset, each wall drifts one day toward its resting
        level, and reps whose wall crossed a level react (complain, calm down, wall off, open
        up).

        A step of ``1 / wall_relax_days`` (at least 5 days, its lower bound) from a wall in
        [0, 1] toward a resting level in [0, 1] stays in [0, 1]: no clamping is needed.
        """
        m, p = self.model, self.model.params
        self.minutes_left[:] = p.rep_program_minutes if m.workday else 0.0
        # each wall takes one step toward its resting level (resting_walls), in plain floats:
        # the same float64 operations as on the columns (rest - w, / relax, w +), without
        # numpy's per-call cost on a handful of reps
        w = self.wall
        relief, relax = p.credit_wall_weight * rep_credit(p), p.wall_relax_days
        # who reacts (the four rules of react_to_wall, as reaction_edges states them) to his
        # new wall, from the reps' state as the day starts, in the same pass; they react once
        # every wall has moved, in team order
        present = m.specialist_present
        complain, calm = p.complaint_level, p.complaint_level - p.wall_hysteresis
        block, unblock = p.wall_block_level, p.wall_block_level - p.wall_hysteresis
        due = m.day - DAYS_PER_WEEK
        walls, react = [], []
        for r, (wr, g, c, b, last) in enumerate(zip(
                w.tolist(), self.base_wall.tolist(), self.complained.tolist(),
                self.walled_off.tolist(), self.last_complaint.tolist(), strict=True)):
            rest = g - relief  # kept in [0, 1] (_unit), by comparisons: cheaper than min/max
            rest = 0.0 if rest < 0.0 else 1.0 if rest > 1.0 else rest
            wr += (rest - wr) / relax
            walls.append(wr)
            again = present and wr >= complain and last <= due
            if ((wr < calm or again) if c else (present and wr >= complain)) or (
                    (wr < unblock) if b else (wr >= block)):
                react.append(r)
        w[:] = walls
        for r in react:
            self.reps[r].react_to_wall()

    def workday(self) -> None:
        """The reps' part of a workday with a specialist at work (once a day, before his).

        Each rep who has not walled off offers an intro with his chance (one draw per rep).
        """
        m, p = self.model, self.model.params
        if self.worked == m.day or not m.program_running:
            return
        self.worked = m.day
        if p.specialist_territory != "all":  # the specialist may not work our customers
            return
        # one draw per rep against his chance (intro_chance() * (1 - wall)), in plain floats
        chance = self.intro_chance()
        offers = [r for r, (u, w, off) in enumerate(zip(
            self.rng.random(self.wall.size).tolist(), self.wall.tolist(),
            self.walled_off.tolist(), strict=True)) if u < chance * (1.0 - w) and not off]
        for r in offers:
            self.reps[r].introduce()

    def quiet_walls(self, days: int) -> np.ndarray:
        """The walls over the next ``days`` days with no events, up to a rep's reaction.

        On such a day a rep's day is his wall settling (exactly as :meth:`start_day` does it,
        day after day). The block stops before the first day on which a rep's wall crosses a
        level he reacts to: that day is run in full. Nothing is written; the caller commits
        the block.

        Returns:
            ``(k, n_reps)`` walls at the end of each of the first ``k <= days`` days.
        """
        p = self.model.params
        relax = p.wall_relax_days
        # the settling day after day, rep by rep in plain floats (the same float64 operations,
        # without numpy's per-call cost on a handful of reps)
        columns = []
        for w, rest in zip(self.wall.tolist(), self.resting_walls(slice(None)).tolist(),
                           strict=True):
            columns.append([w := w + (rest - w) / relax for _ in range(days)])
        out = np.fromiter(itertools.chain.from_iterable(columns), float,
                          count=days * self.wall.size).reshape(self.wall.size, days).T
        hi, lo = self.reaction_edges(self.model.specialist_present)
        react = ((out >= hi) | (out < lo)).any(axis=1)
        first = int(np.argmax(react)) if react.any() else days
        return out[:first]


def draw_culture(model: DealershipModel) -> float:
    """Draw the team's culture: its offset from the typical wall (negative: a more open team).

    The culture is the mean of the reps' dispositions, so its spread is ``culture_spread`` at
    ``culture_reference_reps`` and scales with 1/sqrt(team size).
    """
    p = model.params
    spread = p.culture_spread * math.sqrt(p.culture_reference_reps / p.n_reps)
    return float(model.rng.normal(0.0, spread))


def team_goodwill(params: Params, culture: float) -> float:
    """The team's goodwill, from the same culture draw that sets its walls.

    ``goodwill`` plus ``culture_goodwill`` per unit of openness beyond ``open_culture_level``. A
    team whose culture is clearly more open than typical (walls lower by more than
    ``open_culture_level``) is also willing to bring the specialist in unasked; a typical or
    more protective one is not (kept in [0, 1]).
    """
    openness = max(0.0, -culture - params.open_culture_level)
    return min(1.0, params.goodwill + params.culture_goodwill * openness)


def initial_walls(model: DealershipModel, culture: float) -> tuple[np.ndarray, np.ndarray]:
    """Draw each rep's wall before the launch, and the guard it settles at after it.

    Before the launch nobody has a reason to guard his book against a specialist: every rep's
    wall is ``wall_initial`` (what the specialists who failed before left behind included). His
    guard
    (where the wall settles once the specialist works the territory) adds the team's culture
    and his own disposition (``wall_spread``).
    So a guarded team's walls rise over the first weeks, faster the more the specialist calls
    into their books; an open team's fall.

    Returns:
        ``(walls, guards)``, one entry per rep, each in [0, 1].
    """
    p = model.params
    start = p.wall_initial
    guards = np.clip(model.rng.normal(start + culture, p.wall_spread, size=p.n_reps), 0.0, 1.0)
    return np.full(p.n_reps, start), guards
