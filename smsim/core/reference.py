"""Per-request SimPy model of a shared FIFO queue: the reference the request kernel must match.

One SimPy process per request, one token per server in a ``simpy.Store`` (FIFO: the server
free the longest is taken first, ties by server id, as in the kernel). It implements the
kernel's shared-queue semantics independently (see :mod:`smsim.core.kernel`):

* server ``(instance j, slot m)`` has id ``j * concurrency + m`` and takes work from
  ``ready_s`` of its instance until ``retire_s`` (exclusive); a busy server finishing at or after
  ``retire_s`` is not returned, an idle one is withdrawn at ``retire_s``;
* deadline ``arrival + timeout_s``: still waiting then -> ``timed_out_queue`` at the deadline;
  started but not finished by then -> cut at the deadline, ``timed_out_service``;
* an arrival finding no free server and ``queue_limit`` requests waiting is ``dropped``.

It is slow (tens of thousands of requests per second) and exists for tests and benchmarks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import simpy

__all__ = ["simulate_reference"]

SERVED, TIMED_OUT_SERVICE, TIMED_OUT_QUEUE, DROPPED = 0, 1, 2, 3


def simulate_reference(
    arrivals: np.ndarray,
    services: np.ndarray,
    *,
    concurrency: int,
    instances: Sequence[tuple[float, float]],
    timeout_s: float = math.inf,
    queue_limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate requests through a shared FIFO queue; returns ``(start_s, end_s, outcome)``.

    ``instances`` lists ``(ready_s, retire_s)`` per instance (``math.inf`` for never retired).
    ``start_s`` is NaN for requests that never started; ``end_s`` is the completion, cut,
    abandonment or drop time.
    """
    arrivals = np.asarray(arrivals, dtype=np.float64)
    services = np.asarray(services, dtype=np.float64)
    n = arrivals.size
    start = np.full(n, np.nan)
    end = np.full(n, np.nan)
    outcome = np.full(n, -1, dtype=np.int64)
    env = simpy.Environment()
    free = simpy.Store(env)
    retire: list[float] = []
    for ready_s, retire_s in instances:
        for _ in range(concurrency):
            sid = len(retire)
            retire.append(retire_s)
            env.process(_server(env, free, sid, ready_s, retire_s))
    limit = math.inf if queue_limit is None else queue_limit

    def request(i: int, get):
        a = env.now
        if math.isfinite(timeout_s):
            fired = yield get | env.timeout(timeout_s)
            if get not in fired:
                get.cancel()
                end[i], outcome[i] = env.now, TIMED_OUT_QUEUE
                return
        else:
            yield get
        sid = get.value
        s = env.now
        start[i] = s
        deadline = a + timeout_s
        if s + services[i] > deadline:
            yield env.timeout(deadline - s)
            outcome[i] = TIMED_OUT_SERVICE
        else:
            yield env.timeout(services[i])
            outcome[i] = SERVED
        end[i] = env.now
        if env.now < retire[sid]:
            free.put(sid)

    def source():
        for i in range(n):
            delay = arrivals[i] - env.now
            if delay > 0:
                yield env.timeout(delay)
            if not free.items and len(free.get_queue) >= limit:
                end[i], outcome[i] = env.now, DROPPED
                continue
            env.process(request(i, free.get()))

    env.process(source())
    env.run()
    return start, end, outcome


def _server(env: simpy.Environment, free: simpy.Store, sid: int, ready_s: float, retire_s: float):
    """Offer server ``sid`` from ``ready_s``; withdraw it at ``retire_s`` if it is idle then."""
    if ready_s >= retire_s:
        return
    if ready_s > env.now:
        yield env.timeout(ready_s - env.now)
    free.put(sid)
    if math.isfinite(retire_s):
        yield env.timeout(retire_s - env.now)
        if sid in free.items:
            free.items.remove(sid)
