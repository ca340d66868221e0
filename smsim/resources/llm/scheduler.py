"""The engine's scheduling decisions as pure functions (vLLM's rules, with chunked prefill).

The compiled loop (:mod:`._loop`) inlines exactly these rules; the plain twin
(:mod:`.reference`) calls them; the tests check them as tables.

* A running sequence wants one token when decoding (its cache holds its whole target), else the
  rest of its prefill, capped by the step's remaining token budget.
* KV memory is allocated in whole blocks: a sequence holding ``cache`` tokens that computes ``n``
  more needs ``ceil((cache + n) / block) - blocks_held`` new blocks.
* When a running sequence cannot get its blocks, the most recently admitted running sequence is
  preempted (its blocks freed, its tokens recomputed when it is admitted again); if that is the
  sequence itself, the step goes on without it.
* A waiting request is admitted only if the blocks of its whole prompt (plus tokens already
  generated, when recomputing) are free above a watermark (vLLM's ``can_allocate``; no preemption
  to admit), in order: preempted first (most recent first), then arrivals first come first served.
  Its later prefill chunks then need no new blocks.
"""

from __future__ import annotations

from dataclasses import dataclass


def blocks_for(tokens: int, block_size: int) -> int:
    """Blocks holding ``tokens`` tokens."""
    return (tokens + block_size - 1) // block_size


def tokens_wanted(cache: int, target: int, budget: int) -> int:
    """Tokens a running sequence computes this step (0: the budget is spent)."""
    want = 1 if cache >= target else target - cache
    return min(want, budget)


def preemption_victim(n_running: int) -> int:
    """Index (in admission order) of the sequence to preempt: the most recently admitted."""
    return n_running - 1


def can_admit(blocks_needed: int, blocks_free: int, watermark_blocks: int = 0) -> bool:
    """Admit when the blocks of the whole prompt fit and ``watermark_blocks`` stay free."""
    return blocks_needed + watermark_blocks <= blocks_free


def prefix_hit_tokens(cached_blocks: int, block_tokens: int, target: int) -> int:
    """Prompt tokens served from the prefix cache: whole cached blocks, leaving one to compute."""
    return max(0, min(cached_blocks * block_tokens, target - 1))


@dataclass
class Budget:
    """Tokens left in the current step."""

    tokens: int


__all__ = ["Budget", "blocks_for", "can_admit", "preemption_victim", "prefix_hit_tokens", "tokens_wanted"]
