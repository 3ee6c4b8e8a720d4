"""``advise``: the best plan for the money that reaches a success target.

The plans are searched over the owner's levers.

A *plan* is a setting of the levers an owner controls (:data:`LEVERS`: credit for reps and its
share, the manager's leadership, rep training, rules of engagement, the owner's intervention
(before the launch: the role announced and worked out with every rep), the quota ramp, the
first milestone, the open hardware territory and the specialist's salary), on top of the story's
overlay launch. Names, bounds and choices are read
from the ``Params`` field metadata, never written here.

The search is Optuna's multi-objective TPE sampler (seeded) over two objectives: the launch
success rate (maximised) and a money objective (:data:`OBJECTIVES`: the net present value
against doing nothing, maximised, by default; the payback month or the program's cost,
minimised). Every plan runs on the same replicate seeds (common random numbers,
``SeedSequence`` via :func:`engine.seed_for`), on a local process pool or a Dask scheduler,
through :func:`engine.execute`. The study lives in an Optuna journal file in the output
directory, so a second call continues it (``resume``).

The plans are ranked on the search's figures (those that reach the target first, best money
first), and the best ranked (:data:`FINALISTS`) race on fresh seeds (another ``SeedSequence``
spawn, never searched on) by successive halving (:func:`race`): the winner of a search of
noisy plans is partly luck, so the plan recommended is the one first on the fresh figures; it
is confirmed on seeds that neither the search nor the race used (:func:`confirm`), and it
"reaches the target" only when its confirmed success does. Its money (net present value,
share paid back; the keep view of :mod:`dealersim.studies.decision`) is given on the same
fresh runs. For the recommended plan, each change from the overlay is undone in turn on the
confirmation's seeds, which says which changes carry the success (:func:`three_things`).

With a calibration's posterior (``posterior``), replicate *i* of every plan runs on the same
parameter set drawn from it with replicate *i*'s seed (``studies.posterior.replicate_draws``),
so plans are compared on the same plausible dealerships and their intervals include parameter
uncertainty; the plan's levers and the fixed overrides win over the drawn values. The advised
plan and the owner's current plan (the story's launch) are then run on the confirmation's seeds, and
:attr:`Advice.robustness` says in what share of the drawn parameter sets the advised plan does
better (``studies.posterior.robustness``).
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from dealersim.base.extras import need
from dealersim.base.stats import wilson
from dealersim.model import kpis
from dealersim.model.dealership import DealershipModel
from dealersim.model.ledger import n_months
from dealersim.model.params import FieldSpec, format_value, spec
from dealersim.model.results import package_version, summarize
from dealersim.model.strategies import make_params, strategy_doc, strategy_names
from dealersim.studies.decision import keep_of_runs
from dealersim.studies.engine import RunSpec, collect_rows, execute, local_executor, seed_for
from dealersim.studies.posterior import (
    Robustness,
    draw_label,
    drawn_overrides,
    load_posterior,
    posterior_digest,
    replicate_draws,
    robustness,
)
from dealersim.studies.sweeps.driver import connect

BASE = "overlay"
"""The strategy every plan starts from: the story's launch (the ``Params`` defaults)."""

LEVERS: tuple[str, ...] = (
    "credit_policy", "rep_credit_share", "manager_leadership", "rep_training",
    "rules_of_engagement", "intervention", "quota_ramp_days",
    "first_milestone_day", "open_territory", "base_salary",
)
"""The owner's levers searched over (``Params`` field names; bounds come from their metadata)."""

SUCCESS = "launch_succeeded"
"""The default success KPI (a flag: its rate over replicates has a Wilson interval)."""

@dataclass(frozen=True)
class SuccessMeasure:
    """What ``--success`` may name: the flag KPI it counts, and how the outputs say it.

    Attributes:
        kpi: The flag KPI counted over replicates (its rate has a Wilson interval).
        words: What success means, as the command and the report say it.
        short: The same, as a chart's axis and a plan's description say it.
        share: The same, after a share (``40 % of simulated launches succeed``).
    """

    kpi: str
    words: str
    short: str
    share: str


SUCCESS_MEASURES: dict[str, SuccessMeasure] = {
    "money": SuccessMeasure(
        SUCCESS,
        "the launch judged on money (the first specialist kept a year and the program "
        "paying its running cost)",
        "launches that succeed", "of simulated launches succeed"),
    "year_one": SuccessMeasure(
        "first_specialist_year_one", "the first specialist still in the seat at month 12",
        "first specialists kept a year",
        "of simulated launches keep their first specialist a year"),
}
"""What ``--success`` may name: ``money`` (the default) is the launch judged on money (the
first specialist kept to month 12 *and* the program covering its running cost at the month it
is judged on); ``year_one`` is the story's bar alone (the first specialist still in the seat at
month 12, the program still running), with the money reported beside it."""
DEFAULT_SUCCESS = "money"

PROGRAM_COST = "program_cost"
"""The default objective: the program's cost over the run (a summary KPI)."""

OBJECTIVES: dict[str, str] = {"npv": "maximize", "payback_month": "minimize",
                              PROGRAM_COST: "minimize"}
"""Money objectives ``--objective`` may name, with the direction Optuna optimises them in: the
net present value against doing nothing (the keep view of :mod:`dealersim.studies.decision`,
the default), the payback month (the month by which half the runs have paid back, a run that
never pays back counting as not paid back) or the program's cost."""
DEFAULT_OBJECTIVE = "npv"

RACE_GROWTH: tuple[int, ...] = (1, 2, 4)
"""Successive halving of the finalists on fresh seeds: fresh runs per plan at each round, in
multiples of the search's runs per plan (20, 40, 80 at the default 20; the same seeds,
growing); after each round the better half go on, so the last plan has four times the runs
the search gave it."""
FINALISTS = 4
"""Plans of the search (best ranked) that race on fresh seeds."""

STUDY = "advise"
JOURNAL = "study.journal"
"""The Optuna journal file in the output directory (what ``resume`` continues)."""


SEARCH_KEY = 0
CHECK_KEY = 1
SAMPLER_KEY = 2
CONFIRM_KEY = 3
"""``SeedSequence`` spawn keys under the master seed: search replicates, fresh replicates for
the race on fresh seeds, the sampler's seed, and the confirmation of the race's winner (seeds
the selection never saw)."""


if TYPE_CHECKING:
    import optuna


def _optuna() -> ModuleType:
    """Optuna (the optional extra ``advise``), imported on first use.

    Raises:
        MissingExtra: Optuna is not installed (one line with the pip command).
    """
    need("advise", "dealersim advise")
    import optuna  # optional extra, imported here so the package imports without it
    import optuna.storages.journal

    return optuna

class AdviseError(ValueError):
    """Bad input or a directory that holds another study (one line)."""


def lever_specs() -> list[FieldSpec]:
    """The ``Params`` metadata of every lever, in :data:`LEVERS` order."""
    return [spec(name) for name in LEVERS]


def objective_label(name: str) -> str:
    """Plain label of a money objective (the KPI registry's)."""
    return kpis.label(name)


def _one_of(what: str, name: str, allowed: dict[str, str]) -> str:
    """``name`` if it is a key of ``allowed``; else one line naming ``what`` and the keys."""
    if name not in allowed:
        raise AdviseError(f"{what}: {name!r} is not allowed; expected one of "
                          f"{', '.join(allowed)}")
    return name


def check_success(name: str) -> str:
    """A success measure of :data:`SUCCESS_MEASURES`.

    Raises:
        AdviseError: One line naming ``success`` and the allowed values.
    """
    return _one_of("success", name, SUCCESS_MEASURES)


def check_objective(name: str) -> str:
    """A money objective of :data:`OBJECTIVES`.

    Raises:
        AdviseError: One line naming ``objective`` and the allowed values.
    """
    return _one_of("objective", name, OBJECTIVES)


def evaluate_task(specs: Sequence[RunSpec], series_stride: int = 0) -> list[tuple[dict, None]]:
    """Engine task: run a bundle and return its summary rows (the objectives are summary KPIs)."""
    del series_stride  # plans keep no time series
    out: list[tuple[dict, None]] = []
    for s in specs:
        model = DealershipModel(s.strategy, rng=s.seed, record_every=0, **dict(s.overrides))
        model.run()
        out.append(({"run_id": s.run_id, **dict(s.labels), "seed": s.seed, **summarize(model)},
                    None))
    return out


def suggest(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    """Ask ``trial`` for a value of every lever, within its ``Params`` bounds or choices."""
    values: dict[str, Any] = {}
    for s in lever_specs():
        if s.kind in ("choice", "bool"):
            values[s.name] = trial.suggest_categorical(s.name, list(s.choices or ()))
        elif s.kind == "int":
            values[s.name] = trial.suggest_int(s.name, int(s.low), int(s.high))
        else:
            values[s.name] = trial.suggest_float(s.name, float(s.low), float(s.high))
    return values


def preset_levers(strategy: str, fixed: dict[str, Any]) -> dict[str, Any]:
    """The lever values of a strategy preset (with ``fixed`` overrides), as a plan."""
    p = make_params(strategy, **fixed)
    return {name: getattr(p, name) for name in LEVERS}


@dataclass
class Settings:
    """What defines a study; a resumed study must have the same.

    Attributes:
        replicates: Runs per plan (the same seeds for every plan).
        seed: Master seed.
        objective: The money objective (a key of :data:`OBJECTIVES`).
        fixed: ``Params`` overrides for every run (dealership size, horizon, ``--set``).
        posterior: A calibration's posterior (``studies.posterior.load_posterior``) replicate
            *i* draws its parameter set from (``None``: the ``Params`` defaults).
        posterior_dir: The calibration directory it was read from (for the command line).
        success: What counts as success (a key of :data:`SUCCESS_MEASURES`).
    """

    replicates: int
    seed: int
    objective: str
    fixed: dict[str, Any] = field(default_factory=dict)
    posterior: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    posterior_dir: str | None = None
    success: str = DEFAULT_SUCCESS

    @property
    def measure(self) -> SuccessMeasure:
        """What counts as success: its KPI and its words."""
        return SUCCESS_MEASURES[self.success]

    @property
    def success_kpi(self) -> str:
        """The flag KPI that counts as success."""
        return self.measure.kpi

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready data (stored in the study; a posterior by its digest)."""
        out = {"replicates": self.replicates, "seed": self.seed, "objective": self.objective,
               "fixed": dict(sorted(self.fixed.items())), "levers": list(LEVERS),
               "base": BASE}
        if self.posterior is not None:
            out["posterior"] = posterior_digest(self.posterior)
        if self.success != DEFAULT_SUCCESS:  # studies made before --success existed resume
            out["success"] = self.success
        return out

    def search_seeds(self) -> list[int]:
        """The replicate seeds every plan runs on."""
        return [seed_for(self.seed, SEARCH_KEY, i) for i in range(self.replicates)]

    def fresh_seeds(self, n: int | None = None) -> list[int]:
        """The first ``n`` (default: ``replicates``) fresh seeds (never searched on)."""
        return [seed_for(self.seed, CHECK_KEY, i) for i in range(
            self.replicates if n is None else n)]

    def confirm_seeds(self, n: int) -> list[int]:
        """Seeds of the confirmation of the race's winner (neither searched nor raced on)."""
        return [seed_for(self.seed, CONFIRM_KEY, i) for i in range(n)]

    def months(self) -> int:
        """Months in each run."""
        return n_months(make_params(BASE, **self.fixed).horizon_days)


def check_settings(settings: Settings) -> None:
    """Check the objective, the replicates and the fixed overrides.

    Raises:
        AdviseError: One line naming the argument.
    """
    check_objective(settings.objective)
    check_success(settings.success)
    r = settings.replicates
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise AdviseError(f"replicates: {r!r} is not allowed; expected an integer >= 1")
    clash = sorted(set(settings.fixed) & set(LEVERS))
    if clash:
        raise AdviseError(f"--set: {clash[0]} is one of the levers advise searches over; it "
                          "cannot be fixed")
    try:
        make_params(BASE, **settings.fixed)
    except ValueError as exc:
        raise AdviseError(str(exc)) from None


def open_study(out: Path, settings: Settings, *, resume: bool) -> optuna.Study:
    """Create the study in ``out`` (or reopen it with ``resume``).

    Raises:
        AdviseError: ``out`` holds a study and ``resume`` is false, or a study with other
            settings.
    """
    path = out / JOURNAL
    exists = path.exists()
    if exists and not resume:
        raise AdviseError(f"--out: {str(out)!r} already holds an advise study; use --resume to "
                          "continue it or --force to start again")
    out.mkdir(parents=True, exist_ok=True)
    optuna = _optuna()
    TrialState = optuna.trial.TrialState  # noqa: N806  (the library's class)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    directions = [OBJECTIVES[settings.objective], "maximize"]
    study = optuna.create_study(storage=storage, study_name=STUDY, directions=directions,
                                load_if_exists=True)
    stored = study.user_attrs.get("settings")
    wanted = settings.to_dict()
    if stored is None:
        study.set_user_attr("settings", wanted)
        for strategy in (BASE, "planned"):  # the story's launch and the prescription first
            study.enqueue_trial(preset_levers(strategy, settings.fixed))
    elif stored != wanted:
        diff = sorted(k for k in {*wanted, *stored} if stored.get(k) != wanted.get(k))
        raise AdviseError(f"--resume: the study in {str(out)!r} was made with other settings "
                          f"({', '.join(diff)}: {stored.get(diff[0])!r}); resume with the same "
                          "ones or use another directory")
    for t in study.get_trials(states=(TrialState.RUNNING,)):
        # left by an interrupted session: marked failed, and its plan asked again
        study.tell(t.number, state=TrialState.FAIL)
        if set(t.params) == set(LEVERS):
            study.enqueue_trial(t.params)
    return study


def sampler_for(settings: Settings, done: int) -> optuna.samplers.BaseSampler:
    """The seeded multi-objective TPE sampler (reseeded by the number of plans already done)."""
    seed = seed_for(settings.seed, SAMPLER_KEY, done) % 2**32
    optuna = _optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                          n_startup_trials=8)


def plan_specs(tag: str, levers: dict[str, Any], settings: Settings, seeds: Sequence[int],
               labels: tuple[tuple[str, Any], ...] = ()) -> list[RunSpec]:
    """The runs of one plan on ``seeds`` (the overlay plus the fixed overrides and ``levers``).

    With a posterior, replicate *i* runs on the parameter set drawn with ``seeds[i]`` (the
    same for every plan; a ``draw`` label), under the fixed overrides and ``levers``.
    """
    explicit = {**settings.fixed, **levers}
    drawn = replicate_draws(settings.posterior, seeds)
    return [RunSpec(f"{tag}-{i:05d}", BASE, s, drawn_overrides(values, BASE, explicit),
                    labels=(*labels, ("replicate", i), *draw_label(index)))
            for i, (s, (index, values)) in enumerate(zip(seeds, drawn, strict=True))]


@dataclass
class Runner:
    """Runs bundles of specs on one executor kept for the whole search.

    A run is a function of its strategy, seed and overrides, so each is simulated once per
    study: the confirmation, the three things and the robustness check all run the advised
    plan on the confirmation's seeds, and they share those runs.
    """

    executor: Executor | None
    workers: int
    summaries: dict[tuple[str, int, tuple[tuple[str, Any], ...]], dict[str, Any]] = field(
        default_factory=dict)

    def rows(self, specs: list[RunSpec]) -> list[dict[str, Any]]:
        """Summary rows of ``specs``, in ``run_id`` order (each row with its spec's labels)."""
        def key(s: RunSpec) -> tuple[str, int, tuple[tuple[str, Any], ...]]:
            return s.strategy, s.seed, s.overrides

        todo = list({key(s): s for s in specs if key(s) not in self.summaries}.values())
        ran = collect_rows(execute(todo, executor=self.executor, workers=self.workers,
                                   task_fn=evaluate_task, progress=False))
        by_id = {s.run_id: s for s in todo}
        for row in ran:
            spec_ = by_id[row["run_id"]]
            named = {"run_id", "seed", *(name for name, _ in spec_.labels)}
            self.summaries[key(spec_)] = {k: v for k, v in row.items() if k not in named}
        return sorted(({"run_id": s.run_id, **dict(s.labels), "seed": s.seed,
                        **self.summaries[key(s)]} for s in specs), key=lambda r: r["run_id"])


def outcome(rows: Sequence[dict[str, Any]], objective: str,
            months: int | None = None, success: str = SUCCESS) -> dict[str, Any]:
    """Success (Wilson) and the money objective (mean, Student t) over one plan's runs.

    ``success`` is the flag KPI that counts (:attr:`Settings.success_kpi`).

    The payback month is the month by which half the runs have paid back (from the probability
    curve of :func:`dealersim.studies.decision.keep_of_runs`; ``months + 1`` when fewer than
    half pay back within the runs), with no interval. ``paid_back`` is the share of runs paid
    back by the end.
    """
    y = [bool(r[success]) for r in rows]
    money = np.array([np.nan if r.get(objective) is None else float(r[objective])
                      for r in rows])
    rate, low, high = wilson(sum(y), len(y))
    paid = float(np.mean([r.get("payback_month") is not None for r in rows])) if rows else 0.0
    if objective == "payback_month":
        keep = keep_of_runs(rows, months or 1)
        value = float(keep.median_payback or (months or 1) + 1)
        return {"successes": int(sum(y)), "runs": len(y), "success": rate, "success_low": low,
                "success_high": high, "value": value, "value_low": math.nan,
                "value_high": math.nan, "paid_back": paid}
    value, vlow, vhigh = kpis.kpi(objective).interval(money)
    return {"successes": int(sum(y)), "runs": len(y), "success": rate, "success_low": low,
            "success_high": high, "value": value, "value_low": vlow, "value_high": vhigh,
            "paid_back": paid}


def search(study: optuna.Study, settings: Settings, budget: int, runner: Runner, *,
           batch: int, progress: bool) -> int:
    """Run plans until the study holds ``budget`` finished ones; return how many ran now."""
    done = len(study.get_trials(states=(_optuna().trial.TrialState.COMPLETE,)))
    study.sampler = sampler_for(settings, done)
    seeds = settings.search_seeds()
    ran = 0
    with tqdm(total=budget, initial=min(done, budget), unit="plan", desc="advise",
              disable=not progress) as bar:
        while done < budget:
            trials = [study.ask() for _ in range(min(batch, budget - done))]
            plans = {t.number: suggest(t) for t in trials}
            specs = [s for n, lv in plans.items()
                     for s in plan_specs(f"t{n:05d}", lv, settings, seeds, (("trial", n),))]
            rows = runner.rows(specs)
            for t in trials:
                res = outcome([r for r in rows if r["trial"] == t.number], settings.objective,
                              settings.months(), settings.success_kpi)
                for key, value in res.items():
                    t.set_user_attr(key, value)
                study.tell(t, [res["value"], res["success"]])
            done += len(trials)
            ran += len(trials)
            bar.update(len(trials))
    return ran


@dataclass
class Advice:
    """The result of :func:`run_advise`.

    Attributes:
        plans: One row per plan tried, ranked: ``rank``, ``plan`` (``plan-01``...), ``trial``,
            ``on_front`` (Pareto front of the money objective vs success), ``meets_target``,
            the success rate with its Wilson interval, the money objective's mean and interval,
            then one column per lever.
        checks: The race of the finalists on fresh seeds (:func:`race`), the recommended plan
            first with its figures on the confirmation seeds (:func:`confirm`).
        ablation: For the recommended plan, each change from the overlay undone in turn on the
            confirmation seeds (:func:`ablate`): ``lever``, ``label``, ``plan_value``,
            ``base_value``, ``without`` (success rate without the change), ``with_all`` and
            ``drop``.
        recommended: The plan advised (``plan-NN``): the winner of the race, or ``None``.
        settings: Replicates, seed, objective and fixed overrides.
        target: The success target.
        trials: Plans in the study; ``ran``: plans run in this call.
        seconds: Wall time of this call.
        version: dealersim version.
        command: The command line that reproduces it.
        robustness: With a posterior: in what share of the drawn parameter sets the
            recommended plan beats the owner's current plan on fresh seeds (``None``
            without).
    """

    plans: pd.DataFrame
    checks: pd.DataFrame
    ablation: pd.DataFrame
    recommended: str | None
    settings: Settings
    target: float
    trials: int
    ran: int
    seconds: float
    version: str
    command: str
    robustness: Robustness | None = None

    @property
    def objective(self) -> str:
        """The money objective's KPI name."""
        return self.settings.objective

    def plan(self, name: str) -> pd.Series:
        """The row of :attr:`plans` called ``name``."""
        return self.plans.set_index("plan").loc[name]

    def levers(self, name: str) -> dict[str, Any]:
        """The lever values of plan ``name`` (Python types, as the ``Params`` fields take)."""
        row = self.plan(name)
        return {s.name: s.coerce(_plain(row[s.name])) for s in lever_specs()}

    def front(self) -> pd.DataFrame:
        """The plans on the Pareto front, in rank order."""
        return self.plans[self.plans.on_front]


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (``np.bool_`` to ``bool``, ...)."""
    return value.item() if isinstance(value, np.generic) else value


def plan_table(study: optuna.Study, objective: str, target: float) -> pd.DataFrame:
    """Every finished plan as a ranked table (see :attr:`Advice.plans`)."""
    trials = study.get_trials(states=(_optuna().trial.TrialState.COMPLETE,))
    front = {t.number for t in study.best_trials}
    cheap_first = OBJECTIVES[objective] == "minimize"
    rows = []
    for t in trials:
        a = t.user_attrs
        rows.append({"trial": t.number, "on_front": t.number in front,
                     "meets_target": a["success"] >= target, "successes": a["successes"],
                     "runs": a["runs"], "success": a["success"],
                     "success_low": a["success_low"], "success_high": a["success_high"],
                     objective: a["value"], f"{objective}_low": a["value_low"],
                     f"{objective}_high": a["value_high"],
                     **{name: t.params[name] for name in LEVERS}})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    money = table[objective] if cheap_first else -table[objective]
    # plans that reach the target, best money first; then the others, most successful first
    key = np.where(table.meets_target, money, np.inf)
    table = table.assign(_k1=~table.meets_target, _k2=key, _k3=-table.success, _k4=money)
    table = table.sort_values(["_k1", "_k2", "_k3", "_k4", "trial"]).drop(
        columns=["_k1", "_k2", "_k3", "_k4"]).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    width = max(2, len(str(len(table))))
    table.insert(1, "plan", [f"plan-{r:0{width}d}" for r in table["rank"]])
    return table


def finalists(plans: pd.DataFrame, limit: int = FINALISTS) -> list[str]:
    """The plans that race on fresh seeds: the best ranked of the search."""
    return list(plans.plan[:limit])


def fresh_rank(res: dict[str, Any], objective: str, target: float) -> tuple[float, ...]:
    """Sort key of a plan on its fresh figures.

    Plans that reach the target come first, best money first; then the others, most
    successful first.
    """
    money = res["value"] if OBJECTIVES[objective] == "minimize" else -res["value"]
    money = money if money == money else math.inf
    if res["success"] >= target:
        return (0.0, money, -res["success"])
    return (1.0, -res["success"], money)


def race(advice_plans: pd.DataFrame, names: Sequence[str], settings: Settings, runner: Runner,
         target: float, rounds: Sequence[int] | None = None) -> pd.DataFrame:
    """Race ``names`` on fresh seeds (successive halving) and rank them on the fresh figures.

    Round *k* runs every plan still in on the first ``rounds[k]`` fresh seeds (the runs of the
    earlier rounds are kept); the better half (at least one) go on. The winner is the plan
    ranked first after the last round it reached with the most runs (:func:`fresh_rank`).

    Returns:
        One row per finalist, the winner first: ``plan``, its search success with its Wilson
        interval, ``fresh_success`` with its interval and ``fresh_runs``, the money objective
        on the fresh runs (``fresh_value``, ``fresh_value_low``, ``fresh_value_high``),
        ``fresh_paid_back`` (share of fresh runs paid back by the end), ``fresh_npv``,
        ``reaches`` (fresh success at or above the target), ``holds`` (fresh rate inside the
        search interval) and ``round`` (the last round it ran in, from 1).
    """
    if rounds is None:
        rounds = [settings.replicates * g for g in RACE_GROWTH]
    table = advice_plans.set_index("plan")
    alive = list(names)
    rows: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    last: dict[str, int] = {}
    done = 0
    months = settings.months()
    for k, n in enumerate(rounds):
        seeds = settings.fresh_seeds(n)[done:]
        specs = []
        for j, name in enumerate(alive):
            levers = {s.name: s.coerce(_plain(table.loc[name, s.name])) for s in lever_specs()}
            specs += plan_specs(f"c{k}-{j:03d}", levers, settings, seeds, (("plan", name),))
        for r in (runner.rows(specs) if specs else []):
            rows[r["plan"]].append(r)
        for name in alive:
            last[name] = k + 1
        done = n
        ranked = sorted(alive, key=lambda x: fresh_rank(
            outcome(rows[x], settings.objective, months, settings.success_kpi),
            settings.objective, target))
        if len(ranked) == 1 or k == len(rounds) - 1:
            alive = ranked
            break
        alive = ranked[:max(1, math.ceil(len(ranked) / 2))]
    out = []
    for name in names:
        r = table.loc[name]
        fresh = outcome(rows[name], settings.objective, months, settings.success_kpi)
        npv_values = [x.get("npv") for x in rows[name] if x.get("npv") is not None]
        out.append({"plan": name, "success": r.success, "success_low": r.success_low,
                    "success_high": r.success_high, "fresh_success": fresh["success"],
                    "fresh_low": fresh["success_low"], "fresh_high": fresh["success_high"],
                    "fresh_runs": fresh["runs"], "fresh_value": fresh["value"],
                    "fresh_value_low": fresh["value_low"],
                    "fresh_value_high": fresh["value_high"],
                    "fresh_paid_back": fresh["paid_back"],
                    "fresh_npv": float(np.mean(npv_values)) if npv_values else math.nan,
                    "reaches": bool(fresh["success"] >= target),
                    "holds": bool(r.success_low <= fresh["success"] <= r.success_high),
                    "round": last.get(name, 0)})
    cols = ["plan", "success", "success_low", "success_high", "fresh_success", "fresh_low",
            "fresh_high", "fresh_runs", "fresh_value", "fresh_value_low", "fresh_value_high",
            "fresh_paid_back", "fresh_npv", "reaches", "holds", "round"]
    frame = pd.DataFrame(out, columns=cols)
    if frame.empty:
        return frame
    order = {name: i for i, name in enumerate(alive)}
    frame["_last"] = -frame["round"]
    frame["_order"] = [order.get(p, len(order)) for p in frame.plan]
    frame["_rank"] = [fresh_rank(outcome(rows[p], settings.objective, months,
                                         settings.success_kpi),
                                 settings.objective, target) for p in frame.plan]
    frame = frame.sort_values(["_last", "_order", "_rank"], kind="stable")
    return frame.drop(columns=["_last", "_order", "_rank"]).reset_index(drop=True)


def confirm(checks: pd.DataFrame, plans: pd.DataFrame, settings: Settings, runner: Runner,
            target: float, n: int) -> pd.DataFrame:
    """Run the race's winner on ``n`` seeds neither the search nor the race used.

    The winner of a race is again the luckiest of its finalists on the race's seeds; its
    figures on seeds that played no part in choosing it are unbiased. They become the winner's
    fresh figures (``fresh_*``, ``reaches``, ``holds``); the race's own are kept as
    ``race_success`` and ``race_runs``.
    """
    checks = checks.copy()
    checks["race_success"] = checks.fresh_success
    checks["race_runs"] = checks.fresh_runs
    if checks.empty:
        return checks
    name = checks.plan.iloc[0]
    row = plans.set_index("plan").loc[name]
    levers = {s.name: s.coerce(_plain(row[s.name])) for s in lever_specs()}
    rows = runner.rows(plan_specs("k", levers, settings, settings.confirm_seeds(n),
                                  (("plan", name),)))
    fresh = outcome(rows, settings.objective, settings.months(), settings.success_kpi)
    npv_values = [x.get("npv") for x in rows if x.get("npv") is not None]
    update = {"fresh_success": fresh["success"], "fresh_low": fresh["success_low"],
              "fresh_high": fresh["success_high"], "fresh_runs": fresh["runs"],
              "fresh_value": fresh["value"], "fresh_value_low": fresh["value_low"],
              "fresh_value_high": fresh["value_high"], "fresh_paid_back": fresh["paid_back"],
              "fresh_npv": float(np.mean(npv_values)) if npv_values else math.nan,
              "reaches": bool(fresh["success"] >= target),
              "holds": bool(row.success_low <= fresh["success"] <= row.success_high)}
    for key, value in update.items():
        checks.loc[0, key] = value
    return checks


def ablate(levers: dict[str, Any], settings: Settings, runner: Runner, n: int) -> pd.DataFrame:
    """Undo each change of a plan from the overlay in turn, on the ``n`` confirmation seeds.

    The race's seeds chose the plan, so on them it looks better than it is; on the
    confirmation's seeds (neither searched nor raced on) the whole plan's rate, ``with_all``,
    is its confirmed success, and each change's ``drop`` is measured against that.
    """
    base = preset_levers(BASE, settings.fixed)
    changed = [s for s in lever_specs() if levers[s.name] != base[s.name]]
    seeds = settings.confirm_seeds(n)
    specs = plan_specs("a-all", levers, settings, seeds, (("undone", ""),))
    for s in changed:
        specs += plan_specs(f"a-{s.name}", {**levers, s.name: base[s.name]}, settings, seeds,
                            (("undone", s.name),))
    rows = runner.rows(specs)
    kpi = settings.success_kpi
    rate = {u: float(np.mean([bool(r[kpi]) for r in rows if r["undone"] == u]))
            for u in ["", *(s.name for s in changed)]}
    out = [{"lever": s.name, "label": s.label, "plan_value": levers[s.name],
            "base_value": base[s.name], "without": rate[s.name], "with_all": rate[""],
            "drop": rate[""] - rate[s.name]} for s in changed]
    table = pd.DataFrame(out, columns=["lever", "label", "plan_value", "base_value", "without",
                                       "with_all", "drop"])
    return table.sort_values("drop", ascending=False, kind="stable").reset_index(drop=True)


CURRENT_PLAN = "your current plan"
ADVISED_PLAN = "the advised plan"
"""How the robustness sentence names the two plans it compares."""


def plan_robustness(levers: dict[str, Any], settings: Settings, runner: Runner,
                    n: int) -> Robustness:
    """The advised plan against the owner's current plan, parameter set by parameter set.

    Both run on the ``n`` confirmation seeds (the race's seeds chose the plan, so on them it
    would look better), replicate *i* on posterior draw *i*; the share counts the drawn sets
    where the advised plan succeeds more often on the study's success measure, plus half the
    ties (``studies.posterior.robustness``).
    """
    seeds = settings.confirm_seeds(n)
    specs = plan_specs("r-advised", levers, settings, seeds, (("strategy", ADVISED_PLAN),))
    specs += plan_specs("r-current", preset_levers(BASE, settings.fixed), settings, seeds,
                        (("strategy", CURRENT_PLAN),))
    return robustness(pd.DataFrame(runner.rows(specs)), [CURRENT_PLAN, ADVISED_PLAN],
                      kpi=settings.success_kpi)


def default_command(settings: Settings, target: float, budget: int) -> str:
    """The ``dealersim advise`` command line for these settings."""
    parts = ["dealersim", "advise", "--target", f"{target:g}", "--budget", str(budget),
             "--replicates", str(settings.replicates), "--seed", str(settings.seed),
             "--objective", settings.objective]
    if settings.success != DEFAULT_SUCCESS:
        parts += ["--success", settings.success]
    if settings.posterior_dir is not None:
        parts += ["--posterior", settings.posterior_dir]
    for k, v in sorted(settings.fixed.items()):
        parts += ["--set", f"{k}={format_value(v)}"]
    return " ".join(parts)


def run_advise(
    out: str | Path,
    *,
    target: float = 0.8,
    budget: int = 24,
    replicates: int = 20,
    seed: int = 0,
    objective: str = DEFAULT_OBJECTIVE,
    fixed: dict[str, Any] | None = None,
    success: str = DEFAULT_SUCCESS,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool | None = None,
    command: str | None = None,
    explain: bool = True,
    before_start: Callable[[], None] | None = None,
    posterior: str | Path | None = None,
    rounds: Sequence[int] | None = None,
) -> Advice:
    """Search the levers, rank the plans, check the chosen ones on fresh seeds.

    Args:
        out: Directory of the study (its Optuna journal lives there; results are written by
            :func:`dealersim.outputs.advice.write_advice`).
        target: Success rate a plan must reach, in (0, 1].
        budget: Plans in the study when done (a resumed study runs only the missing ones).
        replicates: Runs per plan (the same seeds for every plan; as many fresh ones for the
            check).
        seed: Master seed.
        objective: The money objective, a key of :data:`OBJECTIVES`.
        fixed: ``Params`` overrides for every run (not levers), e.g. ``{"n_reps": 6}``.
        success: What counts as success, a key of :data:`SUCCESS_MEASURES` (default: the
            launch judged on money).
        workers: Local worker processes (1: in this process).
        scheduler: A Dask scheduler address to run on instead (reached before anything is
            written).
        resume: Continue the study already in ``out``.
        progress: Show a progress bar (default: when stderr is a terminal).
        command: Command line to record.
        before_start: Called once the scheduler is reached, before the directory is touched
            (the command line's ``--force`` empties it there).
        explain: Undo each change of the recommended plan on the confirmation's seeds
            (:attr:`Advice.ablation`; needed by :func:`three_things`).
        posterior: A calibration directory: replicate *i* of every plan runs on the parameter
            set drawn from its posterior with replicate *i*'s seed, and
            :attr:`Advice.robustness` compares the advised plan with the current one.
        rounds: Fresh runs per plan at each round of the race of the finalists (:func:`race`;
            default: :data:`RACE_GROWTH` times ``replicates``).

    Raises:
        AdviseError: One line for a bad argument, a directory holding another study, or an
            unreachable scheduler.
    """
    t0 = time.perf_counter()
    if isinstance(target, bool) or not isinstance(target, int | float) \
            or not 0 < float(target) <= 1:
        raise AdviseError(f"target: {target!r} is not allowed; expected a number in (0, 1]")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise AdviseError(f"budget: {budget!r} is not allowed; expected an integer >= 1")
    rounds = tuple(rounds) if rounds is not None else tuple(
        replicates * g for g in RACE_GROWTH) if isinstance(replicates, int) else ()
    if not rounds or any(isinstance(n, bool) or not isinstance(n, int) or n < 1
                         for n in rounds) or list(rounds) != sorted(set(rounds)):
        raise AdviseError(f"rounds: {rounds!r} is not allowed; expected increasing whole "
                          "numbers of runs >= 1")
    drawn = None
    if posterior is not None:
        try:
            drawn = load_posterior(posterior)
        except ValueError as exc:
            raise AdviseError(str(exc)) from None
    settings = Settings(replicates, seed, objective, dict(fixed or {}), drawn,
                        None if posterior is None else str(posterior), success)
    check_settings(settings)
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")
    client = None
    if scheduler is not None:
        try:
            client = connect(scheduler)
        except ValueError as exc:  # SchedulerUnreachable is a SpecError, a ValueError
            raise AdviseError(str(exc)) from None
    out = Path(out)
    pool, finished = None, False
    try:
        if before_start is not None:
            before_start()
        if client is not None:
            runner = Runner(client.get_executor(), max(1, sum(client.nthreads().values())))
        elif workers > 1:
            pool = local_executor(workers)
            runner = Runner(pool, workers)
        else:
            runner = Runner(None, 1)
        optuna = _optuna()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = open_study(out, settings, resume=resume)
        ran = search(study, settings, budget, runner, batch=max(2, runner.workers),
                     progress=progress)
        plans = plan_table(study, objective, float(target))
        checks = race(plans, finalists(plans), settings, runner, float(target), rounds)
        checks = confirm(checks, plans, settings, runner, float(target), rounds[-1])
        recommended = str(checks.plan.iloc[0]) if len(checks) else None
        ablation, robust = _empty_ablation(), None
        if recommended is not None:
            row = plans.set_index("plan").loc[recommended]
            levers = {s.name: s.coerce(_plain(row[s.name])) for s in lever_specs()}
            if explain:
                ablation = ablate(levers, settings, runner, rounds[-1])
            if drawn is not None:
                robust = plan_robustness(levers, settings, runner, rounds[-1])
        finished = True
    finally:
        if pool is not None:  # on Ctrl-C or an error, do not wait: the workers die with us
            pool.shutdown(wait=finished, cancel_futures=True)
        if client is not None:
            client.close()
    return Advice(plans=plans, checks=checks, ablation=ablation, recommended=recommended,
                  settings=settings, target=float(target), trials=len(plans), ran=ran,
                  seconds=time.perf_counter() - t0, version=package_version(),
                  command=command or default_command(settings, float(target), budget),
                  robustness=robust)


def _empty_ablation() -> pd.DataFrame:
    return pd.DataFrame(columns=["lever", "label", "plan_value", "base_value", "without",
                                 "with_all", "drop"])


# ====================================================================== plain words
def value_words(s: FieldSpec, value: Any) -> str:
    """A lever's value as an owner reads it.

    For example ``yes``, ``before launch``, ``90 days``, ``$60,000 a year``, ``35% of the
    commission`` or ``0.9 on a scale of 0 to 1``.
    """
    if s.kind == "bool":
        return "yes" if value else "no"
    if s.kind == "choice":
        return str(value).replace("_", " ")
    if s.unit.startswith("$/"):
        per = {"year": "a year", "month": "a month"}.get(s.unit[2:], "per " + s.unit[2:])
        return f"{kpis.money(float(value))} {per}"
    if s.unit.startswith("share"):
        rest = s.unit.removeprefix("share").strip()
        return f"{float(value):.0%}" + (f" {rest.replace('of ', 'of the ', 1)}" if rest else "")
    if s.unit == "0-1":
        return f"{float(value):.1f} on a scale of 0 to 1"
    number = f"{value:,}" if s.kind == "int" else f"{float(value):,.2g}"
    return f"{number} {s.unit}".strip()


def preset_of(levers: dict[str, Any], fixed: dict[str, Any]) -> str | None:
    """The strategy preset whose lever values are exactly ``levers`` (``None``: no preset)."""
    for name in strategy_names():
        if preset_levers(name, fixed) == levers:
            return name
    return None


def change_words(s: FieldSpec, old: Any, new: Any) -> str:
    """A lever's change as an owner reads it, e.g. ``Quota ramp: 90 days instead of 0 days``."""
    if s.unit == "0-1":
        return f"{s.label}: {float(new):.1f} instead of {float(old):.1f} on a scale of 0 to 1"
    return f"{s.label}: {value_words(s, new)} instead of {value_words(s, old)}"


def three_things(advice: Advice, limit: int = 3) -> list[str]:
    """At most three plain sentences: the changes that carry the recommended plan.

    For the report section "If you can only change three things". The changes are those of
    the recommended plan from the story's launch, ordered by how much the success rate falls
    on the confirmation's seeds when each one alone is undone; only changes whose removal
    lowers it are named. Labels come from the ``Params`` metadata, values in words
    (:func:`value_words`). A plan that misses the target says so first; a plan that is a
    strategy preset is named by the first line of its docstring.
    """
    if advice.recommended is None or advice.ablation.empty:
        return []
    out: list[str] = []
    fresh = advice.checks.iloc[0]
    reaches = bool(fresh.reaches)
    if not reaches:
        out.append(f"No plan tried reached the {advice.target:.0%} target on fresh runs "
                   f"(success: {advice.settings.measure.words}); in the closest, "
                   f"{fresh.fresh_success:.0%} {advice.settings.measure.share}.")
    preset = preset_of(advice.levers(advice.recommended), advice.settings.fixed)
    if preset is not None:
        line = strategy_doc(preset).splitlines()[0].rstrip(".")
        cheap = OBJECTIVES[advice.objective] == "minimize"
        which = ("most successful plan tried" if not reaches
                 else "cheapest plan that works" if cheap else "most valuable plan that works")
        out.append(f"The {which} is {line[0].lower()}{line[1:]}.")
    helps = advice.ablation[advice.ablation["drop"] > 0]
    for r in helps.itertuples():
        if len(out) >= limit:
            break
        out.append(f"{change_words(spec(r.lever), r.base_value, r.plan_value)}: without this "
                   f"change {r.without:.0%} {advice.settings.measure.share} instead "
                   f"of {r.with_all:.0%}.")
    return out


def objective_words(name: str, value: float, months: int) -> str:
    """A money objective's value as an owner reads it."""
    if name == "payback_month":
        return (f"half paid back by month {value:.0f}" if value <= months
                else f"fewer than half paid back within {months} months")
    return f"{objective_label(name).lower()} {kpis.money(value)}"


def fresh_verdict(advice: Advice) -> str:
    """The recommendation on the fresh figures, in one sentence.

    "Reaches the target" only when the fresh estimate does; otherwise the best plan and how far
    it falls short.
    """
    if advice.recommended is None or advice.checks.empty:
        return "no plan was tried"
    c = advice.checks.iloc[0]
    figures = (f"success {c.fresh_success:.0%} ({c.fresh_low:.0%} to {c.fresh_high:.0%}) on "
               f"{c.fresh_runs} fresh runs that neither the search nor the race used")
    if bool(c.reaches):
        return (f"{advice.recommended} reaches the {advice.target:.0%} target: {figures}")
    short = (advice.target - c.fresh_success) * 100
    return (f"no plan reaches the {advice.target:.0%} target on fresh runs; the best, "
            f"{advice.recommended}, falls short by {short:.0f} points: {figures}")


def money_words(advice: Advice) -> str:
    """The advised plan's money on the fresh runs (keep view), in one sentence."""
    if advice.recommended is None or advice.checks.empty:
        return ""
    c = advice.checks.iloc[0]
    months = advice.settings.months()
    parts = [f"{c.fresh_paid_back:.0%} of them paid back within {months} months"]
    if c.fresh_npv == c.fresh_npv:
        parts.append(f"net present value against doing nothing {kpis.money(c.fresh_npv)}")
    if advice.objective not in ("npv",):
        parts.append(objective_words(advice.objective, c.fresh_value, months))
    return f"its money on the same runs: {', '.join(parts)}"


def summary_lines(advice: Advice) -> list[str]:
    """What the command prints: the recommendation on fresh runs, its money, the race."""
    months = advice.settings.months()
    lines = [f"{advice.trials} plans in the study ({advice.ran} run now, "
             f"{advice.settings.replicates} runs each) in {advice.seconds:.1f} s",
             f"success counted: {advice.settings.measure.words}"]
    if advice.recommended is not None:
        lines.append("recommended: " + fresh_verdict(advice))
        lines.append(money_words(advice))
    for k, c in enumerate(advice.checks.itertuples()):
        race = getattr(c, "race_success", c.fresh_success)
        runs = getattr(c, "race_runs", c.fresh_runs)
        line = (f"race {c.plan}: {c.success:.0%} in the search ({c.success_low:.0%} to "
                f"{c.success_high:.0%}), {race:.0%} on {runs} race runs")
        if k == 0:
            line += (f", {c.fresh_success:.0%} on {c.fresh_runs} confirmation runs "
                     f"({c.fresh_low:.0%} to {c.fresh_high:.0%}), "
                     f"{objective_words(advice.objective, c.fresh_value, months)}")
        else:
            line += f", {objective_words(advice.objective, c.fresh_value, months)}"
        lines.append(f"{line}; the search figure {'holds' if c.holds else 'does NOT hold'}")
    if advice.robustness is not None:
        lines.append(advice.robustness.sentence[0].upper() + advice.robustness.sentence[1:])
    return lines
