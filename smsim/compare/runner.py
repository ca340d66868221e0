"""Run many (scenario, seed) pairs on an executor, with results independent of where they run.

``run_scenario`` is pure in (scenario, seed), so the only thing parallelism could change is the
order results arrive in; results are keyed by task and reassembled in task order, so any
``jobs`` or Dask cluster gives identical output. Finished runs are handed to ``on_done`` as they
complete (the store records them immediately, so an interrupted batch keeps what finished).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from smsim.errors import InputError
from smsim.executor import executor, resolve_jobs, task_error
from smsim.inputs import Inputs


def _run_one(scenario, seed: int, catalog=None):
    from smsim.api import run_scenario

    return run_scenario(scenario, seed=seed, catalog=catalog)


def run_tasks(tasks: Sequence[tuple[Hashable, Any, int]], *, jobs: int | None = 1, scheduler: Any = None,
              on_done: Callable[[Hashable, Any], None] | None = None,
              progress: Callable[[float], None] | None = None,
              describe: Callable[[Hashable], str] | None = None) -> dict[Hashable, Any]:
    """Run ``(key, scenario, seed)`` tasks; returns ``{key: RunResult}`` in task order.

    With ``jobs == 1`` and no scheduler everything runs in this process (no pickling, easy
    debugging). On a Dask cluster the files the scenarios read (traces, the price catalog) are
    read here once and shipped once per worker (:func:`smsim.api.read_inputs`).
    """
    from smsim.api import read_inputs
    from smsim.scenario.schema import Scenario

    seeds = {key: seed for key, _, seed in tasks}
    what = describe or (lambda key: f"{key!r} (seed {seeds[key]})")
    with executor(jobs, scheduler) as ex:
        bundle = None
        if ex.kind == "dask":  # local processes read the files themselves (once each, cached)
            bundles = {}
            for key, scenario, _ in tasks:
                if id(scenario) not in bundles and isinstance(scenario, Scenario):
                    try:
                        bundles[id(scenario)] = read_inputs(scenario)
                    except InputError as exc:  # named as the task that would have met it
                        raise task_error(key, what(key), exc) from exc
            bundle = Inputs().merged(*bundles.values())
        calls = [(key, (scenario, seed)) for key, scenario, seed in tasks]
        return ex.map(_run_one, calls, on_done=on_done, progress=progress, describe=what, inputs=bundle)


__all__ = ["resolve_jobs", "run_tasks"]
