"""Training search: the cheapest configuration of one training job that meets its objectives.

The space (:class:`~smsim.scenario.optimize.TrainingSpace`) is the product of instance types,
markets, checkpoint intervals (spot only) and instance counts, numbered in that enumeration
order. A candidate is evaluated by simulating the scenario with the job reconfigured, at the
scenario's seed (common random numbers: every candidate sees the same submit times and work
draws); its cost is the job's own ``cost_by_resource`` (instances, ML storage, S3).

Objectives are ``metric<=value`` or ``metric>=value`` over the job's run metrics (those of
``run_scenario``'s resource entry) plus ``completion_rate`` (jobs that completed, on spot or in an
on-demand fallback, over jobs submitted), ``max_job_elapsed_hours`` and
``p50/p90/p95/p99_job_elapsed_hours`` (elapsed = submit to end, waits and retries included).

The answer is exhaustive search's: among feasible candidates, the smallest ``(cost rounded to
1e-6 USD, enumeration index)``. :func:`search_training` reaches it simulating fewer, using only
sound facts, each a bound that holds for every sample path:

1. **Cost bound** (:func:`cost_lower_bound`). Instance time is billed at no less than
   ``r = min(on-demand, spot if the job is spot, held savings-plan rates) x (1 - enterprise
   discount)``. An
   on-demand run is deterministic: each job bills ``min(d + W_j/(N s eff(N)) + u, max_runtime)``
   instance-seconds per instance, cut at the horizon. A spot job with an on-demand fallback bills
   at least as much when ``submit + max_wait + provisioning + that`` ends before the horizon
   (progress kept in checkpoints was billed once; interruptions only add). A job that completes
   bills at least its full run; when a ``completion_rate`` objective holds, at least
   ``ceil(rate x jobs)`` jobs completed, and those whose ``submit + max_wait`` is inside the
   horizon were billed entirely inside it, so the cheapest such set bounds every *feasible*
   candidate. Storage and S3 are bounded by 0. A candidate whose bound ranks after the best
   verified one (by the same key) cannot be the answer and is not simulated.
2. **Elapsed bound**: every job takes at least ``min(provisioning + min(full run, max_runtime),
   max_wait)``; a candidate whose bounds already miss an elapsed-time objective is infeasible.

The closed form (:func:`smsim.resources.training.spot.expected_job`) only orders the simulations (most promising
first, so the best is found early and the bounds prune more); it never rejects a candidate.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smsim.errors import InputError, did_you_mean
from smsim.optimize.evaluate import COST_DECIMALS
from smsim.scenario.optimize import TrainingSpace

COMPONENT = "Training"
_OBJ_RE = re.compile(r"^\s*(?P<m>[a-z_][a-z0-9_]*)\s*(?P<op><=|>=|<|>)\s*(?P<v>[-+0-9.eE]+)\s*(?P<pct>%)?\s*$")
_QUANTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0}
_ELAPSED = {"mean_job_elapsed_hours", "max_job_elapsed_hours"} | {f"{q}_job_elapsed_hours" for q in _QUANTILES}


# ---------------------------------------------------------------------------------------------
# Objectives


@dataclass(frozen=True)
class Objective:
    metric: str
    op: str  # "<=" | ">=" | "<" | ">"
    value: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def holds(self, x: float) -> bool:
        if x is None or not math.isfinite(x):
            return False
        return {"<=": x <= self.value, "<": x < self.value, ">=": x >= self.value, ">": x > self.value}[self.op]

    def miss(self, x: float) -> float:
        """How far ``x`` is from meeting the objective, relative to its threshold (0 when met)."""
        if self.holds(x):
            return 0.0
        if x is None or not math.isfinite(x):
            return math.inf
        scale = abs(self.value) or 1.0
        return abs(x - self.value) / scale


def parse_objective(text: str) -> Objective:
    """``"mean_job_elapsed_hours<=6"`` -> ``Objective("mean_job_elapsed_hours", "<=", 6.0)``."""
    m = _OBJ_RE.match(str(text))
    if m is None:
        raise InputError(f"training objective {text!r} is not of the form 'metric<=value' or 'metric>=value'",
                         path="optimize.training")
    v = float(m.group("v")) / (100.0 if m.group("pct") else 1.0)
    return Objective(m.group("m"), m.group("op"), v)


def parse_objectives(ts: TrainingSpace) -> list[Objective]:
    objs = [parse_objective(ts.deadline)] if ts.deadline else []
    if ts.completion_rate is not None:
        objs.append(Objective("completion_rate", ">=", float(ts.completion_rate)))
    objs.extend(parse_objective(t) for t in ts.objectives)
    if not objs:
        raise InputError("optimize.training needs an objective: deadline, completion_rate or objectives",
                         path="optimize.training")
    return objs


@dataclass
class TrainingVerdict:
    values: dict[str, float]
    missed: list[str]
    shortfall: float  # sum of relative misses

    @property
    def feasible(self) -> bool:
        return not self.missed


def judge(objectives: list[Objective], metrics: dict[str, Any]) -> TrainingVerdict:
    values, missed, short = {}, [], 0.0
    for o in objectives:
        x = metrics.get(o.metric)
        if x is None:
            raise InputError(f"training objective {o}: unknown metric {o.metric!r}"
                             f"{did_you_mean(o.metric, [k for k, v in metrics.items() if _numeric(v)])}",
                             path="optimize.training")
        x = float(x)
        values[o.metric] = x
        if not o.holds(x):
            missed.append(f"{o} (got {x:.4g})")
            short += o.miss(x)
    return TrainingVerdict(values, missed, short)


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


# ---------------------------------------------------------------------------------------------
# Space


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
    from smsim.optimize.adapter import validated_candidate

    return validated_candidate(data, scenario, cand.label(), "optimize.training")


# ---------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class TrainingEvaluation:
    candidate: TrainingCandidate
    verdict: TrainingVerdict
    cost_usd: float
    metrics: dict[str, Any]
    wall_s: float = 0.0

    @property
    def feasible(self) -> bool:
        return self.verdict.feasible

    @property
    def rank_key(self) -> tuple[float, int]:
        return (round(self.cost_usd, COST_DECIMALS), self.candidate.index)

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
    from smsim.api import run_scenario

    t0 = time.perf_counter()
    only = not scenario.pricing.savings_plans
    run = run_scenario(candidate_scenario(scenario, space, cand, only_job=only))
    entry = next(r for r in run.summary["resources"] if r["resource_id"] == space.job)
    metrics = job_metrics(entry, run.series.get(space.job))
    cost = float(run.summary.get("cost_by_resource", {}).get(space.job, 0.0))
    return TrainingEvaluation(cand, judge(space.objectives, metrics), cost, metrics, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------
# Bounds and ordering


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


def _min_rate(scenario, itype: str, market: str, catalog) -> float:
    """No instance-hour of ``itype`` training of a ``market`` job is billed below this: on-demand
    jobs meter on-demand usage only; spot jobs spot usage and, in a fallback, on-demand usage."""
    p = scenario.pricing
    rates = [catalog.ondemand_usd_per_hour(itype, COMPONENT, scenario.region)]
    if market == "Spot":
        try:
            rates.append(catalog.spot_usd_per_hour(itype, COMPONENT, scenario.region, p.spot.discount_pct))
        except InputError:
            rates.append(0.0)
    if p.savings_plans:
        for term in ("1y", "3y"):
            for pay in ("no-upfront", "partial-upfront", "all-upfront"):
                try:
                    rates.append(catalog.sp_rate_usd_per_hour(itype, COMPONENT, scenario.region, term, pay))
                except Exception:  # noqa: BLE001 - no plan rate: the bound falls back to 0
                    rates.append(0.0)
    return max(0.0, min(rates)) * (1.0 - p.enterprise_discount_pct / 100.0)


@dataclass
class Bounds:
    cost_lb: float
    elapsed_lb: dict[str, float]  # lower bounds of the elapsed-time metrics
    estimate: float  # closed-form expected cost, for ordering only


def bounds(scenario, space: TrainingSearchSpace, cand: TrainingCandidate, catalog,
           objectives: list[Objective]) -> Bounds:
    from smsim.resources.training.spot import (
        JobParams,
        advisor_bucket,
        bucket_rate_per_instance_hour,
        expected_job,
    )

    spec, jobs = job_table(scenario, space, cand)
    H = float(scenario.horizon.duration_s)
    warm = spec.warm_pool_keep_alive_s > 0
    d = 0.0 if warm else spec.download_s
    prov = 0.0 if warm else spec.provisioning_s
    full = d + jobs["train_s"].to_numpy(dtype=float) + spec.upload_s
    submit = jobs["submit_s"].to_numpy(dtype=float)
    counts = jobs["count"].to_numpy(dtype=float)
    capped = np.minimum(full, spec.max_runtime_s)
    spot = spec.market == "Spot"
    ss = spec.spot_settings
    max_wait = ss.max_wait_s if spot else math.inf
    rate = _min_rate(scenario, cand.instance_type, cand.market, catalog) / 3600.0
    if not spot:
        billed = np.clip(H - submit - prov, 0.0, capped)
        lb = float((billed * counts).sum()) * rate
    else:
        lb = 0.0
        if ss.fallback == "on-demand":
            inside = submit + max_wait + prov + capped <= H
            lb = float((capped * counts)[inside].sum()) * rate
    completion = [o for o in objectives if o.metric == "completion_rate" and o.op in (">=", ">")]
    if completion and len(jobs):
        n = len(jobs)
        need = max(math.ceil(o.value * n - 1e-9) if o.op == ">=" else math.floor(o.value * n + 1e-9) + 1
                   for o in completion)
        # a completed job was billed entirely inside the horizon when it surely ended inside it
        if not spot:
            safe = submit + prov + full <= H
        elif ss.fallback == "on-demand":
            safe = submit + max_wait + prov + full <= H
        else:
            safe = submit + max_wait <= H
        k = need - int((~safe).sum())
        if k > 0:  # at least k safe jobs completed, each billed at least its full run
            costs = np.sort((full * counts)[safe])
            lb = max(lb, float(costs[:k].sum()) * rate)
    lb *= 1.0 - 1e-9
    # elapsed: every job takes at least this long
    e = np.minimum(prov + capped, max_wait) / 3600.0
    elapsed = {}
    if len(e):
        elapsed["mean_job_elapsed_hours"] = float(e.mean())
        elapsed["max_job_elapsed_hours"] = float(e.max())
        for q, p in _QUANTILES.items():
            elapsed[f"{q}_job_elapsed_hours"] = float(np.percentile(e, p))
    # closed-form expected cost (ordering only)
    od = catalog.ondemand_usd_per_hour(cand.instance_type, COMPONENT, scenario.region)
    if spot:
        try:
            price = catalog.spot_usd_per_hour(cand.instance_type, COMPONENT, scenario.region,
                                              scenario.pricing.spot.discount_pct)
        except InputError:
            price = od
        if ss.interruption_rate_per_instance_hour is not None:
            lam = ss.interruption_rate_per_instance_hour
        else:
            lam = bucket_rate_per_instance_hour(ss.interruption_bucket
                                                or advisor_bucket(cand.instance_type, scenario.region, catalog)[0])
        est = 0.0
        for t, n in zip(jobs["train_s"].tolist(), counts.tolist(), strict=True):
            p = JobParams(work_s=t, rate_per_s=n * lam / 3600.0, checkpoint_interval_s=ss.checkpoint_interval_s,
                          checkpoint_write_s=ss.checkpoint_write_s, provisioning_s=spec.provisioning_s,
                          download_s=spec.download_s, upload_s=spec.upload_s, wait_mean_s=ss.capacity_wait.mean_s)
            est += expected_job(p)["billable_s"] * n
        estimate = est / 3600.0 * price
    else:
        estimate = float((full * counts).sum()) / 3600.0 * od
    return Bounds(lb, elapsed, estimate)


def elapsed_infeasible(b: Bounds, objectives: list[Objective]) -> bool:
    """True when the elapsed-time lower bounds alone already miss an upper-bound objective."""
    for o in objectives:
        if o.metric in b.elapsed_lb and o.op in ("<=", "<") and not o.holds(b.elapsed_lb[o.metric]):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Search


@dataclass
class TrainingSearchResult:
    status: str  # "optimal" | "infeasible" | "budget_exhausted"
    best: TrainingEvaluation | None
    evaluations: list[TrainingEvaluation]
    n_candidates: int
    pruned: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def n_simulations(self) -> int:
        return len(self.evaluations)

    def feasible(self) -> list[TrainingEvaluation]:
        return sorted((e for e in self.evaluations if e.feasible), key=lambda e: e.rank_key)

    def runners_up(self, n: int) -> list[TrainingEvaluation]:
        return self.feasible()[1:n + 1]

    def rejected_cheaper(self) -> list[TrainingEvaluation]:
        bad = [e for e in self.evaluations if not e.feasible]
        if self.best is not None:
            bad = [e for e in bad if e.rank_key < self.best.rank_key]
        return sorted(bad, key=lambda e: e.rank_key)

    def closest(self) -> TrainingEvaluation | None:
        if not self.evaluations:
            return None
        return min(self.evaluations, key=_closeness)


def _closeness(e: TrainingEvaluation) -> tuple:
    """Order of nearness to feasibility: fewest objectives missed, then smallest relative miss."""
    return (len(e.verdict.missed), e.verdict.shortfall, e.rank_key)


def exhaustive_training(scenario, space: TrainingSearchSpace) -> TrainingSearchResult:
    """Simulate every candidate: the reference :func:`search_training` must agree with."""
    t0 = time.perf_counter()
    evals = [evaluate_training(scenario, space, c) for c in space.candidates]
    feas = sorted((e for e in evals if e.feasible), key=lambda e: e.rank_key)
    best = feas[0] if feas else None
    return TrainingSearchResult("optimal" if best else "infeasible", best, evals, len(space),
                                wall_s=time.perf_counter() - t0)


def search_training(scenario, space: TrainingSearchSpace, *, catalog,
                    budget_evals: int | None = None) -> TrainingSearchResult:
    """The exhaustive-search answer with fewer simulations (module docstring)."""
    t0 = time.perf_counter()
    bnd = {c.index: bounds(scenario, space, c, catalog, space.objectives) for c in space.candidates}
    pruned = {"elapsed_bound": 0, "cost_bound": 0}
    todo = []
    for c in space.candidates:
        if elapsed_infeasible(bnd[c.index], space.objectives):
            pruned["elapsed_bound"] += 1
        else:
            todo.append(c)
    todo.sort(key=lambda c: (bnd[c.index].estimate, bnd[c.index].cost_lb, c.index))
    evals: list[TrainingEvaluation] = []
    best: TrainingEvaluation | None = None
    status = None
    for c in todo:
        if best is not None and (round(bnd[c.index].cost_lb, COST_DECIMALS), c.index) > best.rank_key:
            pruned["cost_bound"] += 1
            continue
        if budget_evals is not None and len(evals) >= budget_evals:
            status = "budget_exhausted"
            break
        ev = evaluate_training(scenario, space, c)
        evals.append(ev)
        if ev.feasible and (best is None or ev.rank_key < best.rank_key):
            best = ev
    if status is None and best is None:
        # infeasible: name the exhaustive search's closest candidate. A candidate the elapsed bound
        # rejected misses at least the objectives its bounds miss, by at least as much, so it is
        # simulated only while that optimistic key could still beat the closest one seen.
        def optimistic(c: TrainingCandidate) -> tuple:
            lb = bnd[c.index].elapsed_lb
            miss = [o.miss(lb[o.metric]) for o in space.objectives
                    if o.metric in lb and o.op in ("<=", "<") and not o.holds(lb[o.metric])]
            return (len(miss), sum(miss), (round(bnd[c.index].cost_lb, COST_DECIMALS), c.index))

        rest = sorted((c for c in space.candidates if c not in todo), key=optimistic)
        for c in rest:
            cl = min(evals, key=_closeness) if evals else None
            if cl is not None and optimistic(c) >= _closeness(cl):
                break
            if budget_evals is not None and len(evals) >= budget_evals:
                status = "budget_exhausted"
                break
            evals.append(evaluate_training(scenario, space, c))
            pruned["elapsed_bound"] -= 1
    if status == "budget_exhausted":
        pruned["cost_bound"] = 0
    if status is None:
        status = "optimal" if best is not None else "infeasible"
    return TrainingSearchResult(status, best, evals, len(space), pruned, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------
# Entry point and report


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
    from smsim.api import catalog_for

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


__all__ = ["Objective", "TrainingCandidate", "TrainingOptimizeResult", "TrainingSearchResult",
           "build_training_space", "evaluate_training", "exhaustive_training", "optimize_training",
           "parse_objective", "search_training"]
