"""The design of a sweep: samplers (grid, random, lhs, sobol, morris, oat), run ids and seeds.

Deterministic given the spec: the random samplers are seeded from the master seed, and every run
gets the id ``p<point>-r<replicate>`` and the seed ``seed_for(master, point, replicate)``, so a
row never depends on the executor, the worker count or the order in which tasks finish.
"""

from __future__ import annotations

import itertools
import re
import warnings
from typing import Any

import numpy as np

from dealersim.model.strategies import make_params
from dealersim.studies.engine import RunSpec, seed_for
from dealersim.studies.sweeps.spec import SweepSpec

RUN_ID_RE = re.compile(r"p(\d{7,})-r(\d{4,})")
"""What a run id looks like (see :func:`run_id`)."""


def design(spec: SweepSpec) -> list[dict[str, Any]]:
    """The design points: one dict of factor values per point, in point order.

    Deterministic given the spec (samplers are seeded from the master seed). The size was
    checked against the caps when the spec was parsed.
    """
    factors = spec.factors
    if spec.sampler == "grid":
        axes = [f.grid_values(spec.samples) for f in factors]
        return [dict(zip(spec.factor_names, combo, strict=True))
                for combo in itertools.product(*axes)]
    if spec.sampler == "oat":
        base = make_params(spec.strategy, **spec.fixed)
        points: list[dict[str, Any]] = [{}]
        for f in factors:
            for v in f.grid_values(spec.samples):
                if v != getattr(base, f.name):
                    points.append({f.name: v})
        return points
    unit = unit_sample(spec)
    return [
        {f.name: f.from_unit(u) for f, u in zip(factors, row, strict=True)} for row in unit
    ]


def salib_sample(spec: SweepSpec) -> np.ndarray:
    """The raw SALib sample matrix (in SALib problem units) for sobol, morris and lhs.

    SALib is imported here, not at the top: it costs about 2 s and only these samplers use it.
    """
    problem = spec.salib_problem()
    if spec.sampler == "sobol":
        from SALib.sample import sobol  # heavy optional import (see the docstring)

        second = bool(spec.sampler_options.get("second_order", False))
        with warnings.catch_warnings():
            # the spec guarantees a power of 2; SALib also warns about skip values
            warnings.simplefilter("ignore")
            return sobol.sample(problem, spec.samples, calc_second_order=second, seed=spec.seed)
    if spec.sampler == "morris":
        from SALib.sample import morris  # heavy optional import (see the docstring)

        levels = int(spec.sampler_options.get("levels", 4))
        return morris.sample(problem, spec.samples, num_levels=levels, seed=spec.seed)
    if spec.sampler == "lhs":
        from SALib.sample import latin  # heavy optional import (see the docstring)

        return latin.sample(problem, spec.samples, seed=spec.seed)
    raise ValueError(f"sampler: {spec.sampler!r} has no SALib sample; expected sobol, morris "
                     "or lhs")


def unit_sample(spec: SweepSpec) -> np.ndarray:
    """The design as unit-cube coordinates, one row per point (random, lhs, sobol, morris)."""
    if spec.sampler == "random":
        rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(2**31,)))
        return rng.random((spec.samples, len(spec.factors)))
    x = salib_sample(spec)
    bounds = np.array(spec.salib_problem()["bounds"], dtype=float)
    return (x - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])


def run_id(point: int, replicate: int) -> str:
    """The stable id of a run: ``p<point>-r<replicate>``, zero-padded so ids sort."""
    return f"p{point:07d}-r{replicate:04d}"


def run_specs(spec: SweepSpec, points: list[dict[str, Any]] | None = None) -> list[RunSpec]:
    """Every run of the sweep as ``RunSpec`` objects, in id order."""
    points = design(spec) if points is None else points
    fixed = tuple(spec.fixed.items())
    out = []
    for p, values in enumerate(points):
        overrides = fixed + tuple(values.items())  # shared by the point's replicates
        out += [
            RunSpec(run_id=run_id(p, r), strategy=spec.strategy, seed=seed_for(spec.seed, p, r),
                    overrides=overrides, labels=(("point", p), ("replicate", r)))
            for r in range(spec.replicates)
        ]
    return out
