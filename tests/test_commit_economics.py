"""Commitment economics against hand computations to the cent."""

from __future__ import annotations

import numpy as np
import pytest

from smsim.commit.economics import (
    Existing,
    PlanTerms,
    Tranche,
    break_even_utilization,
    evaluate,
    month_end_weights,
)
from smsim.errors import InputError

U4 = np.array([10.0, 20.0, 5.0, 0.0])  # on-demand-equivalent USD per hour


def test_four_hours_by_hand():
    # d = 0.5, c = 5 USD/h covers x = 5 / 0.5 = 10 USD/h of on-demand usage.
    # covered = 10 + 10 + 5 + 0 = 25; hourly cost = 5, 5 + 10, 5, 5 = 30; on-demand = 35.
    out = evaluate(U4, 5.0, PlanTerms(discount=0.5))
    assert out.ondemand_usd == pytest.approx(35.00, abs=0.005)
    assert out.cost_usd == pytest.approx(30.00, abs=0.005)
    assert out.savings_usd == pytest.approx(5.00, abs=0.005)
    assert out.commitment_usd == pytest.approx(20.00, abs=0.005)
    assert out.used_commitment_usd == pytest.approx(12.50, abs=0.005)  # 0.5 * 25
    assert out.utilization == pytest.approx(12.5 / 20)
    assert out.coverage == pytest.approx(25 / 35)
    # The same plan at d = 0.2 (c = 8 covers 10) pays 32 for 25 of usage: savings 25 - 32 = -7.
    assert evaluate(U4, 8.0, PlanTerms(discount=0.2)).savings_usd == pytest.approx(-7.0)


def test_layering_on_existing_commitment():
    # Existing 4 USD/h at 20% covers 5/h first: [5, 5, 5, 0], leaving [5, 15, 0, 0].
    # New 8 USD/h covers up to 10: [5, 10, 0, 0] = 15; overage 5; cost 32 + 5 = 37.
    # Savings of the new plan = 20 (residual on-demand) - 37 = -17.
    out = evaluate(U4, 8.0, PlanTerms(discount=0.2), existing=[Existing(4.0, 0.2)])
    assert out.ondemand_usd == pytest.approx(20.0)
    assert out.cost_usd == pytest.approx(37.0)
    assert out.savings_usd == pytest.approx(-17.0)
    assert out.utilization == pytest.approx(0.8 * 15 / 32)
    assert out.coverage == pytest.approx((15 + 15) / 35)
    assert out.new_coverage == pytest.approx(15 / 35)


def test_existing_plan_window_and_zero_commitment():
    # An existing plan active only in hours [1, 3) covers 5/h there.
    out = evaluate(U4, 0.0, PlanTerms(discount=0.2), existing=[Existing(4.0, 0.2, 1, 3)])
    assert out.savings_usd == pytest.approx(0.0)
    assert out.coverage == pytest.approx((5 + 5) / 35)
    assert np.isnan(out.utilization)


def test_staged_tranches_by_hand():
    # 4 USD/h from hour 0 plus 4 USD/h from hour 2 at d = 0.2: x = [5, 5, 10, 10].
    # covered = 5 + 5 + 5 + 0 = 15, overage = 5 + 15 = 20, commitment = 4*4 + 4*2 = 24.
    out = evaluate(U4, [Tranche(4.0, 0), Tranche(4.0, 2)], PlanTerms(discount=0.2))
    assert out.commitment_usd == pytest.approx(24.0)
    assert out.cost_usd == pytest.approx(44.0)
    assert out.savings_usd == pytest.approx(-9.0)


def test_vectorised_over_paths_matches_one_by_one():
    rng = np.random.default_rng(1)
    paths = rng.gamma(2.0, 3.0, size=(5, 50))
    terms = PlanTerms.of(0.3, "1y", "partial-upfront", 0.08)
    both = evaluate(paths, 2.5, terms)
    for p in range(5):
        one = evaluate(paths[p], 2.5, terms)
        assert both.savings_usd[p] == pytest.approx(float(one.savings_usd))


def test_payment_option_cash_flow_discounting_by_hand():
    # Two 730-hour months, usage 2 USD/h, commitment 1 USD/h at d = 0.5 covers it all.
    # Cost of capital 10%/year; month bills are paid at 730 h and 1460 h.
    w1, w2 = 1.1 ** (-730 / 8760), 1.1 ** (-1460 / 8760)
    u = np.full(1460, 2.0)
    baseline = 2 * 730 * (w1 + w2)
    no_up = evaluate(u, 1.0, PlanTerms.of(0.5, "1y", "no-upfront", 0.10))
    assert no_up.ondemand_usd == pytest.approx(baseline, abs=0.005)
    assert no_up.cost_usd == pytest.approx(730 * (w1 + w2), abs=0.005)
    all_up = evaluate(u, 1.0, PlanTerms.of(0.5, "1y", "all-upfront", 0.10))
    assert all_up.cost_usd == pytest.approx(1460.00, abs=0.005)  # paid at hour 0, face value
    assert all_up.savings_usd == pytest.approx(baseline - 1460, abs=0.005)
    partial = evaluate(u, 1.0, PlanTerms.of(0.5, "1y", "partial-upfront", 0.10))
    assert partial.cost_usd == pytest.approx(730 + 365 * (w1 + w2), abs=0.005)
    # Nominal figures: w1 = 0.99209, w2 = 0.98424 -> baseline 2885.44, all-upfront saves 1425.44
    assert baseline == pytest.approx(2885.44, abs=0.01)
    assert no_up.savings_usd > partial.savings_usd > all_up.savings_usd


def test_month_end_weights_without_capital_cost_are_one():
    assert np.all(month_end_weights(100, 0.0) == 1.0)


def test_break_even_utilization():
    assert break_even_utilization(PlanTerms(discount=0.3), 8760) == pytest.approx(0.7)
    assert break_even_utilization(PlanTerms.of(0.3, payment="all-upfront", cost_of_capital_per_year=0.1), 8760) > 0.7


@pytest.mark.parametrize("d", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_discount_outside_open_unit_interval(d):
    with pytest.raises(InputError, match="between 0 and 1"):
        PlanTerms(discount=d)


def test_bad_term_and_payment():
    with pytest.raises(InputError, match="term"):
        PlanTerms.of(0.3, term="2y")
    with pytest.raises(InputError, match="payment"):
        PlanTerms.of(0.3, payment="monthly")
