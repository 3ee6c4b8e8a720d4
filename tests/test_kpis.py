"""The KPI registry (dealersim.model.kpis) against what the model really produces.

Two short runs (planned, 0.5 years, seed 1; hardware_only, 0.25 years, seed 2) are enough: the
checks are about names, types and formats, not values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dealersim.model import kpis
from dealersim.model.results import simulate


@pytest.fixture(scope="module")
def runs():
    return [simulate("planned", seed=1, years=0.5), simulate("hardware_only", seed=2, years=0.25)]


def test_summary_keys_are_the_registry(runs):
    for r in runs:
        assert list(r.summary) == list(kpis.SUMMARY_KEYS)


def test_series_columns_are_the_registry(runs):
    for r in runs:
        assert set(r.timeseries.columns) == set(kpis.SERIES_COLUMNS)


def test_summary_values_match_their_kind(runs):
    seen_none = set()
    for r in runs:
        for k in kpis.SUMMARY:
            v = r.summary[k.name]
            if v is None:
                assert k.optional, k.name
                seen_none.add(k.name)
                continue
            if k.kind == "flag":
                assert isinstance(v, bool), k.name
            elif k.kind in ("count", "days"):
                assert isinstance(v, int) and not isinstance(v, bool), k.name
            else:
                assert isinstance(v, int | float) and not isinstance(v, bool), k.name
            low, high = k.bounds
            assert low <= v <= high, (k.name, v, k.bounds)
    # a run without a specialist leaves the specialist's KPIs undefined
    assert "first_specialist_tenure_days" in seen_none


def test_series_values_match_their_kind(runs):
    for r in runs:
        for k in kpis.SERIES:
            x = r.timeseries[k.name].to_numpy(dtype=float)
            if k.kind in ("count", "days"):
                assert np.all(x == np.round(x)), k.name
            low, high = k.bounds
            assert np.all((x >= low) & (x <= high)), k.name


def test_arrow_types():
    types = {k.name: k.arrow_type for k in kpis.SUMMARY}
    assert types["launch_succeeded"] == "bool"
    assert types["dials"] == "int64" and types["first_specialist_tenure_days"] == "int64"
    assert types["managed_mrr"] == "float64" and types["warm_intro_share"] == "float64"
    assert types["wall_mean_day60"] == "float64"
    assert set(types.values()) == {"bool", "int64", "float64"}
    for k in kpis.SUMMARY:
        want = {"flag": "bool", "count": "int64", "days": "int64"}.get(k.kind, "float64")
        assert k.arrow_type == want, k.name


EXAMPLES = [
    ("launch_succeeded", True, False, "yes"),
    ("launch_succeeded", False, False, "no"),
    ("launch_succeeded", 0.54, False, "54%"),
    ("launch_succeeded", 0.25, True, "+25 pts"),
    ("launch_succeeded", -0.1, True, "-10 pts"),
    ("warm_intro_share", 0.075, False, "7.5%"),
    ("warm_intro_share", 0.031, True, "+3.1 pts"),
    ("managed_mrr", 1234.5, False, "$1,234"),
    ("managed_mrr", -900, True, "-$900"),
    ("gross_profit", 1_250_000, False, "$1.25M"),
    ("gross_profit", 45_300, True, "+$45,300"),
    ("dials", 2638, False, "2,638"),
    ("dials", 12, True, "+12"),
    ("first_specialist_tenure_days", 120, False, "120"),
    ("wall_mean_day60", 0.321, False, "0.32"),
    ("wall_mean_day60", -0.4, True, "-0.40"),
    ("specialist_dials_per_day", 8.66, False, "8.7"),
    ("specialist_dials_per_day", 0.0, True, "0.0"),
    ("days_to_first_managed_deal", None, False, "n/a"),
    ("managed_mrr", math.nan, False, "n/a"),
]


@pytest.mark.parametrize("name, value, diff, text", EXAMPLES)
def test_format_examples_per_kind(name, value, diff, text):
    assert kpis.fmt(name, value, diff=diff) == text


def test_every_kind_has_format_examples():
    covered = {kpis.kpi(name).kind for name, *_ in EXAMPLES}
    assert covered == set(kpis.KINDS)
    assert {k.kind for k in (*kpis.SUMMARY, *kpis.SERIES)} <= set(kpis.KINDS)


def test_money_is_the_one_formatter():
    assert kpis.money(45_300) == "$45,300"
    assert kpis.money(-900) == "-$900"
    assert kpis.money(2_500_000) == "$2.50M"
    assert kpis.money(None) == "n/a" and kpis.money(math.nan) == "n/a"
    assert kpis.money(1500.0, 3) == "$1,500"  # as a matplotlib tick formatter (x, pos)


def test_intervals_and_bounds():
    k = kpis.kpi("launch_succeeded")
    assert k.bounds == (0.0, 1.0)
    assert k.interval([True, False, None, True]) == pytest.approx((2 / 3, 0.2077, 0.9385),
                                                                  abs=1e-4)
    est, lo, hi = kpis.kpi("warm_intro_share").interval([0.0, 0.01, 0.0, 0.0])
    assert lo == 0.0 and 0 < est < hi <= 1  # a share's t interval is clipped to [0, 1]
    assert kpis.kpi("hardware_decline_per_year").bounds[0] == -math.inf  # growth is negative
    assert kpis.kpi("managed_churn_per_year").bounds == (0.0, math.inf)
    assert kpis.kpi("gross_profit").bounds == (-math.inf, math.inf)
    assert kpis.kpi("dials").format_interval(10, 2000) == "10 to 2,000"
    assert kpis.kpi("gross_profit").format_with_interval(5, -1, 9, diff=True) == \
        "+$5 (-$1 to +$9)"


def test_derived_lists():
    assert kpis.KEY_KPIS and set(kpis.KEY_KPIS) | set(kpis.OTHER_KPIS) == set(kpis.SUMMARY_KEYS)
    assert not set(kpis.KEY_KPIS) & set(kpis.OTHER_KPIS)
    assert set(kpis.FLAG_KPIS) == {k.name for k in kpis.SUMMARY if k.kind == "flag"}
    assert kpis.FUNNEL_KPIS == ("dials", "conversations", "first_appointments", "proposals",
                                "deals")
    assert kpis.STAGE_SERIES[0] == "stage_conversation" and len(kpis.STAGE_SERIES) == 5
    assert all(kpis.column(c).short for c in kpis.STAGE_SERIES)
    assert kpis.kpi("dials").short_label == "dials"
    assert kpis.kpi("gross_profit").short_label == kpis.label("gross_profit")


def test_unknown_names_are_one_line_errors():
    with pytest.raises(ValueError, match="'profit!' is not a KPI") as exc:
        kpis.kpi("profit!")
    assert "\n" not in str(exc.value) and "launch_succeeded" in str(exc.value)
    with pytest.raises(ValueError, match="time-series column"):
        kpis.column("launch_succeeded")
