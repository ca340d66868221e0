"""The quality-cost frontier: which model variant is worth its price.

A configuration's quality is its model variant's declared ``quality`` (the serving
configuration does not change it), so among configurations of one variant only the cheapest one
meeting the objectives can be on the frontier. The frontier is therefore: for every variant with
a quality, its cheapest feasible configuration (the branch-and-bound search restricted to that
variant, whose answer is exhaustive search's), then the Pareto set of those points, where a point
is dominated when another is no more expensive and no worse, and better in one of the two. Ties
in both keep the configuration enumerated first. Exact: every point rests on a proven optimum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from smsim.optimize.ranking import COST_DECIMALS
from smsim.optimize.space import Space

T = TypeVar("T")


def quality_pareto(points: Sequence[T], cost: Callable[[T], float], quality: Callable[[T], float],
                   order: Callable[[T], int]) -> list[T]:
    """Non-dominated points (lower cost, higher quality), by increasing cost."""
    ranked = sorted(points, key=lambda p: (round(cost(p), COST_DECIMALS), -quality(p), order(p)))
    out: list[T] = []
    for p in ranked:
        if not out or quality(p) > quality(out[-1]):
            out.append(p)
    return out


def per_model_best(scenario, space: Space, search_result, *, fidelity: str, catalog, jobs: int = 1,
                   scheduler=None) -> dict[str, Any]:
    """The cheapest feasible evaluation of each model variant of ``space`` (None when none is
    feasible), reusing the overall answer for its own variant."""
    from smsim.optimize.search import search

    out: dict[str, Any] = {}
    models = list(dict.fromkeys(c.model for c in space.candidates))
    best = search_result.best
    for m in models:
        if best is not None and best.candidate.model == m:
            out[m] = best
            continue
        sub = replace(space, candidates=tuple(c for c in space.candidates if c.model == m))
        out[m] = search(scenario, sub, fidelity=fidelity, catalog=catalog, jobs=jobs, scheduler=scheduler).best
    return out


def frontier_rows(scenario, best_by_model: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """``(frontier, per_model)`` rows: model, quality, cheapest configuration and its cost."""
    quality = {m.name: m.quality for m in scenario.models}
    rows = []
    for model, e in best_by_model.items():
        if quality.get(model) is None:
            continue
        rows.append({"model": model, "quality": quality[model],
                     "candidate": e.candidate.label() if e is not None else None,
                     "index": e.candidate.index if e is not None else None,
                     "cost_usd": e.cost_usd if e is not None else None, "feasible": e is not None})
    feasible = [r for r in rows if r["feasible"]]
    front = quality_pareto(feasible, lambda r: r["cost_usd"], lambda r: r["quality"], lambda r: r["index"])
    return front, rows


def has_qualities(scenario, space: Space) -> bool:
    """Whether the space holds two or more variants that declare a quality (a frontier to draw)."""
    quality = {m.name: m.quality for m in scenario.models}
    return len({c.model for c in space.candidates if quality.get(c.model) is not None}) >= 2


__all__ = ["frontier_rows", "has_qualities", "per_model_best", "quality_pareto"]
