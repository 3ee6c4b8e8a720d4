"""Tests of dealersim.base.stats: scipy's intervals against the hand-written formulas they replaced.

The hand-written Wilson, Student-t and Kaplan-Meier (Greenwood log-log) code of dealersim up to
commit 3fea92a is kept below as the oracle (``_ref_*``). On fixed grids and seeded random
inputs the scipy versions must agree with it to 1e-12 (Wilson, Kaplan-Meier: absolute; t:
relative); measured worst gaps were 3e-16, 7e-16 and 5e-14. Textbook values are checked to the
digits their sources print.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from dealersim.base import stats


# ------------------------------------------------------------------ the oracle (hand-written)
def _ref_z(level):
    return float(sps.norm.ppf(0.5 + level / 2))


def _ref_wilson(successes, n, level=0.95):
    if n <= 0:
        return (math.nan, math.nan, math.nan)
    z = _ref_z(level)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (p, low, high)


def _ref_mean_ci(values, level=0.95):
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    m = float(x.mean())
    if x.size < 2:
        return (m, math.nan, math.nan)
    se = float(x.std(ddof=1)) / math.sqrt(x.size)
    half = float(sps.t.ppf(0.5 + level / 2, x.size - 1)) * se
    return (m, m - half, m + half)


def _ref_kaplan_meier(durations, censored, level=0.95):
    t = np.asarray(durations, dtype=float)
    c = np.asarray(censored, dtype=bool)
    keep = ~np.isnan(t)
    t, c = t[keep], c[keep]
    rows = [(0.0, int(t.size), 0, 1.0, 1.0, 1.0)]
    z = _ref_z(level)
    s, greenwood = 1.0, 0.0
    for time in np.unique(t[~c]):
        at_risk = int((t >= time).sum())
        d = int(((t == time) & ~c).sum())
        s *= 1.0 - d / at_risk
        if at_risk > d:
            greenwood += d / (at_risk * (at_risk - d))
        if 0.0 < s < 1.0 and greenwood > 0:
            se = math.sqrt(greenwood) / abs(math.log(s))
            lo, hi = s ** math.exp(z * se), s ** math.exp(-z * se)
        else:
            lo = hi = s
        rows.append((float(time), at_risk, d, s, lo, hi))
    return pd.DataFrame(rows, columns=["time", "at_risk", "events", "survival", "low", "high"])


TOL = 1e-12


# ------------------------------------------------------------------ cross-checks
@pytest.mark.slow
@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_wilson_matches_hand_written(level):
    for n in (1, 2, 3, 5, 10, 17, 50, 100, 300):
        for k in range(n + 1):
            got, want = stats.wilson(k, n, level), _ref_wilson(k, n, level)
            assert got == pytest.approx(want, abs=TOL, rel=0), (k, n, level)


@pytest.mark.slow
def test_mean_ci_matches_hand_written():
    rng = np.random.default_rng(1)
    for size in (2, 3, 5, 10, 30, 100):
        for _ in range(30):
            x = rng.normal(rng.uniform(-1e3, 1e3), rng.uniform(0.01, 1e3), size)
            for level in (0.9, 0.95, 0.99):
                got, want = stats.mean_ci(x, level), _ref_mean_ci(x, level)
                assert got == pytest.approx(want, rel=TOL, abs=TOL), (size, level)


def test_paired_diff_is_t_on_the_differences():
    rng = np.random.default_rng(2)
    a = rng.normal(10, 3, 40)
    b = a + rng.normal(1, 2, 40)
    a[3], b[7] = np.nan, np.nan
    d, lo, hi, n = stats.paired_diff(a, b)
    ok = ~(np.isnan(a) | np.isnan(b))
    assert n == 38
    assert (d, lo, hi) == pytest.approx(_ref_mean_ci(b[ok] - a[ok]), rel=TOL)


@pytest.mark.slow
def test_kaplan_meier_matches_hand_written():
    rng = np.random.default_rng(3)
    for _ in range(150):
        n = int(rng.integers(1, 60))
        t = rng.integers(1, 20, n).astype(float)  # many ties, some between events and censoring
        c = rng.random(n) < 0.3
        got, want = stats.kaplan_meier(t, c), _ref_kaplan_meier(t, c)
        # every time of the oracle (0 and the event times) has the same row in scipy's curve
        both = want.merge(got, on="time", how="left", suffixes=("", "_got"))
        assert both.at_risk.eq(both.at_risk_got).all() and both.events.eq(both.events_got).all()
        for col in ("survival", "low", "high"):
            assert np.abs(both[col] - both[f"{col}_got"]).max() <= TOL, col
        grid = np.arange(0, 21, 0.5)
        assert np.abs([stats.km_at(got, q) - stats.km_at(want, q) for q in grid]).max() <= TOL
        assert stats.km_median(got) == stats.km_median(want)
        assert list(got.columns) == ["time", "at_risk", "events", "survival", "low", "high"]


# ------------------------------------------------------------------ textbook values
@pytest.mark.parametrize("k, n, low, high", [
    # Newcombe (1998), Stat Med 17:857, Table I, method 3 (score interval), 4 decimals
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_textbook(k, n, low, high):
    p, lo, hi = stats.wilson(k, n)
    assert p == k / n and lo == pytest.approx(low, abs=5e-5) and hi == pytest.approx(high,
                                                                                     abs=5e-5)


def test_paired_t_textbook_sleep_data():
    # Student (1908) sleep data as in R's `t.test(extra ~ group, data = sleep, paired = TRUE)`:
    # mean difference 1.58, 95 % interval 0.7001142 to 2.4598858
    g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    d, lo, hi, n = stats.paired_diff(g1, g2)
    assert n == 10 and d == pytest.approx(1.58)
    assert (lo, hi) == pytest.approx((0.7001142, 2.4598858), abs=1e-7)


def test_mean_ci_textbook():
    m, lo, hi = stats.mean_ci([1.0, 2.0, 3.0, 4.0])
    # t(0.975, 3) = 3.182446; sd = 1.290994; se = 0.645497
    assert m == 2.5 and hi - m == pytest.approx(3.182446 * 0.645497, abs=1e-5)
    assert m - lo == pytest.approx(hi - m)


def test_kaplan_meier_textbook_6mp():
    # Freireich et al. (1963) 6-MP arm (Gehan 1965): + marks censoring. Survival and numbers
    # at risk as in every survival textbook (e.g. Kleinbaum & Klein, table 2.x); log-log 95 %
    # limits at t=6 as printed by R's survfit(conf.type = "log-log"): 0.620 to 0.952.
    times = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    cens = [0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1]
    curve = stats.kaplan_meier(times, np.array(cens, bool)).set_index("time")
    expect = {6: (21, 3, 0.857), 7: (17, 1, 0.807), 10: (15, 1, 0.753), 13: (12, 1, 0.690),
              16: (11, 1, 0.627), 22: (7, 1, 0.538), 23: (6, 1, 0.448)}
    for t, (at_risk, events, s) in expect.items():
        row = curve.loc[float(t)]
        assert (row.at_risk, row.events) == (at_risk, events)
        assert row.survival == pytest.approx(s, abs=5e-4)
    assert (curve.loc[6.0, "low"], curve.loc[6.0, "high"]) == pytest.approx((0.620, 0.952),
                                                                              abs=5e-4)
    assert stats.km_median(curve.reset_index()) == 23


# ------------------------------------------------------------------ edge cases
def test_wilson_edges():
    assert all(math.isnan(v) for v in stats.wilson(0, 0))
    p, lo, hi = stats.wilson(0, 10)
    assert p == 0 and lo == 0 and 0 < hi < 1
    p, lo, hi = stats.wilson(10, 10)
    assert p == 1 and hi == 1 and 0 < lo < 1
    p, lo, hi = stats.wilson(1, 1)
    assert (p, hi) == (1, 1) and lo == pytest.approx(0.2065, abs=1e-4)
    with pytest.raises(ValueError, match="successes"):
        stats.wilson(11, 10)


def test_mean_ci_edges():
    assert all(math.isnan(v) for v in stats.mean_ci([]))
    assert all(math.isnan(v) for v in stats.mean_ci([np.nan, np.nan]))
    m, lo, hi = stats.mean_ci([7.0])
    assert m == 7.0 and math.isnan(lo) and math.isnan(hi)
    assert stats.mean_ci([np.nan, 7.0])[0] == 7.0
    assert stats.mean_ci([3.0, 3.0, 3.0]) == (3.0, 3.0, 3.0)
    d, dlo, dhi, n = stats.paired_diff([1, 2, 3, np.nan], [2, 3, 4, 9])
    assert (d, dlo, dhi, n) == (1.0, 1.0, 1.0, 3)
    d, dlo, dhi, n = stats.paired_diff([np.nan], [1.0])
    assert n == 0 and math.isnan(d)


def test_interval_by_kind():
    flags = [True, False, True, True, np.nan, False, True, True, True, True, True]
    assert stats.interval(flags, "flag") == stats.wilson(8, 10)
    assert stats.interval([1.0, 2.0, 3.0, 4.0], "money") == stats.mean_ci([1.0, 2.0, 3.0, 4.0])
    # a share's t interval is clipped to [0, 1]; a flag's Wilson interval is inside anyway
    est, lo, hi = stats.interval([0.0, 0.0, 0.01, 0.0], "share", bounds=(0.0, 1.0))
    assert est == pytest.approx(0.0025) and lo == 0.0 and hi > est
    est, lo, hi = stats.interval([0.99, 1.0, 1.0], "share", bounds=(0.0, 1.0))
    assert hi == 1.0
    for k in range(0, 11):
        _, lo, hi = stats.interval([1] * k + [0] * (10 - k), "flag")
        assert 0.0 <= lo <= hi <= 1.0
    assert all(math.isnan(v) for v in stats.interval([], "flag"))
    assert all(math.isnan(v) for v in stats.interval([np.nan], "count"))
    with pytest.raises(ValueError, match="flag"):
        stats.interval([0.5], "flag")


def test_paired_diff_bounds():
    a = [0, 0, 0, 1, 0]
    b = [1, 1, 1, 1, 1]
    d, lo, hi, n = stats.paired_diff(a, b, bounds=(0.0, 1.0))
    assert d == pytest.approx(0.8) and hi == 1.0 and lo < d
    assert stats.paired_diff(a, b)[2] > 1.0  # unbounded: the t interval passes 1


def test_kaplan_meier_edges():
    empty = stats.kaplan_meier([], [])
    assert len(empty) == 1 and empty.survival.iloc[0] == 1.0
    nan_only = stats.kaplan_meier([np.nan, np.nan], [False, True])
    assert len(nan_only) == 1 and nan_only.at_risk.iloc[0] == 0
    censored = stats.kaplan_meier([5, 5], [True, True])
    assert stats.km_at(censored, 10) == 1.0 and stats.km_median(censored) is None
    one = stats.kaplan_meier([3], [False])
    assert stats.km_at(one, 2.9) == 1.0 and stats.km_at(one, 3) == 0.0
    assert (one.low.iloc[-1], one.high.iloc[-1]) == (0.0, 0.0)  # undefined: collapsed
    curve = stats.kaplan_meier([1, 2, 3, 4, np.nan], [False, False, False, False, True])
    assert stats.km_at(curve, 0.5) == 1 and stats.km_at(curve, 2) == 0.5
    assert stats.km_at(curve, 4) == 0 and stats.km_median(curve) == 2
    assert curve.at_risk.iloc[0] == 4
    # a tie between an event and a censoring: the censored run is still at risk at t=3
    curve = stats.kaplan_meier([1, 2, 3, 3], [False, True, False, True])
    assert stats.km_at(curve, 1) == 0.75 and stats.km_at(curve, 3) == pytest.approx(0.375)


# ------------------------------------------------------------------ logistic regression
@pytest.mark.slow
def test_logistic_irls_matches_statsmodels():
    import statsmodels.api as sm  # a dev dependency: the reference implementation
    rng = np.random.default_rng(4)
    n = 3000
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.integers(0, 2, n),
                         rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [-0.5, 1.0, -0.7, 0.4])))).astype(float)
    fit = stats.logistic_irls(X, y, ["b0", "b1", "b2", "b3"])
    ref = sm.Logit(y, X).fit(disp=0)
    # the 1e-3 ridge moves coefficients by about 1e-6 here; allow 1e-4
    assert fit.converged
    assert np.allclose(fit.coef, ref.params, atol=1e-4)
    assert np.allclose(fit.se, ref.bse, atol=1e-4)
