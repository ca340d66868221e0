"""The training search space: instance types x markets x checkpoint intervals (spot only) x
instance counts, numbered in that enumeration order, and the scenario of one candidate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from smsim.errors import InputError, did_you_mean
from smsim.optimize.adapter import validated_candidate
from smsim.optimize.training.objectives import Objective, parse_objectives
from smsim.scenario.optimize import TrainingSpace

COMPONENT = "Training"


@dataclass(frozen=True)
class TrainingCandidate:
    index: int
    instance_type: str
    speed_factor: float
    market: str
    checkpoint_interval_s: float | None
    count: int

    def label(self) -> str:
        if self.market == "Spot":
            ck = "no checkpoints" if self.checkpoint_interval_s is None else f"ckpt {self.checkpoint_interval_s / 60:g}m"
            return f"{self.instance_type} x{self.count} Spot {ck}"
        return f"{self.instance_type} x{self.count} OnDemand"

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "instance_type": self.instance_type, "instance_count": self.count,
                "market": self.market, "checkpoint_interval_s": self.checkpoint_interval_s,
                "speed_factor": self.speed_factor, "label": self.label()}


@dataclass
class TrainingSearchSpace:
    job: str
    objectives: list[Objective]
    candidates: list[TrainingCandidate]
    spot_template: dict

    def __len__(self) -> int:
        return len(self.candidates)

    def describe(self) -> str:
        return ", ".join(str(o) for o in self.objectives)


def pick_job(scenario, name: str | None):
    jobs = scenario.training_jobs
    if name is None:
        if len(jobs) != 1:
            raise InputError(f"the scenario has {len(jobs)} training jobs; name one in optimize.training.job",
                             path="optimize.training.job")
        return jobs[0]
    for j in jobs:
        if j.name == name:
            return j
    raise InputError(f"no training job {name!r}{did_you_mean(name, [j.name for j in jobs])}",
                     path="optimize.training.job")


def build_training_space(scenario, ts: TrainingSpace, catalog) -> TrainingSearchSpace:
    job = pick_job(scenario, ts.job)
    if job.trigger.kind == "trace" and ts.instance_count:
        raise InputError("job traces carry their own instance counts; instance_count cannot be searched",
                         path="optimize.training.instance_count")
    if isinstance(ts.instance_types, dict):
        types = list(ts.instance_types.items())
    elif ts.instance_types:
        types = []
        for t in ts.instance_types:
            if t != job.instance_type:
                raise InputError(f"instance type {t} needs a speed factor against the work's reference: "
                                 f"give instance_types as a map, e.g. {{{t}: 1.5}}", path="optimize.training.instance_types")
            types.append((t, job.speed_factor))
    else:
        types = [(job.instance_type, job.speed_factor)]
    for t, _ in types:
        catalog.check_offered(t, COMPONENT, scenario.region)
    markets = ts.markets or [job.market]
    base_tau = job.spot_settings.checkpoint_interval_s
    taus = [None if v == "none" else float(v) for v in ts.checkpoint_interval_s] or [base_tau]
    counts = sorted(set(ts.instance_count)) or [job.instance_count]
    template = (ts.spot or job.spot or None)
    template = template.model_dump() if template is not None else {}
    cands: list[TrainingCandidate] = []
    for t, speed in types:
        for market in markets:
            for tau in (taus if market == "Spot" else [None]):
                for n in counts:
                    cands.append(TrainingCandidate(len(cands), t, float(speed), market, tau, n))
    return TrainingSearchSpace(job.name, parse_objectives(ts), cands, template)


def candidate_scenario(scenario, space: TrainingSearchSpace, cand: TrainingCandidate, *, only_job: bool = False):
    """``scenario`` with the job reconfigured as ``cand`` (and, with ``only_job``, nothing else:
    used only when that cannot change the job's bill, i.e. no savings plans are held)."""
    data = json.loads(scenario.model_dump_json())
    data.pop("optimize", None)
    jobs = data["training_jobs"]
    i = next(i for i, j in enumerate(jobs) if j["name"] == space.job)
    j = dict(jobs[i])
    j.update(instance_type=cand.instance_type, instance_count=cand.count, speed_factor=cand.speed_factor,
             market=cand.market)
    if cand.market == "Spot":
        spot = dict(j.get("spot") or space.spot_template)
        spot["checkpoint_interval_s"] = cand.checkpoint_interval_s
        j["spot"] = spot
        j["warm_pool_keep_alive_s"] = 0.0
    else:
        j["spot"] = None
    jobs[i] = j
    if only_job:
        for section in ("endpoints", "fleets", "batch_jobs", "processing_jobs", "notebooks", "storage"):
            data[section] = []
        data["training_jobs"] = [j]
    return validated_candidate(data, scenario, cand.label(), "optimize.training")
