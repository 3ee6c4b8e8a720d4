"""Confidence intervals for replicated comparisons, computed by scipy.

* :func:`wilson`: share of successes with the Wilson score interval
  (``scipy.stats.binomtest(...).proportion_ci(method="wilson")``);
* :func:`mean_ci`: mean with the Student-t interval (``scipy.stats.ttest_1samp``);
* :func:`paired_diff`: mean of paired differences with the Student-t interval
  (``scipy.stats.ttest_rel``);
* :func:`interval`: the one interval by kind that compare, blame, validation, the catalogue and
  the dashboard use: Wilson for yes/no outcomes, Student t otherwise, clipped to the values'
  bounds (a share's interval stays inside [0, 1]);
* :func:`kaplan_meier`: the Kaplan-Meier survival curve with Greenwood log-log intervals
  (``scipy.stats.ecdf`` on ``scipy.stats.CensoredData``), with :func:`km_at` and
  :func:`km_median`;
* :func:`logistic_irls`: a logistic regression by iteratively reweighted least squares, kept
  hand-written because its small ridge penalty keeps a fit finite under complete separation (a
  factor level with no successes), where ``statsmodels.Logit`` stops with an error.

Every interval is two-sided at :data:`LEVEL` unless asked otherwise; missing values (NaN) are
dropped first. Nothing here imports dealersim.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

LEVEL = 0.95
"""Default confidence level of every interval."""

Bounds = tuple[float, float]
UNBOUNDED: Bounds = (-math.inf, math.inf)
NAN3 = (math.nan, math.nan, math.nan)

KM_COLUMNS = ["time", "at_risk", "events", "survival", "low", "high"]
"""Columns of a :func:`kaplan_meier` curve."""


def _z(level: float) -> float:
    return float(_st.norm.ppf(0.5 + level / 2))


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    return x[~np.isnan(x)]


def _clip(est: float, lo: float, hi: float, bounds: Bounds) -> tuple[float, float, float]:
    low, high = bounds
    if math.isnan(lo):
        return (est, lo, hi)
    return (est, min(max(lo, low), high), min(max(hi, low), high))


def wilson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float, float]:
    """Rate and Wilson score interval.

    Args:
        successes: Number of successes (0 to ``n``).
        n: Number of trials.
        level: Confidence level.

    Returns:
        ``(rate, low, high)``, inside [0, 1]; all NaN when ``n`` is 0.

    Raises:
        ValueError: One line when ``successes`` is outside 0 to ``n``.
    """
    k, n = int(successes), int(n)
    if n <= 0:
        return NAN3
    if not 0 <= k <= n:
        raise ValueError(f"successes: {k} is not allowed; expected 0 to {n}")
    ci = _st.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    low = 0.0 if k == 0 else max(0.0, float(ci.low))
    high = 1.0 if k == n else min(1.0, float(ci.high))
    return (k / n, low, high)


def mean_ci(values: Sequence[float] | np.ndarray,
            level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean (NaNs dropped).

    Args:
        values: Observations.
        level: Confidence level.

    Returns:
        ``(mean, low, high)``; all NaN without observations, the interval NaN with one, and
        collapsed to the mean when all observations are equal.
    """
    x = _finite(values)
    if x.size == 0:
        return NAN3
    m = float(x.mean())
    if x.size < 2:
        return (m, math.nan, math.nan)
    if np.all(x == x[0]):
        return (m, m, m)
    ci = _st.ttest_1samp(x, 0.0).confidence_interval(confidence_level=level)
    return (m, float(ci.low), float(ci.high))


def paired_diff(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                level: float = LEVEL, bounds: Bounds = UNBOUNDED) -> tuple[float, float, float,
                                                                           int]:
    """Mean of the paired differences ``b - a`` with a Student-t interval.

    Pairs where either value is missing are dropped. For 0/1 outcomes this is the paired
    difference of proportions with a normal-theory (t) interval.

    Args:
        a: Reference values.
        b: Values paired with ``a``.
        level: Confidence level.
        bounds: Range of the values themselves: the interval of a difference is kept inside
            ``±(high - low)`` (a difference of shares stays within ±1).

    Returns:
        ``(mean_diff, low, high, n_pairs)``.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    n = int(x.size)
    d = y - x
    if n < 2 or np.all(d == d[0]):
        m, lo, hi = mean_ci(d, level)
    else:
        ci = _st.ttest_rel(y, x).confidence_interval(confidence_level=level)
        m, lo, hi = float(d.mean()), float(ci.low), float(ci.high)
    width = bounds[1] - bounds[0]
    return (*_clip(m, lo, hi, (-width, width)), n)


def interval(values: Sequence[float] | np.ndarray, kind: str = "number", level: float = LEVEL,
             bounds: Bounds = UNBOUNDED) -> tuple[float, float, float]:
    """Estimate and interval of replicated values by their kind: THE interval of dealersim.

    Args:
        values: One value per replicate (NaN: undefined in that run, dropped).
        kind: ``"flag"`` for yes/no values (a share of runs with the Wilson interval); any
            other kind (``share``, ``money``, ``count``...) is a mean with the Student-t
            interval.
        level: Confidence level.
        bounds: Range of possible values; the interval is clipped to it (a share's interval
            stays inside [0, 1]). Flags are always inside [0, 1].

    Returns:
        ``(estimate, low, high)``; NaN where undefined (no values; one value for a mean).
    """
    x = _finite(values)
    if kind == "flag":
        if not np.isin(x, (0.0, 1.0)).all():
            raise ValueError("values: a flag takes 0/1 (or yes/no) values only")
        return wilson(int(x.sum()), int(x.size), level)
    return _clip(*mean_ci(x, level), bounds)


def kaplan_meier(durations: Sequence[float] | np.ndarray,
                 censored: Sequence[bool] | np.ndarray, level: float = LEVEL) -> pd.DataFrame:
    """Kaplan-Meier survival curve with Greenwood (log-log) intervals, from scipy.

    A time at which some runs end with the event and others are censored counts the censored
    ones at risk (the usual convention: the events happen first).

    Args:
        durations: Time to the event or to censoring (NaN: no observation, dropped).
        censored: ``True`` where the event was not observed (still in the seat at the horizon).
        level: Confidence level.

    Returns:
        DataFrame with ``time, at_risk, events, survival, low, high``: a first row at time 0
        with survival 1, then one row per distinct observed time (event or censoring). Where
        the interval is undefined (survival 1 before any event, or 0) it collapses to the
        estimate.
    """
    t = np.asarray(durations, dtype=float)
    c = np.asarray(censored, dtype=bool)
    keep = ~np.isnan(t)
    t, c = t[keep], c[keep]
    first = pd.DataFrame([(0.0, int(t.size), 0, 1.0, 1.0, 1.0)], columns=KM_COLUMNS)
    if t.size == 0:
        return first
    sf = _st.ecdf(_st.CensoredData(uncensored=t[~c], right=t[c])).sf
    with warnings.catch_warnings():  # undefined at survival 0 or 1: filled below
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = sf.confidence_interval(confidence_level=level, method="log-log")
    time = np.asarray(sf.quantiles, dtype=float)
    s = np.asarray(sf.probabilities, dtype=float)
    low = np.asarray(ci.low.probabilities, dtype=float)
    high = np.asarray(ci.high.probabilities, dtype=float)
    undefined = np.isnan(low) | np.isnan(high)
    low, high = np.where(undefined, s, low), np.where(undefined, s, high)
    rows = pd.DataFrame({
        "time": time,
        "at_risk": (t[None, :] >= time[:, None]).sum(axis=1),
        "events": ((t[None, :] == time[:, None]) & ~c[None, :]).sum(axis=1),
        "survival": s,
        "low": low,
        "high": high,
    })
    return pd.concat([first, rows], ignore_index=True)


def km_at(curve: pd.DataFrame, time: float) -> float:
    """Survival of a :func:`kaplan_meier` curve at ``time`` (step function, right-continuous)."""
    before = curve[curve.time <= time]
    return float(before.survival.iloc[-1]) if len(before) else 1.0


def km_median(curve: pd.DataFrame) -> float | None:
    """Median survival time of a curve, or ``None`` when survival never falls to 0.5.

    The first time survival is at most 0.5, with a 1e-9 allowance for rounding in the product
    (a curve that steps to exactly one half, e.g. 5 of 10 gone, has its median there).
    """
    below = curve[curve.survival <= 0.5 + 1e-9]
    return float(below.time.iloc[0]) if len(below) else None


@dataclass
class LogitFit:
    """A fitted logistic regression.

    Attributes:
        names: Column names, intercept first.
        coef: Coefficients (log-odds).
        se: Standard errors from the inverse Fisher information.
        converged: Whether IRLS converged.
        iterations: Iterations used.
    """

    names: list[str]
    coef: np.ndarray
    se: np.ndarray
    converged: bool
    iterations: int

    def table(self, level: float = LEVEL) -> pd.DataFrame:
        """Coefficients, standard errors, intervals and odds ratios as a DataFrame."""
        z = _z(level)
        return pd.DataFrame({
            "term": self.names,
            "coef": self.coef,
            "se": self.se,
            "ci_low": self.coef - z * self.se,
            "ci_high": self.coef + z * self.se,
            "odds_ratio": np.exp(self.coef),
        })


def logistic_irls(X: np.ndarray, y: np.ndarray, names: Sequence[str], *, ridge: float = 1e-3,
                  max_iter: int = 100, tol: float = 1e-9) -> LogitFit:
    """Fit ``P(y=1) = 1 / (1 + exp(-X b))`` by iteratively reweighted least squares.

    A tiny ridge penalty on the non-intercept terms keeps the fit finite when a factor level
    has no successes at all (complete separation); it does not move well-identified terms
    (tests/test_stats.py checks it against ``statsmodels.Logit`` on a separable-free sample).

    Args:
        X: Design matrix with an intercept column first, shape ``(n, k)``.
        y: 0/1 outcomes.
        names: Names of the ``k`` columns.
        ridge: L2 penalty on the non-intercept coefficients.
        max_iter: Iteration limit.
        tol: Convergence tolerance on the largest coefficient change.

    Returns:
        The fit.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    k = X.shape[1]
    penalty = np.full(k, ridge)
    penalty[0] = 0.0
    b = np.zeros(k)
    converged = False
    it = 0
    info = np.eye(k)
    while it < max_iter:
        it += 1
        eta = np.clip(X @ b, -30, 30)
        mu = 1.0 / (1.0 + np.exp(-eta))
        w = np.maximum(mu * (1 - mu), 1e-12)
        info = X.T @ (X * w[:, None]) + np.diag(penalty)
        grad = X.T @ (y - mu) - penalty * b
        step = np.linalg.solve(info, grad)
        b = b + step
        if np.max(np.abs(step)) < tol:
            converged = True
            break
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    return LogitFit(list(names), b, se, converged, it)
