"""The kernel (numba and plain-Python twin) against the per-request SimPy reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smsim import rng as streams
from smsim.core.kernel import Kernel, KernelConfig, Records
from smsim.core.reference import simulate_reference


def _workload(seed: int, n: int, lam: float, mean_s: float):
    arr = np.cumsum(streams.stream(seed, "test", "arrivals").exponential(1 / lam, n))
    svc = streams.stream(seed, "test", "service").exponential(mean_s, n)
    return arr, svc


def _run_kernel(arr, svc, *, backend, conc, plan, timeout_s, queue_limit, chunk_s, horizon_s):
    """``plan``: list of (time_s, action, arg) applied when the clock reaches time_s."""
    k = Kernel(KernelConfig(horizon_s=horizon_s, concurrency=conc, timeout_s=timeout_s,
                            queue_limit=queue_limit, record=True, backend=backend))
    parts = []
    t = 0.0
    steps = sorted(set(np.arange(chunk_s, horizon_s + chunk_s, chunk_s)) | {p[0] for p in plan if p[0] > 0})
    for b in steps:
        for when, action, arg in plan:
            if when == t:
                if action == "add":
                    k.add_instances(arg[0], arg[1])
                else:
                    k.remove_instances(arg, t)
        if b <= t:
            continue
        lo, hi = np.searchsorted(arr, [t, b])
        parts.append(k.advance(arr[lo:hi], svc[lo:hi], b))
        t = b
    return k, Records.concat(parts)


CASES = {
    # name: (conc, plan, reference instances, timeout, queue limit)
    "fixed": (2, [(0.0, "add", (3, 0.0))], [(0.0, math.inf)] * 3, math.inf, None),
    "timeout_and_limit": (2, [(0.0, "add", (2, 0.0))], [(0.0, math.inf)] * 2, 3.0, 6),
    "capacity_change": (
        2,
        [(0.0, "add", (2, 0.0)), (300.0, "add", (1, 345.5)), (600.0, "remove", [0, 1, 2]),
         (600.0, "add", (1, 630.0)), (900.0, "add", (2, 900.0))],
        [(0.0, 600.0), (0.0, 600.0), (345.5, 600.0), (630.0, math.inf), (900.0, math.inf),
         (900.0, math.inf)],
        3.0,
        12,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_kernel_matches_reference_per_request(case):
    conc, plan, instances, timeout_s, limit = CASES[case]
    arr, svc = _workload(7, 6000, lam=5.5, mean_s=1.0)
    horizon = float(math.ceil(arr[-1] / 60.0) * 60.0)
    ref_start, ref_end, ref_out = simulate_reference(
        arr, svc, concurrency=conc, instances=instances, timeout_s=timeout_s, queue_limit=limit
    )
    for backend in ("numba", "python"):
        k, rec = _run_kernel(arr, svc, backend=backend, conc=conc, plan=plan,
                             timeout_s=timeout_s, queue_limit=limit, chunk_s=60.0,
                             horizon_s=horizon + 3600)
        k.advance(np.zeros(0), np.zeros(0), horizon + 3600)  # let the tail finish
        assert np.array_equal(rec.index, np.arange(arr.size))
        np.testing.assert_array_equal(rec.outcome, ref_out)
        np.testing.assert_allclose(rec.start_s, ref_start, rtol=0, atol=1e-9)
        np.testing.assert_allclose(rec.end_s, ref_end, rtol=0, atol=1e-9)
    # With one deadline per request and FIFO, requests in service always end before the head's
    # deadline, so queue time-outs need capacity to vanish (capacity_change leaves a gap).
    expected = {"fixed": {0}, "timeout_and_limit": {0, 1, 3}, "capacity_change": {0, 1, 2, 3}}
    assert set(np.unique(ref_out).tolist()) == expected[case]


def test_numba_and_python_twins_agree_on_every_metric():
    arr, svc = _workload(3, 4000, lam=5.0, mean_s=1.0)
    plan = [(0.0, "add", (3, 0.0)), (120.0, "add", (2, 150.0)), (240.0, "remove", [1, 3])]
    out = {}
    for backend in ("numba", "python"):
        k, rec = _run_kernel(arr, svc, backend=backend, conc=2, plan=plan, timeout_s=5.0,
                             queue_limit=10, chunk_s=60.0, horizon_s=900.0)
        out[backend] = (k.win.copy(), k.totals.copy(), k.hist.counts.copy(), rec)
    np.testing.assert_array_equal(out["numba"][0], out["python"][0])
    np.testing.assert_array_equal(out["numba"][1], out["python"][1])
    np.testing.assert_array_equal(out["numba"][2], out["python"][2])


def test_chunking_does_not_change_results():
    arr, svc = _workload(11, 5000, lam=6.0, mean_s=1.0)
    results = []
    for chunk in (7.0, 60.0, 1200.0):
        _k, rec = _run_kernel(arr, svc, backend="numba", conc=4, plan=[(0.0, "add", (2, 0.0))],
                             timeout_s=3.0, queue_limit=4, chunk_s=chunk, horizon_s=1200.0)
        results.append(rec)
    for other in results[1:]:
        np.testing.assert_array_equal(other.outcome, results[0].outcome)
        np.testing.assert_array_equal(other.start_s, results[0].start_s)


def test_conservation_and_capacity_bound():
    arr, svc = _workload(5, 6000, lam=5.0, mean_s=1.0)
    plan = [(0.0, "add", (3, 0.0)), (300.0, "remove", [0]), (420.0, "add", (1, 480.0))]
    k, rec = _run_kernel(arr, svc, backend="numba", conc=2, plan=plan, timeout_s=8.0,
                         queue_limit=6, chunk_s=60.0, horizon_s=1320.0)
    c = k.counts()
    assert c["arrivals"] == arr.size
    assert c["served"] + c["timed_out"] + c["dropped"] + c["queued"] + c["in_service"] == arr.size
    assert rec.index.size + c["queued"] + c["in_service"] == arr.size
    w = k.windows()
    assert (w.busy_server_s <= w.capacity_server_s + 1e-9).all()
    assert w.busy_server_s.sum() == pytest.approx(c["busy_server_s"] - _busy_after(k, w))
    # Window-end occupancy never exceeds the servers provisioned.
    assert (w.in_flight_end <= 8).all() and (w.queue_end <= 6).all()
    assert int(w.arrivals.sum()) == int((arr < w.window_start_s.iloc[-1] + 60).sum())


def _busy_after(k, w):
    """Busy seconds recorded after the last final window (in-flight tails)."""
    return float(k.win[8, len(w):].sum())
