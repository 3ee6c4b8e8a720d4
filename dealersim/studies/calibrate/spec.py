"""The calibration spec: priors over unsourced parameters, pattern targets and the budget."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dealersim.base.io import parse_toml, read_toml_text
from dealersim.model.params import check_seed, field_specs, spec
from dealersim.model.strategies import strategy_names, strategy_overrides
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
LOW_ESS = 10
"""Below this effective sample size the summary warns that the posterior rests on few sets."""
MAX_PARTICLES = 10_000
"""Cap on ``budget.population`` and ``budget.predictive``."""
MAX_REPLICATES = 1_000
"""Cap on ``budget.replicates`` (runs per arm and size for one particle)."""
MAX_GENERATIONS = 100
MAX_SIMULATIONS = 10_000_000
KERNELS: dict[str, str] = {
    "product": "one normal per parameter, each fitted to that parameter's marginal in the "
               "previous generation (pyabc's AggregatedTransition of one-dimensional "
               "MultivariateNormalTransitions)",
    "joint": "one multivariate normal over all parameters, its covariance fitted to the "
             "previous generation on the parameters divided by their prior widths (pyabc's "
             "MultivariateNormalTransition)",
}
"""The perturbation kernels a spec may choose (``kernel``): how a generation proposes new
parameter sets from the previous one (docs/calibration.md, Posterior quality)."""
DEFAULT_KERNEL = "product"
"""The kernel of a spec that names none. With 27 parameters the joint normal's density varies
by orders of magnitude across the sets it proposes, and the importance weights with it: on the
shipped spec its effective sample size fell to 4 and then 1 of 480, against 191 for one normal
per parameter (docs/calibration.md, Posterior quality)."""


CHECKS_BY_NAME: dict[str, Check] = {c.what: c for c in CHECKS}
"""Every validation check by its name; each carries its bounds, scale, arms and kind."""

TARGETS: dict[str, Check] = {c.what: c for c in CHECKS if c.is_pattern}
"""The checks a calibration may fit: the patterns (a prediction is never a target)."""


def stat_key(check: Check, size: int | str) -> str:
    """The summary statistic's name: pattern, check and team size (``P1 overlay ... @8``).

    ``size`` is a team size, or the sizes joined by ``+`` for a measure over the runs of every
    size pooled (``P1 overlay ... @4+8+12``).
    """
    return f"{check.pattern} {check.what} @{size}"


DISTANCES: dict[str, str] = {
    "per_size": "every check measured at each team size on that size's runs; the distance "
                "adds up the gaps of every check at every size",
    "pooled": "every check measured once on the runs of all team sizes together (a pattern "
              "of the story does not depend on the size of the team); the distance adds up "
              "those gaps. The checks at each size are still recorded and judged by the "
              "predictive check",
}
"""How the calibration's distance reads the patterns (``distance`` in a spec)."""
DEFAULT_DISTANCE = "per_size"
"""The distance of a spec that names none."""


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
    years: float | None = None
    distance: str = DEFAULT_DISTANCE

    @property
    def arms(self) -> tuple[str, ...]:
        """The arms the chosen checks read, in ``ARMS`` order."""
        need = {a for c in self.checks for a in CHECKS_BY_NAME[c].arms}
        return tuple(a for a in ARMS if a in need)

    @property
    def runs_per_particle(self) -> int:
        """Simulation runs one parameter set costs."""
        return len(self.arms) * len(self.sizes) * self.budget.replicates

    def stat_keys(self) -> list[str]:
        """The summary statistics, in order: every check at every size."""
        return [stat_key(CHECKS_BY_NAME[c], n) for n in self.sizes for c in self.checks]

    @property
    def pooled_size(self) -> str:
        """The sizes joined by ``+``: the size label of a measure over every size's runs."""
        return "+".join(str(n) for n in self.sizes)

    def pooled_keys(self) -> list[str]:
        """Every check over the runs of all sizes pooled (only with ``distance = "pooled"``)."""
        if self.distance != "pooled":
            return []
        return [stat_key(CHECKS_BY_NAME[c], self.pooled_size) for c in self.checks]

    def all_keys(self) -> list[str]:
        """Every statistic a parameter set's simulation returns: per size, then pooled."""
        return self.stat_keys() + self.pooled_keys()

    def distance_keys(self) -> list[str]:
        """The statistics the distance adds up (see :data:`DISTANCES`)."""
        return self.pooled_keys() if self.distance == "pooled" else self.stat_keys()

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
    """The check names a spec's ``patterns`` select; a prediction is refused (one line)."""
    expected = ("expected pattern checks: P1-P3, P5, P7 or a pattern check's name from "
                "'dealersim validate' (e.g. 'overlay launch success')")
    if not isinstance(patterns, list) or not patterns:
        raise CalibrationError(f"patterns: expected a non-empty list; {expected}")
    chosen: list[str] = []
    for p in patterns:
        if not isinstance(p, str):
            raise CalibrationError(f"patterns: {p!r} is not text; {expected}")
        found = [c for c in CHECKS if c.pattern == p] or (
            [CHECKS_BY_NAME[p]] if p in CHECKS_BY_NAME else [])
        if not found:
            raise CalibrationError(f"patterns: {p!r} is unknown; {expected}")
        predictions = [c.what for c in found if not c.is_pattern]
        if predictions:
            raise CalibrationError(
                f"patterns: {p!r} is or holds a prediction ({predictions[0]!r} measures the "
                "planned launch or a lever), which a calibration never fits; name its pattern "
                "checks instead" if len(found) > len(predictions) else
                f"patterns: {p!r} is a prediction (it measures the planned launch or a lever), "
                f"which a calibration never fits; {expected}")
        chosen += [c.what for c in found if c.what not in chosen]
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
    ``years`` (the horizon of the pattern runs, default the ``Params`` default; the
    predictions always run the default horizon), ``patterns`` (pattern groups such as P1 and/or
    pattern check names; a prediction is refused), ``kernel`` (a key of :data:`KERNELS`, default
    :data:`DEFAULT_KERNEL`), ``distance`` (a key of :data:`DISTANCES`, default
    :data:`DEFAULT_DISTANCE`), ``[budget]`` (see :class:`Budget`) and
    ``[parameters]`` (``include``, ``exclude``, ``around_default``, ``[parameters.ranges]``;
    default: :func:`default_parameters` over their ``Params`` bounds).

    Raises:
        CalibrationError: One line naming the key and what is allowed.
    """
    try:
        data = parse_toml(text, source)
    except ValueError as exc:
        raise CalibrationError(str(exc)) from None
    data = _table(data, source, {"name", "seed", "sizes", "patterns", "budget", "parameters",
                                 "kernel", "years", "distance"})
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
    checks = _checks(data.get("patterns", list(TARGETS)))
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
    distance = data.get("distance", DEFAULT_DISTANCE)
    if distance not in DISTANCES:
        raise CalibrationError(f"distance: {distance!r} is not allowed; expected one of "
                               f"{', '.join(DISTANCES)}")
    years = data.get("years")
    if years is not None:
        y = spec("years")
        if (isinstance(years, bool) or not isinstance(years, int | float)
                or not float(y.low) <= years <= float(y.high)):
            raise CalibrationError(f"years: {years!r} is not allowed; expected a number of "
                                   f"years in [{y.low:g}, {y.high:g}]")
        years = float(years)
    return CalibrationSpec(name=name.strip(), seed=seed, sizes=tuple(sizes), checks=checks,
                           priors=priors, budget=budget, kernel=kernel, years=years,
                           distance=distance)


def read_spec(path: str | Path) -> tuple[str, CalibrationSpec]:
    """Read a spec file: ``(text, spec)``.

    Raises:
        CalibrationError: One line for an unreadable file or a bad spec.
    """
    path = Path(path)
    try:
        text = read_toml_text(path, "expected a UTF-8 TOML calibration spec")
    except ValueError as exc:
        raise CalibrationError(f"SPEC: {exc}") from None
    return text, parse_spec(text, f"SPEC {path}")
