"""``optimize``: the library entry point behind ``smsim optimize`` (no printing here).

Pipeline: build the space -> analytic bounds -> (request fidelity only) fluid screen for starting
points -> branch and bound at the answer's fidelity -> (model variants with declared quality)
the quality-cost frontier (:mod:`smsim.optimize.quality`) -> report. The answer is the exhaustive
search answer at ``spec.fidelity`` (see :mod:`smsim.optimize.search` for the argument).

An infeasible space is a *result* (status ``"infeasible"``, with the closest candidate and what
it missed), not an input error; the CLI exits 1 for it so scripts can tell it apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smsim.optimize.adapter import candidate_scenario
from smsim.optimize.frontier import pareto_frontier
from smsim.optimize.search import SearchResult, search, summary_row
from smsim.optimize.space import Space, build_space
from smsim.scenario.optimize import OptimizeSpec


@dataclass
class OptimizeResult:
    """The verified search result, the screen that guided it, and the space it covered."""

    space: Space
    spec: OptimizeSpec
    result: SearchResult
    screen: SearchResult | None
    best_scenario: Any = None  # Scenario of the answer, savings plan included
    notes: list[str] = field(default_factory=list)
    #: quality-cost frontier and each variant's cheapest feasible configuration (None without qualities)
    quality_frontier: list[dict] | None = None
    quality_by_model: list[dict] | None = None

    @property
    def status(self) -> str:
        return self.result.status

    def frontier(self) -> list[dict]:
        return [summary_row(e) for e in pareto_frontier(self.result.evaluations)]

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        best = r.best
        out: dict[str, Any] = {
            "status": r.status,
            "objectives": self.space.objectives.describe(),
            "endpoint": self.space.endpoint,
            "fidelity": r.fidelity,
            "candidates": r.n_candidates,
            "simulations": r.n_simulations + (self.screen.n_simulations if self.screen else 0),
            "simulations_verify": r.n_simulations,
            "simulations_screen": self.screen.n_simulations if self.screen else 0,
            "pruned": r.pruned,
            "wall_s": r.wall_s + (self.screen.wall_s if self.screen else 0.0),
            "best": best.to_dict() if best else None,
            "runners_up": [summary_row(e) for e in r.runners_up(self.spec.top)],
            "rejected_cheaper": [summary_row(e) for e in r.rejected_cheaper()],
            "frontier": self.frontier(),
            "notes": list(self.notes),
        }
        if self.quality_frontier is not None:
            out["min_quality"] = self.spec.min_quality
            out["quality_frontier"] = self.quality_frontier
            out["quality_by_model"] = self.quality_by_model
        if best is None:
            c = r.closest()
            out["closest"] = c.to_dict() if c else None
        if self.screen is not None:
            sb = self.screen.best
            out["screen"] = {"fidelity": "fluid", "status": self.screen.status,
                             "best": summary_row(sb) if sb else None,
                             "agrees": bool(sb and best and sb.candidate.index == best.candidate.index)}
        return out

    def message(self) -> str:
        """One line: the answer, or why there is none."""
        r = self.result
        if r.best is not None:
            e = r.best
            head = "best (budget exhausted, not proven optimal)" if r.status == "budget_exhausted" else "best"
            return (f"{head}: {e.candidate.label()}, savings plan {e.commitment_usd_per_hour:g} USD/h, "
                    f"{e.cost_usd:,.2f} USD, attainment {e.verdict.attainment:.4%}, p99 {e.verdict.latency_p99_s * 1000:.0f} ms")
        c = r.closest()
        if r.status == "budget_exhausted":
            return f"no feasible candidate found within the budget of {r.n_simulations} simulations"
        if c is None:
            return (f"no candidate can meet {self.space.objectives.describe()}: every one is proven infeasible "
                    f"by its service time alone")
        v = c.verdict
        return (f"no candidate meets {self.space.objectives.describe()}; closest: {c.candidate.label()} "
                f"(attainment {v.attainment:.4%}, short by {v.attainment_shortfall:.4%}; error rate {v.error_rate:.4%}; "
                f"p99 {v.latency_p99_s * 1000:.0f} ms; missed {', '.join(v.missed)})")


def resolve_spec(scenario, spec: OptimizeSpec | dict | None = None, **overrides) -> OptimizeSpec:
    """The scenario's ``optimize:`` section (if any), then ``spec``, then non-None ``overrides``."""
    data: dict[str, Any] = {}
    section = getattr(scenario, "optimize", None)
    if section is not None:
        data.update(section.model_dump(exclude_unset=True) if hasattr(section, "model_dump") else dict(section))
    if spec is not None:
        data.update(spec.model_dump(exclude_unset=True) if isinstance(spec, OptimizeSpec) else dict(spec))
    data.update({k: v for k, v in overrides.items() if v is not None})
    return OptimizeSpec.model_validate(data)


def optimize(scenario, spec: OptimizeSpec | dict | None = None, *, jobs: int = 1, bisect: bool = True,
             scheduler=None, **overrides) -> OptimizeResult:
    """Find the cheapest configuration meeting the objectives (module docstring); with an
    ``optimize.training`` section, a :class:`~smsim.optimize.training.api.TrainingOptimizeResult`."""
    from smsim.optimize.quality import frontier_rows, has_qualities, per_model_best
    from smsim.optimize.screen import analytic_guesses, fluid_screen
    from smsim.pricing.catalog import catalog_for
    from smsim.scenario.schema import Scenario

    if not isinstance(scenario, Scenario):
        scenario = load_optimize_scenario(scenario)[0]
    spec = resolve_spec(scenario, spec, **overrides)
    if spec.training is not None:
        from smsim.optimize.training.api import optimize_training

        return optimize_training(scenario, spec)
    catalog = catalog_for(scenario)
    space = build_space(scenario, spec, catalog)
    screen = None
    notes: list[str] = []
    guesses = analytic_guesses(scenario, space)
    from smsim.executor import executor

    with executor(jobs, scheduler) as ex:  # one pool (or cluster) for the screen and the search
        if spec.fidelity == "request" and spec.screen:
            guesses, screen = fluid_screen(scenario, space, catalog=catalog, jobs=jobs, scheduler=ex)
        result = search(scenario, space, fidelity=spec.fidelity, catalog=catalog, jobs=jobs,
                        budget_evals=spec.budget_evals, bisect=bisect, guesses=guesses, scheduler=ex)
        front = by_model = None
        if has_qualities(scenario, space) and spec.budget_evals is None:
            best = per_model_best(scenario, space, result, fidelity=spec.fidelity, catalog=catalog, jobs=jobs,
                                  scheduler=ex)
            front, by_model = frontier_rows(scenario, best)
    best_scenario = None
    if result.best is not None:
        b = result.best
        best_scenario = candidate_scenario(scenario, space.endpoint, b.candidate, space.objectives, spec.fidelity,
                                           b.commitment_usd_per_hour, space.sp_term, space.sp_payment)
    if result.status == "budget_exhausted":
        notes.append(f"stopped after {spec.budget_evals} simulations: the answer is the best seen, not proven optimal")
    if front is None and spec.budget_evals is not None and has_qualities(scenario, space):
        notes.append("no quality-cost frontier: a budget of simulations cannot prove each variant's cheapest configuration")
    if space.below_quality:
        left = ", ".join(f"{m} ({q:g})" for m, q in space.below_quality)
        notes.append(f"left out below min_quality {spec.min_quality:g}: {left}")
    return OptimizeResult(space=space, spec=spec, result=result, screen=screen, best_scenario=best_scenario, notes=notes,
                          quality_frontier=front, quality_by_model=by_model)


def load_optimize_scenario(path: str | Path):
    """``(scenario, its optimize section or None)`` from a YAML file."""
    from smsim.scenario import load_scenario

    sc = load_scenario(path)
    return sc, sc.optimize


__all__ = ["OptimizeResult", "load_optimize_scenario", "optimize", "resolve_spec"]


def optimize_llm(scenario, endpoint: str, space, *, sla: str | dict | None = None,
                 max_failed_share: float = 0.01, screen: bool = True) -> dict[str, Any]:
    """The cheapest configuration of LLM endpoint ``endpoint`` meeting its token SLAs (or ``sla``,
    e.g. ``"ttft_p99_s=2,tpot_p99_s=0.1"`` or the same as a dict) over ``space``
    (:class:`smsim.optimize.llm.LlmSpace`), as a JSON-able dict: the best candidate, every
    simulated one, those left out, and ``best_scenario`` (the scenario with the best
    configuration, or None)."""
    from smsim.optimize.llm import candidate_scenario, parse_token_sla, search
    from smsim.run import check_input_files
    from smsim.scenario import load_scenario
    from smsim.scenario.schema import Scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    check_input_files(scenario)
    objectives = parse_token_sla(sla) if isinstance(sla, str) and sla else (dict(sla) if sla else None)
    res = search(scenario, endpoint, space, max_failed_share=max_failed_share, screen=screen, sla=objectives)

    def row(ev) -> dict[str, Any]:
        c, m = ev.candidate, ev.metrics
        return {"candidate": c.label(), "instance_type": c.instance_type, "weight_dtype": c.weight_dtype,
                "kv_dtype": c.kv_dtype, "tp": m.get("tensor_parallel"), "max_num_seqs": c.max_num_seqs,
                "instances": c.instances, "scaling_target": c.target, "max_instances": c.max_instances,
                "mean_instances": m.get("mean_instances"), "cost_usd": ev.cost_usd, "feasible": ev.feasible, "why": ev.why,
                **{k: m.get(k) for k in ("ttft_p99_s", "tpot_p99_s", "e2e_p99_s", "goodput_share", "requests",
                                         "served", "timed_out", "dropped", "cost_per_1m_output_tokens_usd")}}

    best = candidate_scenario(scenario, endpoint, res.best.candidate, objectives) if res.best else None
    return {"endpoint": endpoint, "status": "optimal" if res.best else "infeasible", "best_scenario": best,
            "best": row(res.best) if res.best else None, "candidates": res.n_candidates,
            "simulated": len(res.evaluations), "pruned": res.pruned,
            "evaluations": [row(e) for e in sorted(res.evaluations, key=lambda e: e.key)],
            "left_out": [{"candidate": label, "reason": why} for label, why in res.skipped]}
