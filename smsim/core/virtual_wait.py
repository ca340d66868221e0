"""The FIFO virtual waiting time of a multi-server queue over one-minute periods, at sub-minute
resolution: the wait distribution of the requests that start, pooled over a horizon.

Inputs are per minute: arrivals offered to the queue, servers (fractional: the minute's time
average) and, optionally, the arrival times within each minute (a trace, or traffic generated
request by request). All times are seconds.

Two parts make the wait of a request:

* **The deterministic backlog** (a FIFO fluid with deadlines, in slots of ``slot_s``): each
  slot's arrivals join the tail; the servers start requests from the head, each start taking
  ``E[min(S, timeout - w)]`` server-seconds (a request that starts after waiting ``w`` is cut at
  its deadline); a request still queued ``timeout`` seconds after arriving leaves. The wait of a
  start is its age, so a backlog carried over minutes drains at the service rate of the minutes
  that actually serve it, with the wait of the requests behind it, and the saturated regime
  (the head at its deadline, starts cut in service) follows from the same rule. Servers that
  are idle when a backlog forms, or added under one, lead busy ones: over a backlog a server
  that starts idle starts ``(1 + cs2) / 2`` more requests than one already busy (renewal
  theory), which the slot's budget gets at once beyond what the slot itself covers (a busy
  count per group: offered load after a calm minute, plus starts, less completions); this
  matters when a mean service is long against the slot. A backlog's departures are a sum of
  service times, so after ``t`` seconds of backlog its waits are uncertain by
  ``sqrt(t cs2 E[S] / c)`` seconds: each start's wait is spread that much (uniformly, no
  further than its deadline; those the spread would put below zero start at once): the waits
  pooled over runs. One run draws one path of that deviation, shared by the requests close in
  time, so a run's quantile moves with it and the mean of runs' quantiles is not the pooled
  quantile (on a single backlog episode the pooled p99 is several percent higher). The pass
  therefore also follows ``K`` sample paths of the deviation (a Brownian motion of variance rate
  ``cs2 E[S] / c``: the renewal central limit theorem for the departures of ``c`` busy servers,
  Cox, *Renewal Theory*, 1962), each shifting the backlog's waits, whose quantiles a
  caller averages (:func:`path_quantiles`); SLA attainment and timeouts, means over runs, keep
  the pooled spread.
* **The stochastic queue** of requests that find no backlog (Poisson arrivals, variable service
  times): Erlang C's probability of waiting times an exponential tail. Its scale relaxes toward
  Allen-Cunneen's stationary ``f / (c mu - lambda)`` (``f = (ca2 + cs2) / 2``) no faster than a
  driftless reflected Brownian motion of the queue grows: with ``y`` the squared scale,
  ``dy/dt = k (1 - y / theta^2)``, ``k = 4 f / (pi c mu)`` (the mean of ``|N(0, 2 f c mu t)|``
  over ``c mu``, squared; with arrival times known, ``f = cs2 / 2``: the arrivals' own
  fluctuations are in the deterministic part). A minute near saturation therefore waits what
  a minute can build up, not the stationary wait of an infinitely long such minute.

Routing: ``shared`` is one FIFO queue. With per-instance queues (``random``,
``least_outstanding``), servers added while a backlog exists do not take it over: the backlog
stays with the servers that hold it, and new arrivals go to the new servers (least outstanding:
until their queues reach the old ones' level; random: in proportion to servers). Random
routing's stochastic wait is that of one instance's queue (M/G/``concurrency`` at its share of
the arrivals), not of a pooled one.

Minutes that start without a backlog and whose slots stay below capacity are computed in closed
form (stochastic part only), so a long calm horizon costs O(1) per minute.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from smsim.core.fluid import LOG_THETA_LO, LOG_THETA_STEP, N_THETA, erlang_c, saturated_slack

#: Slot length (s) of the deterministic backlog: arrivals uniform within a minute, and arrivals
#: at known times (a finer slot resolves bursts and batches a few seconds apart).
SLOT_S = 1.0
SLOT_TIMES_S = 0.5
#: Sample paths of a backlog's departures whose quantiles the realtime fluid tier averages
#: (antithetic pairs: a deviation and its opposite).
N_PATHS = 64

ROUTING_CODE = {"shared": 0, "random": 1, "least_outstanding": 2}


def wait_edges(timeout_s: float, n_bins: int, lo_s: float = 1e-4) -> np.ndarray:
    """``n_bins`` edges of the wait grid: bin 0 is the atom at 0, bin ``j >= 1`` covers
    ``[edges[j-1], edges[j])``: log-spaced in the wait up to half the timeout, then log-spaced in
    the time left before the deadline (a start just before its deadline is cut unless its
    service fits the time left, so that needs resolution), the last bin ``[timeout, inf)``."""
    lo = min(lo_s, timeout_s / 4)
    half = (n_bins - 4) // 2
    left = np.geomspace(lo, timeout_s / 2, half + 1)
    right = timeout_s - np.geomspace(timeout_s / 2, lo, n_bins - 4 - half + 1)[1:]
    return np.concatenate([[0.0], left, right, [timeout_s, np.inf]])


def wait_reps(edges: np.ndarray) -> np.ndarray:
    """A representative wait per bin of :func:`wait_edges`: the log-scale midpoint of the wait,
    or of the time left before the deadline."""
    timeout = edges[-2]
    reps = np.zeros(edges.size)
    a, b = edges[1:-2], edges[2:-1]
    reps[2:-1] = np.where(b <= timeout / 2 * (1 + 1e-12), np.sqrt(a * b),
                          timeout - np.sqrt((timeout - a) * (timeout - b)))
    reps[1] = edges[1] / 2
    reps[-1] = timeout
    return reps


def served_latencies(mass: np.ndarray, edges: np.ndarray, pts: np.ndarray,
                     timeout: float) -> tuple[np.ndarray, np.ndarray]:
    """The latency distribution of the requests a FIFO queue serves, sorted: each wait bin's
    representative wait plus each service point, weighted by the bin's mass over the points,
    where the service fits the time left before ``timeout`` (the others time out)."""
    reps = wait_reps(edges)
    fits = pts[None, :] <= (timeout - reps)[:, None]
    lat = (reps[:, None] + pts[None, :])[fits]
    weight = np.broadcast_to(mass[:, None] / pts.size, fits.shape)[fits]
    order = np.argsort(lat, kind="stable")
    return lat[order], weight[order]


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probs) -> list[float]:
    """Quantiles ``probs`` of the discrete distribution ``values`` (sorted) with ``weights``;
    nan when it has no weight."""
    cum = np.cumsum(weights)
    total = cum[-1] if cum.size else 0.0
    return [float(values[min(np.searchsorted(cum, p * total), values.size - 1)]) if total > 0 else math.nan
            for p in probs]


def path_quantiles(mass: np.ndarray, path_mass: np.ndarray, edges: np.ndarray, pts: np.ndarray, timeout: float,
                   probs) -> list[float]:
    """Quantiles ``probs`` of the served latency averaged over the sample paths of
    :func:`virtual_waits` (``path_mass``): a run's quantile is that of one path of the backlog's
    departures, and a deviation that shifts a whole backlog episode in one run shifts its
    quantiles with it, so their mean over runs is not the quantile of the spread (pooled) waits.
    ``mass`` is the pooled wait distribution (timeouts in its last bin are dropped)."""
    n_paths = path_mass.shape[0] - 1
    reps = wait_reps(edges)
    fits = pts[None, :] <= (timeout - reps)[:, None]
    lat = (reps[:, None] + pts[None, :])[fits]
    rows = np.broadcast_to(np.arange(reps.size)[:, None], fits.shape)[fits]
    order = np.argsort(lat, kind="stable")
    lat, rows = lat[order], rows[order]
    base = np.maximum(mass - path_mass[n_paths], 0.0)
    total = np.zeros(len(probs))
    for k in range(n_paths):
        m = base + path_mass[k]
        m[-1] = 0.0
        total += weighted_quantiles(lat, m[rows], probs)
    return (total / n_paths).tolist()


@numba.njit(cache=True)
def _normal(state):
    """A standard normal from the SplitMix64 stream ``state`` (one uint64, advanced in place):
    Box-Muller on two 53-bit uniforms. Seeded by the caller, so runs are reproducible."""
    u = np.zeros(2)
    for i in range(2):
        state[0] += np.uint64(0x9E3779B97F4A7C15)
        z = state[0]
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        u[i] = ((z >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740993.0)
    return math.sqrt(-2.0 * math.log(u[0])) * math.cos(2.0 * math.pi * u[1])


@numba.njit(cache=True)
def _add_uniform(mass, edges, a, b, w):
    """Add weight ``w`` spread uniformly over ``[a, b]`` (an atom when ``b - a`` is tiny)."""
    nb = edges.shape[0]
    if w <= 0.0:
        return
    if b - a < 1e-9:
        j = np.searchsorted(edges, a, side="right")
        mass[min(j, nb - 1)] += w
        return
    j = min(np.searchsorted(edges, a, side="right"), nb - 1)
    while j < nb:
        lo = max(edges[j - 1], a) if j > 0 else a
        hi = min(edges[j], b) if j < nb - 1 else b
        if hi > lo:
            mass[j] += w * (hi - lo) / (b - a)
        if j >= nb - 1 or edges[j] >= b:
            break
        j += 1


@numba.njit(cache=True)
def _add_theta(theta_weight, theta, w):
    """Add weight ``w`` of ``Exp(theta)`` to the pooled log grid of exponential scales."""
    x = (math.log(theta) - LOG_THETA_LO) / LOG_THETA_STEP
    x = min(max(x, 0.0), N_THETA - 1.0)
    i = min(int(x), N_THETA - 2)
    f = x - i
    theta_weight[i] += w * (1.0 - f)
    theta_weight[i + 1] += w * f


@numba.njit(cache=True)
def _shifted(mass, theta_weight, edges, d, pc, theta, n):
    """``n`` requests waiting ``d`` plus, with probability ``pc``, an ``Exp(theta)`` more."""
    if d <= 0.0:
        mass[0] += n * (1.0 - pc)
        if pc > 0.0 and theta > 0.0:
            _add_theta(theta_weight, theta, n * pc)
        else:
            mass[0] += n * pc
        return
    _add_uniform(mass, edges, d, d, n * (1.0 - pc))
    if pc <= 0.0 or theta <= 0.0:
        _add_uniform(mass, edges, d, d, n * pc)
        return
    nb = edges.shape[0]
    j = min(np.searchsorted(edges, d, side="right"), nb - 1)
    while j < nb:
        lo = max(edges[j - 1], d)
        if (lo - d) / theta > 40.0:
            break
        hi = edges[j]
        mass[j] += n * pc * (math.exp(-(lo - d) / theta) - (math.exp(-(hi - d) / theta) if hi < 1e300 else 0.0))
        j += 1


@numba.njit(cache=True)
def _p_late(pc, theta, timeout_s, mean_s):
    """Share of requests with a stochastic wait that time out: waits beyond the timeout less a
    mean service (queue side, or cut in service)."""
    if pc <= 0.0 or theta <= 0.0:
        return 0.0
    return pc * math.exp(-max(timeout_s - mean_s, 0.0) / theta)


@numba.njit(cache=True)
def _min_mean(q, prefix, r):
    """``(E[min(S, r)], P(S <= r))`` for the service distribution of sorted points ``q``."""
    n = q.shape[0]
    if r <= 0.0:
        return 0.0, 0.0
    j = np.searchsorted(q, r, side="right")
    return (prefix[j] + (n - j) * r) / n, j / n


@numba.njit(cache=True)
def _stochastic(lam, c_eff, mu, f, f_growth, conc, mode, y0, dt):
    """``(pc, theta, y_end)``: probability of waiting, mean exponential scale of the wait over the
    period ``dt`` and the squared scale ``y`` at its end (module docstring)."""
    if c_eff <= 0.0 or lam <= 0.0 or f <= 0.0:
        return 0.0, 0.0, y0
    if mode == 1:  # random routing: independent queues of ``conc`` servers
        n_inst = c_eff / conc
        c_int = int(round(conc))  # noqa: RUF046 (explicit int for numba)
        lam_q = lam / max(n_inst, 1e-12)
    else:
        c_int = int(round(c_eff))  # noqa: RUF046
        lam_q = lam
    if c_int < 1:
        return 0.0, 0.0, y0
    cmu = c_int * mu
    k = 4.0 * (f_growth if f_growth > 0.0 else f) / (math.pi * cmu)
    if lam_q < cmu:
        pc = erlang_c(c_int, lam_q / mu)
        th = f / (cmu - lam_q)
        th2 = th * th
        e = math.exp(-k * dt / th2)
        y_end = th2 + (y0 - th2) * e
        y_bar = th2 + (y0 - th2) * th2 / (k * dt) * (1.0 - e)
    else:
        pc = 1.0
        y_end = y0 + k * dt
        y_bar = y0 + k * dt / 2.0
    return pc, math.sqrt(max(y_bar, 0.0)), y_end


@numba.njit(cache=True)
def virtual_waits(arrivals, in_service, conc, mean_s, f, f_growth, timeout_s, mode, t_arr, t_first, svc_q, svc_prefix,
                  edges, g_minute, g_pos, g_count, slot_s, out_mass, theta_weight, out_wait, out_pwait, out_served,
                  out_timed_out, path_mass, path_seed):
    """Accumulate the wait distribution of the requests that start into ``out_mass`` (bins of
    :func:`wait_edges`, bin 0 the atom at 0) and ``theta_weight`` (exponential tails pooled on
    the log grid of :mod:`smsim.core.fluid`); per minute, the mean wait of its arrivals'
    starts ``out_wait`` and their probability of waiting ``out_pwait`` (approximate), and the
    requests served and timed out (left the queue at their deadline, or cut in service) among
    those starting or leaving in it, ``out_served`` and ``out_timed_out``.

    ``f = (ca2 + cs2) / 2`` sets the stationary scale; ``f_growth`` the growth rate of the
    transient: the same ``f`` for counts, ``cs2 / 2`` when the arrival times are known (their
    fluctuations over seconds and more are in the slots already, so only the service times'
    variability is left to build a queue over a minute; with deterministic service, where that
    leaves nothing, ``f`` again).
    ``arrivals[k]`` are offered to the queue in minute ``k`` with ``in_service[k] x conc``
    servers of mean service ``mean_s``; ``t_arr`` (sorted, seconds) are the arrival times when
    known (a trace; ``t_first[k]`` indexes minute ``k``'s first), else empty: arrivals are
    uniform in the minute. ``g_minute, g_pos, g_count``: requests at position ``g_pos >= 1`` of
    a batch of simultaneous arrivals, in calm minutes delayed ``(g_pos - c + 1) E[S] / c`` first.
    ``path_mass`` (``K + 1`` rows, ``K`` even, may be 0) gets the waits of the backlog's starts
    that ``out_mass`` spreads, once as spread (row ``K``) and once per sample path of the
    departures' deviation (rows ``0..K-1``; antithetic pairs, drawn from ``path_seed``), so that
    a caller can average the quantiles of ``K`` runs (:func:`path_quantiles`).
    Returns ``(started, abandoned, queued at the end)`` of the deterministic part.
    """
    mu = 1.0 / mean_s
    n_min = arrivals.shape[0]
    n_q = svc_q.shape[0]
    q_mean = svc_prefix[n_q] / n_q if n_q > 0 else mean_s
    svc_cs2 = 0.0
    for i in range(n_q):
        svc_cs2 += (svc_q[i] - q_mean) ** 2
    svc_cs2 = svc_cs2 / n_q / (q_mean * q_mean) if n_q > 0 and q_mean > 0.0 else 0.0
    decay = math.exp(-slot_s / mean_s)  # share of busy servers still busy a slot later
    per_min = int(round(60.0 / slot_s))  # noqa: RUF046
    n_t = int(math.ceil(timeout_s / slot_s - 1e-9))
    R = n_t + 2
    ring = np.zeros((2, R))
    head = np.zeros(2, dtype=np.int64)
    content = np.zeros(2)
    cap = np.zeros(2)
    busy = np.zeros(2)  # servers busy (expected), per group
    since = np.zeros(2, dtype=np.int64)  # slot in which the group's backlog formed
    gN, gH = 0, 1
    slot_a = np.zeros(per_min)
    n_paths = path_mass.shape[0] - 1 if path_mass.shape[0] > 2 else 0
    dev = np.zeros((2, max(n_paths, 1)))  # the departures' deviation (s of wait) per group and path
    rng_state = np.full(1, np.uint64(path_seed))
    y = 0.0
    c_prev = 0.0
    have_times = t_arr.shape[0] > 0
    gi = 0
    n_groups = g_minute.shape[0]
    abandoned = 0.0
    started = 0.0
    for k in range(n_min):
        g0 = gi
        while gi < n_groups and g_minute[gi] == k:
            gi += 1
        A = arrivals[k]
        c = in_service[k] * conc
        lam = A / 60.0
        pc, theta, y_end = _stochastic(lam, c, mu, f, f_growth, conc, mode, y, 60.0)
        # capacity change at the minute boundary
        if c > c_prev + 1e-12:
            if mode != 0 and content[gN] > 1e-9 and cap[gH] <= 0.0:
                gN, gH = gH, gN  # the backlog stays with the servers that hold it
                cap[gH] = c_prev
                cap[gN] = c - c_prev
                busy[gH] = busy[gN]
                busy[gN] = 0.0
                head[gN] = k * per_min
            else:
                cap[gN] += c - c_prev
        elif c < c_prev - 1e-12:
            d = c_prev - c
            take = min(d, cap[gN])
            cap[gN] -= take
            d -= take
            if d > 0.0:
                cap[gH] = max(cap[gH] - d, 0.0)
            if cap[gN] <= 1e-12 and cap[gH] > 0.0:  # only the holding servers are left: one queue
                lo = min(head[gN], head[gH])
                for s in range(lo, k * per_min):
                    ring[gH, s % R] += ring[gN, s % R]
                    ring[gN, s % R] = 0.0
                content[gH] += content[gN]
                content[gN] = 0.0
                busy[gH] += busy[gN]
                busy[gN] = 0.0
                head[gH] = lo
                gN, gH = gH, gN
                cap[gH] = 0.0
        c_prev = c
        for g in range(2):
            busy[g] = min(busy[g], cap[g])
        # this minute's arrivals per slot
        raw = 0.0
        if have_times:
            for j in range(per_min):
                slot_a[j] = 0.0
            for i in range(t_first[k], t_first[k + 1]):
                j = min(int((t_arr[i] - 60.0 * k) / slot_s), per_min - 1)
                slot_a[max(j, 0)] += 1.0
                raw += 1.0
            scale = A / raw if raw > 0.0 else 0.0
            for j in range(per_min):
                slot_a[j] *= scale
        else:
            for j in range(per_min):
                slot_a[j] = A / per_min
        calm = content[0] <= 1e-9 and content[1] <= 1e-9
        if calm:
            for j in range(per_min):
                if slot_a[j] > c * mu * slot_s:
                    calm = False
                    break
        if calm:
            rest = A
            c_int = int(round(c))  # noqa: RUF046
            if c_int >= 1:
                for g in range(g0, gi):
                    if g_pos[g] >= c_int:
                        d = (g_pos[g] - c_int + 1) * mean_s / c_int
                        n = min(g_count[g], rest)
                        rest -= n
                        _shifted(out_mass, theta_weight, edges, d, pc, theta, n)
            _shifted(out_mass, theta_weight, edges, 0.0, pc, theta, rest)
            late = A * _p_late(pc, theta, timeout_s, mean_s)
            out_served[k] += A - late
            out_timed_out[k] += late
            out_wait[k] = pc * theta
            out_pwait[k] = pc
            for g in range(2):
                head[g] = (k + 1) * per_min
                busy[g] = min(lam * mean_s, c) * (cap[g] / c if c > 0.0 else 0.0)  # offered load
            y = y_end
            continue
        # the deterministic backlog, slot by slot
        w_sum = 0.0
        n_sum = 0.0
        wait_n = 0.0
        for j in range(per_min):
            S = k * per_min + j
            a = slot_a[j]
            # route the slot's arrivals
            a_h = 0.0
            if cap[gH] > 0.0 and content[gH] > 1e-9:
                if mode == 1:
                    a_h = a * cap[gH] / (cap[gH] + cap[gN])
                elif cap[gN] > 0.0:
                    room = (content[gH] / cap[gH] - content[gN] / cap[gN]) * cap[gN]
                    if a > room:
                        a_h = (a - max(room, 0.0)) * cap[gH] / (cap[gH] + cap[gN])
                else:
                    a_h = a
            for g in range(2):
                add = a_h if g == gH else a - a_h
                if content[g] <= 1e-9:
                    head[g] = S
                    since[g] = S
                    for p in range(n_paths):
                        dev[g, p] = 0.0
                elif n_paths > 0:  # one slot more of departures: each path's deviation walks on
                    sd = math.sqrt(slot_s * svc_cs2 * mean_s / max(cap[g], 1.0))
                    for p in range(0, n_paths, 2):
                        z = sd * _normal(rng_state)
                        dev[g, p] += z
                        dev[g, p + 1] -= z
                ring[g, S % R] = add
                content[g] += add
                # those older than the timeout leave
                while head[g] < S - n_t:
                    x = ring[g, head[g] % R]
                    abandoned += x
                    out_timed_out[k] += x
                    content[g] -= x
                    ring[g, head[g] % R] = 0.0
                    head[g] += 1
                budget = cap[g] * slot_s
                if content[g] > 1e-9 and busy[g] < cap[g]:
                    # idle servers start the head at once: over a backlog a server that was
                    # idle starts (1 + cs2) / 2 more than one that was busy (renewal theory)
                    budget += (cap[g] - busy[g]) * max(mean_s * (1.0 + svc_cs2) / 2.0 - slot_s, 0.0)
                started_g = started
                if head[g] == S - n_t and content[g] > 1e-9:
                    # the head reaches its deadline in this slot: unless the servers can start
                    # them all, they start just before it with the slack ``delta`` that spends
                    # the budget (``E[min(S, delta)]`` each), cut when their service exceeds it
                    x = ring[g, head[g] % R]
                    if x > 1e-12:
                        half = min(slot_s / 2.0, timeout_s)
                        m_half, _ = _min_mean(svc_q, svc_prefix, half)
                        if budget >= x * m_half:
                            delta, used = half, x * m_half
                        else:
                            delta, _ = saturated_slack(svc_q, svc_prefix, budget / x)
                            used = budget
                        budget = max(budget - used, 0.0)
                        _, p_ok = _min_mean(svc_q, svc_prefix, delta)
                        out_served[k] += x * p_ok
                        out_timed_out[k] += x * (1.0 - p_ok)
                        _add_uniform(out_mass, edges, timeout_s - delta, timeout_s - delta, x)
                        started += x
                        w_sum += x * (timeout_s - delta)
                        wait_n += x
                        n_sum += x
                        content[g] -= x
                    ring[g, head[g] % R] = 0.0
                    head[g] += 1
                while budget > 1e-12 and content[g] > 1e-9 and head[g] <= S:
                    s = head[g]
                    x = ring[g, s % R]
                    if x <= 1e-12:
                        ring[g, s % R] = 0.0
                        head[g] += 1
                        continue
                    w = (S - s) * slot_s
                    m, p_ok = _min_mean(svc_q, svc_prefix, timeout_s - w)
                    n = min(x, budget / max(m, 1e-12))
                    budget -= n * m
                    ring[g, s % R] = x - n
                    content[g] -= n
                    started += n
                    if s == S:
                        late = n * _p_late(pc, theta, timeout_s, mean_s)
                        out_served[k] += n - late
                        out_timed_out[k] += late
                        _shifted(out_mass, theta_weight, edges, 0.0, pc, theta, n)
                        w_sum += n * pc * theta
                        wait_n += n * pc
                    else:
                        out_served[k] += n * p_ok
                        out_timed_out[k] += n * (1.0 - p_ok)
                        # the departures since the backlog formed are a sum of service times, so
                        # the backlog, and the wait, spread with their standard deviation
                        # ``sqrt(t cs2 E[S] / c)`` over the backlog's age ``t`` (a uniform as wide)
                        age = (S - since[g] + 1) * slot_s
                        h = max(slot_s / 2.0, min(math.sqrt(3.0 * age * svc_cs2 * mean_s / max(cap[g], 1.0)),
                                                  timeout_s - w))  # a deadline pins the head's wait
                        lo_w = w - h
                        if lo_w < 0.0:  # those the spread empties the queue for start at once
                            out_mass[0] += n * (-lo_w) / (2.0 * h)
                            _add_uniform(out_mass, edges, 0.0, min(w + h, timeout_s), n * (w + h) / (2.0 * h))
                            if n_paths > 0:
                                path_mass[n_paths, 0] += n * (-lo_w) / (2.0 * h)
                                _add_uniform(path_mass[n_paths], edges, 0.0, min(w + h, timeout_s),
                                             n * (w + h) / (2.0 * h))
                        else:
                            _add_uniform(out_mass, edges, lo_w, min(w + h, timeout_s), n)
                            if n_paths > 0:
                                _add_uniform(path_mass[n_paths], edges, lo_w, min(w + h, timeout_s), n)
                        # one run draws one path: its wait is the slot's, shifted by the path's
                        # deviation (no wait below zero); a deadline holds it, as it holds the
                        # head: what a slow path would queue beyond it leaves (reflected there)
                        top = timeout_s - slot_s / 2.0
                        for p in range(n_paths):
                            if w + dev[g, p] > top:
                                dev[g, p] = top - w
                            wp = w + dev[g, p]
                            if wp <= 0.0:
                                path_mass[p, 0] += n
                            else:
                                _add_uniform(path_mass[p], edges, max(wp - slot_s / 2.0, 0.0),
                                             min(wp + slot_s / 2.0, timeout_s), n)
                        w_sum += n * w
                        wait_n += n
                    n_sum += n
                    if x - n <= 1e-12:
                        ring[g, s % R] = 0.0
                        head[g] += 1
                if content[g] <= 1e-9:
                    content[g] = 0.0
                busy[g] = min(busy[g] * decay + started - started_g, cap[g])
            if cap[gH] > 0.0 and content[gH] <= 1e-9:  # the holding servers rejoin
                cap[gN] += cap[gH]
                cap[gH] = 0.0
                busy[gN] += busy[gH]
                busy[gH] = 0.0
        out_wait[k] = w_sum / n_sum if n_sum > 0.0 else 0.0
        out_pwait[k] = wait_n / n_sum if n_sum > 0.0 else 0.0
        y = y_end
    return started, abandoned, content[0] + content[1]
