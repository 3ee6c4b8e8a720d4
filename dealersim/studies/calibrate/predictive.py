"""The posterior's parameters and the posterior predictive check."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from dealersim.model.params import spec
from dealersim.studies.calibrate.patterns import particle_overrides, simulate_patterns
from dealersim.studies.calibrate.spec import (
    CHECKS_BY_NAME,
    PINNED_SD_RATIO,
    PINNED_SHIFT,
    PPC_KEY,
    TARGETS,
    CalibrationSpec,
    stat_key,
)
from dealersim.studies.engine import (
    execute,
    seed_for,
)


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


def judged_centre(check: pd.DataFrame | pd.Series) -> str:
    """The column the predictive check's verdict reads.

    ``mean``, or ``median`` in a table written before the verdict moved to the mean. The
    verdict itself is in the column ``f"{centre}_inside"``.
    """
    return "mean" if "mean_inside" in check else "median"


def ppc_table(spec_: CalibrationSpec, predictive: pd.DataFrame) -> pd.DataFrame:
    """The posterior predictive check: each statistic's simulated spread against its target.

    The verdict is on the posterior predictive mean, the mean of the draws' values: for a
    rate that is exactly the rate over all the draws' runs together (each draw runs the same
    number of times), which is what the posterior predicts. The median of the draws is kept
    for the spread but not judged: a draw's rate over a few runs moves in steps (25 points at
    4 runs), so a 15 % rate has a median draw of 0 %.

    Returns:
        One row per statistic: ``stat``, ``pattern``, ``what``, ``size``, ``target`` (as
        ``dealersim validate`` states it), ``low``, ``high``, ``mean``, ``median``, ``q05``,
        ``q95``, ``inside_share`` (draws inside the range), ``mean_inside`` (the verdict),
        ``median_inside``.
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
            mean = float(x.mean()) if x.size else math.nan
            rows.append(dict(stat=key, pattern=check.pattern, what=name, size=n,
                             target=check.target, low=t.low, high=t.high, mean=mean,
                             median=float(q50), q05=float(q05), q95=float(q95),
                             inside_share=float(inside.mean()) if x.size else math.nan,
                             mean_inside=bool(x.size and t.low <= mean <= t.high),
                             median_inside=bool(x.size and t.low <= q50 <= t.high)))
    return pd.DataFrame(rows)
