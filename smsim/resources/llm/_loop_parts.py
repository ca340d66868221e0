# ruff: noqa: PLR0913  (array-passing helpers, compiled by numba)
"""The serving engine loop's building blocks: the layout of its state arrays, the step-time
evaluation, the prefix cache, the inter-token histogram's bucket search and the heap of copies.

Plain Python over numpy arrays, compiled by :mod:`smsim.resources.llm.engine` (``_JIT`` is
injected before execution) together with :mod:`._loop`, which runs them.
"""


_JIT = globals().get("_JIT", None)
if _JIT is None:

    def _JIT(f):
        return f


# copy float columns
CF_READY = 0
CF_END = 1
CF_NEXT = 2
CF_GAP = 3  # the copy's last inter-token gap binned, and its bucket (most gaps of a step are equal)
CF_BUCKET = 4
N_CF = 5
# copy int columns
CI_RUN = 0  # running sequences
CI_USED = 1  # KV blocks held by running sequences
CI_PRE = 2  # preempted (stack)
CI_WHEAD = 3  # waiting ring head
CI_WLEN = 4
CI_INSTEP = 5
CI_NENT = 6  # prefix-cache entries
N_CI = 7
# request float columns
RF_ARR = 0
RF_FIRST = 1
RF_LAST = 2  # time of the last token emitted
N_RF = 3
# request int columns
RI_PROMPT = 0
RI_OUT = 1
RI_GEN = 2
RI_CACHE = 3
RI_TARGET = 4
RI_BLOCKS = 5
RI_SCHED = 6
RI_STARTED = 7
RI_GIDX = 8
RI_ITL_OVER = 9  # gaps above each of the (up to) three per-request ITL thresholds: columns 9, 10, 11
N_ITL = 3
N_RI = 12
# counters (int64)
K_ARRIVALS = 0
K_SERVED = 1
K_TIMED_OUT = 2
K_REJECT_FULL = 3
K_REJECT_NOCAP = 4
K_REJECT_LONG = 5
K_PREEMPT = 6
K_TOKENS_IN = 7  # prompt tokens of served requests
K_TOKENS_OUT = 8
K_PREFILL_DONE = 9  # prefill tokens computed (incl. recompute)
K_HIT = 10  # prompt tokens served from the prefix cache
K_STEPS = 11
K_PEAK_BLOCKS = 12  # most blocks held by running sequences on one copy
K_OVER = 13  # times a copy held more blocks than it has (must stay 0)
K_DONE = 14  # completions written to the output buffer in this call
N_K = 15
# float accumulators
A_CONC = 0  # integral of requests in the system dt
A_BUSY = 1  # integral of copies stepping dt (credited at step start)
A_TLAST = 2
A_ITL_SUM = 3  # sum of inter-token gaps (s)
N_A = 4
from smsim.resources.llm.routing import PREFIX_LOAD_SLACK as PREFIX_SLACK  # noqa: E402, F401

# routing policies
LEAST_OUTSTANDING = 0
PREFIX_AWARE = 1
ROUND_ROBIN = 2


@_JIT
def bracket(grid, x):
    """The cell of a sorted ``grid`` that holds ``x`` and ``x``'s weight towards its upper edge
    (extrapolating past the ends; a one-point grid gives cell 0, weight 0)."""
    n = grid.shape[0]
    if n <= 1:
        return 0, 0.0
    i = n - 2
    for k in range(n - 1):
        if x < grid[k + 1]:
            i = k
            break
    return i, (x - grid[i]) / (grid[i + 1] - grid[i])


@_JIT
def step_time(kind, pieces, gp, gd, table, p, d, kv):
    """The step model's arrays evaluated at one step (see profile.StepForm)."""
    if kind == 2:
        # roofline (smsim.resources.llm.roofline, one prefill sequence per step with prefill)
        tokens = p + d
        if tokens <= 0:
            return 0.0
        n_pre = 1.0 if p > 0 else 0.0
        read = pieces[0, 2]
        if pieces[0, 5] > 0:
            read += pieces[0, 3] * (1.0 - pieces[0, 4] ** tokens)
        compute = pieces[0, 0] * tokens + pieces[0, 1] * (d + n_pre)
        pairs = kv + (p * p / 2.0 if n_pre > 0 else 0.0)
        attention = pieces[0, 6] * pairs
        kv_read = pieces[0, 7] * (kv + tokens)
        if kv_read > attention:
            attention = kv_read
        if read > compute:
            compute = read
        return compute + attention + pieces[0, 9] + pieces[0, 10] * tokens + pieces[0, 8]
    if kind == 0:
        best = -1.0
        for r in range(pieces.shape[0]):
            v = pieces[r, 0] + pieces[r, 1] * p + pieces[r, 2] * d + pieces[r, 3] * kv
            if v > best:
                best = v
        return best
    np_, nd = gp.shape[0], gd.shape[0]
    i, wi = bracket(gp, p)
    j, wj = bracket(gd, d)
    if np_ > 1:
        r0 = table[i, j] * (1 - wi) + table[i + 1, j] * wi
        r1 = table[i, j + 1] * (1 - wi) + table[i + 1, j + 1] * wi if nd > 1 else r0
    else:
        r0 = table[0, j]
        r1 = table[0, j + 1] if nd > 1 else r0
    if nd > 1:
        return r0 * (1 - wj) + r1 * wj
    return r0


@_JIT
def cache_entry(c, block_hash, ehash, ci):
    """The index of ``block_hash`` among copy ``c``'s cached entries, or -1."""
    for e in range(ci[c, CI_NENT]):
        if ehash[c, e] == block_hash:
            return e
    return -1


@_JIT
def prefix_match(c, g, hflat, hoff, ehash, elast, ci, now, touch):
    """Leading hash blocks of request ``g`` cached on copy ``c`` (optionally marking them used)."""
    n = 0
    if g < 0:
        return 0
    for h in range(hoff[g], hoff[g + 1]):
        found = cache_entry(c, hflat[h], ehash, ci)
        if found < 0:
            break
        if touch:
            elast[c, found] = now
        n += 1
    return n


@_JIT
def evict(c, ci, ehash, elast, cap_blocks, ent_blocks):
    """Drop least recently used cache entries until running blocks plus cached ones fit."""
    while ci[c, CI_NENT] > 0 and ci[c, CI_USED] + ci[c, CI_NENT] * ent_blocks > cap_blocks:
        lru = 0
        for e in range(1, ci[c, CI_NENT]):
            if elast[c, e] < elast[c, lru] or (elast[c, e] == elast[c, lru] and ehash[c, e] < ehash[c, lru]):
                lru = e
        last = ci[c, CI_NENT] - 1
        ehash[c, lru] = ehash[c, last]
        elast[c, lru] = elast[c, last]
        ci[c, CI_NENT] = last


@_JIT
def cache_insert(c, g, hflat, hoff, ehash, elast, ci, now, cap_blocks, ent_blocks):
    if g < 0:
        return
    for h in range(hoff[g], hoff[g + 1]):
        found = cache_entry(c, hflat[h], ehash, ci)
        if found >= 0:
            elast[c, found] = now
        elif ci[c, CI_NENT] < ehash.shape[1]:
            e = ci[c, CI_NENT]
            ehash[c, e] = hflat[h]
            elast[c, e] = now
            ci[c, CI_NENT] = e + 1
    evict(c, ci, ehash, elast, cap_blocks, ent_blocks)


@_JIT
def bucket(edges, x):
    """The histogram bucket of ``x``: the last ``k`` with ``edges[k] <= x`` (as core.histogram)."""
    lo = 0
    hi = edges.shape[0] - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if edges[mid] <= x:
            lo = mid
        else:
            hi = mid - 1
    return lo


@_JIT
def blocks_for(tokens, bs):
    return (tokens + bs - 1) // bs


@_JIT
def _before(cf, a, b):
    """Copy ``a`` steps before copy ``b``: earlier next step, then lower index."""
    ta = cf[a, CF_NEXT]
    tb = cf[b, CF_NEXT]
    return ta < tb or (ta == tb and a < b)


@_JIT
def heap_fix(cf, heap, pos, n, c):
    """Restore the heap of copies (keyed by next step time) after copy ``c``'s key changed."""
    i = pos[c]
    while i > 0:
        parent = (i - 1) // 2
        if not _before(cf, heap[i], heap[parent]):
            break
        heap[i], heap[parent] = heap[parent], heap[i]
        pos[heap[i]] = i
        pos[heap[parent]] = parent
        i = parent
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        m = left
        if left + 1 < n and _before(cf, heap[left + 1], heap[left]):
            m = left + 1
        if not _before(cf, heap[m], heap[i]):
            break
        heap[i], heap[m] = heap[m], heap[i]
        pos[heap[i]] = i
        pos[heap[m]] = m
        i = m
