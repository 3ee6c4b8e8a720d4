""""Whose fault is it?": the article's closing question as a full factorial experiment.

Each *factor* is one part of the launch that someone is responsible for, at two levels: off (as
in the story's overlay launch) and on (as in the planned transition), read from the ``Params``
metadata and the strategy presets, never written here. :data:`FACTORS` lists them; a study
takes any list of factors whose fields do not overlap (:data:`DEFAULT_FACTORS`: specialist
skill, manager style, credit for reps, quota timing, and the owner's preparation without
credit). The old bundled factor ``owner`` (the whole of the owner's preparation) is still
available, alone.

Every cell (one combination of levels) runs the same replicate seeds (common random numbers),
so contrasts between cells are paired per replicate. Effects on the success rate are computed
directly from the per-replicate cell outcomes (main effects, two-way interactions and each
factor's effect with everything else off or on, with Student-t intervals), and a logistic
regression with the main effects is fitted as a cross-check. :meth:`Blame.sentences` says it
in plain words, choosing each verdict from the numbers it quotes, so it cannot contradict
them.

``--factors plan`` takes the planned transition's seven levers (:data:`PLAN_FACTORS`), whose
all-on cell is the planned preset and all-off cell the overlay. ``--design resv`` runs a
fraction of resolution V or more (:data:`GENERATORS`; for the seven levers 64 of the 128 cells,
resolution VII) in which no
main effect or two-factor interaction is aliased with another. Effects are computed on each KPI
of :data:`MEASURES` (:func:`measure_effects`), and :meth:`Blame.plan_sentences` says whether
"it takes the plan, not one fix": from the cells themselves in the full design, from the main
effects and two-factor interactions in the fraction (:func:`predicted_plan_contrasts`).

With a calibration's posterior (``--posterior DIR``), replicate *i* draws one plausible
parameter set and every cell uses it (``studies.posterior.replicate_draws``): contrasts stay
paired, and their intervals, taken over replicates, include parameter uncertainty. A factor's
own fields win over the drawn values (the skill factor sets the specialist's skill).
"""

from __future__ import annotations

import functools
import itertools
import re
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealersim.base.stats import (
    LogitFit,
    interval,
    kaplan_meier,
    km_at,
    logistic_irls,
    paired_diff,
)
from dealersim.model.kpis import kpi
from dealersim.model.params import format_value, spec
from dealersim.model.results import package_version
from dealersim.model.strategies import make_params, strategy_overrides
from dealersim.studies.compare import numeric, runs_frame
from dealersim.studies.culture import OUTCOME, OUTCOMES
from dealersim.studies.engine import RunSpec, execute, replicate_seeds
from dealersim.studies.posterior import (
    draw_label,
    drawn_overrides,
    load_posterior,
    replicate_draws,
)

BASE = "overlay"
PLANNED = "planned"
MAX_FACTORS = 8
"""At most this many factors (256 cells in the full design, 64 in the fractional one)."""
DESIGNS: tuple[str, ...] = ("full", "resv")
"""``full``: every combination (2**k cells); ``resv``: a resolution-V fraction (6 to 8 factors),
where no main effect or two-factor interaction is aliased with another."""
GENERATORS: dict[int, tuple[tuple[int, ...], ...]] = {
    6: ((0, 1, 2, 3, 4),),
    7: ((0, 1, 2, 3, 4, 5),),
    8: ((0, 1, 2, 3), (0, 1, 4, 5)),
}
"""Generators of the resolution-V fractions: each added factor's column (in -1/+1 coding) is the
product of the listed base factors' columns. 2^(6-1) F = ABCDE (resolution VI), 2^(7-1)
G = ABCDEF (VII), 2^(8-2) G = ABCD, H = ABEF (V: defining relation I = ABCDG = ABEFH = CDEFGH;
Montgomery, Design and Analysis of Experiments, table of 2^(k-p) designs)."""
PLAN_FACTORS: tuple[str, ...] = ("credit", "manager", "rules", "training", "intervention",
                                 "quota", "territory")
"""The planned transition's seven levers, one factor each (``--factors plan``): all off is the
overlay launch, all on the planned one."""
MEASURES: tuple[str, ...] = ("launch_succeeded", "first_specialist_year_one",
                             "first_specialist_tenure_days", "booked_mrr_year1",
                             "cash_vs_hardware_only")
"""The KPIs whose factorial effects are reported: launch success on money, the story's launch
(the first specialist still in the seat at month 12), the first specialist's days in the seat,
the monthly revenue booked in year one and the cash against doing nothing at the end of the
run."""
PLAN_OUTCOME = OUTCOME
"""The flag ``dealersim blame`` and the plan's factorial count: the story's launch (the first
specialist in the seat at month 12). On money (month 36) even the plan rarely succeeds, so every
cell would sit near 0 % and no factor could show; the money is in the factorial's other
columns."""
MOSTLY = 0.5
"""A factor is blamed alone only if, without it, the best combination succeeds in fewer than
this share of launches."""


@dataclass(frozen=True)
class Factor:
    """One factor of the experiment, at two levels.

    Attributes:
        key: Its name on the command line (``skill``, ``credit``...).
        title: Plain name (``specialist skill``).
        levels: Names of the two levels, off then on (``low``, ``high``).
        words: The two levels as a reader would say them, off then on (``a low-skill
            specialist``, ``a high-skill specialist``).
        off: ``Params`` overrides of the off level.
        on: ``Params`` overrides of the on level.
    """

    key: str
    title: str
    levels: tuple[str, str]
    words: tuple[str, str]
    off: dict[str, Any]
    on: dict[str, Any]

    @property
    def fields(self) -> set[str]:
        """The ``Params`` fields the factor sets."""
        return set(self.off) | set(self.on)

    def overrides(self, level: str) -> dict[str, Any]:
        """The overrides of ``level`` (a name in :attr:`levels`)."""
        return dict(self.on if level == self.levels[1] else self.off)


def _preset(key: str, title: str, fields: Sequence[str], levels: tuple[str, str],
            words: tuple[str, str]) -> Factor:
    """A factor whose off level is the overlay's values of ``fields`` and on level the planned."""
    off, on = make_params(BASE), make_params(PLANNED)
    return Factor(key, title, levels, words, {f: getattr(off, f) for f in fields},
                  {f: getattr(on, f) for f in fields})


def _value(name: str, strategy: str) -> Any:
    return getattr(make_params(strategy), name)


@functools.cache
def factor_table() -> dict[str, Factor]:
    """Every factor a study may use, by key (from ``Params`` and the presets).

    Built once and shared: callers must not modify it.
    """
    skill = spec("specialist_skill")
    planned = strategy_overrides(PLANNED)
    quota = ("quota_ramp_days", "first_milestone_day")
    credit = ("credit_policy",)
    prep = [k for k in planned if k not in ("manager_leadership", *credit, *quota)]
    owner = [k for k in planned if k != "manager_leadership"]
    ramp = {s: _value("quota_ramp_days", s) for s in (BASE, PLANNED)}
    first = {s: _value("first_milestone_day", s) for s in (BASE, PLANNED)}
    pay = {s: _value("credit_policy", s) for s in (BASE, PLANNED)}

    def quota_words(s: str) -> str:
        ramped = f"ramped over {ramp[s]} days" if ramp[s] else "in full from the first day"
        return f"a quota {ramped}, first reviewed on day {first[s]}"

    factors = [
        Factor("skill", "specialist skill", ("low", "high"),
               ("a low-skill specialist", "a high-skill specialist"),
               {"specialist_skill": skill.low}, {"specialist_skill": skill.high}),
        _preset("manager", "sales manager", ["manager_leadership"], ("keeps the peace", "leads"),
                ("a manager who keeps the peace", "a manager who leads")),
        _preset("credit", "credit for reps", credit, (pay[BASE], pay[PLANNED]),
                (f"{pay[BASE]} credit for reps".replace("none credit", "no credit"),
                 f"{pay[PLANNED]} credit for reps")),
        _preset("quota", "quota timing", quota, ("at once", "ramped"),
                (quota_words(BASE), quota_words(PLANNED))),
        _preset("prep", "owner's preparation without credit", prep, ("none", "prepared"),
                ("no other preparation by the owner",
                 "the owner's other preparation (rules, training, the role announced and "
                 "worked out with the reps before the launch, "
                 "no hardware fallback)")),
        _preset("owner", "owner's whole preparation", owner, ("none", "planned"),
                ("no preparation by the owner",
                 "the owner's whole preparation (the role announced and worked out with the "
                 "reps before the launch, rules, credit, training, no hardware fallback, a "
                 "ramped quota)")),
        _preset("rules", "rules of engagement", ["rules_of_engagement"], ("no", "yes"),
                ("no rules of engagement", "written rules of engagement")),
        _preset("training", "rep training", ["rep_training"], ("none", "trained"),
                ("untrained reps", "reps trained to spot opportunities")),
        _preset("intervention", "owner stepping in", ["intervention", "owner_today_priority"],
                ("never", "before launch"),
                ("an owner who does not step in (the reps learn of the role on the day)",
                 "an owner who announces the role and works it out with every rep before the "
                 "launch")),
        _preset("territory", "hardware fallback", ["open_territory"], ("open", "closed"),
                ("the open hardware territory to fall back on", "no hardware fallback")),
    ]
    return {f.key: f for f in factors}


DEFAULT_FACTORS: tuple[str, ...] = ("skill", "manager", "credit", "quota", "prep")
"""The factors of ``dealersim blame`` unless ``--factors`` says otherwise."""


def check_factors(keys: Sequence[str]) -> tuple[str, ...]:
    """A valid list of factor keys: known, no repeats, fields not shared, 1 to MAX_FACTORS.

    ``plan`` stands for the seven levers of the planned transition (:data:`PLAN_FACTORS`).

    Raises:
        ValueError: One line naming ``factors`` and what is allowed.
    """
    table = factor_table()
    keys = tuple(k for key in keys for k in (PLAN_FACTORS if key == "plan" else (key,)))
    expected = f"expected a comma-separated list of {', '.join(table)} (or plan)"
    if not 1 <= len(keys) <= MAX_FACTORS:
        raise ValueError(f"factors: {len(keys)} given; expected 1 to {MAX_FACTORS} factors")
    seen: dict[str, str] = {}
    for k in keys:
        if k not in table:
            raise ValueError(f"factors: {k!r} is unknown; {expected}")
        if k in seen.values():
            raise ValueError(f"factors: {k!r} is listed twice; {expected}")
        for f in sorted(table[k].fields):
            if f in seen:
                raise ValueError(f"factors: {seen[f]!r} and {k!r} both set {f}; pick one")
            seen[f] = k
    return keys


def factor_levels(keys: Sequence[str] = DEFAULT_FACTORS) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``Params`` overrides of every level of ``keys``: ``{factor: {level: overrides}}``."""
    table = factor_table()
    return {k: {lv: table[k].overrides(lv) for lv in table[k].levels} for k in keys}


def cells(keys: Sequence[str], design: str = "full") -> list[tuple[int, ...]]:
    """The combinations of levels a design runs, as 0/1 tuples (0 = off).

    ``full``: every combination, first factor slowest. ``resv``: the full design in the first
    ``k - p`` factors, each remaining factor's level given by its generator (:data:`GENERATORS`:
    on where the product of the listed factors' -1/+1 columns is +1), so the all-on cell is in
    the fraction and the all-off cell is not.

    Raises:
        ValueError: One line for an unknown design, or ``resv`` with fewer than 6 factors.
    """
    k = len(keys)
    check_design(design, k)
    if design == "full":
        return list(itertools.product((0, 1), repeat=k))
    gens = GENERATORS[k]
    out = []
    for base in itertools.product((0, 1), repeat=k - len(gens)):
        signs = [2 * b - 1 for b in base]
        out.append((*base, *(int(np.prod([signs[i] for i in g]) > 0) for g in gens)))
    return out


def plan_cells(k: int) -> list[tuple[int, ...]]:
    """The combinations the plan's verdict reads (0/1 tuples; ``2 k + 2`` of them).

    Everything, nothing, each factor alone and everything but each factor.
    """
    out = [(1,) * k, (0,) * k]
    for i in range(k):
        out.append(tuple(int(j == i) for j in range(k)))
        out.append(tuple(int(j != i) for j in range(k)))
    return list(dict.fromkeys(out))


def design_cells(keys: Sequence[str], design: str = "full") -> list[tuple[tuple[int, ...], bool]]:
    """Every combination a design runs, each with whether it belongs to the design proper.

    A fraction is run together with the combinations of :func:`plan_cells` it lacks (flagged
    ``False``): the effects are estimated on the fraction alone (its orthogonal contrasts), and
    "each lever alone" and "everything but one lever" are then read from cells actually run,
    not predicted from the effects.
    """
    proper = cells(keys, design)
    if design == "full":
        return [(c, True) for c in proper]
    have = set(proper)
    return [(c, True) for c in proper] + [(c, False) for c in plan_cells(len(keys))
                                          if c not in have]


def fraction_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs of the design proper (a fraction's added plan cells left out)."""
    if "fraction" not in runs:
        return runs
    return runs[runs.fraction.astype(bool).to_numpy()]


def check_design(design: str, k: int) -> None:
    """Refuse an unknown design or a fraction the factor count has no generators for.

    Raises:
        ValueError: One line naming ``design`` and what is allowed.
    """
    if design not in DESIGNS:
        raise ValueError(f"design: {design!r} is unknown; expected one of {', '.join(DESIGNS)}")
    if design == "resv" and k not in GENERATORS:
        raise ValueError(f"design: resv needs {min(GENERATORS)} to {max(GENERATORS)} factors "
                         f"({k} given); expected full for fewer")


def defining_words(k: int, design: str = "resv") -> list[frozenset[int]]:
    """The words of a design's defining relation (factor indices), from its generators.

    The full design has none; a fraction's resolution is its shortest word's length.
    """
    check_design(design, k)
    if design == "full":
        return []
    gens = GENERATORS[k]
    first = k - len(gens)
    basic = [frozenset(g) | {first + j} for j, g in enumerate(gens)]
    words = set()
    for r in range(1, len(basic) + 1):
        for combo in itertools.combinations(basic, r):
            w: frozenset[int] = frozenset()
            for b in combo:
                w = w ^ b
            words.add(w)
    return sorted(words, key=lambda w: (len(w), sorted(w)))


def resolution(k: int, design: str = "resv") -> int | None:
    """The design's resolution (``None`` for the full design: nothing is aliased)."""
    words = defining_words(k, design)
    return min(len(w) for w in words) if words else None


def aliases(effect: Sequence[int], k: int, design: str = "resv") -> list[frozenset[int]]:
    """The effects aliased with ``effect`` (factor indices): its products with every word."""
    e = frozenset(effect)
    return sorted((e ^ w for w in defining_words(k, design)), key=lambda w: (len(w), sorted(w)))


def cell_overrides(keys: Sequence[str], cell: Sequence[int],
                   base: dict[str, Any] | None = None) -> dict[str, Any]:
    """All ``Params`` overrides of one cell (on top of the overlay preset and ``base``)."""
    table = factor_table()
    out = dict(base or {})
    for k, on in zip(keys, cell, strict=True):
        out.update(table[k].on if on else table[k].off)
    return out


def blame_specs(replicates: int, seed: int, base: dict[str, Any] | None = None,
                factors: Sequence[str] = DEFAULT_FACTORS,
                posterior: pd.DataFrame | None = None, design: str = "full") -> list[RunSpec]:
    """The runs of the factorial: the design's cells, each on the same ``replicates`` seeds.

    With ``posterior``, replicate *i* of every cell uses the same drawn parameter set (a
    ``draw`` label); the cell's factor levels and ``base`` win over it.
    """
    table = factor_table()
    seeds = replicate_seeds(seed, replicates)
    drawn = replicate_draws(posterior, seeds)
    specs = []
    planned = [(c, cell_overrides(factors, cell, base),
                (*((k, table[k].levels[on]) for k, on in zip(factors, cell, strict=True)),
                 ("fraction", proper)))
               for c, (cell, proper) in enumerate(design_cells(factors, design))]
    # replicate by replicate, so that a task holds one seed's cells and they share its
    # hardware-only baseline run in the worker (``results.baseline_ledger``, cached)
    for i in range(replicates):
        index, values = drawn[i]
        for c, explicit, levels in planned:
            specs.append(RunSpec(f"{c:02d}-{i:06d}", BASE, seeds[i],
                                 drawn_overrides(values, BASE, explicit),
                                 labels=(("cell", c), *levels, ("replicate", i),
                                         *draw_label(index))))
    return specs


@dataclass
class Blame:
    """Result of the blame experiment.

    Attributes:
        runs: One row per run (a column per factor with its level, replicate, seed and every
            summary KPI).
        cells: Per cell: a column per factor, n, successes, rate, Wilson interval, mean managed
            MRR, one-year survival of the first specialist.
        effects: Main effects, two-way interactions and conditional effects on the success
            rate (``name``, ``kind``, ``label``, ``effect``, ``ci_low``, ``ci_high``, ``n``).
        logit: Logistic regression of success on the factors (main effects).
        replicates: Runs per cell.
        seed: Master seed.
        overrides: Overrides applied to every cell (``--set``, ``--years``).
        version: dealersim version.
        command: Command line that reproduces it.
        factors: The factor keys, in order.
        posterior: The calibration directory replicates drew parameter sets from (``None``:
            the ``Params`` defaults).
        design: ``full`` (every combination) or ``resv`` (a resolution-V fraction).
        measures: :func:`measure_effects`: main effects, interactions and conditional effects
            on each KPI of :data:`MEASURES` (``None`` when not computed).
    """

    runs: pd.DataFrame
    cells: pd.DataFrame
    effects: pd.DataFrame
    logit: LogitFit | None
    replicates: int
    seed: int
    overrides: dict[str, Any]
    version: str
    command: str
    factors: tuple[str, ...] = DEFAULT_FACTORS
    posterior: str | None = None
    design: str = "full"
    measures: pd.DataFrame | None = None
    outcome: str = "launch_succeeded"
    """The flag the cells, effects and verdicts count (a key of :data:`OUTCOMES`)."""

    @property
    def fraction_size(self) -> int:
        """Combinations of the design proper (a fraction's added plan cells not counted)."""
        c = self.cells
        return int(c.fraction.astype(bool).sum()) if "fraction" in c else len(c)

    @property
    def added_cells(self) -> int:
        """Combinations run beside a fraction so that the plan's verdict reads run cells."""
        return len(self.cells) - self.fraction_size

    @property
    def rate_words(self) -> str:
        """What the rate counts, in words ("the success rate")."""
        return OUTCOMES[self.outcome][0]

    @property
    def succeed_words(self) -> str:
        """What a counted launch does, in words ("launches succeed")."""
        return OUTCOMES[self.outcome][1]

    def uncertainty_note(self) -> str | None:
        """With a posterior: one plain sentence saying the intervals include its uncertainty."""
        if self.posterior is None or "draw" not in self.runs:
            return None
        sets = self.runs["draw"].nunique()
        return (f"Each of the {self.replicates} simulated dealerships per combination is one "
                f"of {sets} parameter sets drawn from the calibration (the same dealership in "
                "every combination), so these intervals include the uncertainty about the "
                "unsourced parameters, not only chance.")

    def factor(self, key: str) -> Factor:
        """The :class:`Factor` called ``key``."""
        return factor_table()[key]

    def rate(self, *args: str, **levels: str) -> pd.Series:
        """The row of ``cells`` for one combination (levels by position or by factor key)."""
        levels = {**dict(zip(self.factors, args, strict=False)), **levels}
        c = self.cells
        mask = np.ones(len(c), dtype=bool)
        for k, lv in levels.items():
            mask &= (c[k] == lv).to_numpy()
        if not mask.any():
            raise KeyError(f"the {self.design} design did not run the combination {levels}")
        return c[mask].iloc[0]

    def on_vector(self, on: Sequence[str]) -> tuple[int, ...]:
        """The 0/1 cell tuple where exactly the factors in ``on`` are on."""
        return tuple(int(k in on) for k in self.factors)

    def cell_with(self, on: Sequence[str]) -> pd.Series:
        """The cell where exactly the factors in ``on`` are on."""
        return self.rate(**{k: self.factor(k).levels[k in on] for k in self.factors})

    def effect(self, name: str) -> pd.Series:
        """The row of ``effects`` named ``name``."""
        return self.effects.set_index("name").loc[name]

    def level_text(self) -> dict[str, str]:
        """What each factor's levels mean, in words (labels and units from ``Params``)."""
        out = {}
        for k in self.factors:
            f = self.factor(k)
            parts = []
            for name, lv in zip(f.levels, (f.off, f.on), strict=True):
                values = "; ".join(f"{spec(n).label}: {_words(n, v)}" for n, v in lv.items())
                parts.append(f"{name}: {values}")
            out[f.title] = ". ".join(parts) + "."
        return out

    def describe(self, on: Sequence[str]) -> str:
        """The combination where the factors in ``on`` are on, in words."""
        # without the lists in brackets: the combination is quoted inside brackets itself
        words = [re.sub(r" \(.*\)$", "", self.factor(k).words[1]) for k in self.factors
                 if k in on]
        if not words:
            return "none of them"
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    def sentences(self) -> list[str]:
        """One sentence per factor on how much it moves the success rate, then the verdict.

        The verdict is chosen from the numbers it quotes: the factor with the largest main
        effect is named only if its interval is above zero, and "without it nothing else is
        enough" is said only if the best combination without it fails in most launches (below
        :data:`MOSTLY`) and clearly (Wilson intervals apart) below the combination with
        everything in place; otherwise the blame is called shared.
        """
        if self.design != "full":
            return self._fraction_sentences()
        out = []
        mains = self.effects[self.effects.kind == "main"].set_index("name")
        order = mains.effect.sort_values(ascending=False, kind="stable").index
        for k in order:
            f, e = self.factor(k), mains.loc[k]
            alone = self.effect(f"{k}|others off").effect
            rest = self.effect(f"{k}|others on").effect
            clear = ("" if e.ci_low > 0 or e.ci_high < 0
                     else "; at this number of runs that is no clear difference")
            context = ("" if len(self.factors) == 1 else
                       f"; {_pts(alone)} when nothing else is in place, {_pts(rest)} when "
                       "everything else is")
            out.append(f"{f.words[1][0].upper()}{f.words[1][1:]} instead of {f.words[0]} moves "
                       f"{self.rate_words} by {_pts(e.effect)} on average (95 % interval "
                       f"{_pts(e.ci_low, False)} to {_pts(e.ci_high)}{context}){clear}.")
        everything = self.cell_with(self.factors)
        nothing = self.cell_with(())
        ends = (f"with everything in place {everything.rate:.0%} of {self.succeed_words}, "
                f"with nothing in place {nothing.rate:.0%}")
        top = order[0]
        if not mains.loc[top].ci_low > 0:
            out.append(f"Verdict: no single factor clearly moves {self.rate_words} at "
                       f"{self.replicates} runs per combination; {ends}.")
            return out
        others = [k for k in self.factors if k != top]
        best = max((c for c in cells(others)), key=lambda c: (self.cell_with(
            [k for k, on in zip(others, c, strict=True) if on]).rate, -sum(c)))
        best_on = [k for k, on in zip(others, best, strict=True) if on]
        without = self.cell_with(best_on)
        who = self.factor(top).title
        if not others:
            out.append(f"Verdict: {ends}.")
        elif without.rate < MOSTLY and without.ci_high < everything.ci_low:
            out.append(f"Verdict: the largest lever is the {who}. Without it nothing else is "
                       f"enough: the best combination of the others ({self.describe(best_on)}) "
                       f"reaches {without.rate:.0%}; {ends}.")
        else:
            out.append(f"Verdict: the {who} moves {self.rate_words} most, but the blame is "
                       f"shared: without it, the best combination of the others "
                       f"({self.describe(best_on)}) still reaches {without.rate:.0%}; "
                       f"{ends}.")
        return out


    def _fraction_sentences(self) -> list[str]:
        """Main effects and the clearest interactions of a fractional design, in words."""
        out = []
        mains = self.effects[self.effects.kind == "main"].set_index("name")
        for k in mains.effect.sort_values(ascending=False, kind="stable").index:
            f, e = self.factor(k), mains.loc[k]
            clear = ("" if e.ci_low > 0 or e.ci_high < 0
                     else "; at this number of runs that is no clear difference")
            out.append(f"{f.words[1][0].upper()}{f.words[1][1:]} instead of {f.words[0]} moves "
                       f"{self.rate_words} by {_pts(e.effect)} on average (95 % interval "
                       f"{_pts(e.ci_low, False)} to {_pts(e.ci_high)}){clear}.")
        inter = self.effects[(self.effects.kind == "interaction")
                             & ((self.effects.ci_low > 0) | (self.effects.ci_high < 0))]
        n = len(self.effects[self.effects.kind == "interaction"])
        runs_them = (f"each single lever alone and the plan without each lever were run beside "
                     f"it ({self.added_cells} more combinations on the same seeds), so the "
                     "verdict below reads them directly" if self.added_cells else
                     "each single lever alone and the plan without one lever are not run; the "
                     "full design compares them directly")
        out.append(f"{len(inter)} of the {n} two-factor interactions clearly move "
                   f"{self.rate_words}. This is a fraction of the combinations "
                   f"({self.fraction_size} of "
                   f"{2 ** len(self.factors)}, resolution {roman(resolution(len(self.factors)))}"
                   "): each main effect and two-factor interaction is estimated free of the "
                   f"others; {runs_them}.")
        return out

    def plan_sentences(self) -> list[str]:
        """Does it take the whole plan, or one fix? The success rates' answer, in words.

        Compares, on the same seeds, the combination with every factor in place with (a) each
        single factor alone and (b) everything but one factor (both in the full design only).
        The claim "it takes the plan, not one fix" is called *supported* when every single
        factor alone is clearly below everything (paired interval below zero) AND the best of
        them succeeds in fewer than :data:`MOSTLY` of launches; *refuted* when some factor alone
        is not clearly below everything; otherwise partly supported. Separately, a factor is
        *needed* when dropping it from everything clearly lowers the outcome.
        """
        if len(self.factors) < 2:
            return []
        everything = self.on_vector(self.factors)
        rates = {tuple(r[k] == self.factor(k).levels[1] for k in self.factors): r["rate"]
                 for r in self.cells.to_dict("records")}
        if everything not in rates:
            return []
        full_rate = rates[everything]
        run_directly = all(self.on_vector([k]) in rates
                           and self.on_vector([o for o in self.factors if o != k]) in rates
                           for k in self.factors)
        if run_directly:
            matrix = cell_matrix(self.runs, self.factors, self.outcome)
            single, drop = [], []
            for k in self.factors:
                m, lo, hi, _ = cell_contrast(self.runs, self.factors, everything,
                                             self.on_vector([k]), self.outcome, matrix=matrix)
                single.append((k, rates[self.on_vector([k])], m, lo, hi))
                rest = [o for o in self.factors if o != k]
                m, lo, hi, _ = cell_contrast(self.runs, self.factors, everything,
                                             self.on_vector(rest), self.outcome, matrix=matrix)
                drop.append((k, rates[self.on_vector(rest)], m, lo, hi))
            how = ("" if self.design == "full" else
                   " Each of these combinations was run, on the same seeds as the fraction.")
        else:
            single, drop = [], []
            for k, (alone, without) in predicted_plan_contrasts(
                    self.runs, self.factors, self.outcome).items():
                single.append((k, min(1.0, max(0.0, full_rate + alone[0])), *alone))
                drop.append((k, min(1.0, max(0.0, full_rate + without[0])), *without))
            how = (" Predicted from the main effects and two-factor interactions, which this "
                   "fraction estimates free of each other, assuming interactions of three or "
                   "more levers are small: the single-lever and all-but-one combinations are "
                   "not run in it.")
        best = max(single, key=lambda t: t[1])
        below = [t for t in single if t[4] < 0]
        needed = [t for t in drop if t[4] < 0]
        lo_rest, hi_rest = min(t[1] for t in drop), max(t[1] for t in drop)
        out = [f"With all {len(self.factors)} levers in place {full_rate:.0%} of "
               f"{self.succeed_words} ({self.replicates} simulated dealerships per "
               "combination, the same in "
               f"each). The best single lever alone, {self.factor(best[0]).title}, reaches "
               f"{best[1]:.0%} ({_pts(best[2])} against the whole plan, 95 % interval "
               f"{_pts(best[3], False)} to {_pts(best[4])}); {len(below)} of "
               f"{len(single)} single levers are clearly below the whole plan."]
        if len(below) == len(single) and best[1] < MOSTLY:
            verdict = "supported: no single fix comes close to the whole plan"
        elif len(below) < len(single):
            alone = [self.factor(t[0]).title for t in single if t[4] >= 0]
            verdict = ("refuted: " + _join(alone) + (" alone is" if len(alone) == 1 else
                                                      " alone are each")
                       + " not clearly worse than the whole plan")
        else:
            verdict = (f"partly supported: every single lever is clearly below the whole plan, "
                       f"but the best one alone still reaches {best[1]:.0%}")
        if needed:
            names = _join([self.factor(t[0]).title for t in needed])
            rest_text = (f"Dropping one lever from the plan leaves {lo_rest:.0%} to "
                         f"{hi_rest:.0%}; the plan clearly needs {names} (dropping "
                         f"{'it' if len(needed) == 1 else 'each'} lowers the rate with an "
                         "interval below zero).")
        else:
            rest_text = (f"Dropping any one lever from the plan leaves {lo_rest:.0%} to "
                         f"{hi_rest:.0%}: no lever is clearly needed once the others are in "
                         "place.")
        out.append(f"\"It takes the plan, not one fix\" is {verdict}. {rest_text}{how}")
        return out


def _join(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def roman(n: int | None) -> str:
    """A design resolution as a Roman numeral (V, VI, VII)."""
    return {5: "V", 6: "VI", 7: "VII"}.get(n or 0, str(n))


def _pts(x: float, unit: bool = True) -> str:
    return f"{x * 100:+.0f}" + (" points" if unit else "")


def _words(name: str, value: Any) -> str:
    """A parameter value for a reader: yes/no, words for choices, the unit for numbers."""
    s = spec(name)
    if s.kind == "bool":
        return "yes" if value else "no"
    if s.kind == "choice":
        return str(value).replace("_", " ")
    if s.unit == "0-1":
        return f"{format_value(value)} on a scale of 0 to 1"
    return f"{format_value(value)} {s.unit}".strip()


def default_command(replicates: int, seed: int, overrides: dict[str, Any] | None,
                    factors: Sequence[str] = DEFAULT_FACTORS,
                    posterior: str | Path | None = None, design: str = "full") -> str:
    """The ``dealersim blame`` command line for these settings."""
    parts = ["dealersim", "blame", "--replicates", str(replicates), "--seed", str(seed)]
    if tuple(factors) == PLAN_FACTORS:
        parts += ["--factors", "plan"]
    elif tuple(factors) != DEFAULT_FACTORS:
        parts += ["--factors", ",".join(factors)]
    if design != "full":
        parts += ["--design", design]
    if posterior is not None:
        parts += ["--posterior", str(posterior)]
    for k, v in sorted((overrides or {}).items()):
        parts += ["--set", f"{k}={format_value(v)}"]
    return " ".join(parts)


def run_blame(replicates: int, *, seed: int = 0, overrides: dict[str, Any] | None = None,
              factors: Sequence[str] = DEFAULT_FACTORS, workers: int = 1,
              executor: Executor | None = None, progress: bool | None = None,
              command: str | None = None, posterior: str | Path | None = None,
              design: str = "full", outcome: str = "launch_succeeded") -> Blame:
    """Run the factorial and compute cells, effects and the logistic regression.

    Args:
        replicates: Runs per cell (>= 1).
        seed: Master seed.
        overrides: ``Params`` overrides for every cell (they cannot be factor fields).
        factors: Factor keys (see :func:`factor_table`; default :data:`DEFAULT_FACTORS`).
        workers: Local worker processes.
        executor: Any ``concurrent.futures.Executor`` instead of the local pool.
        progress: Show a progress bar (default: when stderr is a terminal).
        command: Command line to record.
        posterior: A calibration directory: replicate *i* of every cell draws its parameter
            set from its posterior (see :func:`blame_specs`).
        design: ``full`` or ``resv`` (see :func:`cells`).
        outcome: The flag the cells, effects and verdicts count (a key of :data:`OUTCOMES`).

    Raises:
        ValueError: One line for ``replicates < 1``, bad factors, a bad design, a bad override
            or a ``posterior`` that is not a finished calibration.
    """
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates: {replicates} is not allowed; expected an integer >= 1")
    factors = check_factors(factors)
    check_design(design, len(factors))
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome: {outcome!r} is not allowed; expected one of "
                         f"{', '.join(OUTCOMES)}")
    overrides = dict(overrides or {})
    table = factor_table()
    clash = sorted({f for k in factors for f in table[k].fields} & set(overrides))
    if clash:
        raise ValueError(f"--set: {clash[0]} is a factor of the blame experiment; "
                         "it cannot be fixed")
    make_params(BASE, **overrides)
    drawn = load_posterior(posterior) if posterior is not None else None
    specs = blame_specs(replicates, seed, overrides, factors, drawn, design)
    rows = [row for batch in execute(specs, executor=executor, workers=workers,
                                     progress=progress) for row, _ in batch]
    runs = runs_frame(rows)
    proper = fraction_runs(runs)
    return Blame(runs=runs, cells=cell_table(runs, factors, outcome),
                 effects=effect_table(proper, factors, outcome),
                 logit=fit_logit(proper, factors, outcome),
                 replicates=replicates, seed=seed, overrides=overrides,
                 version=package_version(),
                 command=command or default_command(replicates, seed, overrides, factors,
                                                    posterior, design),
                 factors=factors, posterior=None if posterior is None else str(posterior),
                 design=design, measures=measure_effects(proper, factors), outcome=outcome)


def cell_table(runs: pd.DataFrame, factors: Sequence[str] = DEFAULT_FACTORS,
               outcome: str = "launch_succeeded") -> pd.DataFrame:
    """Rate of ``outcome`` (Wilson interval), mean managed MRR and one-year tenure per cell."""
    out = []
    for key, d in runs.groupby(["cell", *factors], sort=True):
        y = numeric(d[outcome])
        rate, lo, hi = kpi(outcome).interval(y)
        t = numeric(d.first_specialist_tenure_days)
        cens = d.first_specialist_censored.astype("boolean").fillna(True).to_numpy(bool)
        proper = bool(d.fraction.iloc[0]) if "fraction" in d else True
        out.append(dict(cell=key[0], **dict(zip(factors, key[1:], strict=True)),
                        fraction=proper, n=y.size,
                        successes=int(y.sum()), rate=rate, ci_low=lo, ci_high=hi,
                        managed_mrr=float(numeric(d.managed_mrr).mean()),
                        tenure_1y=km_at(kaplan_meier(t, cens), 365)))
    return pd.DataFrame(out)


def outcome_cube(runs: pd.DataFrame, factors: Sequence[str] = DEFAULT_FACTORS,
                 column: str = "launch_succeeded") -> np.ndarray:
    """Outcomes as an array ``[factor 1, ..., factor k, replicate]`` (0 = off, 1 = on).

    Cells a fractional design does not run are NaN.
    """
    table = factor_table()
    reps = sorted(runs.replicate.unique())
    pos = {r: i for i, r in enumerate(reps)}
    cube = np.full((2,) * len(factors) + (len(reps),), np.nan)
    index = [runs[k].map({lv: i for i, lv in enumerate(table[k].levels)}).to_numpy(int)
             for k in factors]
    cube[(*index, runs.replicate.map(pos).to_numpy(int))] = numeric(runs[column])
    return cube


def cell_matrix(runs: pd.DataFrame, factors: Sequence[str],
                column: str = "launch_succeeded") -> tuple[np.ndarray, np.ndarray]:
    """The cells run and their outcomes: ``(levels [cell, factor] 0/1, Y [cell, replicate])``."""
    table = factor_table()
    on = np.column_stack([(runs[k] == table[k].levels[1]).to_numpy(int) for k in factors])
    keys, inverse = np.unique(on, axis=0, return_inverse=True)
    reps = sorted(runs.replicate.unique())
    pos = runs.replicate.map({r: i for i, r in enumerate(reps)}).to_numpy(int)
    Y = np.full((len(keys), len(reps)), np.nan)
    Y[inverse.ravel(), pos] = numeric(runs[column])
    return keys, Y


def _contrast(Y: np.ndarray, plus: np.ndarray) -> np.ndarray:
    """Per replicate: mean outcome of the cells in ``plus`` less that of the others."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a replicate with no value: NaN
        return np.nanmean(Y[plus], axis=0) - np.nanmean(Y[~plus], axis=0)


def effect_table(runs: pd.DataFrame, factors: Sequence[str] = DEFAULT_FACTORS,
                 column: str = "launch_succeeded") -> pd.DataFrame:
    """Main effects, two-way interactions and conditional effects on one KPI (``column``).

    Each effect is a contrast of cell outcomes computed per replicate (the cells share seeds),
    then averaged with a Student-t interval kept inside the KPI's range of differences (±1 for
    the success rate): a main effect is on minus off averaged over the other factors' levels;
    ``a x b`` is the effect of ``a`` with ``b`` on minus its effect with ``b`` off (twice the
    textbook interaction effect). Both are contrasts of the -1/+1 columns, so they are the same
    in a full design and in an orthogonal fraction (where each stands for its alias chain:
    in a resolution-V fraction only interactions of three or more factors). ``a|others off`` and
    ``a|others on`` are the effect of ``a`` with every other factor off, or on, when both
    cells were run (always in the full design).
    """
    table = factor_table()
    levels, Y = cell_matrix(runs, factors, column)
    k = len(factors)
    low, high = kpi(column).bounds
    width = high - low
    bounds = (-width, width)
    rows: list[tuple[str, str, str, np.ndarray]] = []
    for i, f in enumerate(factors):
        rows.append((f, "main", f"{table[f].title} ({table[f].levels[1]} vs "
                     f"{table[f].levels[0]})", _contrast(Y, levels[:, i] == 1)))
    for i, j in itertools.combinations(range(k), 2):
        a, b = factors[i], factors[j]
        rows.append((f"{a} x {b}", "interaction", f"{table[a].title} x {table[b].title}",
                     2 * _contrast(Y, levels[:, i] == levels[:, j])))
    where = {tuple(r): n for n, r in enumerate(levels.tolist())}
    for i, f in enumerate(factors):
        for state, at in (("off", 0), ("on", 1)):
            off, on = [at] * k, [at] * k
            off[i], on[i] = 0, 1
            if tuple(off) in where and tuple(on) in where:
                rows.append((f"{f}|others {state}", "conditional",
                             f"{table[f].title}, everything else {state}",
                             Y[where[tuple(on)]] - Y[where[tuple(off)]]))
    out = []
    for name, kind, label, per_rep in rows:
        est, lo, hi = interval(per_rep, bounds=bounds)
        out.append(dict(name=name, kind=kind, label=label, effect=est, ci_low=lo,
                        ci_high=hi, n=int(np.sum(~np.isnan(per_rep)))))
    return pd.DataFrame(out)


def measure_effects(runs: pd.DataFrame, factors: Sequence[str] = DEFAULT_FACTORS,
                    measures: Sequence[str] = MEASURES) -> pd.DataFrame:
    """:func:`effect_table` for each KPI in ``measures``, stacked with a ``measure`` column."""
    frames = [effect_table(runs, factors, m).assign(measure=m) for m in measures
              if m in runs]
    out = pd.concat(frames, ignore_index=True)
    return out[["measure", *[c for c in out if c != "measure"]]]


def predicted_plan_contrasts(runs: pd.DataFrame, factors: Sequence[str],
                             column: str = "launch_succeeded"
                             ) -> dict[str, tuple[tuple[float, float, float],
                                                  tuple[float, float, float]]]:
    """Per factor: (that factor alone, everything but it) minus everything, from the model.

    The model is the main effects and two-factor interactions (in -1/2, +1/2 coding,
    ``y = c + sum m_i z_i + sum g_ij z_i z_j``, where ``m`` is the main effect and ``g`` the
    ``a x b`` contrast of :func:`effect_table`): everything but ``f`` minus everything is
    ``-(m_f + 1/2 sum_j g_fj)``, ``f`` alone minus everything is ``-(sum_{j != f} m_j +
    1/2 sum_j g_fj)``. Computed per replicate from that replicate's contrasts, then averaged
    with a Student-t interval. Exact when interactions of three or more factors are zero;
    what a resolution-V fraction can say about combinations it did not run.
    """
    levels, Y = cell_matrix(runs, factors, column)
    k = len(factors)
    main = [_contrast(Y, levels[:, i] == 1) for i in range(k)]
    inter = np.zeros((k, k, Y.shape[1]))
    for i, j in itertools.combinations(range(k), 2):
        inter[i, j] = inter[j, i] = 2 * _contrast(Y, levels[:, i] == levels[:, j])
    low, high = kpi(column).bounds
    bounds = (-(high - low), high - low)
    out = {}
    for i, f in enumerate(factors):
        half = 0.5 * inter[i].sum(axis=0)
        others = sum(main[j] for j in range(k) if j != i)
        out[f] = (interval(-(others + half), bounds=bounds),
                  interval(-(main[i] + half), bounds=bounds))
    return out


def cell_contrast(runs: pd.DataFrame, factors: Sequence[str], a: Sequence[int],
                  b: Sequence[int], column: str = "launch_succeeded",
                  matrix: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, float,
                                                                                float, int]:
    """Paired difference ``b - a`` between two cells (0/1 tuples) over the shared seeds.

    Returns ``(mean, low, high, n)`` (Student t, kept inside the KPI's range of differences);
    NaN when either cell was not run. ``matrix``: :func:`cell_matrix` of ``column``, if known.
    """
    levels, Y = matrix if matrix is not None else cell_matrix(runs, factors, column)
    where = {tuple(r): n for n, r in enumerate(levels.tolist())}
    if tuple(a) not in where or tuple(b) not in where:
        return (float("nan"), float("nan"), float("nan"), 0)
    return paired_diff(Y[where[tuple(a)]], Y[where[tuple(b)]], bounds=kpi(column).bounds)


def fit_logit(runs: pd.DataFrame, factors: Sequence[str] = DEFAULT_FACTORS,
              outcome: str = "launch_succeeded") -> LogitFit:
    """Logistic regression of ``outcome`` on the factors (main effects, on vs off)."""
    table = factor_table()
    y = numeric(runs[outcome])
    X = np.column_stack([np.ones(len(runs))] + [
        (runs[f] == table[f].levels[1]).to_numpy(float) for f in factors])
    names = ["intercept (everything off)"] + [
        f"{table[f].title}: {table[f].levels[1]}" for f in factors]
    return logistic_irls(X, y, names)


def blame_table(b: Blame) -> str:
    """The cell table as plain text, for the terminal."""
    table = factor_table()
    width = {k: max(len(k), *(len(lv) for lv in table[k].levels)) for k in b.factors}
    head = " ".join(f"{k:<{width[k]}}" for k in b.factors)
    lines = [f"{head} {'success':>8}  95 % interval"]
    for r in b.cells.to_dict("records"):
        levels = " ".join(f"{r[k]:<{width[k]}}" for k in b.factors)
        lines.append(f"{levels} {r['rate']:>8.0%}  {r['ci_low']:.0%} to {r['ci_high']:.0%}")
    return "\n".join(lines)
