"""A hardware rep: works a book of accounts and guards it with a wall."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from dealersim.model.funnel import Source

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel

CREDIT_SHARE = {"none": 0.0, "split": 0.5, "double": 1.0, "team": 1.0}
"""The rep's share of credit on a managed deal in their account, by credit policy."""


class HardwareRep(mesa.Agent):
    """A hardware rep with a book of accounts and a wall (protectiveness, 0-1) around it.

    The wall drifts toward a resting level set by policy (credit, leadership, training) and by
    the standing threat of an uncredited specialist in the territory. It jumps when the
    specialist touches the rep's accounts without credit or rules, and falls after shared wins
    and interventions. A high wall means complaints, denied permission and no warm intros.
    """

    def __init__(self, model: DealershipModel, index: int, wall: float) -> None:
        super().__init__(model)
        self.index = index
        self.name = f"rep {index + 1}"
        self.book = model.market.books[index]
        self.base_wall = wall
        self.wall = wall
        self.complained = False
        self.walled_off = False
        self.denied_once = False
        self.intros = 0

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """Settle the wall, react to how high it stands, and offer intros if motivated."""
        self.settle_wall()
        self.react_to_wall()
        if self.model.workday and self.model.program_running:
            self.offer_intro()

    # ------------------------------------------------------------------ wall
    @property
    def credit(self) -> float:
        """This rep's share of credit on managed deals in their accounts."""
        return CREDIT_SHARE[self.model.params.credit_policy]

    def resting_wall(self) -> float:
        """Where the wall settles under the current policy and threat."""
        threat, factor = self.model.wall_policy()
        return (self.base_wall + threat) * factor

    def settle_wall(self) -> None:
        """Drift one day toward the resting level."""
        self.wall += (self.resting_wall() - self.wall) / self.model.params.wall_relax_days
        self.wall = min(1.0, max(0.0, self.wall))

    def raise_wall(self, amount: float) -> None:
        """Move the wall by ``amount`` (negative lowers it), kept in [0, 1]."""
        self.wall = min(1.0, max(0.0, self.wall + amount))

    def touched(self, n: int, asked: bool, skill: float = 1.0) -> None:
        """The specialist called ``n`` of this rep's accounts (``asked``: with permission).

        A more skilled specialist treads more lightly: the shock is divided by ``skill``.
        """
        p, m = self.model.params, self.model
        shock = p.wall_touch_shock * n * (1.0 - self.credit) / skill
        if m.rules_active:
            shock *= 0.3
        elif asked:
            shock *= 0.5
        self.raise_wall(shock)

    def react_to_wall(self) -> None:
        """Complain at the complaint level; wall off the book at the wall-off level."""
        p, m = self.model.params, self.model
        if not self.complained and self.wall >= p.complaint_level and m.specialist_present:
            self.complained = True
            m.log(self.name, "wall_up", "tells the manager nobody works his accounts without his "
                  f"permission (wall {self.wall:.2f})")
            m.manager.hear_complaint(self)
        elif self.complained and self.wall < p.complaint_level - 0.1:
            self.complained = False
        if not self.walled_off and self.wall >= p.wall_block_level:
            self.walled_off = True
            m.log(self.name, "walled_off", "walls off his accounts: the specialist is left "
                  f"with cold calls there (wall {self.wall:.2f})")
        elif self.walled_off and self.wall < p.wall_block_level - 0.1:
            self.walled_off = False
            m.log(self.name, "wall_down", f"opens his accounts again (wall {self.wall:.2f})")

    # ------------------------------------------------------------------ cooperation
    def motivation(self) -> float:
        """How much this rep wants to bring the specialist in (0-1)."""
        p, m = self.model.params, self.model
        joint_planning = m.manager.leadership if m.manager.leads else 0.0
        if not m.rules_active:
            joint_planning *= 0.5
        drive = p.goodwill + 0.6 * self.credit + 0.4 * joint_planning + 0.3 * p.rep_training
        return min(1.0, drive)

    def offer_intro(self) -> None:
        """Maybe introduce the specialist to one of our customers nearing lease end."""
        m = self.model
        if self.walled_off or not m.employed_specialists:
            return
        if m.params.specialist_territory != "all":  # the specialist may not work our customers
            return
        chance = m.params.intro_rate * (1.0 - self.wall) * self.motivation()
        if m.rng.random() >= chance:
            return
        i = m.market.sample_intro(m.rng, self.book, m.day)
        if i < 0:
            return
        specialist = m.employed_specialists[int(m.rng.integers(len(m.employed_specialists)))]
        if m.rng.random() < m.params.intro_meeting_rate:
            self.intros += 1
            specialist.book_meeting(i, Source.INTRO)

    def answer_permission(self, requests: int) -> int:
        """Answer ``requests`` asks to call this rep's accounts; return how many are granted."""
        m = self.model
        if requests <= 0:
            return 0
        granted = 0 if self.walled_off else int(m.rng.binomial(requests, 1.0 - self.wall))
        m.permission_requests += requests
        m.permission_denied += requests - granted
        if granted < requests and not self.denied_once:
            self.denied_once = True
            m.log(self.name, "permission_denied", "says no when asked before a call: "
                  '"not my accounts, not now"')
        return granted

    def shared_win(self) -> None:
        """A managed deal closed in this rep's account."""
        if self.credit > 0:
            self.raise_wall(-self.model.params.shared_win_relief * self.credit)


def initial_walls(model: DealershipModel) -> np.ndarray:
    """Draw each rep's wall before the launch: the team's culture, the rep, and history."""
    p = model.params
    culture = model.rng.normal(0.0, p.culture_spread)
    mean = p.wall_initial + culture + p.history_wall_effect * p.prior_failed_specialists
    return np.clip(model.rng.normal(mean, p.wall_spread, size=p.n_reps), 0.0, 1.0)
