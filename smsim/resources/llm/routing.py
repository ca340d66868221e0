"""Which model copy takes a request: a pure function of the copies' loads and prefix matches.

* ``least_outstanding``: the copy with the fewest outstanding requests (running, preempted and
  waiting), SageMaker's LEAST_OUTSTANDING_REQUESTS;
* ``prefix_aware``: the copy caching the longest leading run of the request's prompt blocks,
  then the least outstanding (what LLM-aware routers such as the vLLM production stack do);
* ``round_robin``: the next copy in turn.

Ties go to the lowest copy index, so runs are deterministic. The compiled loop inlines the same.
"""

from __future__ import annotations

from collections.abc import Sequence


def choose(policy: str, loads: Sequence[int], matches: Sequence[int], rr: list[int]) -> int:
    """Index into the candidate copies (non-empty). ``rr`` is the round-robin counter (updated)."""
    if policy == "round_robin":
        i = rr[0] % len(loads)
        rr[0] += 1
        return i
    best = 0
    for i in range(1, len(loads)):
        m = matches[i] if policy == "prefix_aware" else 0
        mb = matches[best] if policy == "prefix_aware" else 0
        if m > mb or (m == mb and loads[i] < loads[best]):
            best = i
    return best


__all__ = ["choose"]
