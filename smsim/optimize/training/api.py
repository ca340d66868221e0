"""The training optimizer's entry point and its report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smsim.optimize.training.search import TrainingSearchResult, search_training
from smsim.optimize.training.space import (
    TrainingSearchSpace,
    build_training_space,
    candidate_scenario,
)


@dataclass
class TrainingOptimizeResult:
    space: TrainingSearchSpace
    spec: Any
    result: TrainingSearchResult
    best_scenario: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.result.status

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        out: dict[str, Any] = {
            "status": r.status, "kind": "training", "job": self.space.job,
            "objectives": self.space.describe(), "candidates": r.n_candidates,
            "simulations": r.n_simulations, "pruned": r.pruned, "wall_s": r.wall_s,
            "best": r.best.to_dict() if r.best else None,
            "runners_up": [e.row() for e in r.runners_up(self.spec.top)],
            "rejected_cheaper": [e.row() for e in r.rejected_cheaper()],
            "notes": list(self.notes),
        }
        if r.best is None:
            c = r.closest()
            out["closest"] = c.to_dict() if c else None
        return out

    def message(self) -> str:
        r = self.result
        if r.best is not None:
            e = r.best
            head = "best (budget exhausted, not proven optimal)" if r.status == "budget_exhausted" else "best"
            m = e.metrics
            return (f"{head}: {self.space.job} on {e.candidate.label()}, {e.cost_usd:,.2f} USD, mean elapsed "
                    f"{m.get('mean_job_elapsed_hours', 0):.2f} h, completion {m.get('completion_rate', 0):.2%}")
        if r.status == "budget_exhausted":
            return f"no feasible candidate found within the budget of {r.n_simulations} simulations"
        c = r.closest()
        if c is None:
            return (f"no candidate can meet {self.space.describe()}: every one is proven infeasible by its "
                    f"minimum elapsed time alone")
        return (f"no candidate meets {self.space.describe()}; closest: {c.candidate.label()} "
                f"({c.cost_usd:,.2f} USD; missed {'; '.join(c.verdict.missed)})")


def optimize_training(scenario, spec, *, budget_evals: int | None = None) -> TrainingOptimizeResult:
    """The cheapest configuration of ``spec.training``'s job meeting its objectives."""
    from smsim.pricing.catalog import catalog_for

    catalog = catalog_for(scenario)
    space = build_training_space(scenario, spec.training, catalog)
    result = search_training(scenario, space, catalog=catalog, budget_evals=budget_evals or spec.budget_evals)
    best_scenario = None
    if result.best is not None:
        best_scenario = candidate_scenario(scenario, space, result.best.candidate)
    notes = []
    if result.status == "budget_exhausted":
        notes.append("stopped at the simulation budget: the answer is the best seen, not proven optimal")
    return TrainingOptimizeResult(space, spec, result, best_scenario, notes)
