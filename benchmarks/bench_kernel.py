"""Kernel vs the per-request SimPy reference on one M/M/c workload, side by side.

Prints simulated requests per second of both (same arrivals and service times) and their
response-time quantiles (p50/p90/p99), plus the M/M/c theory as a third column.

    python benchmarks/bench_kernel.py                # c=8, rho=0.8, 200k requests (reference: 200k)
    python benchmarks/bench_kernel.py --n 2000000 --n-ref 100000
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from smsim import queueing as q
from smsim import rng as streams
from smsim.core.kernel import Kernel, KernelConfig
from smsim.core.reference import simulate_reference


def run_kernel(arr, svc, c, chunk_s=60.0):
    horizon = float(math.ceil(arr[-1] / chunk_s + 2) * chunk_s)
    k = Kernel(KernelConfig(horizon_s=horizon, concurrency=c, timeout_s=math.inf))
    k.add_instances(1, 0.0)
    edges = np.arange(0.0, horizon + chunk_s, chunk_s)
    cuts = np.searchsorted(arr, edges)
    t0 = time.perf_counter()
    for j in range(1, len(edges)):
        k.advance(arr[cuts[j - 1] : cuts[j]], svc[cuts[j - 1] : cuts[j]], edges[j])
    return time.perf_counter() - t0, k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200_000, help="requests through the kernel")
    ap.add_argument("--n-ref", type=int, default=200_000, help="requests through SimPy")
    ap.add_argument("--c", type=int, default=8)
    ap.add_argument("--rho", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    mu, lam = 1.0, a.rho * a.c
    arr = np.cumsum(streams.stream(a.seed, "bench", "arrivals").exponential(1 / lam, a.n))
    svc = streams.stream(a.seed, "bench", "service").exponential(1 / mu, a.n)

    run_kernel(arr[:1000], svc[:1000], a.c)  # load the compiled code (numba cache)
    t_k, k = run_kernel(arr, svc, a.c)
    m = min(a.n_ref, a.n)
    t0 = time.perf_counter()
    _s, e, _ = simulate_reference(arr[:m], svc[:m], concurrency=a.c, instances=[(0.0, math.inf)])
    t_r = time.perf_counter() - t0
    resp = e - arr[:m]
    ps = [0.5, 0.9, 0.99]
    kq = k.hist.quantile(np.array(ps))
    rq = np.quantile(resp, ps)
    print(f"M/M/{a.c}, rho={a.rho}: kernel {a.n:,} requests, SimPy reference {m:,} requests")
    print(f"{'':24}{'kernel (numba)':>16}{'SimPy reference':>18}{'M/M/c theory':>15}")
    print(f"{'requests / s':24}{a.n / t_k:>16,.0f}{m / t_r:>18,.0f}{'':>15}")
    print(f"{'wall s':24}{t_k:>16.3f}{t_r:>18.3f}{'':>15}")
    print(f"{'mean response s':24}{k.counts()['mean_response_s']:>16.4f}{resp.mean():>18.4f}"
          f"{q.mmc_response_mean(lam, mu, a.c):>15.4f}")
    for p, x, y in zip(ps, kq, rq):
        print(f"{f'p{p * 100:g} response s':24}{x:>16.4f}{y:>18.4f}"
              f"{q.mmc_response_quantile(lam, mu, a.c, p):>15.4f}")
    print(f"speed-up: {(a.n / t_k) / (m / t_r):,.0f}x")


if __name__ == "__main__":
    main()
