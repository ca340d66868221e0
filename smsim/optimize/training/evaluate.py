"""Evaluate one training candidate: simulate the scenario with the job reconfigured (the
scenario's seed) and judge its metrics; its cost is the job's own ``cost_by_resource``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from smsim.optimize.ranking import Ranked
from smsim.optimize.training.objectives import _ELAPSED, _QUANTILES, TrainingVerdict, judge
from smsim.optimize.training.space import TrainingCandidate, TrainingSearchSpace, candidate_scenario


@dataclass
class TrainingEvaluation(Ranked):
    candidate: TrainingCandidate
    verdict: TrainingVerdict
    cost_usd: float
    metrics: dict[str, Any]
    wall_s: float = 0.0

    def row(self) -> dict[str, Any]:
        m = self.metrics
        return {"index": self.candidate.index, "candidate": self.candidate.label(), "cost_usd": self.cost_usd,
                "feasible": self.feasible, "missed": "; ".join(self.verdict.missed),
                "mean_job_elapsed_hours": m.get("mean_job_elapsed_hours"),
                "max_job_elapsed_hours": m.get("max_job_elapsed_hours"),
                "completion_rate": m.get("completion_rate"), "interruptions": m.get("interruptions"),
                **{k: v for k, v in self.verdict.values.items()}}

    def to_dict(self) -> dict[str, Any]:
        keep = ("jobs", "completed", "completion_rate", "mean_job_elapsed_hours", "max_job_elapsed_hours",
                "p95_job_elapsed_hours", "billable_instance_hours", "interruptions", "stopped_max_wait",
                "stopped_max_runtime", "fallback_runs", "in_progress_at_horizon")
        return {"candidate": self.candidate.to_dict(), "cost_usd": self.cost_usd, "feasible": self.feasible,
                "objectives": self.verdict.values, "missed": self.verdict.missed,
                "metrics": {k: self.metrics[k] for k in keep if k in self.metrics}}


def job_metrics(entry: dict, jobs_table) -> dict[str, Any]:
    """The resource entry's metrics plus completion rate and elapsed-time quantiles."""
    m = dict(entry)
    n = int(m.get("jobs", 0))
    if jobs_table is not None and len(jobs_table):
        done = (jobs_table["status"] == "Completed") | (jobs_table["fallback_status"] == "Completed")
        elapsed = (jobs_table["end_s"] - jobs_table["submit_s"]).to_numpy(dtype=float) / 3600.0
        m["completion_rate"] = float(done.sum()) / n
        m["max_job_elapsed_hours"] = float(elapsed.max())
        for q, p in _QUANTILES.items():
            m[f"{q}_job_elapsed_hours"] = float(np.percentile(elapsed, p))
    else:
        m["completion_rate"] = 0.0
        for k in _ELAPSED - {"mean_job_elapsed_hours"}:
            m[k] = 0.0
    return m


def evaluate_training(scenario, space: TrainingSearchSpace, cand: TrainingCandidate) -> TrainingEvaluation:
    """Simulate ``cand`` once (the scenario's seed) and judge it."""
    from smsim.run import run_scenario

    t0 = time.perf_counter()
    only = not scenario.pricing.savings_plans
    run = run_scenario(candidate_scenario(scenario, space, cand, only_job=only))
    entry = next(r for r in run.summary["resources"] if r["resource_id"] == space.job)
    metrics = job_metrics(entry, run.series.get(space.job))
    cost = float(run.summary.get("cost_by_resource", {}).get(space.job, 0.0))
    return TrainingEvaluation(cand, judge(space.objectives, metrics), cost, metrics, time.perf_counter() - t0)


def job_table(scenario, space: TrainingSearchSpace, cand: TrainingCandidate):
    """The candidate's jobs as the engine draws them (submit_s, count, train_s), without simulating."""
    from smsim.core.engine import SimContext
    from smsim.core.meter import Meter
    from smsim.resources.training.model import TrainingModel

    sc = candidate_scenario(scenario, space, cand, only_job=True)
    spec = next(j for j in sc.training_jobs if j.name == space.job)
    ctx = SimContext(env=None, scenario=sc, seed=sc.seed, meter=Meter(), catalog=None)
    model = TrainingModel.__new__(TrainingModel)
    model.spec = spec
    return spec, model._jobs(ctx)
