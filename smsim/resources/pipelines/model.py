"""Pipeline executions: each run scheduled over its DAG, its job steps metered as their jobs.

Runs are worked out in start order as pure functions (:mod:`smsim.resources.pipelines.dag`);
a later run's cache sees every execution that succeeded before its step starts. Metered per
billed attempt of a job step: ``instance`` usage under the step's component (``Processing``,
``Training``, ``BatchTransform``), on-demand or (training steps) managed spot, tagged ``smsim:step``, and its ML volumes as
``ml_storage_gb_month``. Steps without a job cost nothing, and neither does a cached step.

A run that produced something new (some job step ran rather than being served from the cache,
or the pipeline has no job steps) and whose ``deployment`` step succeeds (or, without one, that succeeds) is published on the topic
``pipeline:<name>`` at that time, so a ``deployments:`` entry can follow it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.resources.common import pipeline_topic
from smsim.resources.managed_spot import JobParams, interruption_rate, run_job, spot_params
from smsim.resources.pipelines.dag import CACHED, attempts, cache_hit, on_demand, schedule
from smsim.units import MONTH
from smsim.workload.jobs import trigger_times

COLUMNS = ["submit_s", "end_s", "makespan_s", "succeeded", "steps_run", "steps_cached", "retries",
           "instance_s", "in_progress_at_horizon"]


class PipelineModel:
    """All executions of one :class:`~smsim.resources.pipelines.spec.PipelineSpec`."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.out = UsageWriter(ctx.meter, spec.name, "pipeline", ctx.tags_for(spec))
        self.steps = {s.name: s for s in spec.steps}
        self.order = [s.name for s in spec.steps]
        self.deps = {s.name: list(s.depends_on) for s in spec.steps}
        self.step_tags = {s.name: self.out.with_tags({"smsim:step": s.name}) for s in spec.steps}
        self.executions: dict[str, list[float]] = {s.name: [] for s in spec.steps}  # successful ends
        self.rows: list[tuple] = []
        self.step_instance_s: dict[str, float] = {}  # steps that ever started, in start order
        self.deployed: list[float] = []
        self.spot_rng = ctx.rng("pipeline", spec.name, "spot")
        self.spot_base = {x.name: spot_params(x.spot_settings, x.instance_count, interruption_rate(
            x.spot_settings, x.instance_type, ctx.scenario.region, ctx.catalog)[0])
            for x in spec.steps if x.market == "Spot"}

    def _draws(self, rngs: dict[str, np.random.Generator]) -> dict[str, dict]:
        """Every random number one run may use, drawn whether used or not (streams stay aligned
        across what-ifs that change caching or retries)."""
        out = {}
        for s in self.spec.steps:
            tries = 1 + (s.retry.max_attempts if s.retry else 0)
            out[s.name] = {
                "duration": float(s.duration.draw(rngs["duration"], 1)[0]),
                "fail": rngs["failure"].uniform(size=tries),
                "fail_at": rngs["failure"].uniform(size=tries),
                "cache": rngs["cache"].uniform(size=2),
            }
        return out

    def _run(self, ctx: SimContext, submit: float, draws: dict[str, dict]):
        cached: dict[str, bool] = {}
        outcomes: dict = {}

        def outcome(name: str, t: float):
            outcomes[name] = decide(name, t)
            return outcomes[name]

        def decide(name: str, t: float):
            s, d, now = self.steps[name], draws[name], submit + t
            c = s.cache
            if c is not None:
                previous = any(now - c.expire_after_s <= e <= now for e in self.executions[name])
                hit = cache_hit(c.rule, previous, all(cached[x] for x in self.deps[name]),
                                bool(d["cache"][0] < c.inputs_change_probability),
                                bool(c.hit_probability is not None and d["cache"][1] < c.hit_probability))
                if hit:
                    cached[name] = True
                    return CACHED
            cached[name] = False
            fails = [float(at) if u < s.failure_probability else None for u, at in zip(d["fail"], d["fail_at"], strict=True)]
            r = s.retry
            return attempts(d["duration"], self._runner(s), fails, r.interval_s if r else 1.0,
                            r.backoff_rate if r else 2.0)

        return schedule(self.order, self.deps, outcome, self.spec.max_parallel_steps), outcomes

    def _runner(self, step):
        """How one attempt of ``step`` runs: on demand, or as a managed spot job."""
        if step.market == "OnDemand":
            return on_demand(step.provisioning_s)
        base = self.spot_base[step.name]

        def spot(length: float):
            out = run_job(JobParams(work_s=length, provisioning_s=step.provisioning_s, **base), self.spot_rng)
            return out.runs, out.end_s, out.status == "Completed"

        return spot

    def start(self, ctx: SimContext) -> None:
        s, h = self.spec, ctx.horizon_s
        submits = trigger_times(s.trigger, ctx.start, h, ctx.rng("pipeline", s.name, "arrivals"))
        rngs = {part: ctx.rng("pipeline", s.name, part) for part in ("duration", "failure", "cache")}
        deploy_steps = [x.name for x in s.steps if x.type == "deployment"]
        for submit in submits.tolist():
            run, outcomes = self._run(ctx, submit, self._draws(rngs))
            instance_s = self._meter_run(ctx, submit, run, outcomes)
            ok = [submit + run.end_s[n] for n in deploy_steps if n in run.end_s and outcomes[n].succeeded]
            jobs = [o for n, o in outcomes.items() if self.steps[n].component is not None]
            fresh = not jobs or not all(o.cached for o in jobs)
            if run.succeeded and fresh:
                self.deployed.extend(ok or [submit + run.makespan_s])
            steps_cached = sum(o.cached for o in outcomes.values())
            self.rows.append((submit, submit + run.makespan_s, run.makespan_s, run.succeeded,
                              len(outcomes) - steps_cached, steps_cached,
                              sum(o.retries for o in outcomes.values()), instance_s, submit + run.makespan_s > h))
        ctx.env.process(self._announce(ctx))

    def _meter_run(self, ctx: SimContext, submit: float, run, outcomes) -> float:
        """Meter every billed attempt of the run's job steps (cut at the horizon), remember its
        successful executions for later runs' caches; returns its instance-seconds."""
        total = 0.0
        for name, out in outcomes.items():
            step = self.steps[name]
            begin = submit + run.start_s[name]
            if not out.cached and out.succeeded:
                self.executions[name].append(submit + run.end_s[name])
            self.step_instance_s.setdefault(name, 0.0)
            if step.component is None:
                continue
            tags = self.step_tags[name]
            for a, b in out.runs:
                a, b = begin + a, min(begin + b, ctx.horizon_s)
                if b > a:
                    self.out.instance(step.component, step.instance_type, a, b, step.instance_count, step.market,
                                      tags=tags)
                    self.out.storage(step.component, "ml_storage_gb_month", step.volume_gb * step.instance_count,
                                     a, b, tags=tags)
                    self.step_instance_s[name] += (b - a) * step.instance_count
                    total += (b - a) * step.instance_count
        return total

    def _announce(self, ctx: SimContext):
        for t in sorted(self.deployed):
            if t >= ctx.horizon_s:
                return
            yield ctx.env.timeout(t - ctx.env.now)
            ctx.publish(pipeline_topic(self.spec.name), t)

    def finish(self, ctx: SimContext) -> ResourceResult:
        runs = pd.DataFrame(self.rows, columns=COLUMNS)
        n = len(runs)
        months = ctx.horizon_s / MONTH
        metrics = {
            "cost_unit": "runs",
            "runs": n,
            "runs_failed": int((~runs["succeeded"]).sum()) if n else 0,
            "runs_per_month": n / months,
            "mean_makespan_h": float(runs["makespan_s"].mean() / 3600.0) if n else math.nan,
            "steps_run": int(runs["steps_run"].sum()),
            "steps_cached": int(runs["steps_cached"].sum()),
            "retries": int(runs["retries"].sum()),
            "instance_hours": float(runs["instance_s"].sum() / 3600.0),
            "instance_hours_per_run": float(runs["instance_s"].mean() / 3600.0) if n else 0.0,
            "instance_hours_by_step": {k: v / 3600.0 for k, v in self.step_instance_s.items()},
            "deployments_published": sum(1 for t in self.deployed if t < ctx.horizon_s),
            "in_progress_at_horizon": int(runs["in_progress_at_horizon"].sum()),
        }
        return ResourceResult(self.spec.name, "pipeline", "pipelines", metrics, runs)
