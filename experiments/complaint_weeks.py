"""What if the peace-keeping manager counted complaints by week? A probe on posterior draws.

    python experiments/complaint_weeks.py out/cal [DRAWS]

The shipped manager imposes the ask-permission rule at the ``rule_after_complaints``-th
complaint, whichever rep and day it comes from, so three reps who start near the complaint
level can bring the rule in the first days. This probe changes that one rule for the run (a
complaint in a week that already brought one is heard but not counted again) and compares, on
the same posterior draws and seeds, the overlay's median rule day, median first wall-off and
year-one success at 4, 8 and 12 reps (2 years, 4 runs a draw). It is not shipped: the model's
manager is unchanged. docs/calibration.md reports what it found.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from dealersim.model.dealership import DealershipModel
from dealersim.model.people.sales_manager import SalesManager
from dealersim.model.results import summarize
from dealersim.studies.calibrate import read_spec
from dealersim.studies.calibrate.patterns import particle_overrides

SHIPPED = SalesManager.hear_complaint


def hear_complaint_by_week(self: SalesManager, rep: Any) -> None:
    """The shipped reaction, but a second complaint in the same week is not counted."""
    m, p = self.model, self.model.params
    weeks: set[int] = self.__dict__.setdefault("_weeks_with_complaints", set())
    if not self.leads and p.permission_rule == "manager" and not self.permission_active:
        week = (m.day - 1) // 7
        if week in weeks:
            self.conflicts += 1
            m.owner.hear_conflict()
            return
        weeks.add(week)
    SHIPPED(self, rep)


def one(task: tuple[dict[str, Any], int, int, bool]) -> list[float]:
    overrides, seed, n_reps, by_week = task
    SalesManager.hear_complaint = hear_complaint_by_week if by_week else SHIPPED
    s = summarize(DealershipModel("overlay", rng=seed, n_reps=n_reps, years=2, **overrides).run())
    return [np.nan if s[k] is None else float(s[k])
            for k in ("permission_rule_day", "first_walloff_day", "first_specialist_year_one")]


def main(argv: list[str]) -> None:
    folder = argv[0] if argv else "out/cal"
    n_draws = int(argv[1]) if len(argv) > 1 else 60
    _, spec = read_spec(f"{folder}/spec.toml")
    post = pd.read_parquet(f"{folder}/posterior.parquet")
    w = post.weight.to_numpy(float)
    draws = np.random.default_rng(1).choice(len(w), size=n_draws, p=w / w.sum())
    print(f"{n_draws} posterior draws of {folder}, 4 runs each, overlay, 2 years")
    with ProcessPoolExecutor(2) as ex:
        for n_reps in (4, 8, 12):
            for by_week in (False, True):
                tasks = [(particle_overrides(spec.priors, {p.name: float(post[p.name].iloc[i])
                                                           for p in spec.priors}),
                          10_000 * k + r + 555, n_reps, by_week)
                         for k, i in enumerate(draws) for r in range(4)]
                res = np.array(list(ex.map(one, tasks))).reshape(n_draws, 4, 3)
                with np.errstate(all="ignore"):
                    rule = np.nanmedian(res[:, :, 0], axis=1)
                    wall = np.nanmedian(res[:, :, 1], axis=1)
                seen = rule[~np.isnan(rule)]
                print(f"  {n_reps:>2} reps, {'by week' if by_week else 'shipped'}: rule mean day "
                      f"{np.nanmean(rule):.1f} (median draw {np.nanmedian(rule):.1f}; by day 3 in "
                      f"{np.mean(seen <= 3):.0%} of draws); first wall-off mean day "
                      f"{np.nanmean(wall):.1f}; year one {np.nanmean(res[:, :, 2]):.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])
