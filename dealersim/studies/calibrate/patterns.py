"""One parameter set simulated on the arms its patterns need, and its distance to the targets."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from dealersim.model.params import SEED_MAX
from dealersim.studies.calibrate.spec import (
    CHECKS_BY_NAME,
    TARGETS,
    CalibrationSpec,
    Prior,
    stat_key,
)
from dealersim.studies.engine import (
    RunSpec,
    replicate_seeds,
    run_one,
)
from dealersim.studies.validation import ARMS


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
        One value per :meth:`CalibrationSpec.all_keys` entry (NaN when not measurable): each
        check at each size, then (with ``distance = "pooled"``) each check over the runs of
        every size together.
    """
    seeds = replicate_seeds(seed, spec_.budget.replicates)
    if spec_.years is not None:
        overrides = {**overrides, "years": spec_.years}
    stats: dict[str, float] = {}
    pooled: dict[str, list[dict]] = {arm: [] for arm in spec_.arms}
    for size in spec_.sizes:
        runs: dict[str, list[dict]] = {}
        for arm in spec_.arms:
            strategy, arm_overrides = ARMS[arm]
            items = tuple(sorted({**overrides, **arm_overrides, "n_reps": size}.items()))
            runs[arm] = [run_one(RunSpec(f"{arm}-{i}", strategy, s, items))[0]
                         for i, s in enumerate(seeds)]
            pooled[arm] += runs[arm]
        stats.update(_measure(spec_, runs, size))
    if spec_.pooled_keys():
        stats.update(_measure(spec_, pooled, spec_.pooled_size))
    return stats


def _measure(spec_: CalibrationSpec, runs: dict[str, list[dict]], size: int | str
             ) -> dict[str, float]:
    """Every chosen check measured on ``runs`` (NaN when not measurable)."""
    stats = {}
    for name in spec_.checks:
        check = CHECKS_BY_NAME[name]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                value = check.evaluate(runs)[0]
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
    in its own scale (a rate: 10 points; a tenure: 45 days), see ``Check.scale``.
    """

    def __init__(self, keys: Sequence[str]):
        self.targets = {k: TARGETS[k.split(" ", 1)[1].rsplit(" @", 1)[0]] for k in keys}

    def __call__(self, x: dict[str, float], x_0: dict[str, float] | None = None) -> float:
        """The distance of the simulated patterns ``x`` (``x_0`` is unused: targets are ranges)."""
        return float(math.sqrt(sum(t.gap(x[k]) ** 2 for k, t in self.targets.items())))
