"""The ledger: every dollar of a run by line and month, adding up to the summary to the cent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dealersim.model import economics, kpis
from dealersim.model.dealership import DealershipModel, hardware_margin
from dealersim.model.ledger import COLUMNS, judged_month, n_months
from dealersim.model.params import Params
from dealersim.model.results import simulate

CENT = 0.005
"""Half a cent: the summary rounds to cents, so a ledger that adds up lies within this."""


@pytest.fixture(scope="module")
def runs():
    """Seed 3, five years, the baseline and the two story strategies (one each)."""
    return {s: simulate(s, seed=3, years=5) for s in ("hardware_only", "overlay", "planned")}


def test_ledger_is_monthly_with_every_line(runs):
    for r in runs.values():
        led = r.ledger
        assert isinstance(led, pd.DataFrame)
        assert len(led) == n_months(r.params.horizon_days) == 60
        assert led.month.tolist() == list(range(1, 61))
        assert set(COLUMNS) <= set(led.columns)
        assert {"net", "cumulative", "baseline_net", "cash_vs_hardware_only"} <= set(led.columns)


@pytest.mark.parametrize("strategy", ["hardware_only", "overlay", "planned"])
def test_ledger_sums_to_the_summary_to_the_cent(runs, strategy):
    r = runs[strategy]
    led, s = r.ledger, r.summary
    lines = led[list(kpis.LEDGER_LINES)].to_numpy()
    assert abs(lines.sum() - s["gross_profit"]) < CENT
    np.testing.assert_allclose(lines.sum(axis=1), led.net, rtol=0, atol=1e-6)
    assert abs(led.cumulative.iloc[-1] - s["gross_profit"]) < CENT
    program = -led[list(kpis.PROGRAM_LINES)].to_numpy().sum()
    assert abs(program - s["program_cost"]) < CENT
    # the daily series ends where the ledger does
    assert abs(r.timeseries.cumulative_gross_profit.iloc[-1] - s["gross_profit"]) < CENT
    # the J-curve column is the cumulative difference to the baseline, ending at the KPI
    assert abs(led.cash_vs_hardware_only.iloc[-1] - s["cash_vs_hardware_only"]) < CENT


def test_costs_are_costs_and_profits_profits(runs):
    led = runs["planned"].ledger
    for line in kpis.PROGRAM_LINES + ("service_replaced",):
        assert (led[line] <= 1e-9).all(), line
    for line in ("hardware_gp", "takeover_hardware_gp", "managed_print_gp", "managed_it_gp",
                 "hardware_revenue", "managed_revenue"):
        assert (led[line] >= -1e-9).all(), line


def test_planned_program_lines_are_all_booked(runs):
    """A program with a specialist pays salary, burden, hiring, running costs from month 1."""
    led, p = runs["planned"].ledger, runs["planned"].params
    first = led.iloc[0]
    assert first.training == pytest.approx(-p.rep_training * p.n_reps * p.rep_training_cost)
    assert first.hiring == pytest.approx(-p.hiring_cost)
    assert first.payroll_burden == pytest.approx(first.specialist_salary * p.payroll_burden)
    assert led.program_running.sum() == pytest.approx(-p.program_cost_monthly * 60)
    if runs["planned"].summary["deals"]:
        assert led.implementation.sum() < 0 and led.specialist_commission.sum() < 0


def test_hardware_only_has_no_program(runs):
    r = runs["hardware_only"]
    s, led = r.summary, r.ledger
    assert s["program_cost"] == 0.0 and s["payback_month"] is None
    assert s["cash_vs_hardware_only"] == 0.0 and s["npv"] == 0.0
    assert s["monthly_cash_flow_min"] == 0.0 and s["enterprise_value_added"] == 0.0
    for line in kpis.PROGRAM_LINES + ("managed_print_gp", "managed_it_gp", "service_replaced"):
        assert (led[line] == 0).all(), line


def test_managed_revenue_memo_matches_the_series(runs):
    """Managed revenue booked in the last month is the live MRR of the month (one month)."""
    r = runs["planned"]
    mrr_end = r.summary["managed_mrr"]
    assert r.summary["recurring_revenue_end"] == pytest.approx(12 * mrr_end)
    last = r.ledger.managed_revenue.iloc[-1]
    assert last == pytest.approx(mrr_end, rel=0.25)  # contracts start within the month
    # each product's gross profit is its revenue at its margin: print at the margin its
    # discount leaves of the service margin, IT at the managed IT margin
    led, p = r.ledger, r.params
    revenue = (led.managed_print_gp.iloc[-1] / economics.mps_margin(p)
               + led.managed_it_gp.iloc[-1] / p.managed_margin)
    assert revenue == pytest.approx(last)


def test_run_out_writes_the_ledger_as_parquet(runs, tmp_path):
    r = runs["planned"]
    paths = r.save(tmp_path / "o")
    back = pd.read_parquet(paths["ledger"])
    pd.testing.assert_frame_equal(back, r.ledger)


@pytest.mark.parametrize("erosion", [0.0, 0.02, 0.1])
def test_margin_and_volume_by_day_match_the_daily_formulas(erosion):
    """The per-day arrays the books use are the daily formulas, day by day, to the last bit."""
    model = DealershipModel("overlay", rng=0, hw_margin_erosion=erosion, years=3)
    p = model.params
    for d in range(model.horizon + 1):
        assert model.margin[d] == max(0.0, p.hw_margin - p.hw_margin_erosion * d / 365.0)
        assert model.volume[d] == (1.0 - p.print_volume_decline) ** (d / 365.0)
    assert model.margin_on(model.horizon + 400) == hardware_margin(p, model.horizon + 400)
    assert isinstance(model.margin_on(3), float)


@pytest.mark.parametrize(("overrides", "month"), [({}, 36), ({"years": 5.0}, 36),
                                                  ({"years": 1.0}, 12), ({"years": 0.5}, 6),
                                                  ({"success_month": 12}, 12)])
def test_the_launch_is_judged_on_money_in_its_month_or_a_shorter_runs_last(overrides, month):
    # one rule for the summary, the page's card and the report
    assert judged_month(Params(**overrides)) == month
