"""How much the outcome depends on the team's culture: success by thirds of the team's openness.

Each run draws its team's culture once, before the launch: how guarded the reps are about their
accounts and how much goodwill they have towards a newcomer (the same draw sets both). What an owner
can see of it is the reps' guard on day 0, before anything has happened (``guard_day0``, the mean
over reps of where each rep's wall settles). :func:`culture_table` splits the replicates into thirds
of that day-0 guard (open, middle, guarded), with the cut points taken from the reference strategy's
runs, and gives each strategy's success rate per third with Wilson intervals, the gap between open
and guarded teams (Newcombe's interval for a difference of two independent rates) and the share of
successes that came from open teams. Strategies on the same seeds face the same teams (common random
numbers: the culture is drawn before any strategy acts), so a replicate falls in the same third
under every strategy.

Used by the consultant's report (methods appendix) and by the factorial page of the docs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dealersim.base.stats import LEVEL, wilson
from dealersim.model.kpis import kpi
from dealersim.studies.compare import numeric

CULTURE = "guard_day0"
"""The KPI that stands for the team's culture as an owner sees it: the reps' guard on day 0."""
OUTCOMES: dict[str, tuple[str, str]] = {
    "launch_succeeded": ("the success rate", "launches succeed"),
    "first_specialist_year_one": ("the share of launches that keep their first specialist to "
                                  "month 12", "launches keep their first specialist to month 12"),
}
"""The flags a culture table, a blame or a factorial can count, each with its words: what the
rate is, and what launches do when they count (the story's launch is judged at month 12, the
money at month 36)."""
OUTCOME = "first_specialist_year_one"
"""The flag the culture table counts by default: the story's launch. Launch success on money is
rare under both strategies (months 12 and 36 both have to hold), so a table of it by culture
says little about the culture."""
THIRDS: tuple[str, ...] = ("open", "middle", "guarded")
"""The thirds of the day-0 guard, lowest first."""
MIN_RUNS = 30
"""Fewest runs per strategy for the report's culture paragraph (10 teams per third)."""
REFERENCE = "overlay"
"""The strategy whose runs set the cut points (when it is in the runs)."""


def newcombe(s1: int, n1: int, s2: int, n2: int, level: float = LEVEL) -> tuple[float, float,
                                                                                  float]:
    """Difference of two independent rates ``s1/n1 - s2/n2`` with Newcombe's hybrid interval.

    Newcombe (1998), method 10: the Wilson intervals of the two rates combined; stays inside
    [-1, 1] and behaves at rates of 0 and 1. NaN when either group is empty.
    """
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan, math.nan)
    p1, l1, u1 = wilson(s1, n1, level)
    p2, l2, u2 = wilson(s2, n2, level)
    d = p1 - p2
    return (d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def thirds(runs: pd.DataFrame, reference: str = REFERENCE) -> pd.Series:
    """Each run's third of the day-0 guard (``open``, ``middle``, ``guarded``).

    The cut points are the reference strategy's 1/3 and 2/3 quantiles, and a replicate takes the
    third of its reference run, so it is the same team in every strategy. Without the reference
    strategy in ``runs``, each run's own day-0 guard is cut at the quantiles of all runs.
    """
    wall = pd.Series(numeric(runs[CULTURE]), index=runs.index)
    if reference in set(runs.strategy):
        ref = runs.strategy == reference
        cuts = np.quantile(wall[ref], [1 / 3, 2 / 3])
        by_rep = dict(zip(runs.replicate[ref], wall[ref], strict=True))
        wall = runs.replicate.map(by_rep).astype(float)
    else:
        cuts = np.quantile(wall, [1 / 3, 2 / 3])
    index = np.searchsorted(cuts, wall.to_numpy(), side="right")
    return pd.Series([THIRDS[i] for i in index], index=runs.index, name="third")


def culture_table(runs: pd.DataFrame, strategies: Sequence[str] | None = None,
                  reference: str = REFERENCE, outcome: str = OUTCOME) -> pd.DataFrame:
    """Rate of ``outcome`` per strategy and third of the team's day-0 guard.

    Args:
        runs: One row per run with ``strategy``, ``replicate``, ``guard_day0`` and the
            ``outcome`` column (a comparison's runs).
        strategies: The strategies to show, in order (default: as they appear).
        reference: The strategy whose runs set the cut points.
        outcome: The flag counted (a key of :data:`OUTCOMES`), kept in the ``outcome`` column.

    Returns:
        One row per strategy and third (``strategy``, ``third``, ``wall_low``, ``wall_high``:
        the range of day-0 guard in it, ``n``, ``successes``, ``rate``, ``ci_low``,
        ``ci_high``), then one row per strategy with ``third`` = ``open - guarded``: the gap
        with Newcombe's interval and, in ``share_of_successes``, the share of the strategy's
        successes from open teams.

    Raises:
        ValueError: One line when ``runs`` lacks a column it needs.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome: {outcome!r} is not allowed; expected one of "
                         f"{', '.join(OUTCOMES)}")
    missing = [c for c in ("strategy", "replicate", CULTURE, outcome) if c not in runs]
    if missing:
        raise ValueError(f"runs: missing column {missing[0]!r}; expected a comparison's runs")
    strategies = list(strategies or dict.fromkeys(runs.strategy))
    third = thirds(runs, reference)
    wall = numeric(runs[CULTURE])
    ok = numeric(runs[outcome])
    out: list[dict[str, Any]] = []
    for s in strategies:
        counts = {}
        for t in THIRDS:
            mask = ((runs.strategy == s) & (third == t)).to_numpy() & ~np.isnan(ok)
            n, k = int(mask.sum()), int(ok[mask].sum())
            counts[t] = (k, n)
            rate, lo, hi = wilson(k, n) if n else (math.nan,) * 3
            out.append(dict(strategy=s, third=t, outcome=outcome,
                            wall_low=float(wall[mask].min()) if n else math.nan,
                            wall_high=float(wall[mask].max()) if n else math.nan,
                            n=n, successes=k, rate=rate, ci_low=lo, ci_high=hi))
        (k1, n1), (k3, n3) = counts["open"], counts["guarded"]
        gap, lo, hi = newcombe(k1, n1, k3, n3)
        total = sum(k for k, _ in counts.values())
        out.append(dict(strategy=s, third="open - guarded", outcome=outcome, n=n1 + n3,
                        successes=k1 + k3,
                        rate=gap, ci_low=lo, ci_high=hi,
                        share_of_successes=k1 / total if total else math.nan))
    return pd.DataFrame(out)


def culture_sentences(table: pd.DataFrame, titles: dict[str, str] | None = None) -> list[str]:
    """One plain sentence per strategy on how much its outcome depends on the team's openness."""
    titles = titles or {}
    out = []
    for s, d in table.groupby("strategy", sort=False):
        row = d.set_index("third")
        rate_words = OUTCOMES[str(d.outcome.iloc[0])][0]
        o, g, gap = row.loc["open"], row.loc["guarded"], row.loc["open - guarded"]
        clear = ("" if gap.ci_low > 0 or gap.ci_high < 0
                 else "; at this number of runs that is no clear difference")
        share = gap.get("share_of_successes", math.nan)
        whence = ("" if not np.isfinite(share) else
                  f"; {share:.0%} of the launches that count come from the most open third "
                  "of teams")
        out.append(f"{titles.get(s, s)}, {rate_words}: teams that start in the most open "
                   f"third reach {o.rate:.0%} (95 % interval {o.ci_low:.0%} to {o.ci_high:.0%}), "
                   f"the most guarded third {g.rate:.0%} ({g.ci_low:.0%} to "
                   f"{g.ci_high:.0%}): a gap of {gap.rate * 100:+.0f} points "
                   f"({gap.ci_low * 100:+.0f} to {gap.ci_high * 100:+.0f}){clear}{whence}.")
    return out


OBSERVE = (
    "What the team's culture stands for, and what an owner can see before he launches. Each "
    "simulated dealership draws its sales team's culture once, before the launch: how guarded "
    "the reps are about their accounts (a copier rep's book is his income, and a newcomer who "
    "calls into it is a threat until shown otherwise) and, in the same draw, how much goodwill "
    "they have towards a newcomer (whether they would introduce him to a customer unasked). "
    "An owner can observe this before he hires: whether reps share leads with each other or "
    "guard them, whether they have complained about house accounts or split commissions "
    "before, how the team treated the last new hire or the last specialist, and whether the "
    "reps would tell a customer about a service they do not sell themselves. The model uses "
    "the reps' guard on day 0, averaged over the team, as that observation; the thirds below "
    "split the simulated teams by it."
)
"""The plain-words paragraph on what the culture draw stands for (report and docs)."""


def culture_unit() -> str:
    """The unit of the day-0 guard, in words (from the KPI registry)."""
    return kpi(CULTURE).unit
