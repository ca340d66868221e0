"""Queue waits of a thrashing multi-model fleet, for the fluid form.

When a fleet thrashes (:mod:`smsim.resources.multimodel.cache`) its workers stay busy and what
keeps the queues finite is not spare capacity but memory drops: a request for a model an
instance does not cache is dropped when every model that instance caches has a request in
flight or is loading. The more requests an instance holds, the likelier that is, so the queue
settles where the misses it admits fill the workers. The wait is therefore bounded and mostly
made of other requests' loads, not the exponential tail of a queue with spare capacity.

The model, with every parameter taken from the endpoint:

* **admission**: an instance holding ``N`` requests caches ``slots`` models (cache over mean
  model size). Each of its outstanding misses holds a slot of its own; each outstanding hit is
  on one of the cached models, uniformly. A miss is admitted unless the two together cover
  every slot: ``a(N) = sum_j Binom(j; N, h) (1 - P(N - j hits over the slots cover the
  slots - j the loads leave))``, with ``h`` the share of held requests that load: the share
  ``f`` of admitted requests that load, weighted by time in system (Little's law), which
  needs the waits, so it is iterated with them.
* **queue**: the least-loaded routing keeps the instances level, so the fleet's outstanding
  requests ``T`` form one birth-death chain: arrivals at the hit rate plus the miss rate times
  ``a(T / instances)``, completions at ``min(T, workers) / mean work``. ``f`` and the mean
  work follow from the admitted share of misses, solved as a fixed point (bisection).
* **wait**: an admitted request finding ``N`` at its instance waits for ``N - c + 1`` requests
  ahead on ``c`` workers; ``j`` of them load (binomial in ``f``): ``(j load + (N - c + 1)
  service) / c``, capped at the invocation timeout. A hit then takes its service, a miss its
  load and service; a miss finding ``N`` is let in with probability ``a(N)``, so misses see
  shorter queues than hits.

What it ignores: hits waiting for a model still loading on their instance (a few percent of
hits; they wait the residual of a load and hold a worker meanwhile, so fewer misses get in than
here), that the request tier's wait stops growing with ``N`` once an instance holds a few
times its workers (few loads are held however many short hits pile up; here the wait grows
with ``N``), the spread of the service times of the requests ahead, and transients: the
chain is the steady state of one fleet size (the fluid form runs one per fleet size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import comb, gammaln
from scipy.stats import binom

#: Passes of the fixed point between the loading share of held requests and the waits.
HELD_PASSES = 4


def cover_probability(slots: int, specific: int, balls: np.ndarray) -> np.ndarray:
    """Probability that ``balls`` placed uniformly over ``slots`` bins leave none of
    ``specific`` given bins empty (inclusion-exclusion)."""
    balls = np.asarray(balls, dtype=float)
    out = np.zeros_like(balls)
    for i in range(specific + 1):
        out += (-1.0) ** i * comb(specific, i) * (1.0 - i / slots) ** balls
    return np.clip(out, 0.0, 1.0)


class Admission:
    """``a(N)`` for ``N = 0 .. n_max - 1``: the probability that a miss finds a cached model with
    nothing in flight on an instance holding ``N`` requests of which a share ``f`` load,
    ``sum_{j <= slots} Binom(j; N, f) (1 - P(N - j hits cover the slots - j left))``. The
    coverage terms do not depend on ``f`` and are computed once."""

    def __init__(self, n_max: int, slots: int) -> None:
        n = np.arange(n_max, dtype=float)
        j = np.arange(slots + 1, dtype=float)[:, None]
        self.n, self.j = n, j
        self.log_comb = np.where(n >= j, gammaln(n + 1) - gammaln(j + 1) - gammaln(np.maximum(n - j, 0) + 1), -np.inf)
        self.open = np.zeros((slots + 1, n_max))  # P(some slot left idle | j loading)
        for jj in range(slots):
            self.open[jj] = 1.0 - cover_probability(slots, slots - jj, np.maximum(n - jj, 0.0))
        self.open[:, n < slots] = 1.0

    def __call__(self, load_share: float) -> np.ndarray:
        f = min(max(load_share, 1e-300), 1.0 - 1e-16)
        pmf = np.exp(self.log_comb + self.j * np.log(f) + (self.n - self.j) * np.log1p(-f))
        return np.where(self.n < self.j.size - 1, 1.0, np.clip((pmf * self.open).sum(axis=0), 0.0, 1.0))


def admit_probability(n_max: int, slots: int, load_share: float) -> np.ndarray:
    """``a(N)`` of :class:`Admission` for one loading share."""
    return Admission(n_max, slots)(load_share)


@dataclass(frozen=True)
class ThrashQueue:
    """The solved queue: per-instance occupancy seen by admitted requests, admitted share of
    misses, the share of admitted requests that load, and the waits of hits and of misses (a
    miss is less likely let in when its instance holds more, so misses see shorter queues)."""

    occupancy: np.ndarray  # P(N) seen by an admitted request, N = 0 ..
    admitted_misses: float
    load_share: float  # of admitted requests
    held_load_share: float  # of held requests (by time in system), the one a(N) is taken at
    wait_s: np.ndarray
    hit_weight: np.ndarray  # probability of each wait and a hit; with miss_weight, sums to 1
    miss_weight: np.ndarray


def _chain(admit: float, hit_rate: float, miss_rate: float, hit_work: float, miss_work: float,
           admission: Admission, instances: float, workers: int, n_max: int):
    f = miss_rate * admit / max(hit_rate + miss_rate * admit, 1e-300)
    work = (hit_rate * hit_work + miss_rate * admit * miss_work) / max(hit_rate + miss_rate * admit, 1e-300)
    t_max = int(np.ceil(n_max * instances))
    per = np.arange(t_max) / instances
    held = f
    for _ in range(HELD_PASSES):  # held requests are weighted by their time in system (Little's law)
        held_used = held
        a = admission(held)
        a_t = np.interp(per, np.arange(n_max), a)
        up = instances * (hit_rate + miss_rate * a_t[:-1])
        down = np.minimum(np.arange(1, t_max), workers * instances) / work
        logp = np.concatenate([[0.0], np.cumsum(np.log(np.maximum(up, 1e-300)) - np.log(down))])
        p = np.exp(logp - logp.max())
        p /= p.sum()
        wait = float((p * np.maximum(per - workers + 1, 0.0)).sum()) * work / workers
        t_miss, t_hit = wait + miss_work, wait + hit_work
        held = f * t_miss / (f * t_miss + (1 - f) * t_hit)
    return p, per, a_t, f, work, held_used


def solve(hit_rate: float, miss_rate: float, hit_work_s: float, load_s: float, service_s: float, slots: int,
          instances: float, workers: int, timeout_s: float) -> ThrashQueue:
    """The queue of a thrashing fleet of ``instances`` (mean) with ``workers`` each, ``slots``
    cached models per instance; ``hit_rate`` and ``miss_rate`` per instance (per s, misses
    before drops), mean work ``hit_work_s`` of a hit, ``load_s + service_s`` of a miss."""
    slots = max(int(slots), 1)
    miss_work = load_s + service_s
    n_max = int(np.ceil(workers * timeout_s / max(min(hit_work_s, miss_work), 1e-3))) + workers + 1
    n_max = min(max(n_max, slots + 2), 4000)
    admission = Admission(n_max, slots)
    lo, hi = 0.0, 1.0
    for _ in range(25):  # admitted share: a(N) averaged over the chain it drives
        mid = (lo + hi) / 2
        p, per, a_t, f, work, _ = _chain(mid, hit_rate, miss_rate, hit_work_s, miss_work, admission, instances, workers,
                                      n_max)
        if float((p * a_t).sum()) > mid:
            lo = mid
        else:
            hi = mid
    admit = (lo + hi) / 2
    p, per, a_t, f, work, held = _chain(admit, hit_rate, miss_rate, hit_work_s, miss_work, admission, instances, workers,
                                  n_max)
    # an arriving request sees T: admitted if a hit, or a miss let in
    hits_seen, misses_seen = p * hit_rate, p * miss_rate * a_t
    norm = hits_seen.sum() + misses_seen.sum()
    low = np.floor(per).astype(np.int64)
    frac = per - low

    def per_instance(x):
        y = np.bincount(low, weights=x * (1 - frac), minlength=n_max + 2)
        y += np.bincount(low + 1, weights=x * frac, minlength=n_max + 2)
        return y / norm

    hit_occ, miss_occ = per_instance(hits_seen), per_instance(misses_seen)
    waits, hit_w, miss_w = [np.zeros(1)], [hit_occ[:workers].sum()], [miss_occ[:workers].sum()]
    for n in range(workers, hit_occ.size):
        if hit_occ[n] + miss_occ[n] < 1e-12:
            continue
        k = n - workers + 1
        j = np.arange(k + 1)
        pj = binom.pmf(j, k, f)
        waits.append(np.minimum((j * load_s + k * service_s) / workers, timeout_s))
        hit_w.append(hit_occ[n] * pj)
        miss_w.append(miss_occ[n] * pj)
    w = np.concatenate(waits)
    hw, mw = np.hstack(hit_w), np.hstack(miss_w)
    keep = hw + mw > 1e-14
    total = hw[keep].sum() + mw[keep].sum()
    return ThrashQueue(hit_occ + miss_occ, admit, f, held, w[keep], hw[keep] / total, mw[keep] / total)


def latency_mixture(wait_s: np.ndarray, weights: list[np.ndarray], own_s: list[np.ndarray],
                    grid_s: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Latency points and weights: for each kind of request (hits, misses), each of its waits
    (binned to ``grid_s``; probabilities ``weights[i]``) plus each of its equally likely
    ``own_s[i]`` points (its own load and service)."""
    bins = np.round(np.asarray(wait_s) / grid_s).astype(np.int64)
    lats, ws = [], []
    for weight, own in zip(weights, own_s, strict=True):
        wb = np.bincount(bins, weights=weight)
        nz = np.flatnonzero(wb > 0)
        if nz.size == 0 or len(own) == 0:
            continue
        lats.append((nz[:, None] * grid_s + np.asarray(own)[None, :]).ravel())
        ws.append(np.repeat(wb[nz], len(own)) / len(own))
    lat, weight = np.concatenate(lats), np.concatenate(ws)
    order = np.argsort(lat, kind="stable")
    return lat[order], weight[order]


__all__ = ["Admission", "ThrashQueue", "admit_probability", "cover_probability", "latency_mixture", "solve"]
