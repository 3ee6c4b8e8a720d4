"""Unit economics of the managed services (dealersim/model/economics.py, the ledger's lines).

Each formula is checked on its own and in real runs. Parameters that only price (the service
margin, the managed overhead) do not change what anybody does, so two runs on one seed that
differ only in them must book the same behaviour and differ exactly by the formula.
"""

from __future__ import annotations

import numpy as np
import pytest

from dealersim.model import economics
from dealersim.model.dealership import DealershipModel
from dealersim.model.ledger import enterprise_value
from dealersim.model.market import MIT, MPS, Market, month_start
from dealersim.model.params import Params
from dealersim.model.results import simulate

SEEDS = (0, 1, 2, 3, 4)


# ------------------------------------------------------------------ formulas alone
def test_managed_print_price_replaces_service_and_supplies_at_a_discount():
    p = Params(service_share=0.3, mps_discount=0.15, service_margin=0.5)
    assert economics.mps_price_share(p) == pytest.approx(0.85 * 0.3)
    assert economics.mps_price_ratio(p) == pytest.approx(0.85)
    # the contract costs what the service cost to deliver: (0.5 - 0.15) / 0.85 of its price
    assert economics.mps_margin(p) == pytest.approx(0.35 / 0.85)
    # no discount: the same billing at the same margin as before
    assert economics.mps_margin(p.replace(mps_discount=0.0)) == pytest.approx(0.5)


def test_replaced_service_is_lost_at_the_service_margin_not_the_hardware_margin():
    p = Params(service_share=0.3, service_margin=0.5)
    for hw in (0.2, 0.3, 0.45):
        assert economics.replaced_margin(p, hw) == pytest.approx(0.5)
    # after a long price war the lease part cannot go below zero: capped at hw / share
    assert economics.replaced_margin(p, 0.09) == pytest.approx(0.3)
    assert economics.replaced_margin(p, 0.0) == 0.0
    days = np.array([0.3, 0.12, 0.0])
    np.testing.assert_allclose(economics.replaced_margin(p, days), [0.5, 0.4, 0.0])


def test_managed_it_revenue_scales_with_seats():
    """Same generator: doubling the mean seats doubles each account's seats (up to rounding),
    and a managed IT deal bills every seat at the fee; managed print does not change."""
    small = Market(Params(mit_seats_per_account=20.0), np.random.default_rng(7))
    large = Market(Params(mit_seats_per_account=40.0), np.random.default_rng(7))
    p = small.params
    for mk in (small, large):
        mk.product[:] = MIT
    idx = np.arange(small.n)
    np.testing.assert_allclose(small.deal_mrrs(idx), small.seats * p.mit_fee_per_seat)
    assert small.deal_mrr(3) == small.seats[3] * p.mit_fee_per_seat
    ratio = large.deal_mrrs(idx).sum() / small.deal_mrrs(idx).sum()
    assert ratio == pytest.approx(2.0, rel=0.01)
    # the fee per seat scales it too
    dear = Market(Params(mit_fee_per_seat=320.0), np.random.default_rng(7))
    dear.product[:] = MIT
    np.testing.assert_allclose(dear.deal_mrrs(idx), 2 * small.deal_mrrs(idx))
    # managed print is priced from the account's billing, not its seats
    small.product[:] = MPS
    large.product[:] = MPS
    np.testing.assert_allclose(small.deal_mrrs(idx), large.deal_mrrs(idx))
    # seats are drawn: they vary across accounts around the mean
    assert small.seats.min() >= 1 and small.seats.std() > 5
    assert small.seats.mean() == pytest.approx(20.0, rel=0.05)


# ------------------------------------------------------------------ in runs
@pytest.fixture(scope="module")
def runs():
    """overlay and planned on five seeds, three years (the default horizon)."""
    return {(s, seed): simulate(s, seed=seed) for s in ("overlay", "planned") for seed in SEEDS}


@pytest.mark.slow
def test_price_ratio_at_most_one_on_every_run(runs):
    """Five seeds x two strategies: the managed print price never exceeds the billing it
    replaced (here it is the billing less the discount, on every run that signed one)."""
    signed = 0
    for (strategy, seed), r in runs.items():
        ratio = r.summary["managed_print_price_ratio"]
        if ratio is None:
            continue
        signed += 1
        assert ratio <= 1.0, (strategy, seed, ratio)
        assert ratio == pytest.approx(1.0 - r.params.mps_discount, abs=1e-6)
    assert signed >= 5  # planned signs managed print on every seed
    assert simulate("hardware_only", seed=0).summary["managed_print_price_ratio"] is None


def test_price_ratio_is_one_without_a_discount():
    r = simulate("planned", seed=2, mps_discount=0.0)
    assert r.summary["managed_print_price_ratio"] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.slow
def test_cannibalisation_scales_with_the_service_margin_only():
    """Same seed, the service margin halved: the same contracts, the replaced service halves
    and the hardware gross profit is untouched (the replaced service is not charged at the
    hardware margin)."""
    a = simulate("planned", seed=1, service_margin=0.5).ledger
    b = simulate("planned", seed=1, service_margin=0.25).ledger
    np.testing.assert_array_equal(a.managed_revenue, b.managed_revenue)
    np.testing.assert_array_equal(a.hardware_gp, b.hardware_gp)
    assert a.service_replaced.sum() < 0
    np.testing.assert_allclose(b.service_replaced, a.service_replaced / 2, rtol=1e-9)


@pytest.mark.slow
def test_overhead_lowers_the_earnings_a_buyer_values():
    """The managed overhead is booked every month and lowers the valuation's earnings by
    exactly its share of the last year's managed revenue (times the multiple, which does not
    move: revenue is unchanged)."""
    kw = dict(seed=4, years=5)
    m0 = DealershipModel("planned", rng=4, years=5, managed_overhead_share=0.0).run()
    m2 = DealershipModel("planned", rng=4, years=5, managed_overhead_share=0.2).run()
    l0, l2 = m0.ledger, m2.ledger
    managed = l0.last_year("managed_revenue")
    assert managed > 0
    assert l2.last_year("managed_overhead") == pytest.approx(-0.2 * managed)
    assert l0.last_year("managed_overhead") == 0.0
    ev0, ev2 = enterprise_value(l0), enterprise_value(l2)
    assert ev2 < ev0
    r2 = simulate("planned", managed_overhead_share=0.2, **kw)
    assert r2.summary["enterprise_value_end"] == pytest.approx(ev2, abs=0.01)


@pytest.mark.slow
def test_success_is_the_run_rate_bar(runs):
    """launch_succeeded is exactly: the first specialist seated at day 365, and the program's
    managed gross profit covering its running cost over the three months to the judged month,
    recomputed here from the ledger's lines."""
    gp_lines = ["managed_print_gp", "managed_it_gp", "takeover_hardware_gp", "service_replaced"]
    cost_lines = ["specialist_salary", "payroll_burden", "program_running", "managed_overhead"]
    for (strategy, seed), r in runs.items():
        s, led, p = r.summary, r.ledger, r.params
        month = min(p.success_month, len(led))
        window = led[(led.month > month - 3) & (led.month <= month)]
        gp, cost = window[gp_lines].to_numpy().sum(), -window[cost_lines].to_numpy().sum()
        if cost > 0:
            assert s["run_rate_cover"] == pytest.approx(gp / cost, abs=1e-5), (strategy, seed)
        else:  # the program was over before the window: nothing to cover, no success
            assert s["run_rate_cover"] is None and not s["launch_succeeded"]
        tenure = s["first_specialist_tenure_days"]
        seated = tenure is not None and tenure >= 365
        abandoned = r.events.query("kind == 'program_abandoned'").day
        running = abandoned.empty or abandoned.iloc[0] > month_start(month)
        assert s["launch_succeeded"] == (seated and running and gp >= cost), (strategy, seed)
        assert s["first_specialist_year_one"] == (seated and (
            abandoned.empty or abandoned.iloc[0] > 365)), (strategy, seed)
        if s["launch_succeeded"] or s["year_one_bookings_milestone"]:
            assert s["first_specialist_year_one"]
        if s["launch_succeeded"]:
            assert s["program_succeeded"]


@pytest.mark.slow
def test_gross_margin_per_sales_pay(runs):
    """First-year gross margin of the contracts signed over the sales pay of the run."""
    for r in (runs[("planned", seed)] for seed in SEEDS):
        ratio = r.summary["gross_margin_per_sales_pay"]
        pay = -r.ledger[["specialist_salary", "specialist_commission", "rep_credit"]].sum().sum()
        assert pay > 0 and ratio is not None and ratio > 0
        # every contract's year of gross margin lies between its revenue at the lower and at
        # the higher of the two products' margins
        p, booked = r.params, r.timeseries.booked_mrr.iloc[-1]
        margins = sorted((p.managed_margin, economics.mps_margin(p)))
        tol = 1e-6 * pay  # the summary rounds the ratio to 6 decimals
        assert 12 * margins[0] * booked - tol <= ratio * pay <= 12 * margins[1] * booked + tol
