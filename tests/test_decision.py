"""The owner's decision (dealersim.studies.decision) and compare's decision.json.

One small comparison (overlay vs planned, 6 paired replicates of 2 years, master seed 11) is
shared by the module's tests. Recomputing the money from the ledgers must give exactly the
runs' own money KPIs (to the cent), and recomputing it under another value of a money
parameter must give what new runs with that value give (2 replicates of 1 year, seed 4):
that is what lets the robustness share draw money assumptions without new runs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dealersim.cli import main
from dealersim.model.params import spec
from dealersim.studies import decision
from dealersim.studies.compare import run_compare

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def comp():
    return run_compare(["overlay", "planned"], replicates=6, seed=11, overrides={"years": 2.0},
                       workers=1, series_stride=0, progress=False)


def _kpi(arm, name):
    return arm[name].astype("Float64").to_numpy(dtype=float, na_value=np.nan)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["overlay", "planned"])
def test_recomputed_money_is_the_runs_money(comp, strategy):
    r = decision.run_money(decision.books(comp, strategy))
    arm = comp.arm(strategy)
    np.testing.assert_allclose(r.npv, _kpi(arm, "npv"), atol=0.01)
    np.testing.assert_allclose(r.low, _kpi(arm, "monthly_cash_flow_min"), atol=0.01)
    np.testing.assert_allclose(r.value_added, _kpi(arm, "enterprise_value_added"), atol=0.01)
    np.testing.assert_allclose(r.value_end, _kpi(arm, "enterprise_value_end"), atol=0.01)
    pay = np.where(np.isinf(r.payback), np.nan, r.payback)
    np.testing.assert_array_equal(pay, _kpi(arm, "payback_month"))


@pytest.mark.parametrize("name,value", [("hiring_cost", 30000.0), ("payroll_burden", 0.4),
                                        ("program_cost_monthly", 6000.0),
                                        ("overhead_share", 0.25), ("discount_rate", 0.2),
                                        ("managed_multiple", 9.0)])
def test_a_money_draw_matches_new_runs_with_that_value(name, value):
    old = run_compare(["planned"], replicates=2, seed=4, overrides={"years": 1.0}, workers=1,
                      series_stride=0, progress=False)
    new = run_compare(["planned"], replicates=2, seed=4, overrides={"years": 1.0, name: value},
                      workers=1, series_stride=0, progress=False)
    r = decision.run_money(decision.books(old, "planned"), {name: value})
    arm = new.arm("planned")
    np.testing.assert_allclose(r.npv, _kpi(arm, "npv"), atol=0.05)
    np.testing.assert_allclose(r.value_added, _kpi(arm, "enterprise_value_added"), atol=0.05)
    np.testing.assert_allclose(r.low, _kpi(arm, "monthly_cash_flow_min"), atol=0.05)


@pytest.mark.slow
def test_the_decision_of_the_runs(comp):
    d = decision.decide(comp, draws=40, seed=1)
    assert d.plans == ["overlay", "planned"] and d.horizon_months == 24
    for s in d.plans:
        curve = d.keep[s].payback_probability
        assert sorted(curve) == list(range(1, 25))
        values = np.array(list(curve.values()))
        assert (np.diff(values) >= 0).all() and 0 <= values.min() and values.max() <= 1
        # every run is counted: a run that never pays back is not paid back, never dropped
        assert curve[24] == pytest.approx(comp.arm(s).payback_month.notna().mean())
        k = d.keep[s]
        assert k.npv.low <= k.npv.mean <= k.npv.high
        assert k.low_point.mean <= 0
        assert 0 <= d.robustness[s] <= 1
    npv = {s: comp.arm(s).npv.astype(float).mean() for s in d.plans}
    best = max(npv, key=npv.get)
    assert d.recommendation == (best if npv[best] > 0 else None)
    assert "keep view" in d.rule and d.verdict
    assert 0 <= d.recommendation_holds <= 1
    assert {t["parameter"] for t in d.tornado} == set(decision.money_fields())
    spreads = [abs(t["high"] - t["low"]) for t in d.tornado]
    assert spreads == sorted(spreads, reverse=True)


def test_money_draws_lie_within_the_bounds():
    draws = decision.money_draws(50, seed=2)
    assert len(draws) == 50
    for name in decision.money_fields():
        values = np.array([d[name] for d in draws])
        assert spec(name).low <= values.min() and values.max() <= spec(name).high
        assert values.max() - values.min() > 0.8 * (spec(name).high - spec(name).low)


@pytest.mark.slow
def test_the_sell_view_says_when_the_case_rests_on_the_sale(comp):
    d = decision.decide(comp, view="sell", draws=0)
    assert "sell view" in d.rule
    if d.sell_pick is not None and d.keep_pick != d.sell_pick:
        assert "rests on the sale" in d.rule
    with pytest.raises(ValueError, match="view"):
        decision.decide(comp, view="hold")


@pytest.mark.slow
def test_compare_writes_decision_json(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", "overlay", "planned", "--replicates", "3", "--years", "1",
                 "--seed", "2", "--out", str(out), "--workers", "1", "--stride", "0"])
    assert code == 0
    d = json.loads((out / "decision.json").read_text())
    for key in ("recommendation", "rule", "keep", "sell", "robustness", "tornado"):
        assert key in d, key
    assert d["recommendation"] in (None, "overlay", "planned")
    for s in ("overlay", "planned"):
        curve = d["keep"][s]["payback_probability"]
        values = [curve[m] for m in sorted(curve, key=int)]
        assert values == sorted(values) and len(values) == 12
        assert {"mean", "low", "high"} <= set(d["keep"][s]["npv"])
        assert {"mean", "low", "high", "month"} <= set(d["keep"][s]["low_point"])
        assert {"value_added", "multiple"} <= set(d["sell"][s])
        assert 0 <= d["robustness"][s] <= 1
    assert all({"parameter", "low", "high"} <= set(t) for t in d["tornado"])
    assert d["verdict"] in capsys.readouterr().out
