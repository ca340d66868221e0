"""Closed forms against values worked by hand and against independent formulas."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from smsim import queueing as q


def test_erlang_b_hand_values():
    assert q.erlang_b(0, 3.0) == 1.0
    assert q.erlang_b(1, 1.0) == pytest.approx(0.5)
    assert q.erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)
    # a = 2, c = 3: (8/6) / (1 + 2 + 2 + 8/6) = 4/19
    assert q.erlang_b(3, 2.0) == pytest.approx(4 / 19)


def test_erlang_c_hand_values():
    # M/M/1: P(wait) = rho.
    assert q.erlang_c(1, 0.8) == pytest.approx(0.8)
    # M/M/2 with a = 1: P0 = 1/3, C = a^2 / (2! (1 - 1/2)) P0 = 1/3.
    assert q.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert q.erlang_c(4, 4.0) == 1.0
    assert q.erlang_c(4, 5.0) == 1.0


@pytest.mark.parametrize("c,a", [(10, 8.0), (200, 190.0), (3000, 2950.0)])
def test_erlang_b_matches_poisson_ratio_for_large_c(c, a):
    # B(c, a) = pmf(c; a) / cdf(c; a) of a Poisson(a): independent of the recursion.
    expected = stats.poisson.pmf(c, a) / stats.poisson.cdf(c, a)
    assert q.erlang_b(c, a) == pytest.approx(expected, rel=1e-9)
    assert 0 < q.erlang_c(c, a) < 1


def test_mm1_special_cases():
    lam, mu = 0.8, 1.0
    assert q.mmc_wq(lam, mu, 1) == pytest.approx(4.0)  # rho / (mu - lam)
    assert q.mmc_response_mean(lam, mu, 1) == pytest.approx(5.0)  # 1 / (mu - lam)
    assert q.utilization(lam, mu, 1) == pytest.approx(0.8)
    # M/M/1 response time is exponential with rate mu - lam.
    for t in (0.5, 3.0, 10.0):
        assert q.mmc_response_tail(lam, mu, 1, t) == pytest.approx(math.exp(-0.2 * t))
        assert q.mmc_wait_tail(lam, mu, 1, t) == pytest.approx(0.8 * math.exp(-0.2 * t))
    assert q.mmc_response_quantile(lam, mu, 1, 0.99) == pytest.approx(math.log(100) / 0.2, rel=1e-9)


def test_mm2_hand_values():
    # lam = mu = 1, c = 2: C = 1/3, Wq = C / (2 - 1) = 1/3.
    assert q.mmc_wq(1.0, 1.0, 2) == pytest.approx(1 / 3)
    assert q.mmc_p_wait(1.0, 1.0, 2) == pytest.approx(1 / 3)
    assert q.mmc_wq(2.0, 1.0, 2) == math.inf


def test_response_tail_matches_numeric_convolution():
    lam, mu, c = 6.0, 1.0, 8
    pc, theta = q.erlang_c(c, lam / mu), c * mu - lam
    t = 2.5
    # P(W + S > t) = P(S > t) + int_0^t P(W > t - s) f_S(s) ds, integrated numerically.
    from scipy.integrate import quad

    integral, _ = quad(lambda s: pc * math.exp(-theta * (t - s)) * mu * math.exp(-mu * s), 0, t)
    assert q.mmc_response_tail(lam, mu, c, t) == pytest.approx(math.exp(-mu * t) + integral, rel=1e-8)
    # theta == mu branch (c mu - lam = mu).
    assert q.mmc_response_tail(7.0, 1.0, 8, t) == pytest.approx(
        math.exp(-t) + q.erlang_c(8, 7.0) * (t * math.exp(-t)), rel=1e-8
    )


def test_pollaczek_khinchine():
    # M/D/1, lam = 0.5, S = 1: Wq = 0.5 / (2 * 0.5) = 0.5.
    assert q.md1_wq(0.5, 1.0) == pytest.approx(0.5)
    # M/M/1 through P-K equals the Erlang C form.
    assert q.mg1_wq(0.8, 1.0, 1.0) == pytest.approx(q.mmc_wq(0.8, 1.0, 1))
    assert q.mg1_wq(1.0, 1.0, 1.0) == math.inf


def test_allen_cunneen_reduces_to_known_cases():
    assert q.allen_cunneen_wq(6.0, 1.0, 8) == pytest.approx(q.mmc_wq(6.0, 1.0, 8))
    # c = 1 with Poisson arrivals: Allen-Cunneen is P-K.
    assert q.allen_cunneen_wq(0.5, 1.0, 1, 1.0, 0.0) == pytest.approx(q.md1_wq(0.5, 1.0))
    assert q.gg_c_p_wait_gt(6.0, 1.0, 8, 1.3) == pytest.approx(q.mmc_wait_tail(6.0, 1.0, 8, 1.3))


@pytest.mark.parametrize("lam,mu", [(5.0, 1.0), (95.0, 2.0), (900.0, 1.0)])
def test_min_servers_matches_brute_force(lam, mu):
    def brute(ok):
        c = 1
        while not ok(c):
            c += 1
        return c

    assert q.min_servers(lam, mu, target="mean_wait", value=0.05) == brute(
        lambda c: q.mmc_wq(lam, mu, c) <= 0.05
    )
    assert q.min_servers(lam, mu, target="p_wait_gt", value=0.01, t=0.1) == brute(
        lambda c: q.mmc_wait_tail(lam, mu, c, 0.1) <= 0.01
    )
    # p99 of the service time alone is ln(100)/mu = 4.6/mu: 6/mu is reachable, 4/mu is not.
    assert q.min_servers(lam, mu, target="p99_response", value=6.0 / mu) == brute(
        lambda c: q.mmc_response_tail(lam, mu, c, 6.0 / mu) <= 0.01
    )
    with pytest.raises(ValueError):
        q.min_servers(lam, mu, target="p99_response", value=4.0 / mu)


def test_min_servers_general_is_monotone_in_variability():
    base = q.min_servers(50.0, 1.0, target="mean_wait", value=0.02)
    bursty = q.min_servers(50.0, 1.0, target="mean_wait", value=0.02, ca2=4.0, cs2=2.0)
    smooth = q.min_servers(50.0, 1.0, target="mean_wait", value=0.02, ca2=1.0, cs2=0.0)
    assert smooth <= base <= bursty
    assert q.min_servers(50.0, 1.0, target="p99_response", value=5.0, cs2=0.5) > 50
    with pytest.raises(ValueError):
        q.min_servers(1.0, 1.0, target="p99_response", value=0.5, cs2=0.5)
