"""Which model copy takes a request: a pure function of the copies' loads and prefix matches.

* ``least_outstanding``: the copy with the fewest outstanding requests (running, preempted and
  waiting), SageMaker's LEAST_OUTSTANDING_REQUESTS;
* ``prefix_aware``: the copy caching the longest leading run of the request's prompt blocks,
  then the least outstanding; only copies within :data:`PREFIX_LOAD_SLACK` requests of the least
  loaded one count their match, so a popular prefix cannot pile every request onto one copy
  (cache-aware routers such as SGLang's keep a balance threshold for the same reason);
* ``round_robin``: the next copy in turn.

Ties go to the lowest copy index, so runs are deterministic. The compiled loop inlines the same.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Outstanding requests above the least loaded copy beyond which a prefix match is ignored.
PREFIX_LOAD_SLACK = 8


def choose(policy: str, loads: Sequence[int], matches: Sequence[int], rr: list[int]) -> int:
    """Index into the candidate copies (non-empty). ``rr`` is the round-robin counter (updated)."""
    if policy == "round_robin":
        i = rr[0] % len(loads)
        rr[0] += 1
        return i
    low = min(loads)

    def match(i: int) -> int:
        return matches[i] if policy == "prefix_aware" and loads[i] <= low + PREFIX_LOAD_SLACK else 0

    best = 0
    for i in range(1, len(loads)):
        if match(i) > match(best) or (match(i) == match(best) and loads[i] < loads[best]):
            best = i
    return best


__all__ = ["choose"]
