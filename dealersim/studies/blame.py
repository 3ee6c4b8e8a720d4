""""Whose fault is it?": the article's closing question as a full factorial experiment.

Three factors, starting from the story's overlay launch:

* **specialist skill**: low / default / high = ``specialist_skill`` at its lower bound, default
  and upper bound (read from ``field_specs()``);
* **sales manager style**: keeps the peace / leads = ``manager_leadership`` at the overlay
  preset's value / the planned preset's value;
* **owner preparation**: none / planned = every other lever of the planned preset off (overlay
  values) or on (announcement, rules of engagement, credit, training, owner priority,
  intervention, no open territory, quota ramp and first milestone).

Every cell runs the same replicate seeds (common random numbers), so contrasts between cells
are paired per replicate. Effects on the success rate are computed directly from the per-replicate
cell outcomes (main effects and two-way interactions, with Student-t intervals), and a logistic
regression with the three main effects is fitted as a cross-check.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Executor
from dataclasses import dataclass
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

BASE = "overlay"
SKILLS = ("low", "default", "high")
MANAGERS = ("keeps the peace", "leads")
OWNERS = ("none", "planned")


def factor_levels() -> dict[str, dict[str, dict[str, Any]]]:
    """The ``Params`` overrides of every factor level: ``{factor: {level: overrides}}``."""
    skill = spec("specialist_skill")
    overlay = make_params("overlay")
    planned = make_params("planned")
    prep = [k for k in strategy_overrides("planned") if k != "manager_leadership"]
    return {
        "skill": {
            "low": {"specialist_skill": skill.low},
            "default": {"specialist_skill": skill.default},
            "high": {"specialist_skill": skill.high},
        },
        "manager": {
            "keeps the peace": {"manager_leadership": overlay.manager_leadership},
            "leads": {"manager_leadership": planned.manager_leadership},
        },
        "owner": {
            "none": {k: getattr(overlay, k) for k in prep},
            "planned": {k: getattr(planned, k) for k in prep},
        },
    }


def cell_overrides(skill: str, manager: str, owner: str,
                   base: dict[str, Any] | None = None) -> dict[str, Any]:
    """All ``Params`` overrides of one cell (on top of the overlay preset and ``base``)."""
    lv = factor_levels()
    return {**(base or {}), **lv["skill"][skill], **lv["manager"][manager], **lv["owner"][owner]}


def blame_specs(replicates: int, seed: int, base: dict[str, Any] | None = None) -> list[RunSpec]:
    """The runs of the factorial: 12 cells, each on the same ``replicates`` seeds."""
    seeds = replicate_seeds(seed, replicates)
    specs = []
    for c, (s, m, o) in enumerate(itertools.product(SKILLS, MANAGERS, OWNERS)):
        items = tuple(sorted(cell_overrides(s, m, o, base).items()))
        for i in range(replicates):
            specs.append(RunSpec(f"{c:02d}-{i:06d}", BASE, seeds[i], items,
                                 labels=(("cell", c), ("skill", s), ("manager", m),
                                         ("owner", o), ("replicate", i))))
    return specs


@dataclass
class Blame:
    """Result of the blame experiment.

    Attributes:
        runs: One row per run (cell labels, replicate, seed and every summary KPI).
        cells: Per cell: n, successes, rate, Wilson interval, mean managed MRR, one-year
            survival of the first specialist.
        effects: Main effects and two-way interactions on the success rate.
        logit: Logistic regression of success on the three factors (main effects).
        replicates: Runs per cell.
        seed: Master seed.
        overrides: Overrides applied to every cell (``--set``, ``--years``).
        version: dealersim version.
        command: Command line that reproduces it.
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

    def rate(self, skill: str, manager: str, owner: str) -> pd.Series:
        """The row of ``cells`` for one combination."""
        c = self.cells
        return c[(c.skill == skill) & (c.manager == manager) & (c.owner == owner)].iloc[0]

    def effect(self, name: str) -> pd.Series:
        """The row of ``effects`` named ``name``."""
        return self.effects.set_index("name").loc[name]

    def level_text(self) -> dict[str, str]:
        """What each factor's levels mean, in words."""
        lv = factor_levels()
        sk = {k: v["specialist_skill"] for k, v in lv["skill"].items()}
        mg = {k: v["manager_leadership"] for k, v in lv["manager"].items()}
        prep = ", ".join(f"{k}={format_value(v)}" for k, v in lv["owner"]["planned"].items())
        return {
            "specialist skill": f"specialist_skill = {sk['low']:g} (low, its lower bound), "
            f"{sk['default']:g} (default), {sk['high']:g} (high, its upper bound): a multiplier "
            "on meeting and close rates; a skilled specialist also treads more lightly.",
            "sales manager": f"manager_leadership = {mg['keeps the peace']:g} (keeps the peace, "
            f"the overlay value) or {mg['leads']:g} (leads, the planned value).",
            "owner preparation": f"none: the overlay's settings; planned: {prep}.",
        }

    def sentences(self) -> list[str]:
        """One sentence per factor on how much it moves the success rate, and the verdict."""
        out = []
        texts = {
            "skill": "Hiring a high-skill instead of a low-skill specialist",
            "manager": "A sales manager who leads instead of keeping the peace",
            "owner": "An owner who prepares the launch (announcement, rules, credit, training, "
            "stepping in, no hardware fallback, a ramped quota)",
        }
        cond = {"skill": "owner", "manager": "owner", "owner": "manager"}
        for f in ("skill", "manager", "owner"):
            e = self.effect(f)
            other = cond[f]
            parts = []
            for lvl, eff in ((lvl, self.effect(f"{f}|{other}={lvl}"))
                             for lvl in (OWNERS if other == "owner" else MANAGERS)):
                who = f"owner preparation {lvl}" if other == "owner" else f"a manager who {lvl}"
                parts.append(f"{_pts(eff.effect)} with {who}")
            out.append(f"{texts[f]} moves the success rate by {_pts(e.effect)} on average "
                       f"(95 % interval {_pts(e.ci_low)} to {_pts(e.ci_high)}): "
                       f"{' and '.join(parts)}.")
        mains = self.effects[self.effects.kind == "main"]
        top = mains.loc[mains.effect.abs().idxmax()]
        best_unprepared = self.rate("high", "leads", "none")
        worst_prepared = self.rate("low", "keeps the peace", "planned")
        who = {"skill": "the specialist", "manager": "the sales manager", "owner": "the owner"}
        out.append(f"Verdict: the largest lever is {who[top['name']]}. With no owner "
                   f"preparation even a high-skill specialist under a leading manager succeeds in "
                   f"{best_unprepared.rate:.0%} of launches; with it, a low-skill specialist "
                   f"under a peace-keeping manager succeeds in {worst_prepared.rate:.0%}.")
        return out


def _pts(x: float) -> str:
    return f"{x * 100:+.0f} points"


def default_command(replicates: int, seed: int, overrides: dict[str, Any] | None) -> str:
    """The ``dealersim blame`` command line for these settings."""
    parts = ["dealersim", "blame", "--replicates", str(replicates), "--seed", str(seed)]
    for k, v in sorted((overrides or {}).items()):
        parts += ["--set", f"{k}={format_value(v)}"]
    return " ".join(parts)


def run_blame(replicates: int, *, seed: int = 0, overrides: dict[str, Any] | None = None,
              workers: int = 1, executor: Executor | None = None, progress: bool | None = None,
              command: str | None = None) -> Blame:
    """Run the factorial and compute cells, effects and the logistic regression.

    Args:
        replicates: Runs per cell (>= 1).
        seed: Master seed.
        overrides: ``Params`` overrides for every cell (they cannot be factor fields).
        workers: Local worker processes.
        executor: Any ``concurrent.futures.Executor`` instead of the local pool.
        progress: Show a progress bar (default: when stderr is a terminal).
        command: Command line to record.

    Raises:
        ValueError: One line for ``replicates < 1`` or a bad override.
    """
    if replicates < 1:
        raise ValueError(f"replicates: {replicates} is not allowed; expected an integer >= 1")
    overrides = dict(overrides or {})
    factor_fields = {k for lv in factor_levels().values() for o in lv.values() for k in o}
    clash = sorted(factor_fields & set(overrides))
    if clash:
        raise ValueError(f"--set: {clash[0]} is a factor of the blame experiment; "
                         "it cannot be fixed")
    make_params(BASE, **overrides)
    specs = blame_specs(replicates, seed, overrides)
    rows = [row for batch in execute(specs, executor=executor, workers=workers,
                                     progress=progress) for row, _ in batch]
    runs = runs_frame(rows)
    return Blame(runs=runs, cells=cell_table(runs), effects=effect_table(runs),
                 logit=fit_logit(runs), replicates=replicates, seed=seed, overrides=overrides,
                 version=package_version(),
                 command=command or default_command(replicates, seed, overrides))


def cell_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Success rate (Wilson interval), mean managed MRR and one-year tenure per cell."""
    out = []
    for (c, s, m, o), d in runs.groupby(["cell", "skill", "manager", "owner"], sort=True):
        y = numeric(d.launch_succeeded)
        rate, lo, hi = kpi("launch_succeeded").interval(y)
        t = numeric(d.first_specialist_tenure_days)
        cens = d.first_specialist_censored.astype("boolean").fillna(True).to_numpy(bool)
        out.append(dict(cell=c, skill=s, manager=m, owner=o, n=y.size, successes=int(y.sum()),
                        rate=rate, ci_low=lo, ci_high=hi,
                        managed_mrr=float(numeric(d.managed_mrr).mean()),
                        tenure_1y=km_at(kaplan_meier(t, cens), 365)))
    return pd.DataFrame(out)


def outcome_cube(runs: pd.DataFrame, column: str = "launch_succeeded") -> np.ndarray:
    """Outcomes as an array ``[skill, manager, owner, replicate]`` (replicates in every cell)."""
    reps = sorted(runs.replicate.unique())
    cube = np.full((len(SKILLS), len(MANAGERS), len(OWNERS), len(reps)), np.nan)
    pos = {r: k for k, r in enumerate(reps)}
    for s, m, o, r, y in zip(runs.skill, runs.manager, runs.owner, runs.replicate,
                             numeric(runs[column]), strict=True):
        cube[SKILLS.index(s), MANAGERS.index(m), OWNERS.index(o), pos[r]] = y
    return cube


def effect_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Main effects, two-way interactions and conditional effects on the success rate.

    Each effect is a contrast of cell outcomes computed per replicate (the cells share seeds),
    then averaged with a Student-t interval kept inside [-1, 1]. Skill contrasts compare high
    with low skill.
    """
    Y = outcome_cube(runs)
    hi, lo = SKILLS.index("high"), SKILLS.index("low")
    skill = Y[hi] - Y[lo]  # [manager, owner, rep]
    manager = Y[:, 1] - Y[:, 0]  # [skill, owner, rep]
    owner = Y[:, :, 1] - Y[:, :, 0]  # [skill, manager, rep]
    rows: list[tuple[str, str, str, np.ndarray]] = [
        ("skill", "main", "Specialist skill (high vs low)", skill.mean(axis=(0, 1))),
        ("manager", "main", "Sales manager leads (vs keeps the peace)", manager.mean(axis=(0, 1))),
        ("owner", "main", "Owner prepares the launch (vs no preparation)", owner.mean(axis=(0, 1))),
        ("skill x manager", "interaction", "skill x manager",
         (skill[1] - skill[0]).mean(axis=0)),
        ("skill x owner", "interaction", "skill x owner", (skill[:, 1] - skill[:, 0]).mean(axis=0)),
        ("manager x owner", "interaction", "manager x owner",
         (manager[:, 1] - manager[:, 0]).mean(axis=0)),
    ]
    for k, o in enumerate(OWNERS):
        rows.append((f"skill|owner={o}", "conditional", f"skill, owner preparation {o}",
                     skill[:, k].mean(axis=0)))
        rows.append((f"manager|owner={o}", "conditional", f"manager, owner preparation {o}",
                     manager[:, k].mean(axis=0)))
    for k, m in enumerate(MANAGERS):
        rows.append((f"owner|manager={m}", "conditional", f"owner, manager {m}",
                     owner[:, k].mean(axis=0)))
    out = []
    for name, kind, label, per_rep in rows:
        est, low, high = interval(per_rep, bounds=(-1.0, 1.0))
        out.append(dict(name=name, kind=kind, label=label, effect=est, ci_low=low,
                        ci_high=high, n=int(np.sum(~np.isnan(per_rep)))))
    return pd.DataFrame(out)


def fit_logit(runs: pd.DataFrame) -> LogitFit:
    """Logistic regression of launch success on the three factors (main effects)."""
    y = numeric(runs.launch_succeeded)
    X = np.column_stack([
        np.ones(len(runs)),
        (runs.skill == "low").to_numpy(float),
        (runs.skill == "high").to_numpy(float),
        (runs.manager == "leads").to_numpy(float),
        (runs.owner == "planned").to_numpy(float),
    ])
    names = ["intercept (default skill, keeps the peace, no preparation)", "skill low",
             "skill high", "manager leads", "owner prepares"]
    return logistic_irls(X, y, names)


def blame_table(b: Blame) -> str:
    """The cell table as plain text, for the terminal."""
    lines = [f"{'skill':<8} {'manager':<16} {'owner':<8} {'success':>8}  95 % interval"]
    for r in b.cells.itertuples():
        lines.append(f"{r.skill:<8} {r.manager:<16} {r.owner:<8} {r.rate:>8.0%}  "
                     f"{r.ci_low:.0%} to {r.ci_high:.0%}")
    return "\n".join(lines)
