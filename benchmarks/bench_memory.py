"""Peak memory and wall time of streaming many requests through the kernel in chunks.

Arrivals (Poisson) and service times (exponential) are generated chunk by chunk, so nothing
grows with the number of requests except the per-window metric rows. Prints tracemalloc's
peak of Python/numpy allocations, the process's max RSS, and wall time.

    python benchmarks/bench_memory.py                 # 1e8 requests, c=64, rho=0.8
    python benchmarks/bench_memory.py --n 10000000     # a quicker run
"""

from __future__ import annotations

import argparse
import math
import resource
import time
import tracemalloc

import numpy as np

from smsim import rng as streams
from smsim.core.kernel import Kernel, KernelConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000_000)
    ap.add_argument("--c", type=int, default=64, help="servers (8 instances x c/8 slots)")
    ap.add_argument("--rho", type=float, default=0.8)
    ap.add_argument("--mean-s", type=float, default=0.05, help="mean service time, seconds")
    ap.add_argument("--chunk-s", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    lam = a.rho * a.c / a.mean_s
    horizon = a.n / lam * 1.01 + 10 * a.chunk_s
    # Warm the compiled code outside the measurement.
    w = Kernel(KernelConfig(horizon_s=60.0, concurrency=1))
    w.add_instances(1, 0.0)
    w.advance(np.array([1.0]), np.array([1.0]), 60.0)

    tracemalloc.start()
    t0 = time.perf_counter()
    k = Kernel(KernelConfig(horizon_s=horizon, concurrency=a.c // 8, timeout_s=60.0,
                            window_s=60.0))
    k.add_instances(8, 0.0)
    g_arr = streams.stream(a.seed, "bench", "arrivals")
    g_svc = streams.stream(a.seed, "bench", "service")
    done, t = 0, 0.0
    carry = np.zeros(0)
    while done < a.n:
        until = t + a.chunk_s
        # Poisson arrivals of this chunk: the count, then sorted uniform times.
        m = min(int(g_arr.poisson(lam * a.chunk_s)), a.n - done)
        arr = np.sort(g_arr.uniform(t, until, m))
        del carry
        carry = arr
        k.advance(arr, g_svc.exponential(a.mean_s, m), until)
        done += m
        t = until
    k.advance(np.zeros(0), np.zeros(0), t + 120.0)
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    c = k.counts()
    print(f"requests {done:,} through {a.c} servers, rho={a.rho}, chunks of {a.chunk_s:g} s "
          f"({math.ceil(t / a.chunk_s):,} advance calls)")
    print(f"wall time            {wall:10.1f} s   ({done / wall:,.0f} requests/s incl. generation)")
    print(f"tracemalloc peak     {peak / 2**20:10.1f} MiB")
    print(f"max RSS (process)    {rss:10.1f} MiB")
    print(f"served {c['served']:,}, timed out {c['timed_out']:,}, dropped {c['dropped']:,}; "
          f"p50/p99 response {k.hist.quantile(0.5):.4f}/{k.hist.quantile(0.99):.4f} s")


if __name__ == "__main__":
    main()
