"""Cache hit rates of a multi-model fleet under its cache-aware routing, for the fluid form.

Each instance keeps an LRU cache; a request goes to an instance caching its model that has a
free worker, else to the least loaded instance, which loads it (evicting models with nothing in
flight; when every cached model is in use the request is dropped for memory). That routing has
two steady regimes, and which one a fleet is in is decided by load, not by cache size alone:

* **Partitioned**: instances caching a model usually have a free worker, so its requests stay
  there and the fleet's caches act as one cache of ``instances x cache`` (hit rates by Che's
  approximation over the whole fleet; every model hits when the catalogue fits the fleet).
* **Thrashing**: loads keep workers busy, so requests overflow to the least loaded instance,
  which is unrelated to the model: each instance's LRU then sees an even share of every
  model's traffic (Che's approximation per instance). The fleet then runs at
  :data:`RHO_THRASH` of its workers and the misses it cannot load are dropped for memory.

Which regime a fleet is in: it starts thrashing (empty caches, every request a load) and stays
there only if thrashing sustains itself at the busy share it runs at. Even while thrashing the
routing sends a request to an instance caching its model that has a free worker; a request
overflows, and loads, only when none has one and the least loaded instance does not cache it.
With each instance caching model ``m`` with probability ``h_m`` (Che per instance, even share)
and its ``c`` workers all busy with probability ``rho^c`` (workers busy independently at share
``rho``), a request for ``m`` loads with probability ``(1 - h_m (1 - rho^c))^n (1 - h_m)``. The
work per worker that makes, ``F(rho) = sum_m lambda_m (s_m + miss_m(rho) L_m) / (n c)``, grows
with ``rho``; thrashing sustains itself when ``F(RHO_THRASH) >= RHO_THRASH`` (the loads it makes
at its own busy share keep the workers that busy). Otherwise the fleet drains into the
partitioned regime. At ``rho = 1`` the routing term vanishes and ``F(1) >= 1`` is the test
without routing (requests plus even-share loads fill the workers), which calls fleets thrashing
whose copies of each model on several instances let the routing find a free worker.

Che's approximation (H. Che, Y. Tung, Z. Wang, "Hierarchical Web caching systems: modeling,
design and experimental results", IEEE JSAC 20(7), 2002; with sizes as in C. Fricker,
P. Robert, J. Roberts, "A versatile and accurate approximation for LRU cache performance",
ITC 24, 2012): under independent requests at rates ``lambda_m`` an item is in the cache when it
was asked for within the characteristic time ``T`` solving ``sum_m s_m (1 - exp(-lambda_m T))
= cache``, so its hit probability is ``1 - exp(-lambda_m T)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Busy share of the workers of a thrashing fleet: measured on the request tier's data plane
#: (fixed fleets of 2-6 instances, 2 workers, 12 Zipf-popular models, 3-12 requests/s, loads of
#: 8 s: 0.83-0.88; loads of 20 s: 0.78). Time between a load's end and the next request it
#: serves, and workers idle while requests queue at other instances, keep it below 1.
RHO_THRASH = 0.85


def che_hits(rates: np.ndarray, sizes: np.ndarray, cache: float) -> np.ndarray:
    """Hit probability of each item in an LRU cache of ``cache`` (size units) under independent
    requests at ``rates`` (per s): Che's approximation with sizes."""
    live = rates > 0
    if sizes[live].sum() <= cache:
        return np.where(live, 1.0, 0.0)
    lo, hi = 0.0, 1.0
    while (sizes * (1 - np.exp(-rates * hi))).sum() < cache:
        hi *= 2.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if (sizes * (1 - np.exp(-rates * mid))).sum() < cache:
            lo = mid
        else:
            hi = mid
    return 1 - np.exp(-rates * (lo + hi) / 2)


def thrash_work(rates: np.ndarray, even: np.ndarray, load_s: np.ndarray, service_s: np.ndarray, instances: float,
                concurrency: int, busy: float) -> float:
    """Work (worker-seconds per second) a thrashing fleet of ``instances`` makes when its
    workers are busy at share ``busy``: each request's service plus, when no instance caching
    its model (each with probability ``even``) has a free worker and the least loaded one does
    not cache it, its load."""
    all_busy = busy ** concurrency
    miss = (1.0 - even * (1.0 - all_busy)) ** instances * (1.0 - even)
    return float((rates * (service_s + miss * load_s)).sum())


@dataclass(frozen=True)
class FleetCache:
    """Per model, shares of its requests that hit, load and are dropped for memory (they sum
    to 1), and whether the fleet thrashes."""

    hits: np.ndarray
    loads: np.ndarray
    drops: np.ndarray
    thrashing: bool


def fleet_cache(rates: np.ndarray, sizes: np.ndarray, load_s: np.ndarray, service_s: np.ndarray, cache: float,
                instances: float, concurrency: int) -> FleetCache:
    """The regime and per-model hit, load and drop shares of a fleet of ``instances`` (time
    average) with ``concurrency`` workers each, caches of ``cache``, models of ``sizes``,
    ``load_s`` and mean service ``service_s`` asked for at ``rates`` (per s, the whole fleet)."""
    n = max(float(instances), 1.0)
    workers = n * concurrency
    even = che_hits(rates / n, sizes, cache)
    if thrash_work(rates, even, load_s, service_s, n, concurrency, RHO_THRASH) < RHO_THRASH * workers:
        hits = che_hits(rates, sizes, cache * n)
        return FleetCache(hits, 1.0 - hits, np.zeros_like(hits), False)
    # thrashing: hits as under an even share; loads fill the workers up to RHO_THRASH
    hit_work = float((rates * even * service_s).sum())
    miss_work = float((rates * (1.0 - even) * (load_s + service_s)).sum())
    kappa = min(max((RHO_THRASH * workers - hit_work) / miss_work, 0.0), 1.0) if miss_work > 0 else 1.0
    return FleetCache(even, (1.0 - even) * kappa, (1.0 - even) * (1.0 - kappa), True)


__all__ = ["RHO_THRASH", "FleetCache", "che_hits", "fleet_cache", "thrash_work"]
