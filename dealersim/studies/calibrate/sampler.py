"""The seeded ABC-SMC sampler on the shared engine, and the pyabc parts it drives."""

from __future__ import annotations

import functools
import logging
import math
import random
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

import cloudpickle
import numpy as np

from dealersim.base.extras import need
from dealersim.studies.calibrate.patterns import PatternDistance, PatternModel
from dealersim.studies.calibrate.spec import CalibrationSpec
from dealersim.studies.engine import (
    execute,
    seed_for,
)


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
        PatternModel(spec_), prior, PatternDistance(spec_.distance_keys()),
        population_size=spec_.budget.population, sampler=sampler, eps=_epsilon(None, 0),
        transitions=transition(spec_),
    )


def transition(spec_: CalibrationSpec) -> Any:
    """The pyabc transition of ``spec_.kernel`` (see :data:`KERNELS`).

    The joint kernel works on the parameters divided by their prior widths
    (:func:`standardised_transition`): the shipped spec's widths run from 0.003 to $72,000.
    """
    pyabc = _pyabc()
    if spec_.kernel == "product":
        return pyabc.AggregatedTransition({
            p.name: pyabc.MultivariateNormalTransition() for p in spec_.priors})
    return standardised_transition({p.name: p.high - p.low for p in spec_.priors})


def standardised_transition(widths: dict[str, float]) -> Any:
    """A joint normal kernel fitted to the parameters divided by ``widths``.

    pyabc's ``MultivariateNormalTransition`` fits one covariance to the parameters in their own
    units. When their variances differ by 14 orders of magnitude (a wall step per touch of about
    0.003 next to a reservation income of about $72,000) the matrix is too ill-conditioned to
    use: numpy warns that it is not positive-semidefinite when it draws a step, and scipy's
    density (``allow_singular``) treats the smallest directions as having no variance at all,
    so the importance weights ignore those parameters. Divided by their prior widths every
    parameter spans 0-1, and the kernel is the same normal mixture with the same bandwidth
    (Silverman's rule is scale-free): a step is drawn in the scaled space and multiplied back,
    and the density is divided by the product of the widths (the Jacobian).
    """
    return _standardised_class()(widths)


@functools.cache
def _standardised_class() -> type:
    pyabc = _pyabc()

    class StandardisedTransition(pyabc.transition.Transition):
        """pyabc's joint normal kernel on parameters divided by their prior widths."""

        def __init__(self, widths: dict[str, float]):
            if not widths or min(widths.values()) <= 0:
                raise ValueError(f"widths: every width must be > 0; got {widths}")
            self.widths = dict(widths)
            self.inner = pyabc.MultivariateNormalTransition()

        def _scale(self, columns: Any) -> np.ndarray:
            return np.array([self.widths[c] for c in columns], float)

        def fit(self, X: Any, w: np.ndarray) -> None:
            self.inner.fit(X / self._scale(X.columns), w)

        def rvs_single(self) -> Any:
            step = self.inner.rvs_single()
            return pyabc.Parameter({k: v * self.widths[k] for k, v in step.items()})

        def pdf(self, x: Any) -> Any:
            scale = self._scale(self.X.columns)
            if isinstance(x, dict):  # a Parameter or a Series: one point
                x = {k: x[k] / self.widths[k] for k in self.X.columns}
                x = pyabc.Parameter(x)
            else:
                x = x[self.X.columns] / scale
            return self.inner.pdf(x) / float(np.prod(scale))

    return StandardisedTransition


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
