"""Fluid queueing maths over one-minute periods: the service model, Erlang C, the slack of a
saturated minute, and the wait distribution pooled over minutes.

Domain-free: :mod:`smsim.resources.scaling.fluid_kernel` runs an autoscaled fleet minute by
minute with these, and :mod:`smsim.resources.realtime.fluid` turns the minutes into latency
quantiles and SLA attainment. All times are seconds.
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


#: Log grid of exponential wait scales (s) on which stable minutes' tails are pooled.
N_THETA = 4096


_LOG_THETA_LO = math.log(1e-7)


_LOG_THETA_STEP = (math.log(1e4) - _LOG_THETA_LO) / (N_THETA - 1)


THETA_GRID_S = np.exp(_LOG_THETA_LO + _LOG_THETA_STEP * np.arange(N_THETA))


@numba.njit(cache=True)
def _shifted_exp(out_mass, edges, d, theta, w):
    """Add weight ``w`` of ``d + Exp(theta)`` to the wait bins (``theta = 0``: an atom at ``d``)."""
    nb = edges.shape[0]
    j = min(np.searchsorted(edges, d, side="right"), nb - 1)
    if theta <= 0.0:
        out_mass[j] += w
        return
    while j < nb:
        lo = max(edges[j - 1], d)
        if (lo - d) / theta > 40.0:
            break
        out_mass[j] += w * (math.exp(-(lo - d) / theta) - math.exp(-(edges[j] - d) / theta))
        j += 1


@numba.njit(cache=True)
def wait_mass(arrivals, in_service, backlog, served, slack, conc, mean_s, f, timeout_s, edges, out_mass, out_c, out_w,
               theta_weight, g_minute, g_pos, g_count):
    """Accumulate each minute's wait distribution into ``out_mass`` (bin 0 is the atom at 0; bin
    ``j >= 1`` covers ``[edges[j-1], edges[j])``, ``edges[0] = 0``, the last bin ``[timeout, inf)``); per minute, also the probability of
    waiting ``out_c`` and the mean wait ``out_w`` given waiting (exponential scale or uniform mid).
    Saturated minutes (``slack > 0``) are left out: their latencies are added separately.

    The exponential tails of stable minutes are not binned minute by minute: each minute's
    weight ``A x C`` is split between the two neighbouring scales of the log grid
    ``THETA_GRID_S`` (linearly in log scale) into ``theta_weight``, and :func:`tail_mass`
    bins the grid once. The grid step is 0.62 %, so the pooled tail is a mixture of exponentials
    whose scales are within 0.62 % of the minutes' own.

    ``g_minute, g_pos, g_count`` (sorted by minute) give the requests at batch position
    ``g_pos >= 1``; in stable minutes those behind the first ``c`` wait ``d + W`` (module docstring)."""
    mu = 1.0 / mean_s
    nb = edges.shape[0]
    prev = 0.0
    gi = 0
    n_groups = g_minute.shape[0]
    for k in range(arrivals.shape[0]):
        g0 = gi
        while gi < n_groups and g_minute[gi] == k:
            gi += 1
        A = arrivals[k]
        c_eff = in_service[k] * conc
        rate_min = c_eff * mu * 60.0
        if A <= 0.0 or slack[k] > 0.0:
            if slack[k] > 0.0:
                out_c[k] = 1.0
                out_w[k] = timeout_s - slack[k]
            prev = backlog[k]
            continue
        if prev <= 0.0 and A < rate_min:
            lam = A / 60.0
            c_int = int(round(c_eff))  # noqa: RUF046 (explicit int for numba)
            a = lam / mu
            pc = 0.0
            theta = 0.0
            if c_int >= 1 and a < c_int and f > 0.0:
                pc = erlang_c(c_int, a)
                theta = f / (c_int * mu - lam)
            out_c[k] = pc
            out_w[k] = theta
            if c_int >= 1:
                for g in range(g0, gi):
                    if g_pos[g] >= c_int:
                        d = (g_pos[g] - c_int + 1) * mean_s / c_int
                        n = min(g_count[g], A)
                        A -= n
                        _shifted_exp(out_mass, edges, d, 0.0, n * (1.0 - pc))
                        if pc > 0.0 and theta > 0.0:
                            _shifted_exp(out_mass, edges, d, theta, n * pc)
            out_mass[0] += A * (1.0 - pc)
            if pc > 0.0 and theta > 0.0:
                x = (math.log(theta) - _LOG_THETA_LO) / _LOG_THETA_STEP
                x = min(max(x, 0.0), N_THETA - 1.0)
                i = min(int(x), N_THETA - 2)
                w = x - i
                theta_weight[i] += A * pc * (1.0 - w)
                theta_weight[i + 1] += A * pc * w
        else:
            r = rate_min / 60.0
            w0 = min(prev / r, timeout_s) if r > 0.0 else timeout_s
            w1 = min(backlog[k] / r, timeout_s) if r > 0.0 else timeout_s
            a, b = min(w0, w1), max(w0, w1)
            out_c[k] = 1.0
            out_w[k] = (a + b) / 2.0
            s = served[k]
            if b - a < 1e-12:
                j = np.searchsorted(edges, a, side="right")
                out_mass[min(j, nb - 1)] += s
            else:
                for j in range(1, nb):
                    ov = min(edges[j], b) - max(edges[j - 1], a)
                    if ov > 0.0:
                        out_mass[j] += s * ov / (b - a)
        prev = backlog[k]



def tail_mass(theta_weight: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mass per wait bin ``j >= 1`` of the exponential tails pooled on :data:`THETA_GRID_S`."""
    used = np.flatnonzero(theta_weight)
    if used.size == 0:
        return np.zeros(edges.size - 1)
    theta = THETA_GRID_S[used][:, None]
    with np.errstate(over="ignore"):
        surv = np.exp(-edges[None, :] / theta)
    return theta_weight[used] @ (surv[:, :-1] - surv[:, 1:])
