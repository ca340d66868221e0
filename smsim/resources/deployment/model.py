"""Deployments: each one's extra capacity metered as hosting, on a schedule or after a pipeline.

Scheduled deployments are known before the run; deployments that follow a pipeline wait, on the
SimPy clock, for the runs the pipeline publishes (topic ``pipeline:<name>``). A deployment that
would start while the previous one is still in progress is skipped (SageMaker refuses to update
an endpoint that is updating). Metered: ``instance`` usage, component ``RealTimeInference``,
on-demand, for every phase of the plan (:mod:`smsim.resources.deployment.plan`), cut at a
rollback and at the horizon.
"""

from __future__ import annotations

import math

import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.resources.common import pipeline_topic
from smsim.resources.deployment.plan import plan_for
from smsim.units import MONTH
from smsim.workload.jobs import trigger_times

COMPONENT = "RealTimeInference"
COLUMNS = ["start_s", "end_s", "rolled_back", "overlap_instance_s"]


class DeploymentModel:
    """All deployments of one blue-green, rolling or shadow spec."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.out = UsageWriter(ctx.meter, spec.name, "deployment", ctx.tags_for(spec))
        self.plan = plan_for(spec)
        self.rows: list[tuple] = []
        self.skipped = 0
        self.busy_until = -math.inf
        self.rollback_rng = ctx.rng("deployment", spec.name, "rollback")

    def start(self, ctx: SimContext) -> None:
        s = self.spec
        if s.trigger.kind == "pipeline":
            ctx.env.process(self._follow(ctx, ctx.subscribe(pipeline_topic(s.trigger.pipeline))))
            return
        for t in trigger_times(s.trigger, ctx.start, ctx.horizon_s, ctx.rng("deployment", s.name, "arrivals")).tolist():
            self._deploy(ctx, t)

    def _follow(self, ctx: SimContext, runs):
        while True:
            t = yield runs.get()
            self._deploy(ctx, t + self.spec.trigger.delay_s)

    def _deploy(self, ctx: SimContext, t0: float) -> None:
        if t0 >= ctx.horizon_s:
            return
        if t0 < self.busy_until:
            self.skipped += 1
            return
        plan, rolled_back = self.plan, False
        u, at = self.rollback_rng.uniform(size=2)
        if u < self.spec.rollback_probability:
            plan, rolled_back = plan.cut(at * plan.duration_s), True
        self.busy_until = t0 + plan.duration_s
        billed = 0.0
        for a, b, n in plan.phases:
            a, b = t0 + a, min(t0 + b, ctx.horizon_s)
            if b > a:
                self.out.instance(COMPONENT, self.spec.instance_type, a, b, n)
                billed += (b - a) * n
        self.rows.append((t0, t0 + plan.duration_s, rolled_back, billed))

    def finish(self, ctx: SimContext) -> ResourceResult:
        rows = pd.DataFrame(self.rows, columns=COLUMNS)
        n = len(rows)
        overlap_h = float(rows["overlap_instance_s"].sum() / 3600.0)
        metrics = {
            "cost_unit": "deployments",
            "instance_type": self.spec.instance_type,
            "strategy": self.spec.kind,
            "deployments": n,
            "deployments_per_month": n * MONTH / ctx.horizon_s,
            "rollbacks": int(rows["rolled_back"].sum()) if n else 0,
            "skipped_in_progress": self.skipped,
            "overlap_instance_hours": overlap_h,
            "overlap_instance_hours_per_deployment": overlap_h / n if n else 0.0,
            "overlap_instance_hours_per_month": overlap_h * MONTH / ctx.horizon_s,
            "deployment_duration_h": self.plan.duration_s / 3600.0,
            "instance_hours": overlap_h,
        }
        return ResourceResult(self.spec.name, self.spec.kind, "deployments", metrics, rows)
