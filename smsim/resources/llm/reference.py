"""A plain twin of the serving engine: objects and lists, one request at a time.

Slow and obvious, it implements the rules stated in :mod:`smsim.resources.llm.engine` with the
pure decisions of :mod:`.scheduler` and :mod:`.routing`, so that the tests can hold the compiled
loop to it on small cases (same finish times, same counters). Arrivals are all known up front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from smsim.resources.llm import routing, scheduler


@dataclass
class Req:
    arrival_s: float
    prompt: int
    out: int
    index: int
    gen: int = 0
    cache: int = 0
    target: int = 0
    blocks: int = 0
    sched: int = 0
    first_s: float = -1.0
    last_s: float = -1.0
    over: list = field(default_factory=list)  # gaps above each ITL threshold


@dataclass
class Copy:
    ready_s: float
    end_s: float = math.inf
    running: list = field(default_factory=list)
    preempted: list = field(default_factory=list)  # stack: last = most recent
    waiting: list = field(default_factory=list)  # FIFO
    used: int = 0
    next_s: float = math.inf
    in_step: bool = False
    cache: dict = field(default_factory=dict)  # hash -> last use


def simulate(arrivals, copies_ready_s, step_time, *, cap_blocks, max_seqs=256, max_tokens=8192, bs=16,
             queue_limit=1024, timeout_s=60.0, policy="least_outstanding", hashes=None, prefix_block_tokens=512,
             until_s=math.inf, watermark=0, itl_thresholds_s=()):
    """``arrivals``: ``(t, prompt, out)`` sorted; ``hashes``: per-request hash lists (prefix
    caching on when given). Returns ``(finished [(arrival, first, finish, prompt, out)], counters)``;
    with ``itl_thresholds_s`` each finished tuple ends with the request's count of gaps above each."""
    copies = [Copy(r) for r in copies_ready_s]
    cnt = dict.fromkeys(("served", "timed_out", "rejected", "preemptions", "hit", "steps"), 0)
    cnt["itl"] = []  # every gap between two consecutive tokens of a sequence
    done: list[tuple] = []
    ent_blocks = max(1, prefix_block_tokens // bs)
    caching = hashes is not None
    rr = [0]

    def evict(cp):
        while cp.cache and cp.used + len(cp.cache) * ent_blocks > cap_blocks:
            del cp.cache[min(cp.cache, key=lambda h: (cp.cache[h], h))]

    def match(cp, i):
        n = 0
        for h in hashes[i] if caching else ():
            if h not in cp.cache:
                break
            n += 1
        return n

    def finish(cp, t):
        for r in list(cp.running):
            if r.sched == 0:
                continue
            prefill = r.cache < r.target
            r.cache += r.sched
            r.sched = 0
            if prefill and r.cache < r.target:
                continue
            r.gen += 1
            if r.first_s >= 0:
                cnt["itl"].append(t - r.last_s)
                for j, thr in enumerate(itl_thresholds_s):
                    r.over[j] += (t - r.last_s) > thr
            r.last_s = t
            if prefill and r.first_s < 0:
                r.first_s = t
                if caching:
                    for h in hashes[r.index]:
                        cp.cache[h] = t
                    evict(cp)
            if r.gen >= r.out:
                cp.running.remove(r)
                cp.used -= r.blocks
                cnt["served"] += 1
                done.append((r.arrival_s, r.first_s, t, r.prompt, r.out) + tuple(r.over))
        cp.in_step = False

    def start(cp, t):
        while cp.waiting and t - cp.waiting[0].arrival_s > timeout_s:
            cp.waiting.pop(0)
            cnt["timed_out"] += 1
        plan = scheduler.Budget(max_tokens)
        p = d = kv = 0
        q = 0
        while q < len(cp.running):
            r = cp.running[q]
            n = scheduler.tokens_wanted(r.cache, r.target, plan.tokens)
            if n <= 0:
                break
            need = scheduler.blocks_for(r.cache + n, bs) - r.blocks
            victim = None
            while need > cap_blocks - cp.used:
                victim = cp.running[scheduler.preemption_victim(len(cp.running))]
                cp.running.remove(victim)
                cp.used -= victim.blocks
                victim.blocks = victim.cache = victim.sched = 0
                cp.preempted.append(victim)
                cnt["preemptions"] += 1
                if victim is r:
                    break
            if victim is r:
                break
            r.blocks += need
            cp.used += need
            r.sched = n
            kv += r.cache
            plan.tokens -= n
            if r.cache >= r.target:
                d += 1
            else:
                p += n
            q += 1
        while plan.tokens > 0 and len(cp.running) < max_seqs and (cp.preempted or cp.waiting):
            r = cp.preempted[-1] if cp.preempted else cp.waiting[0]
            target = r.prompt + r.gen
            hit = scheduler.prefix_hit_tokens(match(cp, r.index), prefix_block_tokens, target) if r.gen == 0 and caching else 0
            n = min(target - hit, plan.tokens)
            need = scheduler.blocks_for(target, bs)
            if not scheduler.can_admit(need, cap_blocks - cp.used, watermark):
                break
            if hit:
                for h in hashes[r.index][: match(cp, r.index)]:
                    cp.cache[h] = t
                cnt["hit"] += hit
            (cp.preempted.pop() if cp.preempted else cp.waiting.pop(0))
            r.target, r.cache, r.blocks, r.sched = target, hit, need, n
            cp.used += need
            cp.running.append(r)
            kv += hit
            p += n
            plan.tokens -= n
        if caching:
            evict(cp)
        if p + d == 0:
            cp.next_s = math.inf
            return
        cp.in_step = True
        cp.next_s = t + max(step_time(p, d, kv), 1e-9)
        cnt["steps"] += 1

    i = 0
    while True:
        t_arr = arrivals[i][0] if i < len(arrivals) else math.inf
        nxt = min(range(len(copies)), key=lambda c: (copies[c].next_s, c), default=None)
        tb = copies[nxt].next_s if nxt is not None else math.inf
        t = min(t_arr, tb)
        if t >= until_s or t == math.inf:
            break
        if t_arr <= tb:
            ta, prompt, out = arrivals[i]
            r = Req(ta, int(prompt), int(out), i, over=[0] * len(itl_thresholds_s))
            i += 1
            ok = [c for c, cp in enumerate(copies) if cp.ready_s <= ta < cp.end_s]
            if scheduler.blocks_for(r.prompt + r.out, bs) + watermark > cap_blocks or not ok:
                cnt["rejected"] += 1
                continue
            loads = [len(copies[c].running) + len(copies[c].preempted) + len(copies[c].waiting) for c in ok]
            matches = [match(copies[c], r.index) if policy == "prefix_aware" else 0 for c in ok]
            c = ok[routing.choose(policy, loads, matches, rr)]
            cp = copies[c]
            if len(cp.waiting) >= queue_limit:
                cnt["rejected"] += 1
                continue
            cp.waiting.append(r)
            if cp.next_s == math.inf:
                cp.next_s = ta
        else:
            cp = copies[nxt]
            if cp.in_step:
                finish(cp, tb)
            start(cp, tb)
    return done, cnt


__all__ = ["simulate"]
