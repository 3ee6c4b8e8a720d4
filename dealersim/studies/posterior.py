"""A calibration's posterior as an input to other studies (``--posterior``, ``discover``).

``compare``, ``blame`` and ``advise`` accept ``--posterior DIR``.

Replicate *i* of a study draws one parameter set from the posterior, by weight, with its own
seed (``numpy.random.default_rng(seed_i)``); every strategy of that replicate uses the same draw,
so differences between strategies stay paired and the intervals include parameter uncertainty.
The strategy's preset and any explicit ``--set`` still win over the drawn values (a calibration
never infers a lever, see :func:`dealersim.studies.calibrate.default_parameters`).

This module reads ``posterior.parquet`` (of a finished calibration: ``calibration.json`` is
there) only; it does not need pyabc.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealersim.model import kpis
from dealersim.model.params import field_specs
from dealersim.model.strategies import strategy_overrides

POSTERIOR_FILE = "posterior.parquet"
MANIFEST = "calibration.json"
"""Written last by ``dealersim calibrate``: its presence marks a finished calibration."""
META_COLUMNS = ("particle", "weight", "distance")
"""Columns of ``posterior.parquet`` that are not parameters."""


def load_posterior(directory: str | Path) -> pd.DataFrame:
    """Read and check ``DIR/posterior.parquet`` of a finished calibration.

    Returns:
        One row per accepted parameter set: ``particle``, ``weight`` (normalised to sum to 1),
        ``distance`` and one column per ``Params`` field.

    Raises:
        ValueError: One line naming ``--posterior`` and what is expected.
    """
    path = Path(directory) / POSTERIOR_FILE
    expected = "expected a directory written by 'dealersim calibrate'"
    if not (Path(directory) / MANIFEST).is_file():
        raise ValueError(f"--posterior: {str(directory)!r} holds no finished calibration (no "
                         f"{MANIFEST}); {expected}")
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"--posterior: cannot read {str(path)!r} ({type(exc).__name__}); "
                         f"{expected}") from None
    known = {f.name for f in field_specs()}
    names = parameter_names(frame)
    if ("weight" not in frame or frame.empty or not names
            or any(n not in known for n in names)):
        raise ValueError(f"--posterior: {str(path)!r} is not a posterior; {expected}")
    w = pd.to_numeric(frame.weight, errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"--posterior: {str(path)!r} has bad weights; {expected}")
    frame = frame.copy()
    frame["weight"] = w / w.sum()
    return frame


def parameter_names(posterior: pd.DataFrame) -> list[str]:
    """The parameter columns of a posterior frame."""
    return [c for c in posterior.columns if c not in META_COLUMNS]


def draw(posterior: pd.DataFrame, seed: int) -> tuple[int, dict[str, Any]]:
    """One parameter set drawn by weight with ``seed``: ``(row index, overrides)``."""
    w = posterior.weight.to_numpy(float)
    i = int(np.random.default_rng(seed).choice(len(w), p=w / w.sum()))
    row = posterior.iloc[i]
    values = {n: (int(row[n]) if pd.api.types.is_integer_dtype(posterior[n]) else float(row[n]))
              for n in parameter_names(posterior)}
    return i, values


def replicate_draws(posterior: pd.DataFrame | None,
                    seeds: Sequence[int]) -> list[tuple[int | None, dict[str, Any]]]:
    """The parameter set of every replicate: replicate *i* draws with ``seeds[i]``.

    Every arm of a study (strategy, blame cell, advise plan) uses the same list, so replicate
    *i* meets the same plausible dealership in each and differences stay paired.

    Returns:
        ``(row index, values)`` per replicate; ``(None, {})`` for each without a posterior.
    """
    return [draw(posterior, s) if posterior is not None else (None, {}) for s in seeds]


def drawn_overrides(values: Mapping[str, Any], strategy: str,
                    explicit: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """One run's overrides: the drawn values, under the strategy's preset and ``explicit``.

    The preset's levers and the explicit overrides (``--set``, a blame factor, an advise plan)
    win over the drawn values.
    """
    preset = set(strategy_overrides(strategy))
    items = {k: v for k, v in values.items() if k not in preset} | dict(explicit)
    return tuple(sorted(items.items()))


def draw_label(index: int | None) -> tuple[tuple[str, int], ...]:
    """The ``draw`` label of a run (the posterior row used); none without a posterior."""
    return (("draw", index),) if index is not None else ()


def posterior_digest(posterior: pd.DataFrame) -> str:
    """A short hash of a posterior's rows (a resumed study must use the same posterior)."""
    data = pd.util.hash_pandas_object(posterior, index=False).to_numpy().tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True)
class Robustness:
    """In what share of plausible parameter sets does the better strategy win?

    Attributes:
        better: The strategy with the higher estimate of the KPI.
        other: The strategy it is compared with.
        kpi: The KPI compared (default: launch success).
        share: Wins plus half the ties, over the parameter sets drawn (0-1).
        wins: Parameter sets where ``better`` did better.
        ties: Parameter sets where both did equally well.
        sets: Distinct parameter sets drawn.
        runs_per_set: Mean runs per strategy behind each set's comparison.
    """

    better: str
    other: str
    kpi: str
    share: float
    wins: int
    ties: int
    sets: int
    runs_per_set: float

    @property
    def sentence(self) -> str:
        """The plain sentence: "planned beats overlay (launch succeeded) in 97 % of the ..."."""
        label = kpis.label(self.kpi).lower()
        if self.sets and self.ties == self.sets:  # no set tells them apart: neither beats
            return (f"{self.better} and {self.other} do equally well ({label}) in all "
                    f"{self.sets} of the parameter sets that reproduce the story "
                    f"({self.runs_per_set:.1f} runs per set and strategy)")
        return (f"{self.better} beats {self.other} ({label}) in {self.share * 100:.0f} % of the "
                f"parameter sets that reproduce the story ({self.wins} wins and {self.ties} "
                f"ties, counted half, over {self.sets} sets; {self.runs_per_set:.1f} runs "
                "per set and strategy, so chance is part of the count)")


def robustness(runs: pd.DataFrame, strategies: Sequence[str],
               kpi: str = "launch_succeeded") -> Robustness:
    """Compare two strategies set by set over the posterior draws of a comparison.

    The runs of each distinct drawn parameter set (column ``draw``) are averaged per strategy;
    the strategy with the higher overall mean of ``kpi`` is "better"; ``share`` counts the sets
    where it did better plus half the ties (the probability of superiority).

    Args:
        runs: One row per run with ``strategy``, ``draw`` and the KPI column.
        strategies: Two strategy names (the first two are used).
        kpi: A KPI where higher is better.

    Raises:
        ValueError: One line when the runs carry no posterior draws.
    """
    if "draw" not in runs:
        raise ValueError("runs: no posterior draws; expected a comparison run with --posterior")
    a, b = list(strategies)[:2]
    value = pd.to_numeric(runs[kpi].astype("Float64"), errors="coerce")
    by = (runs.assign(_v=value).groupby(["draw", "strategy"])._v.agg(["mean", "size"])
          .unstack("strategy"))
    means = by["mean"][[a, b]].dropna()
    better, other = (a, b) if value[runs.strategy == a].mean() >= \
        value[runs.strategy == b].mean() else (b, a)
    diff = means[better] - means[other]
    wins, ties = int((diff > 0).sum()), int((diff == 0).sum())
    sets = len(diff)
    return Robustness(better=better, other=other, kpi=kpi,
                      share=(wins + 0.5 * ties) / sets if sets else float("nan"),
                      wins=wins, ties=ties, sets=sets,
                      runs_per_set=float(by["size"][[a, b]].loc[means.index].mean().mean()))
