"""Queueing closed forms: Erlang B/C, M/M/c, M/G/1 (Pollaczek-Khinchine), Allen-Cunneen G/G/c.

A leaf module (imports nothing of smsim). Conventions: ``lam`` is the arrival rate and ``mu``
the service rate of one server, both per second; ``c`` is the number of servers; offered load
``a = lam / mu`` (Erlangs); utilization ``rho = a / c``. Times are seconds. Formulas assume a
stable queue (``rho < 1``); waiting-time functions return ``inf`` when it is not.

Erlang B is computed by the recursion ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))``, which
stays in ``[0, 1]`` and is accurate for ``c`` in the thousands (no factorials). Erlang C follows
from it: ``C = B / (1 - rho (1 - B))``.

The smallest-``c`` helpers serve analytic pruning in the optimizer: they are exact for M/M/c
and an approximation (Allen-Cunneen) for general arrivals and service times.
"""

from __future__ import annotations

import math
from typing import Literal

__all__ = [
    "allen_cunneen_wq",
    "erlang_b",
    "erlang_c",
    "gg_c_p_wait_gt",
    "md1_wq",
    "mg1_wq",
    "min_servers",
    "mmc_p_wait",
    "mmc_response_mean",
    "mmc_response_quantile",
    "mmc_response_tail",
    "mmc_wait_tail",
    "mmc_wq",
    "utilization",
]


def _check(lam: float, mu: float, c: int | None = None) -> None:
    if not (lam >= 0 and math.isfinite(lam)):
        raise ValueError(f"arrival rate must be finite and >= 0, found {lam}")
    if not (mu > 0 and math.isfinite(mu)):
        raise ValueError(f"service rate must be finite and > 0, found {mu}")
    if c is not None and (int(c) != c or c < 1):
        raise ValueError(f"number of servers must be an integer >= 1, found {c}")


def utilization(lam: float, mu: float, c: int) -> float:
    """Server utilization ``rho = lam / (c mu)`` (may exceed 1 for an unstable queue)."""
    _check(lam, mu, c)
    return lam / (c * mu)


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``a`` Erlangs (stable recursion)."""
    if int(c) != c or c < 0:
        raise ValueError(f"number of servers must be an integer >= 0, found {c}")
    if a < 0:
        raise ValueError(f"offered load must be >= 0, found {a}")
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def _erlang_c_from_b(c: int, a: float, b: float) -> float:
    if a >= c:
        return 1.0
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def erlang_c(c: int, a: float) -> float:
    """Probability an arrival waits in M/M/c with offered load ``a``; 1 when ``a >= c``."""
    return _erlang_c_from_b(c, a, erlang_b(c, a))


def mmc_p_wait(lam: float, mu: float, c: int) -> float:
    """P(W > 0) for M/M/c: Erlang C."""
    _check(lam, mu, c)
    return erlang_c(c, lam / mu)


def mmc_wq(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c, seconds: ``C / (c mu - lam)``."""
    _check(lam, mu, c)
    if lam >= c * mu:
        return math.inf
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_response_mean(lam: float, mu: float, c: int) -> float:
    """Mean response time (wait + service) of M/M/c, seconds."""
    return mmc_wq(lam, mu, c) + 1.0 / mu


def mmc_wait_tail(lam: float, mu: float, c: int, t: float) -> float:
    """P(W > t) for M/M/c FCFS: ``C exp(-(c mu - lam) t)`` for ``t >= 0``."""
    _check(lam, mu, c)
    if lam >= c * mu:
        return 1.0
    if t < 0:
        return 1.0
    return erlang_c(c, lam / mu) * math.exp(-(c * mu - lam) * t)


def mmc_response_tail(lam: float, mu: float, c: int, t: float) -> float:
    """P(T > t) for the response time ``T = W + S`` of M/M/c FCFS (exact).

    ``W`` is 0 with probability ``1 - C`` and otherwise exponential with rate ``theta = c mu -
    lam``; ``S`` is exponential with rate ``mu`` and independent of ``W``.
    """
    _check(lam, mu, c)
    if lam >= c * mu:
        return 1.0
    if t <= 0:
        return 1.0
    return _mmc_response_tail_pc(erlang_c(c, lam / mu), mu, c * mu - lam, t)


def _mmc_response_tail_pc(pc: float, mu: float, theta: float, t: float) -> float:
    if abs(theta - mu) < 1e-12 * mu:
        conv = (1.0 + mu * t) * math.exp(-mu * t)
    else:
        conv = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return (1.0 - pc) * math.exp(-mu * t) + pc * conv


def mmc_response_quantile(lam: float, mu: float, c: int, q: float) -> float:
    """The ``q`` quantile of M/M/c response time, seconds (bisection on the exact tail)."""
    if not 0 < q < 1:
        raise ValueError(f"quantile must be in (0, 1), found {q}")
    if lam >= c * mu:
        return math.inf
    lo, hi = 0.0, 1.0 / mu
    while mmc_response_tail(lam, mu, c, hi) > 1 - q:
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mmc_response_tail(lam, mu, c, mid) > 1 - q:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


def mg1_wq(lam: float, mean_s: float, scv: float) -> float:
    """Mean wait of M/G/1 (Pollaczek-Khinchine): ``rho/(1-rho) * (1 + cs^2)/2 * E[S]``.

    ``scv`` is the squared coefficient of variation of service time (0 deterministic, 1
    exponential).
    """
    _check(lam, 1.0 / mean_s if mean_s > 0 else 0.0)
    rho = lam * mean_s
    if rho >= 1:
        return math.inf
    return rho / (1.0 - rho) * (1.0 + scv) / 2.0 * mean_s


def md1_wq(lam: float, service_s: float) -> float:
    """Mean wait of M/D/1: ``rho E[S] / (2 (1 - rho))``."""
    return mg1_wq(lam, service_s, 0.0)


def allen_cunneen_wq(lam: float, mu: float, c: int, ca2: float = 1.0, cs2: float = 1.0) -> float:
    """Allen-Cunneen approximation of the G/G/c mean wait: ``Wq(M/M/c) (ca^2 + cs^2) / 2``.

    ``ca2``/``cs2`` are the squared coefficients of variation of inter-arrival and service
    times. Exact for M/M/c and M/G/1; typically within ~10% for moderate variability.
    """
    return mmc_wq(lam, mu, c) * (ca2 + cs2) / 2.0


def gg_c_p_wait_gt(
    lam: float, mu: float, c: int, t: float, ca2: float = 1.0, cs2: float = 1.0
) -> float:
    """Approximate P(W > t) for G/G/c.

    Keeps the Erlang C probability of waiting and treats the conditional wait as exponential
    with the Allen-Cunneen mean ``Wq / C``. Exact for M/M/c.
    """
    _check(lam, mu, c)
    if lam >= c * mu:
        return 1.0
    if t < 0:
        return 1.0
    pc = erlang_c(c, lam / mu)
    wq = allen_cunneen_wq(lam, mu, c, ca2, cs2)
    if pc <= 0 or wq <= 0:
        return 0.0
    return pc * math.exp(-t * pc / wq)


Target = Literal["mean_wait", "p_wait_gt", "p99_response"]


def min_servers(
    lam: float,
    mu: float,
    *,
    target: Target,
    value: float,
    t: float | None = None,
    ca2: float = 1.0,
    cs2: float = 1.0,
    max_c: int = 1_000_000,
) -> int:
    """Smallest ``c`` with a stable queue meeting ``target`` (Allen-Cunneen for G/G/c).

    ``target``:
      * ``"mean_wait"``: mean wait ``<= value`` seconds;
      * ``"p_wait_gt"``: ``P(W > t) <= value`` (a probability), ``t`` seconds required;
      * ``"p99_response"``: approximate p99 response time ``<= value`` seconds. For M/M/c
        (``ca2 == cs2 == 1``) the exact response quantile is used; otherwise the p99 of the
        approximate wait distribution plus the p99 of a gamma service time of the same mean and
        ``cs2`` (a sum of quantiles, pessimistic for independent parts).

    Scans ``c`` upward from the stability bound with the Erlang B recursion carried along, so
    the cost is O(answer). Raises ValueError if no ``c <= max_c`` qualifies.
    """
    _check(lam, mu)
    if target == "p_wait_gt" and t is None:
        raise ValueError("target 'p_wait_gt' needs t (seconds)")
    if target not in ("mean_wait", "p_wait_gt", "p99_response"):
        raise ValueError(f"unknown target {target!r}")
    if lam == 0:
        return 1
    a = lam / mu
    s_p99 = 0.0
    if target == "p99_response":
        s_p99 = _gamma_quantile(1.0 / mu, cs2, 0.99)  # exponential when cs2 == 1
        if s_p99 >= value:
            raise ValueError(f"p99 service time {s_p99:.4g}s alone exceeds the target {value}s")
    b = 1.0
    for c in range(1, max_c + 1):
        b = a * b / (c + a * b)
        if a >= c:
            continue
        pc = _erlang_c_from_b(c, a, b)
        wq_mm = pc / (c * mu - lam)
        wq = wq_mm * (ca2 + cs2) / 2.0
        if target == "mean_wait":
            ok = wq <= value
        elif target == "p_wait_gt":
            ok = (pc * math.exp(-t * pc / wq) if wq > 0 else 0.0) <= value
        elif ca2 == 1.0 and cs2 == 1.0:
            ok = _mmc_response_tail_pc(pc, mu, c * mu - lam, value) <= 0.01
        else:
            # p99 of wait: atom at 0 with mass 1 - pc, exponential tail of mean wq / pc.
            w_p99 = 0.0 if pc <= 0.01 else (wq / pc) * math.log(pc / 0.01)
            ok = w_p99 + s_p99 <= value
        if ok:
            return c
    raise ValueError(f"no c <= {max_c} meets {target} <= {value}")


def _gamma_quantile(mean: float, scv: float, q: float) -> float:
    if scv <= 0:
        return mean
    from scipy.stats import gamma

    shape = 1.0 / scv
    return float(gamma.ppf(q, shape, scale=mean / shape))
