"""Fluid queueing maths over one-minute periods: the service model, Erlang C, the slack of a
saturated minute, and exponential wait tails pooled on a log grid of scales.

Domain-free: :mod:`smsim.resources.scaling.fluid_kernel` runs an autoscaled fleet minute by
minute with these, and :mod:`smsim.core.virtual_wait` turns the minutes into the distribution
of waits. All times are seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from scipy.special import ndtri

_Z99 = 2.3263478740408408


@dataclass(frozen=True)
class ServiceModel:
    """How one instance serves: concurrency, service-time moments, arrival burstiness, timeout.

    ``timeout_s`` is 60 s for real-time endpoints (SageMaker's invocation timeout); use the
    async queue's limit for asynchronous endpoints.
    """

    service_mean_s: float
    service_scv: float = 1.0
    arrival_scv: float = 1.0
    concurrency_per_instance: int = 1
    timeout_s: float = 60.0
    #: Equal-probability quantile points of the service time (s); None: lognormal(mean, scv).
    quantiles_s: tuple[float, ...] | None = None
    #: An internal queue (asynchronous endpoints): arrivals that find no server in service wait
    #: instead of failing, and the backlog metric counts the requests in processing too, read as
    #: one reading of the fluctuating count typically shows (its Poisson median).
    queue_without_capacity: bool = False

    def service_p99_s(self) -> float:
        if self.service_scv <= 0:
            return self.service_mean_s
        sigma = math.sqrt(math.log1p(self.service_scv))
        return self.service_mean_s * math.exp(-sigma * sigma / 2 + _Z99 * sigma)

    def service_points(self, n: int = 512) -> np.ndarray:
        """Sorted quantile points of the service time, rescaled so that their mean is the mean."""
        if self.quantiles_s is not None:
            q = np.sort(np.asarray(self.quantiles_s, dtype=np.float64))
        elif self.service_scv <= 0:
            q = np.full(n, self.service_mean_s)
        else:
            sigma = math.sqrt(math.log1p(self.service_scv))
            q = np.exp(sigma * ndtri((np.arange(n) + 0.5) / n))
        m = q.mean()
        return q * (self.service_mean_s / m) if m > 0 else np.full(q.size, self.service_mean_s)


@numba.njit(cache=True)
def erlang_c(c: int, a: float) -> float:
    if c <= 0 or a >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b / (1.0 - (a / c) * (1.0 - b))


@numba.njit(cache=True)
def saturated_slack(q, prefix, g):
    """``(delta, P(S <= delta))`` with ``E[min(S, delta)] = g`` for the service distribution given
    by sorted equal-probability points ``q`` (``prefix[j]`` = sum of the ``j`` smallest)."""
    n = q.shape[0]
    if g <= 0.0:
        return 0.0, 0.0
    if g >= prefix[n] / n:
        return q[n - 1], 1.0
    # smallest j with E[min(S, q[j])] = (prefix[j] + (n - j) q[j]) / n >= g
    a, b = 0, n - 1
    while a < b:
        mid = (a + b) // 2
        if (prefix[mid] + (n - mid) * q[mid]) / n >= g:
            b = mid
        else:
            a = mid + 1
    # on [q[a-1], q[a]] the points below delta complete: P(S <= delta) = a / n exactly
    return (n * g - prefix[a]) / (n - a), a / n


#: Log grid of exponential wait scales (s) on which the stochastic waits' tails are pooled:
#: steps of 0.62 %, so the pooled tail is a mixture of exponentials within 0.62 % of their scales.
N_THETA = 4096


LOG_THETA_LO = math.log(1e-7)


LOG_THETA_STEP = (math.log(1e4) - LOG_THETA_LO) / (N_THETA - 1)


THETA_GRID_S = np.exp(LOG_THETA_LO + LOG_THETA_STEP * np.arange(N_THETA))


def tail_mass(theta_weight: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mass per wait bin ``j >= 1`` of the exponential tails pooled on :data:`THETA_GRID_S`."""
    used = np.flatnonzero(theta_weight)
    if used.size == 0:
        return np.zeros(edges.size - 1)
    theta = THETA_GRID_S[used][:, None]
    with np.errstate(over="ignore"):
        surv = np.exp(-edges[None, :] / theta)
    return theta_weight[used] @ (surv[:, :-1] - surv[:, 1:])
