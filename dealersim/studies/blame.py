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

With a calibration's posterior (``--posterior DIR``), replicate *i* draws one plausible
parameter set and every cell uses it (``studies.posterior.replicate_draws``): contrasts stay
paired, and their intervals, taken over replicates, include parameter uncertainty. A factor's
own fields win over the drawn values (the skill factor sets the specialist's skill).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealersim.base.stats import LogitFit, interval, kaplan_meier, km_at, logistic_irls
from dealersim.model.kpis import kpi
from dealersim.model.params import format_value, spec
from dealersim.model.results import package_version
from dealersim.model.strategies import make_params, strategy_overrides
from dealersim.studies.compare import numeric, runs_frame
from dealersim.studies.engine import RunSpec, execute, replicate_seeds
from dealersim.studies.posterior import (
    draw_label,
    drawn_overrides,
    load_posterior,
    replicate_draws,
)

BASE = "overlay"
PLANNED = "planned"
MAX_FACTORS = 6
"""At most this many factors (64 cells)."""
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


def factor_table() -> dict[str, Factor]:
    """Every factor a study may use, by key (values from ``Params`` and the presets)."""
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
                 "the owner's other preparation (announcement, rules, training, stepping in, "
                 "no hardware fallback)")),
        _preset("owner", "owner's whole preparation", owner, ("none", "planned"),
                ("no preparation by the owner",
                 "the owner's whole preparation (announcement, rules, credit, training, "
                 "stepping in, no hardware fallback, a ramped quota)")),
        _preset("announce", "announcement", ["announce_before_launch"], ("no", "yes"),
                ("no announcement", "the role announced before the hire")),
        _preset("rules", "rules of engagement", ["rules_of_engagement"], ("no", "yes"),
                ("no rules of engagement", "written rules of engagement")),
        _preset("training", "rep training", ["rep_training"], ("none", "trained"),
                ("untrained reps", "reps trained to spot opportunities")),
        _preset("intervention", "owner stepping in", ["intervention", "owner_today_priority"],
                ("never", "before launch"),
                ("an owner who does not step in", "an owner who steps in before the launch")),
        _preset("territory", "hardware fallback", ["open_territory"], ("open", "closed"),
                ("the open hardware territory to fall back on", "no hardware fallback")),
    ]
    return {f.key: f for f in factors}


DEFAULT_FACTORS: tuple[str, ...] = ("skill", "manager", "credit", "quota", "prep")
"""The factors of ``dealersim blame`` unless ``--factors`` says otherwise."""


def check_factors(keys: Sequence[str]) -> tuple[str, ...]:
    """A valid list of factor keys: known, no repeats, fields not shared, 1 to MAX_FACTORS.

    Raises:
        ValueError: One line naming ``factors`` and what is allowed.
    """
    table = factor_table()
    keys = tuple(keys)
    expected = f"expected a comma-separated list of {', '.join(table)}"
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


def cells(keys: Sequence[str]) -> list[tuple[int, ...]]:
    """Every combination of levels as 0/1 tuples (0 = off), first factor slowest."""
    return list(itertools.product((0, 1), repeat=len(keys)))


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
                posterior: pd.DataFrame | None = None) -> list[RunSpec]:
    """The runs of the factorial: 2**len(factors) cells, each on the same ``replicates`` seeds.

    With ``posterior``, replicate *i* of every cell uses the same drawn parameter set (a
    ``draw`` label); the cell's factor levels and ``base`` win over it.
    """
    table = factor_table()
    seeds = replicate_seeds(seed, replicates)
    drawn = replicate_draws(posterior, seeds)
    specs = []
    for c, cell in enumerate(cells(factors)):
        explicit = cell_overrides(factors, cell, base)
        levels = tuple((k, table[k].levels[on]) for k, on in zip(factors, cell, strict=True))
        for i in range(replicates):
            index, values = drawn[i]
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
        return c[mask].iloc[0]

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
                       f"the success rate by {_pts(e.effect)} on average (95 % interval "
                       f"{_pts(e.ci_low, False)} to {_pts(e.ci_high)}{context}){clear}.")
        everything = self.cell_with(self.factors)
        nothing = self.cell_with(())
        ends = (f"with everything in place launches succeed in {everything.rate:.0%}, with "
                f"nothing in place in {nothing.rate:.0%}")
        top = order[0]
        if not mains.loc[top].ci_low > 0:
            out.append(f"Verdict: no single factor clearly moves the success rate at "
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
                       f"succeeds in {without.rate:.0%}; {ends}.")
        else:
            out.append(f"Verdict: the {who} moves the success rate most, but the blame is "
                       f"shared: without it, the best combination of the others "
                       f"({self.describe(best_on)}) still succeeds in {without.rate:.0%}; "
                       f"{ends}.")
        return out


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
                    posterior: str | Path | None = None) -> str:
    """The ``dealersim blame`` command line for these settings."""
    parts = ["dealersim", "blame", "--replicates", str(replicates), "--seed", str(seed)]
    if tuple(factors) != DEFAULT_FACTORS:
        parts += ["--factors", ",".join(factors)]
    if posterior is not None:
        parts += ["--posterior", str(posterior)]
    for k, v in sorted((overrides or {}).items()):
        parts += ["--set", f"{k}={format_value(v)}"]
    return " ".join(parts)


def run_blame(replicates: int, *, seed: int = 0, overrides: dict[str, Any] | None = None,
              factors: Sequence[str] = DEFAULT_FACTORS, workers: int = 1,
              executor: Executor | None = None, progress: bool | None = None,
              command: str | None = None, posterior: str | Path | None = None) -> Blame:
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

    Raises:
        ValueError: One line for ``replicates < 1``, bad factors, a bad override or a
            ``posterior`` that is not a finished calibration.
    """
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates: {replicates} is not allowed; expected an integer >= 1")
    factors = check_factors(factors)
    overrides = dict(overrides or {})
    table = factor_table()
    clash = sorted({f for k in factors for f in table[k].fields} & set(overrides))
    if clash:
        raise ValueError(f"--set: {clash[0]} is a factor of the blame experiment; "
                         "it cannot be fixed")
    make_params(BASE, **overrides)
    drawn = load_posterior(posterior) if posterior is not None else None
    specs = blame_specs(replicates, seed, overrides, factors, drawn)
    rows = [row for batch in execute(specs, executor=executor, workers=workers,
                                     progress=progress) for row, _ in batch]
    runs = runs_frame(rows)
    return Blame(runs=runs, cells=cell_table(runs, factors),
                 effects=effect_table(runs, factors), logit=fit_logit(runs, factors),
                 replicates=replicates, seed=seed, overrides=overrides,
                 version=package_version(),
                 command=command or default_command(replicates, seed, overrides, factors,
                                                    posterior),
                 factors=factors, posterior=None if posterior is None else str(posterior))


def cell_table(runs: pd.DataFrame, factors: Sequence[str] = DEFAULT_FACTORS) -> pd.DataFrame:
    """Success rate (Wilson interval), mean managed MRR and one-year tenure per cell."""
    out = []
    for key, d in runs.groupby(["cell", *factors], sort=True):
        y = numeric(d.launch_succeeded)
        rate, lo, hi = kpi("launch_succeeded").interval(y)
        t = numeric(d.first_specialist_tenure_days)
        cens = d.first_specialist_censored.astype("boolean").fillna(True).to_numpy(bool)
        out.append(dict(cell=key[0], **dict(zip(factors, key[1:], strict=True)), n=y.size,
                        successes=int(y.sum()), rate=rate, ci_low=lo, ci_high=hi,
                        managed_mrr=float(numeric(d.managed_mrr).mean()),
                        tenure_1y=km_at(kaplan_meier(t, cens), 365)))
    return pd.DataFrame(out)


def outcome_cube(runs: pd.DataFrame, factors: Sequence[str] = DEFAULT_FACTORS,
                 column: str = "launch_succeeded") -> np.ndarray:
    """Outcomes as an array ``[factor 1, ..., factor k, replicate]`` (0 = off, 1 = on)."""
    table = factor_table()
    reps = sorted(runs.replicate.unique())
    pos = {r: i for i, r in enumerate(reps)}
    cube = np.full((2,) * len(factors) + (len(reps),), np.nan)
    index = [runs[k].map({lv: i for i, lv in enumerate(table[k].levels)}).to_numpy(int)
             for k in factors]
    cube[(*index, runs.replicate.map(pos).to_numpy(int))] = numeric(runs[column])
    return cube


def effect_table(runs: pd.DataFrame, factors: Sequence[str] = DEFAULT_FACTORS) -> pd.DataFrame:
    """Main effects, two-way interactions and conditional effects on the success rate.

    Each effect is a contrast of cell outcomes computed per replicate (the cells share seeds),
    then averaged with a Student-t interval kept inside [-1, 1]: a main effect is on minus off
    averaged over the other factors' levels; ``a x b`` is the effect of ``a`` with ``b`` on
    minus its effect with ``b`` off; ``a|others off`` and ``a|others on`` are the effect of
    ``a`` with every other factor off, or on.
    """
    table = factor_table()
    Y = outcome_cube(runs, factors)
    k = len(factors)
    rows: list[tuple[str, str, str, np.ndarray]] = []
    contrast = {}
    for i, f in enumerate(factors):
        d = np.take(Y, 1, axis=i) - np.take(Y, 0, axis=i)  # others' axes + replicate
        contrast[f] = d
        rows.append((f, "main", f"{table[f].title} ({table[f].levels[1]} vs "
                     f"{table[f].levels[0]})", d.reshape(-1, d.shape[-1]).mean(axis=0)))
    for i, j in itertools.combinations(range(k), 2):
        a, b = factors[i], factors[j]
        d = contrast[a]  # axis of b is j - 1 after removing a's axis (i < j)
        inter = np.take(d, 1, axis=j - 1) - np.take(d, 0, axis=j - 1)
        rows.append((f"{a} x {b}", "interaction", f"{table[a].title} x {table[b].title}",
                     inter.reshape(-1, inter.shape[-1]).mean(axis=0)))
    for f in factors:
        d = contrast[f]
        for state, at in (("off", 0), ("on", -1)):
            per_rep = d[(at,) * (k - 1)] if k > 1 else d
            rows.append((f"{f}|others {state}", "conditional",
                         f"{table[f].title}, everything else {state}", per_rep))
    out = []
    for name, kind, label, per_rep in rows:
        est, low, high = interval(per_rep, bounds=(-1.0, 1.0))
        out.append(dict(name=name, kind=kind, label=label, effect=est, ci_low=low,
                        ci_high=high, n=int(np.sum(~np.isnan(per_rep)))))
    return pd.DataFrame(out)


def fit_logit(runs: pd.DataFrame, factors: Sequence[str] = DEFAULT_FACTORS) -> LogitFit:
    """Logistic regression of launch success on the factors (main effects, on vs off)."""
    table = factor_table()
    y = numeric(runs.launch_succeeded)
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
