"""Run many (scenario, seed) pairs on an executor, with results independent of where they run.

``run_scenario`` is pure in (scenario, seed), so the only thing parallelism could change is the
order results arrive in; results are keyed by task and reassembled in task order, so any
``jobs`` or Dask cluster gives identical output. Finished runs are handed to ``on_done`` as they
complete (the store records them immediately, so an interrupted batch keeps what finished).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from smsim.executor import executor, resolve_jobs


def _run_one(scenario, seed: int, catalog=None):
    from smsim.api import run_scenario

    return run_scenario(scenario, seed=seed, catalog=catalog)


def run_tasks(tasks: Sequence[tuple[Hashable, Any, int]], *, jobs: int | None = 1, scheduler: Any = None,
              on_done: Callable[[Hashable, Any], None] | None = None,
              progress: Callable[[float], None] | None = None,
              describe: Callable[[Hashable], str] | None = None) -> dict[Hashable, Any]:
    """Run ``(key, scenario, seed)`` tasks; returns ``{key: RunResult}`` in task order.

    With ``jobs == 1`` and no scheduler everything runs in this process (no pickling, easy
    debugging). The price catalog is loaded once here and shipped with the tasks (scattered once
    per worker on Dask).
    """
    from smsim.api import catalog_for

    seeds = {key: seed for key, _, seed in tasks}
    what = describe or (lambda key: f"{key!r} (seed {seeds[key]})")
    with executor(jobs, scheduler) as ex:
        catalogs: dict[int, Any] = {}
        if ex.kind == "dask":  # local processes load it once each (cached)
            for _, scenario, _ in tasks:
                if id(scenario) not in catalogs:
                    catalogs[id(scenario)] = catalog_for(scenario)
        calls = [(key, (scenario, seed, catalogs.get(id(scenario)))) for key, scenario, seed in tasks]
        return ex.map(_run_one, calls, on_done=on_done, progress=progress, describe=what)


__all__ = ["resolve_jobs", "run_tasks"]
