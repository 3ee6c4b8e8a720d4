"""Out-of-sample predictions: the planned launch and each lever, from the prior and the posterior.

A calibration fits patterns only (the world before the launch and the failed launch). What it
then says about the plan is a *prediction*: :func:`run_predictions` draws ``budget.predictive``
parameter sets from the prior and as many from the posterior, and runs each on the overlay, the
planned launch and the overlay with each lever of the plan added alone (the P9 arms), at every
team size of the spec, ``budget.predictive_replicates`` times, at the default horizon. Draw *k*
of either source uses the same run seeds (common random numbers), so the prior and the
posterior differ by their parameters only, and the arms of one draw are paired.

:func:`prediction_table` reduces the draws to what a reader compares: per team size, planned's
launch success (the story's launch: the first specialist in the seat at month 12; and on money)
and each lever's effect on launch success (the lever's arm minus the overlay, paired per
draw), with the prior's and the posterior's 90 % predictive intervals, beside what the article
claims.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from dealersim.studies.calibrate.spec import CalibrationSpec
from dealersim.studies.engine import RunSpec, execute, run_one, seed_for
from dealersim.studies.posterior import drawn_overrides
from dealersim.studies.validation import ARMS, LEVER_ARMS, STORY

PREDICTED_ARMS: tuple[str, ...] = ("overlay", "planned", *LEVER_ARMS)
"""The arms predicted (``strategy`` in ``predictive.parquet``): the overlay, the planned launch
and each lever of the plan added alone to the overlay."""

MEASURES: tuple[str, ...] = (
    "launch_succeeded", "first_specialist_year_one", "first_specialist_tenure_days",
    "booked_mrr_year1", "cash_vs_hardware_only",
)
"""The measures predicted (KPI registry names): launch success (judged on money), the story's
launch (the first specialist still in the seat at month 12), the first specialist's tenure,
year-one booked MRR and the cash against doing nothing at the end of the run; each a draw's
mean over its replicates."""

COLUMNS: tuple[str, ...] = ("source", "draw", "strategy", "n_reps", "measure", "value")
"""Columns of ``predictive.parquet``."""

PREDICTIONS_FILE = "predictions.csv"
"""The prediction table in a calibration directory (read by the report)."""
SOURCES: tuple[str, ...] = ("prior", "posterior")
PRIOR_KEY = 1_000_033
"""Seed key of the prior's draws."""
POSTERIOR_KEY = 1_000_037
"""Seed key of the posterior's draws (which parameter set, by weight)."""
RUNS_KEY = 1_000_039
"""Seed key of the prediction runs (shared by draw *k* of both sources)."""
INTERVAL = (0.05, 0.95)
"""The predictive interval shown: the central 90 % of the draws."""

PLANNED_CLAIM = f">= 75 % (P4, {STORY} beats 13-15)"
LEVER_CLAIM = f"alone it leaves success below 60 % (P9, {STORY} beats 13-15)"


def prior_values(spec_: CalibrationSpec, k: int) -> dict[str, Any]:
    """Prior draw ``k``: each parameter uniform over its prior (integers rounded)."""
    rng = np.random.default_rng(seed_for(spec_.seed, PRIOR_KEY, k))
    return {p.name: p.value(rng.uniform(p.low, p.high)) for p in spec_.priors}


def posterior_values(spec_: CalibrationSpec, posterior: pd.DataFrame, k: int) -> dict[str, Any]:
    """Posterior draw ``k``: one accepted parameter set, picked by weight."""
    w = posterior.weight.to_numpy(float)
    rng = np.random.default_rng(seed_for(spec_.seed, POSTERIOR_KEY, k))
    i = int(rng.choice(len(w), p=w / w.sum()))
    return {p.name: p.value(float(posterior[p.name].iloc[i])) for p in spec_.priors}


def simulate_draw(spec_: CalibrationSpec, values: dict[str, Any], seed: int
                  ) -> list[tuple[str, int, str, float]]:
    """Run one parameter set on every predicted arm and size; ``(arm, size, measure, mean)``.

    Replicate *i* of every arm and size uses ``seed_for(seed, i)``; the arm's preset and its
    own overrides win over the drawn values (a calibration never infers a lever).
    """
    seeds = [seed_for(seed, i) for i in range(spec_.budget.predictive_replicates)]
    out = []
    for size in spec_.sizes:
        for arm in PREDICTED_ARMS:
            strategy, arm_overrides = ARMS[arm]
            items = drawn_overrides(values, strategy, {**arm_overrides, "n_reps": size})
            rows = [run_one(RunSpec(f"{arm}-{i}", strategy, s, items))[0]
                    for i, s in enumerate(seeds)]
            for m in MEASURES:
                x = np.array([np.nan if r[m] is None else float(r[m]) for r in rows])
                out.append((arm, size, m, float(np.nanmean(x)) if np.isfinite(x).any()
                            else math.nan))
    return out


def _task(items: Sequence[tuple[tuple[str, int], dict[str, Any], int]], series_stride: int,
          spec_: CalibrationSpec) -> list[tuple[tuple[str, int], list]]:
    return [(key, simulate_draw(spec_, values, seed)) for key, values, seed in items]


def run_predictions(spec_: CalibrationSpec, posterior: pd.DataFrame, *,
                    executor: Executor | None = None, workers: int = 1,
                    progress: bool = False, stop: Callable[[], None] | None = None,
                    ) -> pd.DataFrame:
    """Predict every arm of :data:`PREDICTED_ARMS` from prior and posterior draws.

    Returns:
        Long format, :data:`COLUMNS`: one row per source, draw, arm, team size and measure.
    """
    n = spec_.budget.predictive
    items = []
    for k in range(n):
        run_seed = seed_for(spec_.seed, RUNS_KEY, k)
        items.append((("prior", k), prior_values(spec_, k), run_seed))
        items.append((("posterior", k), posterior_values(spec_, posterior, k), run_seed))
    found: dict[tuple[str, int], list] = {}
    for batch in execute(items, executor=executor, workers=workers, per_task=1,
                         progress=progress, task_fn=_task, task_args=(spec_,), stop=stop):
        found.update(batch)
    rows = [dict(source=source, draw=k, strategy=arm, n_reps=size, measure=m, value=v)
            for source in SOURCES for k in range(n)
            for arm, size, m, v in found[(source, k)]]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({"draw": "int64", "n_reps": "int64", "value": "float64"})


def _interval(x: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, median and the central 90 % of the draws' values."""
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan, math.nan
    lo, mid, hi = np.quantile(x, [INTERVAL[0], 0.5, INTERVAL[1]])
    return float(x.mean()), float(mid), float(lo), float(hi)


def prediction_table(predictive: pd.DataFrame) -> pd.DataFrame:
    """Planned's launch success and each lever's effect on it, per team size and source.

    A lever's effect is its arm's rate of the story's launch (the first specialist still in the
    seat at month 12, what P9 speaks of) minus the overlay's, paired per draw (the same
    parameter set and seeds).

    Returns:
        One row per team size and prediction: ``n_reps``, ``what``, ``claim`` (what the article
        claims), then ``prior_mean``, ``prior_median``, ``prior_low``, ``prior_high`` and the
        same for ``posterior`` (the central 90 % of the draws). The mean is the prediction: for
        a rate, the rate over all the draws' runs together; a draw's rate over a few runs moves
        in steps (25 points at 4 runs), so its median and interval include that noise.
    """
    wide = predictive.pivot_table(index=["source", "n_reps", "draw"],
                                  columns=["measure", "strategy"], values="value",
                                  aggfunc="first")
    rows = []
    for size in sorted(predictive.n_reps.unique()):
        cases: list[tuple[str, str, Callable[[pd.DataFrame], pd.Series]]] = [
            ("planned: first specialist still in the seat at month 12 (the story's launch)",
             PLANNED_CLAIM, lambda w: w[("first_specialist_year_one", "planned")]),
            ("planned launch success (judged on money)", "not told",
             lambda w: w[("launch_succeeded", "planned")])]
        cases += [(f"effect of {what} alone on the story's launch (points)", LEVER_CLAIM,
                   lambda w, a=arm: (w[("first_specialist_year_one", a)]
                                     - w[("first_specialist_year_one", "overlay")]))
                  for arm, what in LEVER_ARMS.items()]
        for what, claim, f in cases:
            row: dict[str, Any] = dict(n_reps=int(size), what=what, claim=claim)
            for source in SOURCES:
                try:
                    x = f(wide.loc[(source, size)]).to_numpy(float)
                except KeyError:
                    x = np.array([])
                (row[f"{source}_mean"], row[f"{source}_median"], row[f"{source}_low"],
                 row[f"{source}_high"]) = _interval(x)
            rows.append(row)
    return pd.DataFrame(rows)


def _pct(x: float, points: bool) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x * 100:+.0f}" if points else f"{x:.0%}"


def _centre(row: pd.Series, source: str) -> float:
    """The prediction of one row and source: the mean (in an older run's table: the median)."""
    return float(row[f"{source}_mean"] if f"{source}_mean" in row else row[f"{source}_median"])


def prediction_cells(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The prediction table as text cells, one dict per row.

    Keys ``n_reps``, ``what``, ``prior``, ``posterior``, ``claim``: a share as a percentage,
    an effect in signed percentage points. ``table`` is :func:`prediction_table`'s frame (or
    ``predictions.csv`` read back).
    """
    out = []
    for _, r in table.iterrows():
        points = str(r.what).startswith("effect")
        cells = {s: f"{_pct(_centre(r, s), points)} ({_pct(r[f'{s}_low'], points)} to "
                    f"{_pct(r[f'{s}_high'], points)})" for s in SOURCES}
        out.append(dict(n_reps=int(r.n_reps), what=str(r.what), claim=str(r.claim), **cells))
    return out


def prediction_markdown(table: pd.DataFrame) -> str:
    """The prediction table in Markdown: prior interval | posterior interval | the claim."""
    lines = ["| reps | prediction | prior: mean (90 % of draws) | posterior: mean (90 % "
             "of draws) | what the article claims |", "|---|---|---|---|---|"]
    lines += [f"| {c['n_reps']} | {c['what']} | {c['prior']} | {c['posterior']} | "
              f"{c['claim']} |" for c in prediction_cells(table)]
    return "\n".join(lines)
