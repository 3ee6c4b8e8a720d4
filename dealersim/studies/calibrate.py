"""Calibration with uncertainty: which parameter sets reproduce the story's patterns?

``dealersim calibrate SPEC --out DIR`` infers a posterior over the unsourced parameters (grades U
and C in ``Params``) by approximate Bayesian computation with a sequential Monte Carlo sampler
(ABC-SMC, Beaumont 2010), using pyabc. One particle is one parameter set; it is simulated on every
arm the chosen patterns need (``dealersim.studies.validation.ARMS``), ``replicates`` runs per arm
and team size with common random numbers, and the patterns P1-P9 are measured exactly as
``dealersim validate`` measures them. Its distance is how far the patterns fall outside their
target ranges (zero when every pattern is inside), so the posterior is the set of parameter sets
that reproduce the story (pattern-oriented modelling, Grimm et al. 2005; van der Vaart et al.
2015).

Determinism: pyabc's own parallel samplers reseed their workers from the operating system.
:class:`SeededSampler` replaces them: candidate *j* of generation *t* draws its proposal and its
runs' seeds from ``seed_for(master, t + 1, j)``, candidates are evaluated in rounds on the shared
engine (a local process pool or a Dask executor) and accepted in index order, exactly as a
single-core sampler would. The posterior therefore depends only on the spec and its master seed,
never on the worker count, the executor or the order in which tasks finish.

Stop and resume: pyabc keeps every finished generation in ``DIR/history.db`` (SQLite, one
transaction per generation). ``--resume`` loads it and runs the remaining generations; the
result equals an uninterrupted run. The outputs are written (each atomically) once the last
generation is done; ``DIR/calibration.json`` is written last and marks a finished calibration.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import math
import random
import shutil
import time
import tomllib
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd

from dealersim.base.extras import need
from dealersim.base.io import atomic_file, write_text
from dealersim.base.procs import check_workers
from dealersim.model.params import SEED_MAX, check_seed, field_specs, spec
from dealersim.model.results import package_version
from dealersim.model.strategies import strategy_names, strategy_overrides
from dealersim.studies.engine import (
    RunSpec,
    _kill_pool,
    execute,
    local_executor,
    replicate_seeds,
    run_one,
    seed_for,
)
from dealersim.studies.posterior import MANIFEST
from dealersim.studies.validation import ARMS, CHECKS, SIZES, Check

HISTORY = "history.db"
"""pyabc's database of finished generations inside the calibration directory."""
SPEC_COPY = "spec.toml"
"""The spec as given, kept in the calibration directory to check a ``--resume``."""
PPC_KEY = 1_000_003
"""Seed key of the posterior predictive check's draws (far from the generation keys)."""
PINNED_SD_RATIO = 0.75
"""A parameter counts as pinned down when its posterior sd is below this share of its prior sd
(or its posterior mean moved by more than :data:`PINNED_SHIFT` prior sds)."""
PINNED_SHIFT = 0.5
"""See :data:`PINNED_SD_RATIO`."""
NAN_GAP = 1.0
"""The gap (in scale units) charged to a pattern that cannot be measured in a particle's runs
(e.g. no successor was hired): unknown counts as one scale unit outside."""
LOW_ESS = 10
"""Below this effective sample size the summary warns that the posterior rests on few sets."""
MAX_PARTICLES = 10_000
"""Cap on ``budget.population`` and ``budget.predictive``."""
MAX_REPLICATES = 1_000
"""Cap on ``budget.replicates`` (runs per arm and size for one particle)."""
MAX_GENERATIONS = 100
MAX_SIMULATIONS = 10_000_000
KERNELS: dict[str, str] = {
    "joint": "one multivariate normal over all parameters, its covariance fitted to the "
             "previous generation (pyabc's MultivariateNormalTransition)",
    "product": "one normal per parameter, each fitted to that parameter's marginal in the "
               "previous generation (pyabc's AggregatedTransition of one-dimensional "
               "MultivariateNormalTransitions)",
}
"""The perturbation kernels a spec may choose (``kernel``): how a generation proposes new
parameter sets from the previous one (docs/calibration.md, Posterior quality)."""
DEFAULT_KERNEL = "joint"
"""The kernel of a spec that names none. One normal per parameter (``product``) keeps the
effective sample size higher on a surrogate, but on the real model with the shipped spec it
accepted 13 % of the sets of generation 3 against 54 % for the joint normal and could not
finish within the budget (docs/calibration.md, Posterior quality)."""


@dataclass(frozen=True)
class Target:
    """The numeric target range of one validation check.

    Attributes:
        low: Smallest value inside the target (``-inf``: none, as in "<= 25 %").
        high: Largest value inside the target (``inf``: none, as in ">= 75 %").
        scale: What one unit of distance means for this check (a rate: 10 points).
        arms: The arms of ``validation.ARMS`` the check's measure reads.
    """

    low: float
    high: float
    scale: float
    arms: tuple[str, ...]

    def gap(self, value: float) -> float:
        """How far ``value`` falls outside ``[low, high]``, in ``scale`` units (0 inside)."""
        if value is None or not math.isfinite(value):
            return NAN_GAP
        return max(self.low - value, value - self.high, 0.0) / self.scale


_INF = math.inf
TARGETS: dict[str, Target] = {
    "overlay launch success": Target(0.10, 0.30, 0.1, ("overlay",)),
    "overlay first milestone met": Target(-_INF, 0.25, 0.1, ("overlay",)),
    "overlay median first-specialist tenure": Target(90.0, 180.0, 45.0, ("overlay",)),
    "overlay successors also fail": Target(0.75, _INF, 0.1, ("overlay",)),
    "overlay walls rise, day 0 to day 60": Target(0.0, _INF, 0.05, ("overlay",)),
    "overlay warm intro share (median run)": Target(-_INF, 0.20, 0.1, ("overlay",)),
    "planned launch success": Target(0.75, _INF, 0.1, ("planned",)),
    "planned walls fall, day 0 to day 60": Target(-_INF, 0.0, 0.05, ("planned",)),
    "planned warm intro share (median run)": Target(0.50, _INF, 0.1, ("planned",)),
    "hardware_only account base decline": Target(0.05, 0.15, 0.05, ("hardware_only",)),
    "managed vs hardware-only churn": Target(-_INF, 0.5, 0.25, ("planned_long",)),
    "dials/day under ask-permission vs without":
        Target(-_INF, 0.70, 0.2, ("overlay_ask_always", "overlay_ask_never")),
    "overlay success with top skill": Target(-_INF, 0.50, 0.1, ("overlay_skill_high",)),
    "planned success with default skill": Target(0.75, _INF, 0.1, ("planned",)),
    "overlay tenure spread: busiest leaving day": Target(-_INF, 0.50, 0.1, ("overlay",)),
    "more extension never shortens tenure":
        Target(0.0, _INF, 10.0, ("overlay_ext0", "overlay", "overlay_ext90")),
    "overlay + double credit alone": Target(-_INF, 0.60, 0.1, ("overlay_credit",)),
    "overlay + a leading manager alone": Target(-_INF, 0.60, 0.1, ("overlay_leader",)),
    "overlay + rules of engagement alone": Target(-_INF, 0.60, 0.1, ("overlay_rules",)),
    "overlay + rep training alone": Target(-_INF, 0.60, 0.1, ("overlay_training",)),
    "overlay + owner intervention alone": Target(-_INF, 0.60, 0.1, ("overlay_owner",)),
    "overlay + quota ramp alone": Target(-_INF, 0.60, 0.1, ("overlay_ramp",)),
}
"""Every validation check's target as numbers (a test checks them against ``Check.ok``)."""

CHECKS_BY_NAME: dict[str, Check] = {c.what: c for c in CHECKS}


def stat_key(check: Check, size: int) -> str:
    """The summary statistic's name: pattern, check and team size (``P1 overlay ... @8``)."""
    return f"{check.pattern} {check.what} @{size}"


# ====================================================================== the spec
class CalibrationError(ValueError):
    """A bad spec, budget, option or calibration directory (one line naming it)."""


@dataclass(frozen=True)
class Prior:
    """A uniform prior over one ``Params`` field.

    Attributes:
        name: The field.
        low: Lower end.
        high: Upper end.
        integer: Whether the field is an integer (draws are rounded to the nearest integer).
    """

    name: str
    low: float
    high: float
    integer: bool

    @property
    def sd(self) -> float:
        """The prior's standard deviation."""
        return (self.high - self.low) / math.sqrt(12.0)

    def value(self, x: float) -> float | int:
        """A drawn value as the field takes it (rounded for integers)."""
        return int(round(x)) if self.integer else float(x)


@dataclass(frozen=True)
class Budget:
    """How much simulation a calibration may use.

    Attributes:
        population: Accepted parameter sets per generation.
        generations: ABC-SMC generations (the first samples the prior).
        replicates: Runs per arm and team size for one parameter set.
        max_simulations: A cap on the parameter sets counted over all generations: a
            generation that cannot accept ``population`` sets within what is left is abandoned
            and the previous generation is the posterior.
        predictive: Posterior draws re-simulated (with fresh seeds) for the predictive check.
        predictive_replicates: Runs per arm and size for each predictive draw: more than
            ``replicates``, so that a rate (launch success, say) is measured finely enough to
            be held against its target range (5 runs can only say 0, 20, 40 ... %).
    """

    population: int = 40
    generations: int = 4
    replicates: int = 6
    max_simulations: int = 400
    predictive: int = 40
    predictive_replicates: int = 20


@dataclass(frozen=True)
class CalibrationSpec:
    """A calibration: parameters and priors, patterns, team sizes, budget, master seed."""

    name: str
    seed: int
    sizes: tuple[int, ...]
    checks: tuple[str, ...]
    priors: tuple[Prior, ...]
    budget: Budget
    kernel: str = DEFAULT_KERNEL

    @property
    def arms(self) -> tuple[str, ...]:
        """The arms the chosen checks read, in ``ARMS`` order."""
        need = {a for c in self.checks for a in TARGETS[c].arms}
        return tuple(a for a in ARMS if a in need)

    @property
    def runs_per_particle(self) -> int:
        """Simulation runs one parameter set costs."""
        return len(self.arms) * len(self.sizes) * self.budget.replicates

    def stat_keys(self) -> list[str]:
        """The summary statistics, in order: every check at every size."""
        return [stat_key(CHECKS_BY_NAME[c], n) for n in self.sizes for c in self.checks]

    def to_json(self) -> dict[str, Any]:
        """A plain-data form (for the manifest and to compare a resumed spec)."""
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """A short hash of what decides each generation (a resume must match it).

        The generations, ``max_simulations`` and ``predictive`` are left out: a resumed
        calibration may run more (or fewer) generations than it was started with.
        """
        data = self.to_json()
        data["budget"] = {k: data["budget"][k] for k in ("population", "replicates")}
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def lever_fields() -> set[str]:
    """Fields some strategy preset sets (levers): never calibrated, the preset decides them."""
    return {k for s in strategy_names() for k in strategy_overrides(s)}


def default_parameters() -> list[str]:
    """Every numeric field graded U or C that is neither a lever nor a run setting.

    Levers (fields a strategy preset sets), the team size (``n_reps``: the patterns fix it) and
    the ``simulation`` group (``years``) are left out, as are yes/no and choice fields.
    """
    levers = lever_fields()
    return [f.name for f in field_specs()
            if f.grade in ("U", "C") and f.kind in ("int", "float") and f.name not in levers
            and f.group != "simulation" and f.name != "n_reps"]


def _table(data: dict[str, Any], name: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CalibrationError(f"{name}: expected a table")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CalibrationError(f"{name}: unknown key {unknown[0]!r}; expected one of "
                               f"{', '.join(sorted(allowed))}")
    return data


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CalibrationError(f"{name}: {value!r} is not allowed; expected an integer in "
                               f"[{low}, {high:,}]")
    return value


def _checks(patterns: Any) -> tuple[str, ...]:
    expected = ("expected P1-P9 or a check's name from 'dealersim validate' (e.g. "
                "'overlay launch success')")
    if not isinstance(patterns, list) or not patterns:
        raise CalibrationError(f"patterns: expected a non-empty list; {expected}")
    chosen: list[str] = []
    for p in patterns:
        if not isinstance(p, str):
            raise CalibrationError(f"patterns: {p!r} is not text; {expected}")
        found = [c.what for c in CHECKS if c.pattern == p] or (
            [p] if p in CHECKS_BY_NAME else [])
        if not found:
            raise CalibrationError(f"patterns: {p!r} is unknown; {expected}")
        chosen += [c for c in found if c not in chosen]
    return tuple(chosen)


def _priors(data: dict[str, Any]) -> tuple[Prior, ...]:
    data = _table(data, "parameters", {"include", "exclude", "around_default", "ranges"})
    levers = lever_fields()
    known = {f.name: f for f in field_specs()}
    include = data.get("include", default_parameters())
    exclude = data.get("exclude", [])
    for key, names in (("include", include), ("exclude", exclude)):
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise CalibrationError(f"parameters.{key}: expected a list of field names")
        for n in names:
            if n not in known:
                raise CalibrationError(f"parameters.{key}: {n!r} is not a parameter; see "
                                       "'dealersim params'")
    names = [n for n in include if n not in exclude]
    if not names:
        raise CalibrationError("parameters: nothing left to calibrate; expected at least one "
                               "field in include and not in exclude")
    width = data.get("around_default")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int | float)
                              or not 0 < width <= 10):
        raise CalibrationError(f"parameters.around_default: {width!r} is not allowed; expected "
                               "a number in (0, 10] (the prior spans default x (1 +- it))")
    ranges = _table(data.get("ranges", {}), "parameters.ranges", set(names))
    priors = []
    for n in names:
        f = known[n]
        if f.kind not in ("int", "float"):
            raise CalibrationError(f"parameters.include: {n!r} is a {f.kind} field; expected "
                                   "a numeric field")
        if n in levers or n == "n_reps" or f.group == "simulation":
            raise CalibrationError(f"parameters.include: {n!r} is a strategy lever or a run "
                                   "setting; expected a field no strategy preset sets")
        assert f.low is not None and f.high is not None
        low, high = float(f.low), float(f.high)
        if width is not None:
            d = float(f.default)
            span = abs(d) * width if d else (high - low) * width / 2
            low, high = max(low, round(d - span, 12)), min(high, round(d + span, 12))
        if n in ranges:
            r = ranges[n]
            if (not isinstance(r, list) or len(r) != 2
                    or not all(isinstance(v, int | float) and not isinstance(v, bool)
                               for v in r)
                    or not f.low <= r[0] < r[1] <= f.high):
                raise CalibrationError(
                    f"parameters.ranges.{n}: {r!r} is not allowed; expected [low, high] with "
                    f"{f.allowed()[1:-1].replace(', ', ' <= low < high <= ')}")
            low, high = float(r[0]), float(r[1])
        if not high > low:
            raise CalibrationError(f"parameters.{n}: the prior range is empty; give "
                                   f"parameters.ranges.{n} = [low, high]")
        priors.append(Prior(n, low, high, f.kind == "int"))
    return tuple(priors)


def parse_spec(text: str, source: str = "spec") -> CalibrationSpec:
    """Parse and check a calibration spec (TOML).

    Keys: ``name``, ``seed`` (master seed), ``sizes`` (team sizes, default ``[8]``),
    ``patterns`` (P1-P9 and/or check names), ``kernel`` (a key of :data:`KERNELS`, default
    :data:`DEFAULT_KERNEL`), ``[budget]`` (see :class:`Budget`) and
    ``[parameters]`` (``include``, ``exclude``, ``around_default``, ``[parameters.ranges]``;
    default: :func:`default_parameters` over their ``Params`` bounds).

    Raises:
        CalibrationError: One line naming the key and what is allowed.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{source}: not valid TOML ({exc})") from None
    data = _table(data, source, {"name", "seed", "sizes", "patterns", "budget", "parameters",
                                 "kernel"})
    name = data.get("name", "calibration")
    if not isinstance(name, str) or not name.strip():
        raise CalibrationError(f"name: {name!r} is not allowed; expected a non-empty text")
    seed = data.get("seed", 0)
    try:
        seed = check_seed(seed)
    except ValueError as exc:
        raise CalibrationError(str(exc)) from None
    sizes = data.get("sizes", [SIZES[0]])
    n_reps = spec("n_reps")
    if not isinstance(sizes, list) or not sizes:
        raise CalibrationError("sizes: expected a non-empty list of team sizes")
    for s in sizes:
        _int(s, "sizes", int(n_reps.low or 1), int(n_reps.high or 1))
    if len(set(sizes)) != len(sizes):
        raise CalibrationError(f"sizes: {sizes!r} repeats a size")
    checks = _checks(data.get("patterns", sorted({c.pattern for c in CHECKS})))
    b = _table(data.get("budget", {}), "budget",
               {f.name for f in dataclasses.fields(Budget)})
    d = Budget()
    budget = Budget(
        population=_int(b.get("population", d.population), "budget.population", 2,
                        MAX_PARTICLES),
        generations=_int(b.get("generations", d.generations), "budget.generations", 1,
                         MAX_GENERATIONS),
        replicates=_int(b.get("replicates", d.replicates), "budget.replicates", 1,
                        MAX_REPLICATES),
        max_simulations=_int(b.get("max_simulations", d.max_simulations),
                             "budget.max_simulations", 1, MAX_SIMULATIONS),
        predictive=_int(b.get("predictive", d.predictive), "budget.predictive", 1,
                        MAX_PARTICLES),
        predictive_replicates=_int(b.get("predictive_replicates", d.predictive_replicates),
                                   "budget.predictive_replicates", 1, MAX_REPLICATES),
    )
    if budget.max_simulations < budget.population:
        raise CalibrationError(f"budget.max_simulations: {budget.max_simulations} is not "
                               f"allowed; expected at least budget.population "
                               f"({budget.population})")
    priors = _priors(data.get("parameters", {}))
    kernel = data.get("kernel", DEFAULT_KERNEL)
    if kernel not in KERNELS:
        raise CalibrationError(f"kernel: {kernel!r} is not allowed; expected one of "
                               f"{', '.join(KERNELS)}")
    return CalibrationSpec(name=name.strip(), seed=seed, sizes=tuple(sizes), checks=checks,
                           priors=priors, budget=budget, kernel=kernel)


def read_spec(path: str | Path) -> tuple[str, CalibrationSpec]:
    """Read a spec file: ``(text, spec)``.

    Raises:
        CalibrationError: One line for an unreadable file or a bad spec.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise CalibrationError(f"SPEC: cannot read {str(path)!r} ({reason}); expected a "
                               "UTF-8 TOML file") from None
    return text, parse_spec(text, f"SPEC {path}")


# ====================================================================== the model
def particle_overrides(priors: Sequence[Prior], values: dict[str, float]) -> dict[str, Any]:
    """``Params`` overrides of one parameter set (integers rounded)."""
    return {p.name: p.value(values[p.name]) for p in priors}


def simulate_patterns(
    spec_: CalibrationSpec, overrides: dict[str, Any], seed: int
) -> dict[str, float]:
    """Simulate one parameter set on every arm and size; measure every chosen check.

    Replicate *i* of every arm uses ``seed_for(seed, i)`` (common random numbers, as in
    ``dealersim validate``); the arm's own overrides and the team size win over ``overrides``.

    Returns:
        One value per :meth:`CalibrationSpec.stat_keys` entry (NaN when not measurable).
    """
    seeds = replicate_seeds(seed, spec_.budget.replicates)
    stats: dict[str, float] = {}
    for size in spec_.sizes:
        runs: dict[str, list[dict]] = {}
        for arm in spec_.arms:
            strategy, arm_overrides = ARMS[arm]
            items = tuple(sorted({**overrides, **arm_overrides, "n_reps": size}.items()))
            runs[arm] = [run_one(RunSpec(f"{arm}-{i}", strategy, s, items))[0]
                         for i, s in enumerate(seeds)]
        for name in spec_.checks:
            check = CHECKS_BY_NAME[name]
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    value, _ = check.measure(runs)
                except (ValueError, IndexError, ZeroDivisionError):
                    value = math.nan
            stats[stat_key(check, size)] = float(value)
    return stats


class PatternModel:
    """The pyabc model: a parameter set in, the pattern measures out (picklable)."""

    def __init__(self, spec_: CalibrationSpec):
        self.spec = spec_

    def __call__(self, pars: dict[str, float]) -> dict[str, float]:
        """Simulate one parameter set; its runs' seed is drawn from numpy's global generator.

        :class:`SeededSampler` seeds that generator for every candidate, so the seed depends
        only on the master seed, the generation and the candidate's index.
        """
        seed = int(np.random.randint(0, SEED_MAX, dtype=np.int64))
        values = {p.name: float(pars[p.name]) for p in self.spec.priors}
        return simulate_patterns(self.spec, particle_overrides(self.spec.priors, values), seed)


class PatternDistance:
    """The distance: root sum of squares of every pattern's gap outside its target range.

    Zero when every pattern (at every size) is inside its range; each check's gap is counted
    in its own scale (a rate: 10 points; a tenure: 45 days), see :data:`TARGETS`.
    """

    def __init__(self, keys: Sequence[str]):
        self.targets = {k: TARGETS[k.split(" ", 1)[1].rsplit(" @", 1)[0]] for k in keys}

    def __call__(self, x: dict[str, float], x_0: dict[str, float] | None = None) -> float:
        """The distance of the simulated patterns ``x`` (``x_0`` is unused: targets are ranges)."""
        return float(math.sqrt(sum(t.gap(x[k]) ** 2 for k, t in self.targets.items())))


# ====================================================================== the sampler
def _candidate_seed(master: int, t: int, j: int) -> int:
    """The numpy seed of candidate ``j`` in generation ``t`` (t = -1: a calibration sample)."""
    return seed_for(master, t + 1, j) % 2**32


def _candidate_task(indices: Sequence[int], series_stride: int, blob: bytes, master: int,
                    t: int) -> list[tuple[int, Any]]:
    """Evaluate candidates in a worker: seed numpy's global generator, run pyabc's step."""
    simulate_one = cloudpickle.loads(blob)
    out = []
    for j in indices:
        s = _candidate_seed(master, t, j)
        np.random.seed(s)
        random.seed(s)
        out.append((j, simulate_one()))
    return out


class SeededSampler:
    """A pyabc sampler whose result depends only on the master seed (see the module docstring).

    Candidates are evaluated in rounds on ``executor`` (or in this process when ``workers`` is
    1): the first round holds ``max(n, 2 x workers)``, later ones what the acceptance rate so
    far says is missing. The accepted population is the first ``n`` accepted candidates in
    index order, so the round sizes change the work done, never the result. Implements pyabc's
    sampler interface (``sample_until_n_accepted``).
    """

    def __init__(self, master: int, *, executor: Executor | None = None, workers: int = 1,
                 progress: bool = False, on_round: Callable[[int, int], None] | None = None,
                 stop: Callable[[], None] | None = None):
        pyabc = _pyabc()
        self.master = master
        self.stop = stop
        """Called between candidates (see :func:`engine.execute`); it raises to stop."""
        self.executor = executor
        self.workers = workers
        self.progress = progress
        self.on_round = on_round
        self.nr_evaluations_ = 0
        self.max_candidates: float = np.inf
        """Candidates this generation may evaluate (the rest of the budget); the generation
        fails (pyabc discards it) if they are spent before ``n`` are accepted."""
        self.sample_factory = pyabc.population.SampleFactory(record_rejected=False)
        self.show_progress = False
        self.analysis_id: str | None = None

    def set_analysis_id(self, analysis_id: str) -> None:
        """Record pyabc's analysis id."""
        self.analysis_id = analysis_id

    def check_analysis_variables(self, *args: Any, **kwargs: Any) -> None:
        """Every distance, epsilon and acceptor is fine (no look-ahead sampling)."""

    def stop(self) -> None:
        """Nothing to stop: the caller owns the executor."""

    def sample_until_n_accepted(self, n: int, simulate_one: Callable[[], Any], t: int, *,
                                max_eval: float = np.inf, all_accepted: bool = False,
                                ana_vars: Any = None) -> Any:
        """Evaluate candidates in rounds until ``n`` are accepted (or ``max_eval`` is spent)."""
        blob = cloudpickle.dumps(simulate_one)
        sample = self.sample_factory()
        size = max(n, 2 * self.workers)
        start = accepted = 0
        max_eval = min(max_eval, self.max_candidates)
        while accepted < n and start < max_eval:
            if start:  # later rounds: what the acceptance rate so far says is missing
                rate = max(accepted, 1) / start
                size = max(2 * self.workers, math.ceil(1.1 * (n - accepted) / rate))
            indices = list(range(start, int(min(start + size, max_eval))))
            results: dict[int, Any] = {}
            for batch in execute(indices, executor=self.executor, workers=self.workers,
                                 per_task=1, progress=self.progress, stop=self.stop,
                                 task_fn=_candidate_task, task_args=(blob, self.master, t)):
                results.update(batch)
            for j in indices:
                particle = results[j]
                sample.append(particle)
                self.nr_evaluations_ = j + 1
                if particle.accepted:
                    accepted += 1
                    if accepted == n:
                        break
            start += len(indices)
            if self.on_round is not None:
                self.on_round(accepted, self.nr_evaluations_)
        if accepted < n:
            sample.ok = False
        return sample


@functools.cache
def _pyabc() -> Any:
    """pyabc, imported on first use: the import takes seconds and only calibrate needs it.

    Raises:
        MissingExtra: pyabc (the optional extra ``calibrate``) is not installed.
    """
    need("calibrate", "dealersim calibrate")
    import pyabc  # heavy import of an optional extra, deferred (see the docstring)

    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("pyabc").setLevel(logging.WARNING)
    return pyabc


def _abc(spec_: CalibrationSpec, sampler: SeededSampler) -> Any:
    pyabc = _pyabc()
    prior = pyabc.Distribution(**{
        p.name: pyabc.RV("uniform", p.low, p.high - p.low) for p in spec_.priors
    })
    return pyabc.ABCSMC(
        PatternModel(spec_), prior, PatternDistance(spec_.stat_keys()),
        population_size=spec_.budget.population, sampler=sampler, eps=_epsilon(None, 0),
        transitions=transition(spec_),
    )


def transition(spec_: CalibrationSpec) -> Any:
    """The pyabc transition of ``spec_.kernel`` (see :data:`KERNELS`)."""
    pyabc = _pyabc()
    if spec_.kernel == "product":
        return pyabc.AggregatedTransition({
            p.name: pyabc.MultivariateNormalTransition() for p in spec_.priors})
    return pyabc.MultivariateNormalTransition()


def _epsilon(history: Any, t: int) -> Any:
    """The tolerance of generation ``t``: infinite first, then the weighted median distance.

    Built from the history before every generation (rather than kept in pyabc's epsilon
    object), so a resumed calibration uses exactly the tolerances of an uninterrupted one.
    """
    pyabc = _pyabc()
    value = math.inf
    if t > 0:
        d = history.get_weighted_distances(t=t - 1)
        w = d.w.to_numpy(float)
        value = float(pyabc.weighted_statistics.weighted_quantile(
            points=d.distance.to_numpy(float), weights=w / w.sum(), alpha=0.5))
    return pyabc.epsilon.QuantileEpsilon(initial_epsilon=value, alpha=0.5)


# ====================================================================== running
@dataclass
class Calibration:
    """A finished calibration, as written to its directory.

    Attributes:
        spec: The spec.
        posterior: One row per accepted parameter set of the last generation: ``particle``,
            ``weight`` (sums to 1), ``distance``, then one column per parameter.
        diagnostics: One row per generation: ``generation``, ``epsilon``, ``accepted``,
            ``simulations``, ``acceptance_rate``, ``ess``, ``distance_median``,
            ``distance_max``, ``inside_share`` (accepted sets with every pattern inside).
        parameters: One row per parameter: prior, posterior summary, today's default, whether
            the patterns pin it down.
        predictive: One row per predictive draw and statistic: ``draw``, ``stat``, ``value``.
        check: The posterior predictive check, one row per statistic (see :func:`ppc_table`).
        seconds: Wall time of this invocation.
    """

    spec: CalibrationSpec
    posterior: pd.DataFrame
    diagnostics: pd.DataFrame
    parameters: pd.DataFrame
    predictive: pd.DataFrame
    check: pd.DataFrame
    seconds: float = 0.0

    @property
    def not_pinned(self) -> list[str]:
        """Parameters the patterns do not pin down (posterior about the prior)."""
        return list(self.parameters.loc[~self.parameters.pinned_down, "parameter"])


def check_directory(out: Path, spec_: CalibrationSpec, *, resume: bool, force: bool) -> None:
    """Refuse, before anything is written, a directory this calibration must not use.

    Raises:
        CalibrationError: One line naming ``--out``/``--resume`` and what is expected.
    """
    if out.exists() and not out.is_dir():
        raise CalibrationError(f"--out: {str(out)!r} is a file; expected a directory")
    busy = out.is_dir() and any(out.iterdir())
    if resume:
        if force:
            raise CalibrationError("--resume: cannot be combined with --force")
        if not (out / HISTORY).is_file() or not (out / SPEC_COPY).is_file():
            raise CalibrationError(f"--resume: {str(out)!r} holds no calibration to resume; "
                                   "expected a directory an interrupted calibrate left")
        try:
            old = parse_spec((out / SPEC_COPY).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, CalibrationError):
            raise CalibrationError(f"--resume: the spec kept in {str(out)!r} is damaged; "
                                   "start again with --force") from None
        if old.digest() != spec_.digest():
            raise CalibrationError(f"--resume: {str(out)!r} was started with a different "
                                   "spec; expected the same spec (or --force to start again)")
    elif busy and not force:
        what = ("an unfinished calibration; use --resume to continue it or --force to start "
                "again" if (out / HISTORY).exists() else "files; use --force to replace them")
        raise CalibrationError(f"--out: {str(out)!r} holds {what}")


def _start(out: Path, spec_text: str, *, resume: bool, force: bool) -> None:
    if force and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / SPEC_COPY, spec_text)  # a resume may have changed the budget


@contextlib.contextmanager
def _executor(workers: int, executor: Executor | None) -> Iterator[Executor | None]:
    """The executor for the whole calibration: the given one, one local pool, or none."""
    if executor is not None or workers <= 1:
        yield executor
        return
    pool = local_executor(workers)
    try:
        yield pool
    except BaseException:
        _kill_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_calibration(
    spec_: CalibrationSpec,
    out: str | Path,
    *,
    spec_text: str | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
    say: Callable[[str], None] | None = None,
    stop: Callable[[], None] | None = None,
) -> Calibration:
    """Run (or resume) a calibration into ``out`` and write its tables (not its plots).

    Args:
        spec_: The spec (see :func:`parse_spec`).
        out: The calibration directory.
        spec_text: The spec's text, kept in ``out`` (default: rebuilt from ``spec_``).
        workers: Local worker processes (ignored with ``executor``).
        executor: Any ``concurrent.futures.Executor`` (e.g. a Dask client's executor).
        resume: Continue the calibration ``out`` holds.
        force: Replace whatever ``out`` holds.
        progress: Show a progress bar per round of candidates.
        say: Where to print one line per generation (default: nowhere).
        stop: Checked between candidates, generations and predictive draws; it raises
            (``KeyboardInterrupt``) to stop, leaving the finished generations for ``resume``
            (the command passes :meth:`dealersim.base.procs.StopFlag.check`).

    Returns:
        The :class:`Calibration`.

    Raises:
        CalibrationError: A refused directory or option (nothing written).
    """
    out = Path(out)
    try:
        workers = check_workers(workers, "--workers")
    except ValueError as exc:
        raise CalibrationError(str(exc)) from None
    text = spec_text if spec_text is not None else spec_json_text(spec_)
    if spec_text is not None and parse_spec(spec_text).digest() != spec_.digest():
        raise CalibrationError("spec_text: it does not describe the spec given")
    check_directory(out, spec_, resume=resume, force=force)
    say = say or (lambda line: None)
    start_time = time.perf_counter()
    _start(out, text, resume=resume, force=force)
    (out / MANIFEST).unlink(missing_ok=True)
    db = f"sqlite:///{(out / HISTORY).resolve()}"
    b = spec_.budget
    stop = stop or (lambda: None)
    with _executor(workers, executor) as pool:
        sampler = SeededSampler(
            spec_.seed, executor=pool, workers=workers, progress=progress,
            on_round=lambda ok, n: say(f"  {ok} of {b.population} accepted, {n} simulated "
                                       f"({time.perf_counter() - start_time:.0f} s)"),
            stop=stop)
        abc = _abc(spec_, sampler)
        if resume:
            history = abc.load(db, 1)
        else:
            history = abc.new(db, {k: 0.0 for k in spec_.stat_keys()},
                              meta_info={"dealersim_spec": spec_.digest()})
        done = history.max_t + 1
        say(f"{spec_.name}: {len(spec_.priors)} parameters, {len(spec_.checks)} checks x "
            f"{len(spec_.sizes)} size(s), {spec_.runs_per_particle} runs per parameter set; "
            f"{done} of {b.generations} generations on disk")
        left = b.generations - done
        if left > 0 and history.total_nr_simulations < b.max_simulations:
            for t in range(done, b.generations):
                stop()
                abc.eps = _epsilon(history, t)
                sampler.max_candidates = b.max_simulations - history.total_nr_simulations
                abc.run(minimum_epsilon=0.0, max_nr_populations=1,
                        max_total_nr_simulations=b.max_simulations)
                pops = history.get_all_populations()
                row = pops[pops.t == t]
                if row.empty:
                    say(f"generation {t + 1}/{b.generations}: the budget of "
                        f"{b.max_simulations} parameter sets ran out before {b.population} "
                        f"were accepted; the posterior is generation {t}")
                    break
                r = row.iloc[0]
                say(f"generation {t + 1}/{b.generations}: tolerance {r.epsilon:.3g}, "
                    f"{b.population} accepted of {int(r.samples)} simulated, "
                    f"{time.perf_counter() - start_time:.0f} s")
                if (r.epsilon <= 0.0 or history.total_nr_simulations >= b.max_simulations):
                    break
        posterior = posterior_frame(history, spec_)
        diagnostics = diagnostics_frame(history, spec_)
        say(f"posterior predictive check: {b.predictive} draws")
        predictive = run_predictive(spec_, posterior, executor=pool, workers=workers,
                                    progress=progress, stop=stop)
        stop()
    cal = Calibration(spec=spec_, posterior=posterior, diagnostics=diagnostics,
                      parameters=parameters_frame(spec_, posterior),
                      predictive=predictive, check=ppc_table(spec_, predictive),
                      seconds=time.perf_counter() - start_time)
    write_tables(cal, out)
    return cal


def spec_json_text(spec_: CalibrationSpec) -> str:
    """A TOML text equivalent to ``spec_`` (kept in the directory when no file was given)."""
    lines = [f"name = {json.dumps(spec_.name)}", f"seed = {spec_.seed}",
             f"kernel = {json.dumps(spec_.kernel)}",
             f"sizes = {list(spec_.sizes)}", f"patterns = {json.dumps(list(spec_.checks))}",
             "[budget]"]
    lines += [f"{k} = {v}" for k, v in dataclasses.asdict(spec_.budget).items()]
    lines += ["[parameters]", f"include = {json.dumps([p.name for p in spec_.priors])}",
              "[parameters.ranges]"]
    lines += [f"{p.name} = [{p.low!r}, {p.high!r}]" for p in spec_.priors]
    return "\n".join(lines) + "\n"


# ====================================================================== tables
def posterior_frame(history: Any, spec_: CalibrationSpec) -> pd.DataFrame:
    """The last generation's accepted parameter sets, in the order they were accepted."""
    particles = history.get_population(t=history.max_t).particles
    names = [p.name for p in spec_.priors]
    w = np.array([q.weight for q in particles], dtype=float)
    out = pd.DataFrame({"particle": np.arange(len(particles), dtype="int64"),
                        "weight": w / w.sum(),
                        "distance": [float(q.distance) for q in particles]})
    for p in spec_.priors:
        col = np.array([float(q.parameter[p.name]) for q in particles])
        out[p.name] = np.rint(col).astype("int64") if p.integer else col
    return out[["particle", "weight", "distance", *names]]


def diagnostics_frame(history: Any, spec_: CalibrationSpec) -> pd.DataFrame:
    """Per generation: tolerance, acceptance, effective sample size, distances reached."""
    pyabc = _pyabc()
    pops = history.get_all_populations()
    rows = []
    for _, r in pops[pops.t >= 0].iterrows():
        t = int(r.t)
        d = history.get_weighted_distances(t=t)
        ess = float(pyabc.weighted_statistics.effective_sample_size(d.w.to_numpy()))
        rows.append(dict(generation=t + 1, epsilon=float(r.epsilon),
                         accepted=int(spec_.budget.population), simulations=int(r.samples),
                         acceptance_rate=spec_.budget.population / float(r.samples),
                         ess=ess, distance_median=float(d.distance.median()),
                         distance_max=float(d.distance.max()),
                         inside_share=float((d.distance <= 0).mean())))
    return pd.DataFrame(rows)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles of ``x`` under weights ``w`` (inverse of the weighted empirical CDF)."""
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cdf = np.cumsum(w) / np.sum(w)
    return np.array([x[min(np.searchsorted(cdf, qq, side="left"), len(x) - 1)] for qq in q])


def parameters_frame(spec_: CalibrationSpec, posterior: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: prior, weighted posterior median and 90 % interval, today's default.

    ``pinned_down`` is false when the posterior is about the prior: its sd is at least
    :data:`PINNED_SD_RATIO` of the prior's and its mean moved less than :data:`PINNED_SHIFT`
    prior sds. ``default_inside`` says whether today's default lies in the 90 % interval;
    ``shift`` is (posterior median - default) in prior widths.
    """
    w = posterior.weight.to_numpy(float)
    rows = []
    for p in spec_.priors:
        f = spec(p.name)
        x = posterior[p.name].to_numpy(float)
        q05, q50, q95 = weighted_quantile(x, w, (0.05, 0.5, 0.95))
        mean = float(np.sum(w * x))
        sd = float(np.sqrt(np.sum(w * (x - mean) ** 2)))
        ratio = sd / p.sd
        moved = abs(mean - (p.low + p.high) / 2) / p.sd
        rows.append(dict(
            parameter=p.name, label=f.label, unit=f.unit, grade=f.grade,
            default=float(f.default), prior_low=p.low, prior_high=p.high,
            median=float(q50), q05=float(q05), q95=float(q95), mean=mean, sd=sd,
            sd_ratio=ratio, pinned_down=bool(ratio < PINNED_SD_RATIO or moved > PINNED_SHIFT),
            default_inside=bool(q05 <= f.default <= q95),
            shift=float((q50 - f.default) / (p.high - p.low)),
        ))
    return pd.DataFrame(rows)


def _draw_task(items: Sequence[tuple[int, dict[str, Any], int]], series_stride: int,
               spec_: CalibrationSpec) -> list[tuple[int, dict[str, float]]]:
    return [(k, simulate_patterns(spec_, overrides, seed)) for k, overrides, seed in items]


def run_predictive(spec_: CalibrationSpec, posterior: pd.DataFrame, *,
                   executor: Executor | None = None, workers: int = 1,
                   progress: bool = False, stop: Callable[[], None] | None = None,
                   ) -> pd.DataFrame:
    """Re-simulate ``budget.predictive`` posterior draws with fresh seeds.

    Each draw runs ``budget.predictive_replicates`` times per arm and size.

    Draw *k* picks a parameter set by weight with ``seed_for(master, PPC_KEY, k)`` and runs
    it with that seed (the calibration never used it). ``stop`` is checked between draws
    (see :func:`engine.execute`).

    Returns:
        Long format: ``draw``, ``particle``, ``stat``, ``value``.
    """
    w = posterior.weight.to_numpy(float)
    items = []
    for k in range(spec_.budget.predictive):
        seed = seed_for(spec_.seed, PPC_KEY, k)
        i = int(np.random.default_rng(seed).choice(len(w), p=w / w.sum()))
        values = {p.name: float(posterior[p.name].iloc[i]) for p in spec_.priors}
        items.append((k, particle_overrides(spec_.priors, values), seed, i))
    picked = {k: i for k, _, _, i in items}
    finer = dataclasses.replace(spec_, budget=dataclasses.replace(
        spec_.budget, replicates=spec_.budget.predictive_replicates))
    stats: dict[int, dict[str, float]] = {}
    for batch in execute([it[:3] for it in items], executor=executor, workers=workers,
                         per_task=1, progress=progress, task_fn=_draw_task,
                         task_args=(finer,), stop=stop):
        stats.update(batch)
    rows = [dict(draw=k, particle=picked[k], stat=key, value=stats[k][key])
            for k in sorted(stats) for key in spec_.stat_keys()]
    return pd.DataFrame(rows)


def ppc_table(spec_: CalibrationSpec, predictive: pd.DataFrame) -> pd.DataFrame:
    """The posterior predictive check: each statistic's simulated spread against its target.

    Returns:
        One row per statistic: ``stat``, ``pattern``, ``what``, ``size``, ``target`` (as
        ``dealersim validate`` states it), ``low``, ``high``, ``median``, ``q05``, ``q95``,
        ``inside_share`` (draws inside the range), ``median_inside``.
    """
    rows = []
    for n in spec_.sizes:
        for name in spec_.checks:
            check, t = CHECKS_BY_NAME[name], TARGETS[name]
            key = stat_key(check, n)
            x = predictive.loc[predictive.stat == key, "value"].to_numpy(float)
            x = x[np.isfinite(x)]
            q05, q50, q95 = (np.quantile(x, [0.05, 0.5, 0.95]) if x.size
                             else (math.nan,) * 3)
            inside = (x >= t.low) & (x <= t.high)
            rows.append(dict(stat=key, pattern=check.pattern, what=name, size=n,
                             target=check.target, low=t.low, high=t.high, median=float(q50),
                             q05=float(q05), q95=float(q95),
                             inside_share=float(inside.mean()) if x.size else math.nan,
                             median_inside=bool(x.size and t.low <= q50 <= t.high)))
    return pd.DataFrame(rows)


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as tmp:
        frame.to_parquet(tmp, index=False)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_tables(cal: Calibration, out: Path) -> None:
    """Write the posterior, diagnostics, parameter table and predictive check (atomically).

    The manifest ``calibration.json`` is written last.
    """
    _parquet(cal.posterior, out / "posterior.parquet")
    _csv(cal.diagnostics, out / "diagnostics.csv")
    _csv(cal.parameters, out / "parameters.csv")
    _parquet(cal.predictive, out / "predictive.parquet")
    _csv(cal.check, out / "predictive_check.csv")
    _csv(pd.DataFrame({"parameter": cal.not_pinned}), out / "not_pinned_down.csv")
    diag = {"generations": cal.diagnostics.to_dict(orient="records"),
            "final": {"ess": float(cal.diagnostics.ess.iloc[-1]),
                      "epsilon": float(cal.diagnostics.epsilon.iloc[-1]),
                      "distance_median": float(cal.posterior.distance.median()),
                      "distance_max": float(cal.posterior.distance.max()),
                      "simulations": int(cal.diagnostics.simulations.sum())}}
    write_text(out / "diagnostics.json", json.dumps(diag, indent=2) + "\n")
    write_text(out / "summary.md", summary_markdown(cal))
    manifest = {"name": cal.spec.name, "seed": cal.spec.seed, "digest": cal.spec.digest(),
                "version": package_version(), "seconds": round(cal.seconds, 1),
                "spec": cal.spec.to_json()}
    write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def defaults_lines(cal: Calibration, limit: int | None = None) -> list[str]:
    """Plain lines comparing the posterior centre with today's defaults.

    Args:
        cal: The calibration.
        limit: List at most this many parameters whose default lies outside the posterior's
            90 % interval, the farthest first (``None``: all).
    """
    p = cal.parameters
    outside = p[~p.default_inside].sort_values("shift", key=abs, ascending=False)
    lines = [f"Today's default lies inside the posterior's 90 % interval for "
             f"{len(p) - len(outside)} of {len(p)} parameters."]
    if limit is not None and len(outside) > limit:
        lines.append(f"The {limit} farthest of the other {len(outside)} (all in parameters.csv):")
        outside = outside.iloc[:limit]
    for _, r in outside.iterrows():
        unit = f" {r.unit}" if r.unit else ""
        lines.append(f"{r.label}: default {_num(r.default)}{unit}, posterior median "
                     f"{_num(r['median'])} (90 % interval {_num(r.q05)} to {_num(r.q95)})")
    return lines


def summary_lines(cal: Calibration) -> list[str]:
    """The result in a few plain lines (printed by the command, opening summary.md)."""
    d, c = cal.diagnostics, cal.check
    inside = int(c.median_inside.sum())
    lines = [
        f"{len(d)} generations, {int(d.simulations.sum())} parameter sets simulated "
        f"({cal.spec.runs_per_particle} runs each), {len(cal.posterior)} accepted in the last "
        f"(effective sample size {d.ess.iloc[-1]:.0f}, tolerance {d.epsilon.iloc[-1]:.3g}).",
        f"Posterior predictive check: the median of {inside} of {len(c)} pattern measures "
        "lies inside its target range.",
    ]
    for _, r in c[~c.median_inside].iterrows():
        lines.append(f"  outside: {r.stat} (target {r.target}; median {r['median']:.3g})")
    if d.ess.iloc[-1] < LOW_ESS:
        lines.append(f"The effective sample size is small ({d.ess.iloc[-1]:.0f} of "
                     f"{len(cal.posterior)}): a few sets carry most of the weight, so the "
                     "intervals below and the pinned-down verdicts are rough; run a larger "
                     "population.")
    pinned = len(cal.parameters) - len(cal.not_pinned)
    lines.append(f"The patterns pin down {pinned} of {len(cal.parameters)} parameters; the "
                 f"posterior of the other {len(cal.not_pinned)} is about their prior.")
    return lines + defaults_lines(cal, limit=10)


def summary_markdown(cal: Calibration) -> str:
    """``summary.md``: the result, the check and the parameter table in Markdown."""
    c, p = cal.check, cal.parameters
    out = [f"# Calibration: {cal.spec.name}", "", *summary_lines(cal), "",
           "## Posterior predictive check", "",
           "| pattern | size | what | target | median | 90 % of draws | inside |",
           "|---|---|---|---|---|---|---|"]
    out += [f"| {r.pattern} | {r['size']} | {r.what} | {r.target} | {r['median']:.3g} | "
            f"{r.q05:.3g} to {r.q95:.3g} | {r.inside_share:.0%} |" for _, r in c.iterrows()]
    out += ["", "## Parameters", "",
            "| parameter | default | prior | posterior median | 90 % interval | pinned down |",
            "|---|---|---|---|---|---|"]
    out += [f"| {r.label} | {_num(r.default)} | {_num(r.prior_low)} to {_num(r.prior_high)} | "
            f"{_num(r['median'])} | {_num(r.q05)} to {_num(r.q95)} | "
            f"{'yes' if r.pinned_down else 'no'} |" for _, r in p.iterrows()]
    out += ["", f"Method: ABC-SMC (pyabc), master seed {cal.spec.seed}, see "
            "docs/calibration.md.", ""]
    return "\n".join(out)


def load_calibration(out: str | Path) -> Calibration:
    """Read a finished calibration directory back.

    Raises:
        CalibrationError: One line when ``out`` holds no finished calibration.
    """
    out = Path(out)
    try:
        text = (out / SPEC_COPY).read_text(encoding="utf-8")
        json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        spec_ = parse_spec(text)
        return Calibration(
            spec=spec_, posterior=pd.read_parquet(out / "posterior.parquet"),
            diagnostics=pd.read_csv(out / "diagnostics.csv"),
            parameters=pd.read_csv(out / "parameters.csv"),
            predictive=pd.read_parquet(out / "predictive.parquet"),
            check=pd.read_csv(out / "predictive_check.csv"))
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"{str(out)!r} holds no finished calibration "
                               f"({type(exc).__name__}); expected a directory written by "
                               "'dealersim calibrate'") from None
