# ruff: noqa: PLR0912, PLR0913, PLR0915, C901  (one flat loop, compiled by numba)
"""The serving engine's hot loop: every model copy of an endpoint, iteration by iteration.

Written once in plain Python over numpy arrays and compiled with ``numba.njit`` by
:mod:`smsim.resources.llm.engine` (which owns the arrays and documents their layout). The
scheduling rules are those of :mod:`smsim.resources.llm.scheduler` (vLLM's, with chunked
prefill), inlined here so a step costs no Python call; :mod:`smsim.resources.llm.reference`
is the plain, object-per-request twin that the tests hold this loop to.
"""

import math

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
N_RI = 9
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
#: prefix-aware routing prefers a cached prefix only on copies within this many requests of the
#: least loaded one (else load balance wins, as cache-aware routers' balance thresholds do)
prefix_slack = 8
# routing policies
LEAST_OUTSTANDING = 0
PREFIX_AWARE = 1
ROUND_ROBIN = 2


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
    i = 0
    wi = 0.0
    if np_ > 1:
        i = np_ - 2
        for k in range(np_ - 1):
            if p < gp[k + 1]:
                i = k
                break
        wi = (p - gp[i]) / (gp[i + 1] - gp[i])
    j = 0
    wj = 0.0
    if nd > 1:
        j = nd - 2
        for k in range(nd - 1):
            if d < gd[k + 1]:
                j = k
                break
        wj = (d - gd[j]) / (gd[j + 1] - gd[j])
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
def prefix_match(c, g, hflat, hoff, ehash, elast, ci, now, touch):
    """Leading hash blocks of request ``g`` cached on copy ``c`` (optionally marking them used)."""
    n = 0
    if g < 0:
        return 0
    for h in range(hoff[g], hoff[g + 1]):
        found = -1
        for e in range(ci[c, CI_NENT]):
            if ehash[c, e] == hflat[h]:
                found = e
                break
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
        found = -1
        for e in range(ci[c, CI_NENT]):
            if ehash[c, e] == hflat[h]:
                found = e
                break
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
def finish_step(c, t, cf, ci, run, rf, ri, free, nfree, hflat, hoff, ehash, elast, k, acc,
                done_f, done_i, cap_blocks, ent_blocks, caching, itl_counts, itl_edges):
    """Apply the step that ends at ``t`` on copy ``c``: tokens emitted (each gap since the
    sequence's previous token into the inter-token histogram), requests finished."""
    keep = 0
    tokens_out = 0
    itl_sum = 0.0
    for q in range(ci[c, CI_RUN]):
        s = run[c, q]
        n = ri[s, RI_SCHED]
        done = False
        if n > 0:
            prefill = ri[s, RI_CACHE] < ri[s, RI_TARGET]
            ri[s, RI_CACHE] += n
            ri[s, RI_SCHED] = 0
            emit = (not prefill) or ri[s, RI_CACHE] >= ri[s, RI_TARGET]
            if prefill:
                k[K_PREFILL_DONE] += n
            if emit:
                ri[s, RI_GEN] += 1
                tokens_out += 1
                if rf[s, RF_FIRST] >= 0:
                    gap = t - rf[s, RF_LAST]
                    if gap != cf[c, CF_GAP]:
                        cf[c, CF_GAP] = gap
                        cf[c, CF_BUCKET] = bucket(itl_edges, gap)
                    itl_counts[int(cf[c, CF_BUCKET])] += 1
                    itl_sum += gap
                rf[s, RF_LAST] = t
                if prefill and rf[s, RF_FIRST] < 0:
                    rf[s, RF_FIRST] = t
                    if caching:
                        cache_insert(c, ri[s, RI_GIDX], hflat, hoff, ehash, elast, ci, t, cap_blocks, ent_blocks)
                if ri[s, RI_GEN] >= ri[s, RI_OUT]:
                    done = True
        if done:
            m = k[K_DONE]
            done_f[m, 0] = rf[s, RF_ARR]
            done_f[m, 1] = rf[s, RF_FIRST]
            done_f[m, 2] = t
            done_i[m, 0] = ri[s, RI_PROMPT]
            done_i[m, 1] = ri[s, RI_OUT]
            done_i[m, 2] = ri[s, RI_GIDX]
            k[K_DONE] = m + 1
            k[K_SERVED] += 1
            k[K_TOKENS_IN] += ri[s, RI_PROMPT]
            ci[c, CI_USED] -= ri[s, RI_BLOCKS]
            free[nfree[0]] = s
            nfree[0] += 1
        else:
            run[c, keep] = s
            keep += 1
    k[K_TOKENS_OUT] += tokens_out
    acc[A_ITL_SUM] += itl_sum
    removed = ci[c, CI_RUN] - keep
    ci[c, CI_RUN] = keep
    ci[c, CI_INSTEP] = 0
    return removed


@_JIT
def blocks_for(tokens, bs):
    return (tokens + bs - 1) // bs


@_JIT
def start_step(c, t, cf, ci, run, pre, wq, rf, ri, free, nfree, hflat, hoff, ehash, elast, k, acc,
               kind, pieces, gp, gd, table, max_seqs, max_tokens, bs, cap_blocks, ent_blocks,
               hit_tokens_per_entry, caching, timeout_s, watermark):
    """Schedule the next step of copy ``c`` at ``t`` (vLLM: running first, in admission order,
    preempting the most recently admitted on a full cache; then preempted, then waiting FIFO,
    each admitted only when the blocks of its whole prompt fit above the watermark).
    Returns the number of requests that left (timed out)."""
    left = 0
    qcap = wq.shape[1]
    # timeouts: never-scheduled requests at the head of the FIFO
    while ci[c, CI_WLEN] > 0:
        s = wq[c, ci[c, CI_WHEAD]]
        if t - rf[s, RF_ARR] <= timeout_s:
            break
        ci[c, CI_WHEAD] = (ci[c, CI_WHEAD] + 1) % qcap
        ci[c, CI_WLEN] -= 1
        k[K_TIMED_OUT] += 1
        free[nfree[0]] = s
        nfree[0] += 1
        left += 1
    budget = max_tokens
    p_tok = 0
    d_seq = 0
    kv = 0
    q = 0
    while q < ci[c, CI_RUN]:
        s = run[c, q]
        decode = ri[s, RI_CACHE] >= ri[s, RI_TARGET]
        n = min(1 if decode else ri[s, RI_TARGET] - ri[s, RI_CACHE], budget)
        if n <= 0:
            break
        need = 0
        if ri[s, RI_CACHE] + n > ri[s, RI_BLOCKS] * bs:  # (no division on the common path)
            need = blocks_for(ri[s, RI_CACHE] + n, bs) - ri[s, RI_BLOCKS]
        preempted_self = False
        while need > cap_blocks - ci[c, CI_USED]:
            v = run[c, ci[c, CI_RUN] - 1]
            ci[c, CI_RUN] -= 1
            ci[c, CI_USED] -= ri[v, RI_BLOCKS]
            ri[v, RI_BLOCKS] = 0
            ri[v, RI_CACHE] = 0
            ri[v, RI_SCHED] = 0
            pre[c, ci[c, CI_PRE]] = v
            ci[c, CI_PRE] += 1
            k[K_PREEMPT] += 1
            if v == s:
                preempted_self = True
                break
        if preempted_self:
            break
        ri[s, RI_BLOCKS] += need
        ci[c, CI_USED] += need
        ri[s, RI_SCHED] = n
        kv += ri[s, RI_CACHE]
        budget -= n
        if decode:
            d_seq += 1
        else:
            p_tok += n
        q += 1
    # admissions: preempted (most recent first), then waiting in arrival order
    while budget > 0 and ci[c, CI_RUN] < max_seqs:
        from_pre = ci[c, CI_PRE] > 0
        if from_pre:
            s = pre[c, ci[c, CI_PRE] - 1]
        elif ci[c, CI_WLEN] > 0:
            s = wq[c, ci[c, CI_WHEAD]]
        else:
            break
        target = ri[s, RI_PROMPT] + ri[s, RI_GEN]
        hit = 0
        if caching and ri[s, RI_GEN] == 0:
            hit = prefix_match(c, ri[s, RI_GIDX], hflat, hoff, ehash, elast, ci, t, False) * hit_tokens_per_entry
            if hit > target - 1:
                hit = target - 1
        n = min(target - hit, budget)
        need = blocks_for(target, bs)
        if need + watermark > cap_blocks - ci[c, CI_USED]:
            break
        if hit > 0:
            prefix_match(c, ri[s, RI_GIDX], hflat, hoff, ehash, elast, ci, t, True)
            k[K_HIT] += hit
        if from_pre:
            ci[c, CI_PRE] -= 1
        else:
            ci[c, CI_WHEAD] = (ci[c, CI_WHEAD] + 1) % qcap
            ci[c, CI_WLEN] -= 1
        ri[s, RI_TARGET] = target
        ri[s, RI_CACHE] = hit
        ri[s, RI_BLOCKS] = need
        ri[s, RI_SCHED] = n
        ri[s, RI_STARTED] = 1
        ci[c, CI_USED] += need
        run[c, ci[c, CI_RUN]] = s
        ci[c, CI_RUN] += 1
        kv += hit
        p_tok += n
        budget -= n
    if ci[c, CI_USED] > k[K_PEAK_BLOCKS]:
        k[K_PEAK_BLOCKS] = ci[c, CI_USED]
    if ci[c, CI_USED] > cap_blocks:
        k[K_OVER] += 1
    if caching:
        evict(c, ci, ehash, elast, cap_blocks, ent_blocks)
    if p_tok + d_seq == 0:
        cf[c, CF_NEXT] = math.inf
        return left
    dt = step_time(kind, pieces, gp, gd, table, p_tok, d_seq, kv)
    if dt < 1e-9:
        dt = 1e-9
    ci[c, CI_INSTEP] = 1
    cf[c, CF_NEXT] = t + dt
    acc[A_BUSY] += dt
    k[K_STEPS] += 1
    return left


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


@_JIT
def advance(until, n_copies, arr_t, arr_p, arr_o, arr_g, cf, ci, run, pre, wq, rf, ri, free, nfree,
            hflat, hoff, ehash, elast, k, acc, done_f, done_i, rr, in_system,
            kind, pieces, gp, gd, table, max_seqs, max_tokens, bs, cap_blocks, ent_blocks,
            hit_tokens_per_entry, caching, timeout_s, queue_limit, policy, watermark, heap, pos, itl_counts,
            itl_edges):
    """Run every copy and route every arrival of ``arr_*`` up to ``until`` (events at ``until``
    wait for the next call). Ties: arrivals before step boundaries at the same instant, copies by
    index. Returns the number of requests in the system at ``until``."""
    n_arr = arr_t.shape[0]
    ai = 0
    qcap = wq.shape[1]
    for c in range(n_copies):  # insert one by one (each sifts up)
        heap[c] = c
        pos[c] = c
        heap_fix(cf, heap, pos, c + 1, c)
    while True:
        t_arr = arr_t[ai] if ai < n_arr else math.inf
        cb = heap[0] if n_copies > 0 else -1
        tb = cf[cb, CF_NEXT] if n_copies > 0 else math.inf
        t = t_arr if t_arr <= tb else tb
        if t >= until:
            break
        acc[A_CONC] += in_system * (t - acc[A_TLAST])
        acc[A_TLAST] = t
        if t_arr <= tb:
            g = arr_g[ai]
            prompt = arr_p[ai]
            out = arr_o[ai]
            ai += 1
            k[K_ARRIVALS] += 1
            if blocks_for(prompt + out, bs) + watermark > cap_blocks:
                k[K_REJECT_LONG] += 1
                continue
            best = -1
            best_load = 0
            best_match = -1
            n_ok = 0
            for c in range(n_copies):
                if cf[c, CF_READY] <= t and t < cf[c, CF_END]:
                    n_ok += 1
            if n_ok == 0:
                k[K_REJECT_NOCAP] += 1
                continue
            if policy == ROUND_ROBIN:
                pick = rr[0] % n_ok
                rr[0] += 1
                for c in range(n_copies):
                    if cf[c, CF_READY] <= t and t < cf[c, CF_END]:
                        if pick == 0:
                            best = c
                            break
                        pick -= 1
            else:
                min_load = 1 << 60
                for c in range(n_copies):
                    if cf[c, CF_READY] <= t and t < cf[c, CF_END]:
                        load = ci[c, CI_RUN] + ci[c, CI_PRE] + ci[c, CI_WLEN]
                        if load < min_load:
                            min_load = load
                for c in range(n_copies):
                    if not (cf[c, CF_READY] <= t and t < cf[c, CF_END]):
                        continue
                    load = ci[c, CI_RUN] + ci[c, CI_PRE] + ci[c, CI_WLEN]
                    match = 0
                    if policy == PREFIX_AWARE and caching and load <= min_load + prefix_slack:
                        match = prefix_match(c, g, hflat, hoff, ehash, elast, ci, t, False)
                    if best < 0 or match > best_match or (match == best_match and load < best_load):
                        best = c
                        best_load = load
                        best_match = match
            if ci[best, CI_WLEN] >= queue_limit:
                k[K_REJECT_FULL] += 1
                continue
            nfree[0] -= 1
            s = free[nfree[0]]
            rf[s, RF_ARR] = t
            rf[s, RF_FIRST] = -1.0
            ri[s, RI_PROMPT] = prompt
            ri[s, RI_OUT] = out
            ri[s, RI_GEN] = 0
            ri[s, RI_CACHE] = 0
            ri[s, RI_TARGET] = prompt
            ri[s, RI_BLOCKS] = 0
            ri[s, RI_SCHED] = 0
            ri[s, RI_STARTED] = 0
            ri[s, RI_GIDX] = g
            wq[best, (ci[best, CI_WHEAD] + ci[best, CI_WLEN]) % qcap] = s
            ci[best, CI_WLEN] += 1
            in_system += 1
            if cf[best, CF_NEXT] == math.inf:
                cf[best, CF_NEXT] = t
                heap_fix(cf, heap, pos, n_copies, best)
        else:
            c = cb
            if ci[c, CI_INSTEP] == 1:
                in_system -= finish_step(c, t, cf, ci, run, rf, ri, free, nfree, hflat, hoff, ehash, elast, k,
                                         acc, done_f, done_i, cap_blocks, ent_blocks, caching, itl_counts, itl_edges)
            in_system -= start_step(c, t, cf, ci, run, pre, wq, rf, ri, free, nfree, hflat, hoff, ehash, elast,
                                    k, acc, kind, pieces, gp, gd, table, max_seqs, max_tokens, bs, cap_blocks,
                                    ent_blocks, hit_tokens_per_entry, caching, timeout_s, watermark)
            heap_fix(cf, heap, pos, n_copies, c)
    acc[A_CONC] += in_system * (until - acc[A_TLAST])
    acc[A_TLAST] = until
    return in_system
