# ruff: noqa: PLR0912, PLR0913, PLR0915, C901  (one flat loop, compiled by numba)
"""The serving engine's hot loop: every model copy of an endpoint, iteration by iteration.

Written once in plain Python over numpy arrays and compiled with ``numba.njit`` by
:mod:`smsim.resources.llm.engine` (which owns the arrays; their layout and the helpers are in
:mod:`._loop_parts`). The scheduling rules are those of :mod:`smsim.resources.llm.scheduler`
(vLLM's, with chunked prefill), inlined here so a step costs no Python call;
:mod:`smsim.resources.llm.reference` is the plain, object-per-request twin that the tests hold
this loop to.
"""

import math

_JIT = globals().get("_JIT", None)
if _JIT is None:

    def _JIT(f):
        return f


#: the helpers: their compiled twin when this module is compiled (injected as ``_PARTS``)
_PARTS = globals().get("_PARTS", None)
if _PARTS is None:
    from smsim.resources.llm import _loop_parts as _PARTS

from smsim.resources.llm._loop_parts import (  # noqa: E402  (plain ints, the same in both twins)
    A_BUSY,
    A_CONC,
    A_ITL_SUM,
    A_TLAST,
    CF_BUCKET,
    CF_END,
    CF_GAP,
    CF_NEXT,
    CF_READY,
    CI_INSTEP,
    CI_PRE,
    CI_RUN,
    CI_USED,
    CI_WHEAD,
    CI_WLEN,
    K_ARRIVALS,
    K_DONE,
    K_HIT,
    K_OVER,
    K_PEAK_BLOCKS,
    K_PREEMPT,
    K_PREFILL_DONE,
    K_REJECT_FULL,
    K_REJECT_LONG,
    K_REJECT_NOCAP,
    K_SERVED,
    K_STEPS,
    K_TIMED_OUT,
    K_TOKENS_IN,
    K_TOKENS_OUT,
    PREFIX_AWARE,
    PREFIX_SLACK,
    RF_ARR,
    RF_FIRST,
    RF_LAST,
    RI_BLOCKS,
    RI_CACHE,
    RI_GEN,
    RI_GIDX,
    RI_ITL_OVER,
    RI_OUT,
    RI_PROMPT,
    RI_SCHED,
    RI_STARTED,
    RI_TARGET,
    ROUND_ROBIN,
)

step_time = _PARTS.step_time
prefix_match = _PARTS.prefix_match
evict = _PARTS.evict
cache_insert = _PARTS.cache_insert
bucket = _PARTS.bucket
blocks_for = _PARTS.blocks_for
heap_fix = _PARTS.heap_fix


@_JIT
def finish_step(c, t, cf, ci, run, rf, ri, free, nfree, hflat, hoff, ehash, elast, k, acc,
                done_f, done_i, cap_blocks, ent_blocks, caching, itl_counts, itl_edges, itl_thr, n_thr):
    """Apply the step that ends at ``t`` on copy ``c``: tokens emitted (each gap since the
    sequence's previous token into the inter-token histogram, and counted against the request's
    ITL thresholds ``itl_thr[:n_thr]`` for goodput), requests finished."""
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
                    for j in range(n_thr):
                        if gap > itl_thr[j]:
                            ri[s, RI_ITL_OVER + j] += 1
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
            for j in range(n_thr):
                done_i[m, 3 + j] = ri[s, RI_ITL_OVER + j]
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
def advance(until, n_copies, arr_t, arr_p, arr_o, arr_g, cf, ci, run, pre, wq, rf, ri, free, nfree,
            hflat, hoff, ehash, elast, k, acc, done_f, done_i, rr, in_system,
            kind, pieces, gp, gd, table, max_seqs, max_tokens, bs, cap_blocks, ent_blocks,
            hit_tokens_per_entry, caching, timeout_s, queue_limit, policy, watermark, heap, pos, itl_counts,
            itl_edges, itl_thr, n_thr):
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
                    if policy == PREFIX_AWARE and caching and load <= min_load + PREFIX_SLACK:
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
            for j in range(n_thr):
                ri[s, RI_ITL_OVER + j] = 0
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
                                         acc, done_f, done_i, cap_blocks, ent_blocks, caching, itl_counts, itl_edges,
                                         itl_thr, n_thr)
            in_system -= start_step(c, t, cf, ci, run, pre, wq, rf, ri, free, nfree, hflat, hoff, ehash, elast,
                                    k, acc, kind, pieces, gp, gd, table, max_seqs, max_tokens, bs, cap_blocks,
                                    ent_blocks, hit_tokens_per_entry, caching, timeout_s, watermark)
            heap_fix(cf, heap, pos, n_copies, c)
    acc[A_CONC] += in_system * (until - acc[A_TLAST])
    acc[A_TLAST] = until
    return in_system
