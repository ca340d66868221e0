"""Run many (scenario, seed) pairs in worker processes, with results independent of ``jobs``.

``run_scenario`` is pure in (scenario, seed), so the only thing parallelism could change is the
order results arrive in; results are keyed by task and reassembled in task order, so any
``jobs`` gives identical output. Finished runs are handed to ``on_done`` as they complete (the
store records them immediately, so an interrupted batch keeps what finished).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from smsim.errors import InputError


def _run_one(scenario, seed: int):
    from smsim.api import run_scenario

    return run_scenario(scenario, seed=seed)


def resolve_jobs(jobs: int | None) -> int:
    """``jobs`` workers; 0 or None means one per CPU."""
    if jobs is None or jobs == 0:
        return max(1, os.cpu_count() or 1)
    if jobs < 0:
        raise InputError(f"--jobs must be >= 0, found {jobs}")
    return jobs


def run_tasks(tasks: Sequence[tuple[Hashable, Any, int]], *, jobs: int | None = 1,
              on_done: Callable[[Hashable, Any], None] | None = None,
              progress: Callable[[float], None] | None = None) -> dict[Hashable, Any]:
    """Run ``(key, scenario, seed)`` tasks; returns ``{key: RunResult}`` in task order.

    With ``jobs == 1`` everything runs in this process (no pickling, easy debugging).
    """
    jobs = resolve_jobs(jobs)
    results: dict[Hashable, Any] = {}
    total = max(len(tasks), 1)

    def done(key, result) -> None:
        results[key] = result
        if on_done is not None:
            on_done(key, result)
        if progress is not None:
            progress(len(results) / total)

    if jobs == 1 or len(tasks) <= 1:
        for key, scenario, seed in tasks:
            done(key, _run_one(scenario, seed))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            pending = {pool.submit(_run_one, scenario, seed): key for key, scenario, seed in tasks}
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        key = pending.pop(fut)
                        done(key, fut.result())
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
    return {key: results[key] for key, _, _ in tasks}
