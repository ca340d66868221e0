# ruff: noqa: FURB136, PLR1730, RUF046  (explicit branches keep the jitted and plain twins identical)
"""The request kernel's hot loop, written once and run two ways.

:mod:`smsim.core.kernel` executes this file twice: as plain Python (the readable twin the tests
compare against) and with every function passed through ``numba.njit(cache=True,
_nrt=False)`` (injected as ``_JIT`` before execution; ``_JIT_INLINE`` also inlines into the
caller). Everything here therefore uses only numpy arrays, ints and floats, and allocates
nothing. State lives in arrays owned by :class:`smsim.core.kernel.Kernel`; see that module for
the semantics. Time is seconds (float64).

Layout: instance ``j`` owns servers ``j*conc .. j*conc+conc-1``. Queue ``q`` (one shared queue,
or one per instance) is a ring buffer ``q_arr/q_svc/q_gid[q, :]`` with ``q_head[q]`` and
``q_len[q]``, served by the binary min-heap ``heap[q, :hsize[q]]`` of server ids keyed by
``(avail, id)``.
"""

import math

import numpy as np

_JIT = globals().get("_JIT", None)
if _JIT is None:

    def _JIT(f):
        return f


_JIT_INLINE = globals().get("_JIT_INLINE", _JIT)


# Outcome codes (also in kernel.py).
SERVED = 0
TIMED_OUT_SERVICE = 1
TIMED_OUT_QUEUE = 2
DROPPED = 3

# Rows of the per-window metrics array.
W_ARRIVALS = 0
W_STARTS = 1
W_ENDS = 2
W_SERVED = 3
W_TIMED_OUT = 4
W_DROPPED = 5
W_ENQ = 6
W_DEQ = 7
W_BUSY_S = 8
W_CAPACITY_S = 9
W_WAIT_S = 10
W_RESP_SUM_S = 11
N_WROWS = 12

# Entries of the totals array (float64).
T_ARRIVALS = 0
T_SERVED = 1
T_TIMED_OUT_SERVICE = 2
T_TIMED_OUT_QUEUE = 3
T_DROPPED = 4
T_RESP_SUM = 5
T_WAIT_SUM_STARTED = 6
T_BUSY_S = 7
N_TOTALS = 8

#: Histogram lookup slots per power of two (``smsim.core.histogram.LUT_SUB``).
LUT_SUB = 128

MODE_SHARED = 0
MODE_RANDOM = 1
MODE_LOR = 2


@_JIT
def _less(avail, a, b):
    return avail[a] < avail[b] or (avail[a] == avail[b] and a < b)


@_JIT
def _hpush(heap, q, n, sid, avail):
    """Push server ``sid`` onto heap row ``q`` holding ``n`` items; returns the new size."""
    i = n
    while i > 0:
        p = (i - 1) // 2
        up = heap[q, p]
        if _less(avail, sid, up):
            heap[q, i] = up
            i = p
        else:
            break
    heap[q, i] = sid
    return n + 1


@_JIT
def _hsift(heap, q, n, avail):
    """Restore heap row ``q`` (``n`` items) after its top's key grew or the top was replaced."""
    sid = heap[q, 0]
    i = 0
    while True:
        m = 2 * i + 1
        if m >= n:
            break
        if m + 1 < n and _less(avail, heap[q, m + 1], heap[q, m]):
            m += 1
        down = heap[q, m]
        if _less(avail, down, sid):
            heap[q, i] = down
            i = m
        else:
            break
    heap[q, i] = sid


@_JIT
def _hpop(heap, q, n, avail):
    """Remove the top of heap row ``q`` holding ``n`` items; returns the new size."""
    n -= 1
    if n > 0:
        heap[q, 0] = heap[q, n]
        _hsift(heap, q, n, avail)
    return n


@_JIT
def _bucket(r, edges, lut, lut_e0):
    """Histogram bucket of ``r > 0``: the last ``k`` with ``edges[k] <= r`` (see
    :mod:`smsim.core.histogram`), found from the lookup slot of ``r``'s exponent and mantissa."""
    m, e = math.frexp(r)
    j = (e - lut_e0) * LUT_SUB + int((m - 0.5) * (2 * LUT_SUB))
    if j < 0:
        b = 0
    elif j >= lut.shape[0]:
        b = lut[lut.shape[0] - 1]
    else:
        b = lut[j]
    n = edges.shape[0]
    while b + 1 < n and edges[b + 1] <= r:
        b += 1
    return b


@_JIT
def _win(t, window_s, nw):
    k = int(t / window_s)
    return nw if k > nw else k


@_JIT
def _add_interval(win, row, s, e, window_s, nw):
    """Spread the length of ``[s, e)`` over the window cells of ``win[row]`` (cell ``nw`` =
    overflow)."""
    t = s
    k = int(s / window_s)
    while t < e:
        if k >= nw:
            win[row, nw] += e - t
            return
        edge = (k + 1) * window_s
        hi = e if e < edge else edge
        if hi > t:
            win[row, k] += hi - t
        t = hi
        k += 1


@_JIT
def _live_top(q, heap, hsize, avail, retire, t0, check_retire):
    """Server id on top of queue ``q``'s heap that can still start work at ``max(avail, t0)``.

    Servers that cannot (retired before then) are discarded for good: later starts are later.
    Returns -1 when no server is left.
    """
    while hsize[q] > 0:
        sid = heap[q, 0]
        cand = avail[sid] if avail[sid] > t0 else t0
        if check_retire and cand >= retire[sid]:
            hsize[q] = _hpop(heap, q, hsize[q], avail)
            continue
        return sid
    return -1


@_JIT_INLINE
def _start(q, sid, a, x, s, gid, inst, timeout, heap, hsize, avail, jobend, win, totals,
           hist, edges, lut, lut_e0, whist, window_s, nw, rec_f, rec_i, rec_n):
    """Start request (arrival ``a``, service ``x``) at ``s`` on server ``sid`` (top of heap)."""
    d = a + timeout
    end = s + x
    outcome = SERVED
    if end > d:
        end = d
        outcome = TIMED_OUT_SERVICE
    avail[sid] = end
    jobend[sid] = end
    _hsift(heap, q, hsize[q], avail)
    ke = _win(end, window_s, nw)
    win[W_STARTS, _win(s, window_s, nw)] += 1.0
    win[W_ENDS, ke] += 1.0
    _add_interval(win, W_BUSY_S, s, end, window_s, nw)
    totals[T_BUSY_S] += end - s
    totals[T_WAIT_SUM_STARTED] += s - a
    if outcome == SERVED:
        r = end - a
        win[W_SERVED, ke] += 1.0
        win[W_RESP_SUM_S, ke] += r
        totals[T_SERVED] += 1.0
        totals[T_RESP_SUM] += r
        b = 0
        if r > 0:
            b = _bucket(r, edges, lut, lut_e0)
        hist[b] += 1
        if whist.shape[0] > 0:
            whist[ke, b] += 1
    else:
        win[W_TIMED_OUT, ke] += 1.0
        totals[T_TIMED_OUT_SERVICE] += 1.0
    _record_other(gid, inst, s, end, outcome, rec_f, rec_i, rec_n)


@_JIT
def _record_other(gid, inst, start, end, outcome, rec_f, rec_i, rec_n):
    """Append one per-request row when recording is on (``rec_f`` has rows)."""
    if rec_f.shape[0] > 0:
        n = rec_n[0]
        rec_f[n, 0] = start
        rec_f[n, 1] = end
        rec_i[n, 0] = gid
        rec_i[n, 1] = outcome
        rec_i[n, 2] = inst
        rec_n[0] = n + 1


@_JIT
def _drain(q, t_lim, strict, mode, conc, timeout, heap, hsize, avail, retire, jobend,
           q_arr, q_svc, q_gid, q_head, q_len, win, totals, hist, edges, lut, lut_e0, whist,
           window_s, nw, rec_f, rec_i, rec_n):
    """Process queue ``q``'s head events (start or abandonment) up to ``t_lim``, in time order.

    ``strict``: only events strictly before ``t_lim`` (end of an advance); otherwise events at
    ``t_lim`` too (before an arrival at ``t_lim``: departures precede arrivals on ties).
    """
    cap = q_arr.shape[1]
    check_retire = mode == MODE_SHARED
    while q_len[q] > 0:
        pos = q_head[q]
        a = q_arr[q, pos]
        d = a + timeout
        sid = _live_top(q, heap, hsize, avail, retire, a, check_retire)
        s = math.inf
        if sid >= 0:
            s = avail[sid] if avail[sid] > a else a
        ev = s if s < d else d
        if (strict and ev >= t_lim) or ((not strict) and ev > t_lim):
            return
        q_head[q] = pos + 1 if pos + 1 < cap else 0
        q_len[q] -= 1
        win[W_DEQ, _win(ev, window_s, nw)] += 1.0
        _add_interval(win, W_WAIT_S, a, ev, window_s, nw)
        gid = q_gid[q, pos]
        if s < d:
            inst = sid // conc
            _start(q, sid, a, q_svc[q, pos], s, gid, inst, timeout, heap, hsize, avail,
                   jobend, win, totals, hist, edges, lut, lut_e0, whist, window_s, nw,
                   rec_f, rec_i, rec_n)
        else:
            win[W_TIMED_OUT, _win(d, window_s, nw)] += 1.0
            totals[T_TIMED_OUT_QUEUE] += 1.0
            inst = q if mode != MODE_SHARED else -1
            _record_other(gid, inst, math.nan, d, TIMED_OUT_QUEUE, rec_f, rec_i, rec_n)


@_JIT
def check_inputs(arr, svc, clock, until):
    """Index of the first arrival out of order or outside ``[clock, until)``, or of the first
    negative or NaN service time, as ``(index, kind)`` (kind 0 = all valid, 1 = arrival,
    2 = service)."""
    prev = clock
    for i in range(arr.shape[0]):
        a = arr[i]
        if not (a >= prev and a < until):
            return i, 1
        prev = a
        if not svc[i] >= 0.0:
            return i, 2
    return -1, 0


@_JIT
def advance_core(arr, svc, u, gid0, i0, until, mode, conc, timeout, qlimit,
                 avail, ready, retire, jobend, heap, hsize,
                 q_arr, q_svc, q_gid, q_head, q_len,
                 routable, inst_retire, inst_ready,
                 win, totals, hist, edges, lut, lut_e0, whist, window_s,
                 rec_f, rec_i, rec_n, active, n_active, acc_from, done):
    """Process arrivals ``i0..`` (all ``< until``) and every queue event before ``until``, then
    account provisioned capacity up to ``until`` for ``active[:n_active]``.

    Returns ``(i, status, n_active)``: status 0 = done (``i == len(arr)``; ``active`` compacted
    to its new ``n_active`` still-provisioned servers), 1 = a ring buffer is full (arrival ``i``
    not processed; the caller grows the buffers and calls again from ``i``).
    """
    nw = win.shape[1] - 1
    cap = q_arr.shape[1]
    n = arr.shape[0]
    shared = mode == MODE_SHARED
    i = i0
    while i < n:
        a = arr[i]
        x = svc[i]
        gid = gid0 + i
        # Choose the queue.
        q = 0
        if not shared:
            q = -1
            if mode == MODE_RANDOM:
                n_in = 0
                for r in range(routable.shape[0]):
                    j = routable[r]
                    if inst_ready[j] <= a < inst_retire[j]:
                        n_in += 1
                if n_in > 0:
                    k = int(u[i] * n_in)
                    if k >= n_in:
                        k = n_in - 1
                    for r in range(routable.shape[0]):
                        j = routable[r]
                        if inst_ready[j] <= a < inst_retire[j]:
                            if k == 0:
                                q = j
                                break
                            k -= 1
            else:
                best = -1
                for r in range(routable.shape[0]):
                    j = routable[r]
                    if inst_ready[j] <= a < inst_retire[j]:
                        if q_len[j] > 0:
                            _drain(j, a, False, mode, conc, timeout, heap, hsize, avail, retire,
                                   jobend, q_arr, q_svc, q_gid, q_head, q_len, win, totals,
                                   hist, edges, lut, lut_e0, whist, window_s, nw, rec_f, rec_i,
                                   rec_n)
                        out = q_len[j]
                        for m in range(j * conc, (j + 1) * conc):
                            if jobend[m] > a:
                                out += 1
                        if best < 0 or out < best:
                            best = out
                            q = j
        ka = _win(a, window_s, nw)
        if q < 0:
            win[W_ARRIVALS, ka] += 1.0
            win[W_DROPPED, ka] += 1.0
            totals[T_ARRIVALS] += 1.0
            totals[T_DROPPED] += 1.0
            _record_other(gid, -1, math.nan, a, DROPPED, rec_f, rec_i, rec_n)
            i += 1
            continue
        if q_len[q] > 0:
            _drain(q, a, False, mode, conc, timeout, heap, hsize, avail, retire, jobend,
                   q_arr, q_svc, q_gid, q_head, q_len, win, totals, hist, edges, lut,
                   lut_e0, whist, window_s, nw, rec_f, rec_i, rec_n)
        now = False
        sid = -1
        if q_len[q] == 0:
            sid = _live_top(q, heap, hsize, avail, retire, a, shared)
            now = sid >= 0 and avail[sid] <= a
        if (not now) and q_len[q] < qlimit and q_len[q] == cap:
            return i, 1, n_active
        win[W_ARRIVALS, ka] += 1.0
        totals[T_ARRIVALS] += 1.0
        if now:
            _start(q, sid, a, x, a, gid, sid // conc, timeout, heap, hsize, avail, jobend,
                   win, totals, hist, edges, lut, lut_e0, whist, window_s, nw, rec_f, rec_i, rec_n)
        elif q_len[q] >= qlimit:
            win[W_DROPPED, ka] += 1.0
            totals[T_DROPPED] += 1.0
            _record_other(gid, q if not shared else -1, math.nan, a, DROPPED,
                          rec_f, rec_i, rec_n)
        else:
            pos = q_head[q] + q_len[q]
            if pos >= cap:
                pos -= cap
            q_arr[q, pos] = a
            q_svc[q, pos] = x
            q_gid[q, pos] = gid
            q_len[q] += 1
            win[W_ENQ, ka] += 1.0
        i += 1
    # Everything before `until` happens now; later events wait for the next call.
    for q in range(q_len.shape[0]):
        if q_len[q] > 0:
            _drain(q, until, True, mode, conc, timeout, heap, hsize, avail, retire, jobend,
                   q_arr, q_svc, q_gid, q_head, q_len, win, totals, hist, edges, lut,
                   lut_e0, whist, window_s, nw, rec_f, rec_i, rec_n)
    n_active = account_capacity(active, n_active, acc_from, done, ready, retire, jobend, q_len,
                                shared, conc, until, win, window_s)
    return i, 0, n_active


@_JIT
def account_capacity(ids, n_ids, acc_from, done, ready, retire, jobend, q_len, shared, conc,
                     until, win, window_s):
    """Add provisioned server-seconds up to ``until`` (row ``W_CAPACITY_S`` of ``win``) for the
    servers ``ids[:n_ids]``; returns how many are still provisioned, moved to the front of ``ids``.

    A server is provisioned from ``ready`` until ``max(retire, end of its last job)``; the end
    is final once ``retire <= until`` and its instance holds no queued work.
    """
    nw = win.shape[1] - 1
    keep = 0
    for r in range(n_ids):
        sid = ids[r]
        lo = acc_from[sid] if acc_from[sid] > ready[sid] else ready[sid]
        if retire[sid] <= until and (shared or q_len[sid // conc] == 0):
            live_end = retire[sid] if retire[sid] > jobend[sid] else jobend[sid]
            hi = live_end if live_end < until else until
            if hi > lo:
                _add_interval(win, W_CAPACITY_S, lo, hi, window_s, nw)
            if live_end <= until:
                done[sid] = 1
            else:
                acc_from[sid] = until
        else:
            if until > lo:
                _add_interval(win, W_CAPACITY_S, lo, until, window_s, nw)
            acc_from[sid] = until
        if done[sid] == 0:
            ids[keep] = sid
            keep += 1
    return keep


@_JIT
def delta_quantiles(counts, prev, rep, qs, out):
    """Quantiles (``qs``, ascending) of the values added to a histogram since ``prev`` was
    copied from ``counts``, by the lower order statistic as in
    :func:`smsim.core.histogram.quantiles_from_counts`, into ``out`` (NaN when none); then
    ``prev[:] = counts``. Returns the number of values added."""
    n = 0
    for b in range(counts.shape[0]):
        n += counts[b] - prev[b]
    if n == 0:
        for k in range(qs.shape[0]):
            out[k] = math.nan
        return 0
    k = 0
    cum = 0
    rank = math.floor(qs[0] * (n - 1))
    for b in range(counts.shape[0]):
        cum += counts[b] - prev[b]
        prev[b] = counts[b]
        while k < qs.shape[0] and cum > rank:
            out[k] = rep[b]
            k += 1
            if k < qs.shape[0]:
                rank = math.floor(qs[k] * (n - 1))
    return n


_unused = np  # numpy is imported for the jitted twin's array typing
