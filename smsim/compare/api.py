"""``compare``: run every arm of a what-if on common random numbers and diff it against the base."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smsim.compare.diff import compare_summaries
from smsim.compare.runner import run_tasks
from smsim.errors import InputError
from smsim.rng import replication_seeds
from smsim.scenario.variants import Variant, load_compared


@dataclass
class CompareResult:
    """The comparison document plus what the report needs: per-arm summaries and run ids."""

    document: dict[str, Any]
    arms: list[Variant]
    summaries: dict[str, list[dict[str, Any]]]
    run_ids: dict[str, list[str]] = field(default_factory=dict)
    series: dict[str, dict[str, Any]] = field(default_factory=dict)


def seeds_for(seed: int, replications: int) -> list[int]:
    """One replication runs the scenario's own seed (so it matches ``smsim run``); R > 1 use
    ``replication_seeds(seed, R)``. Every arm gets the same list: common random numbers."""
    if replications < 1:
        raise InputError(f"--replications must be >= 1, found {replications}")
    return [int(seed)] if replications == 1 else replication_seeds(int(seed), replications)


def compare_variants(arms: Sequence[Variant], *, replications: int = 1, seed: int | None = None,
                     jobs: int | None = 1, scheduler: Any = None, confidence: float = 0.95, store=None,
                     resume: bool = False,
                     progress: Callable[[float], None] | None = None) -> CompareResult:
    """Run every arm ``replications`` times with the base's seeds and compare them to the base.

    ``store`` (a :class:`smsim.store.Store` or None) records each finished run as kind
    ``compare``, labelled with its arm, all sharing one ``group_id``. ``jobs`` and
    ``scheduler`` say where the runs execute (:func:`smsim.executor.executor`). With
    ``resume``, a run already in the store (kind ``compare``, same arm name, scenario hash and
    seed: the same numbers) is reused instead of run again, so an interrupted or failed
    comparison continues where it stopped.
    """
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), found {confidence}")
    base_seed = arms[0].scenario.seed if seed is None else seed
    seeds = seeds_for(base_seed, replications)
    tasks = [((a, r), arm.scenario, s) for a, arm in enumerate(arms) for r, s in enumerate(seeds)]
    group_id = None
    run_ids: dict[str, list[str | None]] = {arm.name: [None] * len(seeds) for arm in arms}
    reused: dict[tuple[int, int], Any] = {}
    if resume and store is not None:
        reused = _stored_runs(store, arms, seeds, run_ids)
        tasks = [t for t in tasks if t[0] not in reused]
    on_done = None
    if store is not None:
        from smsim.store.records import new_run_id

        group_id = "cmp-" + new_run_id()

        def on_done(key, result) -> None:
            a, r = key
            run_ids[arms[a].name][r] = store.record(result, "compare", label=arms[a].name, group_id=group_id)

    def describe(key) -> str:
        a, r = key
        return f"arm {arms[a].name!r} replication {r + 1} (seed {seeds[r]})"

    results = reused | run_tasks(tasks, jobs=jobs, scheduler=scheduler, on_done=on_done, progress=progress,
                                 describe=describe)
    summaries = {arm.name: [results[(a, r)].summary for r in range(len(seeds))] for a, arm in enumerate(arms)}
    document = compare_summaries(summaries, base=arms[0].name, confidence=confidence, seeds=seeds)
    document["group_id"] = group_id
    document["descriptions"] = {arm.name: arm.description for arm in arms}
    series = {arm.name: dict(results[(a, 0)].series or {}) for a, arm in enumerate(arms)}
    return CompareResult(document, list(arms), summaries,
                         {k: [i for i in v if i] for k, v in run_ids.items()}, series)


@dataclass
class _StoredRun:
    """A run read back from the store: what a comparison uses of a ``RunResult``."""

    summary: dict[str, Any]
    series: dict[str, Any]


def _stored_runs(store, arms: Sequence[Variant], seeds: list[int],
                 run_ids: dict[str, list[str | None]]) -> dict[tuple[int, int], _StoredRun]:
    """The (arm, replication) runs already recorded with the same scenario hash and seed."""

    from smsim.scenario.resolved import resolved_scenario_yaml
    from smsim.store.records import scenario_hash

    out: dict[tuple[int, int], _StoredRun] = {}
    for a, arm in enumerate(arms):
        digest = scenario_hash(resolved_scenario_yaml(arm.scenario))
        for r, s in enumerate(seeds):
            found = store.find(kind="compare", scenario_hash=digest, seed=s, label=arm.name)
            if not len(found):
                continue
            run_id = str(found.iloc[-1]["run_id"])
            series = {}
            if r == 0:  # the series the result carries are replication 0's
                from smsim.store.series import read_series

                series = read_series(store.run_dir(run_id))
            out[(a, r)] = _StoredRun(store.show(run_id)["summary"], series)
            run_ids[arm.name][r] = run_id
    return out


def compare(paths: Sequence[str | Path], **kwargs: Any) -> CompareResult:
    """``smsim compare A.yaml [B.yaml ...]``: load the arms (see ``load_compared``) and compare."""
    return compare_variants(load_compared(list(paths)), **kwargs)
