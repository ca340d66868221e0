"""Optimal commitment: closed form for stationary usage, brute force on small cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsim.commit.economics import Existing, PlanTerms, evaluate
from smsim.commit.lookback import lookback_recommendations
from smsim.commit.sizing import expected_savings_at, optimal_commitment, savings_curve
from smsim.commit.staged import evaluate_staged


def test_hand_case_cover_to_the_d_quantile():
    # usage 1..10, d = 0.3: slope right of x is #{u > x} - 0.7 * 10; positive while 7 values
    # or more lie above x, so every x in [3, 4] is optimal; the smaller (3) is returned.
    u = np.arange(1.0, 11.0)
    best = optimal_commitment(u, PlanTerms(discount=0.3))
    assert best.covered_usd_per_hour == pytest.approx(3.0)
    assert best.commitment_usd_per_hour == pytest.approx(2.1)
    # S(3) = (1 + 2 + 3 + 7 * 3) - 0.7 * 10 * 3 = 27 - 21 = 6 = S(4) = 6 + 34 - 28
    assert best.expected_savings_usd == pytest.approx(6.0)
    assert expected_savings_at(u, 4.0, PlanTerms(discount=0.3)) == pytest.approx(6.0)
    assert expected_savings_at(u, 3.5, PlanTerms(discount=0.3)) == pytest.approx(6.0)
    assert expected_savings_at(u, 4.5, PlanTerms(discount=0.3)) < 6.0


@pytest.mark.parametrize("d", [0.2, 0.3, 0.64])
def test_closed_form_stationary_usage_is_the_d_quantile(d):
    # iid Gamma(2, 5) usage: P(u > x*) = 1 - d, i.e. x* is the d-quantile. The empirical
    # quantile of N draws has sd sqrt(d(1-d)/N) / f(x*); allow 4 sd.
    from scipy import stats

    dist = stats.gamma(a=2.0, scale=5.0)
    n_paths, n_hours = 40, 2000
    u = dist.rvs(size=(n_paths, n_hours), random_state=np.random.default_rng(7))
    best = optimal_commitment(u, PlanTerms(discount=d))
    x_true = dist.ppf(d)
    sd = np.sqrt(d * (1 - d) / u.size) / dist.pdf(x_true)
    assert abs(best.covered_usd_per_hour - x_true) < 4 * sd
    assert best.commitment_usd_per_hour == pytest.approx((1 - d) * best.covered_usd_per_hour)
    # and the fraction of hours above the covered level is 1 - d
    assert np.mean(u > best.covered_usd_per_hour) == pytest.approx(1 - d, abs=1e-3)


def _brute_force(r, terms, extra_points=()):
    """Max of expected savings over every breakpoint (exact for a piecewise-linear function)."""
    candidates = np.unique(np.concatenate([[0.0], np.ravel(r), list(extra_points)]))
    values = [expected_savings_at(r, x, terms) for x in candidates]
    i = int(np.argmax(values))
    return candidates[i], values[i]


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.lists(st.integers(0, 20), min_size=6, max_size=6), min_size=1, max_size=4),
    d=st.sampled_from([0.1, 0.25, 0.3, 0.5, 0.72]),
    payment=st.sampled_from(["no-upfront", "partial-upfront", "all-upfront"]),
    rate=st.sampled_from([0.0, 0.05, 0.5]),
)
def test_exact_optimum_equals_brute_force(data, d, payment, rate):
    r = np.array(data, dtype=float) * 1.5
    terms = PlanTerms.of(d, "1y", payment, rate)
    best = optimal_commitment(r, terms)
    _, brute_value = _brute_force(r, terms)
    assert best.expected_savings_usd == pytest.approx(brute_value, abs=1e-9)
    # and also against a fine grid of commitments
    grid = np.linspace(0, r.max() * 1.2 + 1, 2001)
    on_grid = savings_curve(r, terms, (1 - d) * grid).expected_savings_usd
    assert on_grid.max() <= best.expected_savings_usd + 1e-9


def test_exact_optimum_with_cost_of_capital_over_months():
    # Monthly weights matter only over several months: 3 paths x 2190 hours, 20% a year.
    rng = np.random.default_rng(3)
    r = np.round(rng.gamma(2.0, 3.0, size=(3, 2190)), 1)
    terms = PlanTerms.of(0.4, "1y", "all-upfront", 0.2)
    best = optimal_commitment(r, terms)
    _, brute_value = _brute_force(r, terms)
    assert best.expected_savings_usd == pytest.approx(brute_value, rel=1e-12)


def test_optimum_agrees_with_evaluate():
    rng = np.random.default_rng(5)
    u = rng.gamma(3.0, 2.0, size=(10, 500))
    terms = PlanTerms.of(0.35, "1y", "partial-upfront", 0.07)
    best = optimal_commitment(u, terms)
    out = evaluate(u, best.commitment_usd_per_hour, terms)
    assert out.savings_usd.mean() == pytest.approx(best.expected_savings_usd)


def test_no_commitment_when_usage_is_zero_or_too_sparse():
    terms = PlanTerms(discount=0.3)
    assert optimal_commitment(np.zeros(48), terms).commitment_usd_per_hour == 0.0
    # usage in 20% of hours: covering any level pays for 100% of hours to save on 20%
    u = np.zeros(100)
    u[:20] = 10.0
    assert optimal_commitment(u, terms).commitment_usd_per_hour == 0.0


def test_curve_matches_pointwise_evaluation():
    rng = np.random.default_rng(11)
    u = rng.gamma(2.0, 4.0, size=(7, 300))
    terms = PlanTerms.of(0.3, "1y", "all-upfront", 0.1)
    grid = np.linspace(0, 15, 31)
    curve = savings_curve(u, terms, grid)
    for i, c in enumerate(grid):
        s = evaluate(u, c, terms).savings_usd
        assert curve.expected_savings_usd[i] == pytest.approx(s.mean())
        assert curve.p10_savings_usd[i] == pytest.approx(np.quantile(s, 0.1))


def test_lookback_windows_use_the_last_days():
    # 60 days: 50 days at 10 USD/h then 10 days at 2 USD/h; d = 0.3 covers the 0.3-quantile.
    # 7 days: all at 2. 30 days: 1/3 of hours at 2 (> 0.3) -> 2. 60 days: 1/6 at 2 -> 10.
    h = np.concatenate([np.full(50 * 24, 10.0), np.full(10 * 24, 2.0)])
    recs = lookback_recommendations(h, PlanTerms(discount=0.3))
    assert recs[7].commitment_usd_per_hour == pytest.approx(0.7 * 2)
    assert recs[30].commitment_usd_per_hour == pytest.approx(0.7 * 2)
    assert recs[60].commitment_usd_per_hour == pytest.approx(0.7 * 10)
    assert all(r.complete for r in recs.values())
    short = lookback_recommendations(h[-100:], PlanTerms(discount=0.3))
    assert short[60].hours_used == 100 and not short[60].complete


def test_staged_top_up_by_hand():
    # Usage 4 USD/h for 10 h then 8 USD/h for 10 h; d = 0.5. Buy 2 USD/h now (covers 4),
    # at hour 12 look back 2 h: usage left after the first tranche is 4/h -> top up 2 USD/h.
    u = np.concatenate([np.full(10, 4.0), np.full(10, 8.0)])
    terms = PlanTerms(discount=0.5)
    res = evaluate_staged(u, 2.0, 12, terms, confirm_hours=2)
    assert res.top_up_usd_per_hour[0] == pytest.approx(2.0)
    # covered: 4*10 + 4*2 + 8*8 = 112, commitment 2*20 + 2*8 = 56, savings 56
    assert res.outcome.savings_usd[0] == pytest.approx(56.0)


def test_existing_commitment_shrinks_the_recommendation():
    rng = np.random.default_rng(2)
    u = rng.gamma(4.0, 5.0, size=(20, 400))
    terms = PlanTerms(discount=0.3)
    alone = optimal_commitment(u, terms).covered_usd_per_hour
    from smsim.commit.economics import residual_after_existing

    r, _ = residual_after_existing(u, [Existing(3.5, 0.3)])
    with_existing = optimal_commitment(r, terms).covered_usd_per_hour
    # existing covers 5/h first, so the new plan covers what is left up to the same quantile
    assert with_existing == pytest.approx(alone - 5.0)
