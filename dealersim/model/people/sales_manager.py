"""The sales manager: keeps the peace, or leads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from dealersim.model.clock import DAYS_PER_WEEK, week_of

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel
    from dealersim.model.people.hardware_rep import HardwareRep

class SalesManager(mesa.Agent):
    """A manager whose style runs from keeping the peace (0) to leading (1).

    Keeping the peace, the manager answers a rep's complaint by making the specialist ask the
    rep before every call into their accounts. Leading, the manager steps in on the conflict,
    coaches the rep (a lower resting wall) and runs joint account planning (more intros).
    """

    def __init__(self, model: DealershipModel) -> None:
        super().__init__(model)
        self.name = "manager"
        self.leadership = model.params.manager_leadership
        self.conflicts = 0
        self.complaints_heard = 0
        """Complaints heard since the rule was last lifted (or the launch)."""
        self.complaint_weeks: set[int] = set()
        """The weeks (counted from day 1) in which he heard a complaint, since the rule was
        last lifted (or the launch)."""
        self.permission_active = model.params.permission_rule == "always"

    def coach(self) -> None:
        """Weekly, while a specialist works: coach the rep with the highest wall.

        Only a leading manager coaches; he puts his next coaching a week on on the event list.
        """
        m = self.model
        m.at(m.day + DAYS_PER_WEEK, self.coach, "manager")
        if not m.specialist_present:
            return
        rep = max(m.reps, key=lambda r: r.wall)
        rep.raise_wall(-m.params.coaching_relief * self.leadership)

    @property
    def leads(self) -> bool:
        """Whether this manager leads (joint account planning, coaching, stepping in)."""
        return self.leadership >= self.model.params.manager_leads_at

    @property
    def ask_permission(self) -> bool:
        """Whether the specialist must ask the rep before each call into their accounts.

        Written rules of engagement replace the ask-permission detour.
        """
        return self.permission_active and not self.model.params.rules_of_engagement

    def lift_permission(self) -> None:
        """The owner steps in: the peace-keeping ask-permission rule is lifted."""
        if self.model.params.permission_rule == "manager":
            self.permission_active = False
            self.complaints_heard = 0
            self.complaint_weeks.clear()

    def hear_complaint(self, rep: HardwareRep) -> None:
        """A rep complains about the specialist calling his accounts.

        A leading manager steps in each time. One who keeps the peace lets the complaints pile
        up, and a bad day is not a pattern: when complaints have come in
        ``rule_after_complaints`` different weeks, he makes the specialist ask before every call
        (several reps complaining in the same week count as that week's one).
        """
        m, p = self.model, self.model.params
        self.conflicts += 1
        if self.leads:
            rep.raise_wall(-p.step_in_relief * self.leadership)
            m.log(self.name, "manager_steps_in", f"steps in with {rep.name}: the rules stand, and "
                  "he gets credit on what the specialist closes in his book")
        elif p.permission_rule == "manager" and not self.permission_active:
            self.complaints_heard += 1
            self.complaint_weeks.add(week_of(m.day))
            if len(self.complaint_weeks) >= p.rule_after_complaints:
                self.permission_active = True
                m.log(self.name, "permission_rule", "keeps the peace after "
                      f"{self.complaints_heard} complaints in {len(self.complaint_weeks)} "
                      "weeks: \"give the rep a heads-up before every call into his accounts\"")
        m.owner.hear_conflict()
