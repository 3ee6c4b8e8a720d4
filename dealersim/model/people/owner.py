"""The owner: sets the policies, answers calls for help, hires, fires and gives up."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel
    from dealersim.model.people.specialist import Specialist


class Owner(mesa.Agent):
    """The dealer principal.

    Policy levers live in ``Params`` (credit, rules, training, comp, territory, intervention,
    abandonment); an owner who intervenes before the launch announces the role first. Day to day
    the owner intervenes (before launch, or after enough
    conflicts), answers the specialist's call for help, refills an empty seat after the hiring
    lag (a moment he puts on the event list when the seat empties), and abandons the program
    after too many failed specialists.
    """

    def __init__(self, model: DealershipModel) -> None:
        super().__init__(model)
        self.name = "owner"
        self.priority_today = model.params.owner_today_priority
        self.failures = 0
        self.next_reaction = model.params.intervention_after_conflicts
        self.interventions = 0
        self.abandoned = False

    def launch(self) -> None:
        """Day 1: hire the first specialists, and work out the kinks first if so planned."""
        m, p = self.model, self.model.params
        self.hire_first()
        if p.intervention == "before_launch" and m.program_running:
            self.intervene("works out the kinks before the launch: objectives, credit and rules "
                           "are agreed with every rep")

    def hire_first(self) -> None:
        """Hire the first specialists: announced beforehand, or a surprise.

        An owner who works out the kinks before the launch tells the reps of the role and its
        objectives then; any other launch is one the reps learn of on the day.
        """
        m, p = self.model, self.model.params
        if p.specialist_seats == 0:
            return
        if p.intervention == "before_launch":
            m.log(self.name, "announcement", "announces the managed-services role and its "
                  "objectives to the reps before the hire")
        else:
            for rep in m.reps:
                rep.shift_guard(p.launch_surprise)
            m.log(self.name, "launch", "hires a managed-services specialist on a good salary; "
                  "the reps learn of the role on his first day")
        for _ in range(p.specialist_seats):
            m.hire_specialist()

    # ------------------------------------------------------------------ conflict
    def hear_conflict(self) -> None:
        """A conflict reached the owner through the manager."""
        m, p = self.model, self.model.params
        if p.intervention == "reactive" and m.manager.conflicts >= self.next_reaction:
            self.next_reaction += p.intervention_after_conflicts
            self.intervene(f"steps in after {m.manager.conflicts} conflicts")
        elif p.intervention == "before_launch":
            self.intervene("reminds the team of the objectives and the rules")

    def intervene(self, why: str) -> None:
        """Drive the objectives through the team: guards down for good, the rule lifted.

        The drop (of each rep's guard and wall) is ``intervention_strength`` times the owner's
        focus on the future. Written rules of engagement are a separate lever
        (``rules_of_engagement``), not switched on here.
        """
        m, p = self.model, self.model.params
        self.interventions += 1
        m.manager.lift_permission()
        drop = p.intervention_strength * (1.0 - self.priority_today)
        for rep in m.reps:
            rep.shift_guard(-drop)
        m.log(self.name, "intervention", why)

    def answer_help(self, specialist: Specialist) -> None:
        """The specialist, behind on the quota, asks for leadership and cooperation."""
        m, p = self.model, self.model.params
        if p.intervention in ("reactive", "before_launch"):
            self.intervene(f"answers {specialist.name}'s call for help and steps in")
        else:
            specialist.lose_morale(p.morale_no_help)
            specialist.told_to_survive = True  # more of his day goes to hardware
            m.log(self.name, "shrug", 'points to the hardware territory to "survive": "we all '
                  'have to work together"')

    # ------------------------------------------------------------------ staffing
    def lost_specialist(self, specialist: Specialist) -> None:
        """Record a failed specialist; abandon the program or start looking for a successor."""
        m, p = self.model, self.model.params
        self.failures += 1
        for rep in m.reps:
            rep.base_wall = min(1.0, rep.base_wall + p.history_wall_effect)
        if self.failures >= p.abandon_after_failures and not self.abandoned:
            if not m.employed_specialists:
                self.abandoned = True
                m.log(self.name, "program_abandoned", f"gives up on managed services after "
                      f"{self.failures} failed specialists")
            return
        # the owner's moment today may be past (he learns of it later in the day): tomorrow
        m.at(m.day + max(1, p.hiring_lag_days), self.fill_seat, "owner")

    def fill_seat(self) -> None:
        """The hiring lag has passed: hire a successor into the empty seat."""
        m = self.model
        if self.abandoned:
            return
        m.hire_specialist()
        m.log(self.name, "rehire", f"hires a successor, specialist {m.specialists_hired}, "
              "into the same seat")
