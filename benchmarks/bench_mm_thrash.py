"""Where the latency of a thrashing multi-model fleet comes from, in both tiers.

Runs the thrashing case of ``bench_kinds_fluid.py`` (``--models``, default 12 Zipf-popular
models of 4 GB and 8 s loads; ``--cache-gb``, default 24; ``--rate``, default 2 requests/s for
the most popular) for one day at ``fidelity: request`` with per-request records, and splits
each served request's latency into its queue wait (until a worker takes it), its wait for a
load in progress (a hit on a model still loading on that instance), its own load (a miss) and
its service. It prints the distribution of each part for hits and misses, how often a miss is
let in (not dropped for memory) against the requests its instance holds, and the same parts as
the fluid form models them (:mod:`smsim.resources.multimodel.thrash`, the chain of the fleet
size nearest the mean fleet), then both tiers' p50,
p90, p99 and SLA attainment.

Run: ``python benchmarks/bench_mm_thrash.py`` (``--models N``, ``--cache-gb G``, ``--rate R``,
``--seed S``)
"""

from __future__ import annotations

import argparse
import heapq
import os

import bench_kinds_fluid as kinds
import numpy as np

import smsim.resources.multimodel.fluid as mm_fluid
import smsim.resources.multimodel.model as mm_model
from smsim import api
from smsim.resources.multimodel.kernel import CompiledPlane
from smsim.resources.multimodel.thrash import admit_probability


def request_parts(plane) -> dict[str, np.ndarray]:
    """Per request: queue wait, wait for a load in progress, own load, service, whether it hit,
    its outcome and the requests its instance held when it arrived, from the plane's records
    (each instance's workers replayed in arrival order)."""
    rec, t, m = plane.records, plane.arrival_s, plane.model_index
    inst, out, hit, done = rec[:, 0].astype(np.int64), rec[:, 1].astype(np.int64), rec[:, 2] > 0, rec[:, 3]
    n = t.size
    queue, loading, own = np.full(n, np.nan), np.zeros(n), np.zeros(n)
    workers: dict[int, list[float]] = {}
    ready: dict[tuple[int, int], float] = {}
    for i in range(n):
        k = int(inst[i])
        if k < 0 or out[i] in (2, 3, 4):
            continue
        h = workers.setdefault(k, [float(plane._ready[k])] * plane.concurrency)
        start = max(t[i], h[0])
        heapq.heapreplace(h, done[i])
        queue[i] = start - t[i]
        if hit[i]:
            loading[i] = max(0.0, ready.get((k, int(m[i])), -1.0) - start)
        else:
            own[i] = plane.load_time_s[m[i]]
            ready[(k, int(m[i]))] = start + own[i]
    held = np.zeros(n, np.int64)
    for k in np.unique(inst[inst >= 0]):
        sel = np.flatnonzero(inst == k)
        taken = sel[out[sel] <= 1]
        held[sel] = (np.searchsorted(np.sort(t[taken]), t[sel], side="left")
                     - np.searchsorted(np.sort(done[taken]), t[sel], side="right"))
    return {"queue": queue, "loading": loading, "own": own, "service": plane.service_s, "hit": hit, "out": out,
            "held": held, "latency": done - t}


def line(name: str, x: np.ndarray) -> str:
    if x.size == 0:
        return f"  {name:24s} (none)"
    q = np.quantile(x, [0.5, 0.9, 0.99])
    return (f"  {name:24s} mean {x.mean():6.2f}  p50 {q[0]:6.2f}  p90 {q[1]:6.2f}  p99 {q[2]:6.2f}  "
            f"share > 0: {np.mean(x > 1e-9):.3f}")


def weighted_q(x: np.ndarray, w: np.ndarray, qs=(0.5, 0.9, 0.99)) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    return x[order][np.minimum(np.searchsorted(cum, np.array(qs) * cum[-1]), x.size - 1)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=12)
    ap.add_argument("--cache-gb", type=float, default=24.0)
    ap.add_argument("--rate", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    kinds.MODELS = [{**kinds.MODELS[0], "name": f"m{k}"} for k in range(max(args.models, 12))] + kinds.MODELS[16:]
    ep = {**kinds.mme(args.models, args.rate), "cache_memory_gb": args.cache_gb}
    planes, queues = [], []

    class Recorded(CompiledPlane):
        def __init__(self, *a, **kw):
            super().__init__(*a, record=True, **kw)
            planes.append(self)

    solve = mm_fluid.solve

    def recorded_solve(*a, **kw):
        queues.append((a, solve(*a, **kw)))
        return queues[-1][1]

    mm_model.CompiledPlane, mm_fluid.solve = Recorded, recorded_solve
    req = api.run_scenario(kinds.scenario(ep, "1d", "request", args.seed)).summary["resources"][0]
    flu = api.run_scenario(kinds.scenario(ep, "1d", "fluid", args.seed)).summary["resources"][0]
    p = request_parts(planes[0])
    served = p["out"] == 0
    print(f"{args.models} models, cache {args.cache_gb:g} GB, seed {args.seed}; fluid regime: {flu['cache_regime']}")
    print(f"request tier: {p['out'].size} requests, {served.sum()} served, "
          f"{np.sum(p['out'] == 4)} dropped for memory, {np.sum(p['out'] == 2)} timed out in the queue")
    for label, sel in (("hits", served & p["hit"]), ("misses (own load)", served & ~p["hit"])):
        print(f" {label}: {sel.sum() / served.sum():.3f} of served")
        for part in ("latency", "queue", "loading", "own", "service"):
            print(line({"loading": "wait for load in progress"}.get(part, part), p[part][sel]))
    wl = p["loading"][served & p["hit"]]
    print(f" hits waiting for a load in progress: {np.mean(wl > 0):.3f} of hits, mean wait {wl[wl > 0].mean():.2f} s"
          if np.any(wl > 0) else " no hit waited for a load")
    tried = (p["out"] == 4) | ((p["out"] <= 1) & ~p["hit"])
    held = p["held"]
    if not queues:
        print("the fluid form did not thrash; nothing more to compare")
        return
    mean_fleet = flu["instance_hours"] / 24.0  # the chain of the fleet size nearest the mean one
    (hit_rate, miss_rate, hit_work, load_s, service_s, slots, n_inst, workers, timeout), q = min(
        queues, key=lambda x: abs(x[0][6] - mean_fleet))
    a_model = admit_probability(64, slots, q.held_load_share)
    print(f"\nmisses let in, by requests held at the instance (request tier / fluid model a(N), slots {slots}):")
    print("  N      " + " ".join(f"{v:>5d}" for v in range(0, 26, 2)))
    emp = [1 - np.mean(p["out"][tried & (held >= v) & (held < v + 2)] == 4) if np.any(tried & (held >= v)
                                                                                      & (held < v + 2)) else np.nan
           for v in range(0, 26, 2)]
    print("  request " + " ".join(f"{x:5.2f}" for x in emp))
    print("  fluid   " + " ".join(f"{(a_model[v] + a_model[v + 1]) / 2:5.2f}" for v in range(0, 26, 2)))
    hit_wait = [p["queue"][served & p["hit"] & (held >= v) & (held < v + 2)] for v in range(0, 26, 2)]
    print("  hits' mean queue wait s, request " + " ".join(f"{x.mean():5.1f}" if x.size else "    -" for x in hit_wait))
    k = np.maximum(np.arange(0, 26, 2) + 0.5 - workers + 1, 0.0)  # the chain's mean wait at N: k (f load + service) / c
    print("  hits' mean queue wait s, fluid   " + " ".join(
        f"{x:5.1f}" for x in k * (q.load_share * load_s + service_s) / workers))
    occ = q.occupancy / q.occupancy.sum()
    print(f"  requests held when a request is taken: mean {held[p['out'] <= 1].mean():.2f} (request) / "
          f"{(occ * np.arange(occ.size)).sum():.2f} (fluid); misses let in {np.mean(p['out'][tried] != 4):.3f} / "
          f"{q.admitted_misses:.3f}")
    print(f"\nfluid parts (mean fleet {n_inst:.2f} instances x {workers} workers, per instance {hit_rate:.3f} hits/s "
          f"and {miss_rate:.3f} misses/s, load {load_s:g} s, service {service_s:.3f} s):")
    for label, w in (("hits", q.hit_weight), ("misses (own load)", q.miss_weight)):
        wq = weighted_q(q.wait_s, w)
        mean = float((q.wait_s * w).sum() / w.sum())
        print(f" {label}: {w.sum():.3f} of taken; queue wait mean {mean:6.2f}  p50 {wq[0]:6.2f}  p90 {wq[1]:6.2f}  "
              f"p99 {wq[2]:6.2f}  share > 0: {w[q.wait_s > 0].sum() / w.sum():.3f}")
    print("\n| tier | p50 s | p90 s | p99 s | SLA attainment | hit rate | cost $ |")
    print("|---|---|---|---|---|---|---|")
    for name, r in (("request", req), ("fluid", flu)):
        print(f"| {name} | {r['latency_p50_s']:.3f} | {r['latency_p90_s']:.3f} | {r['latency_p99_s']:.3f} | "
              f"{r['sla_attainment']:.4f} | {r['cache_hit_rate']:.4f} | {r['cost_usd']:.2f} |")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
