"""Small, dependency-light statistics for replicated comparisons.

Wilson intervals for rates, Student-t intervals for means and paired differences, the
Kaplan-Meier estimator with Greenwood intervals, and a logistic regression fitted by
iteratively reweighted least squares (statsmodels is not a dependency).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

LEVEL = 0.95
"""Default confidence level of every interval."""


def _z(level: float) -> float:
    return float(_st.norm.ppf(0.5 + level / 2))


def wilson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float, float]:
    """Rate and Wilson score interval.

    Args:
        successes: Number of successes.
        n: Number of trials.
        level: Confidence level.

    Returns:
        ``(rate, low, high)``; all NaN when ``n`` is 0.
    """
    if n <= 0:
        return (math.nan, math.nan, math.nan)
    z = _z(level)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (p, low, high)


def mean_ci(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> tuple[float, float,
                                                                                   float]:
    """Mean and Student-t interval of the mean (NaNs dropped).

    Args:
        values: Observations.
        level: Confidence level.

    Returns:
        ``(mean, low, high)``; the interval is NaN with fewer than two observations and
        collapses to the mean when all observations are equal.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    m = float(x.mean())
    if x.size < 2:
        return (m, math.nan, math.nan)
    se = float(x.std(ddof=1)) / math.sqrt(x.size)
    half = float(_st.t.ppf(0.5 + level / 2, x.size - 1)) * se
    return (m, m - half, m + half)


def paired_diff(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                level: float = LEVEL) -> tuple[float, float, float, int]:
    """Mean of the paired differences ``b - a`` with a Student-t interval.

    Pairs where either value is missing are dropped. For 0/1 outcomes this is the paired
    difference of proportions with a normal-theory (t) interval.

    Returns:
        ``(mean_diff, low, high, n_pairs)``.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    d = y[ok] - x[ok]
    m, lo, hi = mean_ci(d, level)
    return (m, lo, hi, int(d.size))


def kaplan_meier(durations: Sequence[float] | np.ndarray,
                 censored: Sequence[bool] | np.ndarray, level: float = LEVEL) -> pd.DataFrame:
    """Kaplan-Meier survival curve with Greenwood (log-log) intervals.

    Args:
        durations: Time to the event or to censoring.
        censored: ``True`` where the event was not observed (still in the seat at the horizon).
        level: Confidence level.

    Returns:
        DataFrame with ``time, at_risk, events, survival, low, high``; the first row is
        time 0 with survival 1.
    """
    t = np.asarray(durations, dtype=float)
    c = np.asarray(censored, dtype=bool)
    keep = ~np.isnan(t)
    t, c = t[keep], c[keep]
    rows = [(0.0, int(t.size), 0, 1.0, 1.0, 1.0)]
    if t.size == 0:
        return pd.DataFrame(rows, columns=["time", "at_risk", "events", "survival", "low", "high"])
    z = _z(level)
    s, greenwood = 1.0, 0.0
    for time in np.unique(t[~c]):
        at_risk = int((t >= time).sum())
        d = int(((t == time) & ~c).sum())
        s *= 1.0 - d / at_risk
        if at_risk > d:
            greenwood += d / (at_risk * (at_risk - d))
        if 0.0 < s < 1.0 and greenwood > 0:
            se = math.sqrt(greenwood) / abs(math.log(s))
            lo = s ** math.exp(z * se)
            hi = s ** math.exp(-z * se)
        else:
            lo = hi = s
        rows.append((float(time), at_risk, d, s, lo, hi))
    rows.append((float(t.max()), int((t >= t.max()).sum()), 0, s, rows[-1][4], rows[-1][5]))
    return pd.DataFrame(rows, columns=["time", "at_risk", "events", "survival", "low", "high"])


def km_at(curve: pd.DataFrame, time: float) -> float:
    """Survival of a :func:`kaplan_meier` curve at ``time`` (step function, right-continuous)."""
    before = curve[curve.time <= time]
    return float(before.survival.iloc[-1]) if len(before) else 1.0


def km_median(curve: pd.DataFrame) -> float | None:
    """Median survival time of a curve, or ``None`` when survival never falls to 0.5."""
    below = curve[curve.survival <= 0.5]
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
    has no successes at all (complete separation); it does not move well-identified terms.

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
