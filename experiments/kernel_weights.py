"""How evenly would each perturbation kernel weigh the next generation of a calibration?

Reads generation 1 (the prior sample) of a finished calibration's history, keeps the half of
its parameter sets nearest the patterns (as the tolerance of generation 2 does), fits each
kernel to them and draws N proposals from it. A proposal inside the prior's box would get the
importance weight prior density / kernel density = 1 / kernel density; the script prints the
share of proposals inside the box and the effective sample size of their weights, per kernel:

- ``joint, raw units``: pyabc's ``MultivariateNormalTransition`` on the parameters as they are.
  scipy computes its density with ``allow_singular``: every direction whose variance is below
  about 2e-10 of the largest (a reservation income's, in dollars squared) counts as having no
  variance, so the density ignores most parameters and the weights look more even than they
  are.
- ``joint, standardised``: the same kernel on the parameters divided by their prior widths
  (``standardised_transition``): the density of the normal mixture it really draws from.
- ``product``: one normal per parameter (pyabc's ``AggregatedTransition``), the shipped kernel.

The weights of accepted sets also depend on which proposals the model accepts; this measures
only the kernel's part, which dominates (docs/calibration.md, Posterior quality).

    python experiments/kernel_weights.py out/cal [N]     # N = 12000 proposals a kernel
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyabc

from dealersim.studies.calibrate import standardised_transition
from dealersim.studies.calibrate.spec import parse_spec


def main(folder: str, n: int = 12_000) -> None:
    spec = parse_spec(Path(folder, "spec.toml").read_text())
    low = pd.Series({p.name: p.low for p in spec.priors})
    high = pd.Series({p.name: p.high for p in spec.priors})
    history = pyabc.History(f"sqlite:///{folder}/history.db")
    sets, _ = history.get_distribution(t=0)
    distance = history.get_weighted_distances(t=0).distance.to_numpy()
    near = sets[distance <= np.median(distance)][list(low.index)].reset_index(drop=True)
    weights = np.full(len(near), 1.0 / len(near))
    kernels = {
        "joint, raw units": pyabc.MultivariateNormalTransition(),
        "joint, standardised": standardised_transition((high - low).to_dict()),
        "product": pyabc.AggregatedTransition(
            {name: pyabc.MultivariateNormalTransition() for name in low.index}),
    }
    print(f"{len(near)} sets of generation 1 nearest the patterns; {n} proposals a kernel, "
          "numpy seed 1")
    for name, kernel in kernels.items():
        kernel.fit(near, weights)
        np.random.seed(1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the raw kernel's covariance
            drawn = pd.DataFrame([kernel.rvs_single() for _ in range(n)])[list(low.index)]
        inside = drawn[((drawn >= low) & (drawn <= high)).all(axis=1)]
        importance = 1.0 / np.asarray(kernel.pdf(inside), float)
        ess = pyabc.weighted_statistics.effective_sample_size(importance / importance.sum())
        print(f"{name:20s} inside the prior {len(inside) / n:6.1%}; effective sample size "
              f"{ess:7.1f} of {len(inside):5d} ({ess / len(inside):.1%})")


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:3]))
