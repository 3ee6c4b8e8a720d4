"""Which pyabc kernel keeps the effective sample size up? A cheap surrogate of calibration.toml.

The real calibration costs about 1,700 CPU-seconds a run, too much to compare kernels over many
seeds. This surrogate has the same shape: 15 parameters with uniform priors; 9 launch-style
rates measured on 5 runs (so they move in steps of 20 points, as the real ones do) with targets
like the real ones, and 6 noisy continuous patterns, each pattern driven by 2-4 parameters; the
same distance (root sum of squared gaps outside the target ranges, a rate's gap in units of 10
points); at the prior the median distance is about 3.5, as in the real first generation. Each
kernel runs 4 generations of 30 accepted sets with the weighted median distance as tolerance.

Usage (results in docs/calibration.md, "Posterior quality"):

    python experiments/ess_surrogate.py joint 30 8
    python experiments/ess_surrogate.py product 30 8
    python experiments/ess_surrogate.py joint*2 30 8      # covariance scaled by 2
    python experiments/ess_surrogate.py joint 60 8        # a larger population
    python experiments/ess_surrogate.py local 30 8        # fails: singular local covariances
"""

from __future__ import annotations

import logging
import math
import sys
import warnings

import numpy as np
import pandas as pd
import pyabc

D = 15
"""Parameters, as in the shipped spec."""
RUNS = 5
"""Runs behind each simulated rate (the shipped spec's replicates)."""
RATE_TARGETS = [(0.1, 0.3), (-1, 0.25), (0.75, 2), (0.75, 2), (-1, 0.2), (0.5, 2), (-1, 0.5),
                (0.75, 2), (-1, 0.5)]
RATE_OFFSETS = np.array([-1.4, -2.0, 2.0, 2.0, -2.2, 0.8, -0.5, 2.0, -0.5])
CONTINUOUS = 6
_rs = np.random.RandomState(12345)
COEF = np.zeros((len(RATE_TARGETS) + CONTINUOUS, D))
CENTRE = np.zeros_like(COEF)
for _k in range(len(COEF)):
    _idx = _rs.choice(D, size=_rs.randint(2, 5), replace=False)
    COEF[_k, _idx] = _rs.uniform(1, 3, len(_idx)) * 0.7 * _rs.choice([-1, 1], len(_idx))
    CENTRE[_k] = _rs.uniform(0.3, 0.7, D)


def model(p: dict) -> dict:
    """Simulated patterns of one parameter set (numpy's global generator: pyabc seeds it)."""
    th = np.array([p[f"x{i}"] for i in range(D)])
    z = np.einsum("kd,kd->k", COEF, th - CENTRE)
    out = {}
    for k in range(len(RATE_TARGETS)):
        prob = 1 / (1 + np.exp(-(z[k] + RATE_OFFSETS[k])))
        out[f"r{k}"] = np.random.binomial(RUNS, prob) / RUNS
    for j in range(CONTINUOUS):
        out[f"c{j}"] = z[len(RATE_TARGETS) + j] + np.random.normal(0, 0.5)
    return out


def distance(x: dict, x0: dict | None = None) -> float:
    """Root sum of squared gaps outside the targets (rates: 10 points; continuous: 0.5)."""
    g = sum((max(lo - x[f"r{k}"], x[f"r{k}"] - hi, 0) / 0.1) ** 2
            for k, (lo, hi) in enumerate(RATE_TARGETS))
    g += sum((max(-1 - x[f"c{j}"], x[f"c{j}"] - 1, 0) / 0.5) ** 2 for j in range(CONTINUOUS))
    return math.sqrt(g)


def kernel(kind: str) -> pyabc.Transition:
    """``joint``, ``joint*S`` (covariance x S), ``product`` or ``local``."""
    if kind == "joint":
        return pyabc.MultivariateNormalTransition()
    if kind.startswith("joint*"):
        return pyabc.MultivariateNormalTransition(scaling=float(kind[6:]))
    if kind == "product":
        return pyabc.AggregatedTransition(
            {f"x{i}": pyabc.MultivariateNormalTransition() for i in range(D)})
    if kind == "local":
        return pyabc.LocalTransition()
    raise ValueError(f"kernel: {kind!r}; expected joint, joint*S, product or local")


def run(kind: str, population: int, seed: int, generations: int = 4) -> tuple[list, int]:
    """One ABC-SMC run: ESS, median distance and inside share per generation; sets simulated."""
    np.random.seed(seed)
    prior = pyabc.Distribution(**{f"x{i}": pyabc.RV("uniform", 0, 1) for i in range(D)})
    abc = pyabc.ABCSMC(model, prior, distance, population_size=population,
                       transitions=kernel(kind), eps=pyabc.QuantileEpsilon(alpha=0.5),
                       sampler=pyabc.SingleCoreSampler())
    abc.new("sqlite://", {})
    h = abc.run(max_nr_populations=generations, minimum_epsilon=0.0)
    rows = []
    for t in range(h.max_t + 1):
        d = h.get_weighted_distances(t=t)
        w = d.w.to_numpy() / d.w.sum()
        rows.append(dict(ess=1 / (w ** 2).sum(), median=float(np.median(d.distance)),
                         inside=float((d.distance <= 0).mean())))
    pops = h.get_all_populations()
    return rows, int(pops[pops.t >= 0].samples.sum())


def main(kind: str, population: int, seeds: int) -> None:
    """Print the mean ESS by generation and the per-seed figures."""
    logging.getLogger("ABC").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    res = []
    for s in range(seeds):
        rows, sims = run(kind, population, 1000 + s)
        res.append(dict(seed=s, sims=sims, ess=[round(r["ess"], 1) for r in rows],
                        median=rows[-1]["median"], inside=rows[-1]["inside"]))
    df = pd.DataFrame(res)
    ess = np.array(df.ess.tolist())
    print(f"{kind} population {population}: ESS by generation (mean) "
          f"{' / '.join(f'{v:.1f}' for v in ess.mean(axis=0))}; last ESS / population "
          f"{ess[:, -1].mean() / population:.0%}; sets simulated {df.sims.mean():.0f}; "
          f"median distance {df['median'].mean():.2f}; inside {df.inside.mean():.0%}")
    print(df.to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
