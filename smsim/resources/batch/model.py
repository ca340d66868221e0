"""Batch transform and processing jobs: a SimPy queue of jobs, each on its own instances.

Jobs of one spec share a ``simpy.Resource`` of ``max_concurrent_jobs`` slots (FIFO). A job that
gets a slot is provisioned (not billed), then billed for startup plus processing as ``instance``
usage (component ``BatchTransform`` or ``Processing``, on-demand) and its ML volumes as
``ml_storage_gb_month``. The queue wait of every job is kept for the metrics.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.workload.jobs import trigger_times

_COMPONENT = {"batch-transform": "BatchTransform", "processing": "Processing"}


class BulkJobModel:
    """All jobs of one batch-transform or processing spec."""

    section = ""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.component = _COMPONENT[spec.kind]
        self.out = UsageWriter(ctx.meter, spec.name, spec.kind, ctx.tags_for(spec))
        self.rows: list[tuple[float, float, float, float]] = []  # submit, start, end, wait

    def start(self, ctx: SimContext) -> None:
        import simpy

        s = self.spec
        submit = trigger_times(
            s.trigger, ctx.start, ctx.horizon_s, ctx.rng(s.kind, s.name, "arrivals")
        )
        size = np.ones(submit.size)
        if s.work_cv > 0:
            sigma2 = math.log1p(s.work_cv**2)
            size = ctx.rng(s.kind, s.name, "size").lognormal(
                -sigma2 / 2, math.sqrt(sigma2), submit.size
            )
        slots = simpy.Resource(ctx.env, capacity=s.max_concurrent_jobs)
        ctx.env.process(self._arrivals(ctx, slots, submit, size * s.processing_s))

    def _arrivals(self, ctx, slots, submit: np.ndarray, work_s: np.ndarray):
        for t, w in zip(submit.tolist(), work_s.tolist(), strict=True):
            if t > ctx.env.now:
                yield ctx.env.timeout(t - ctx.env.now)
            ctx.env.process(self._job(ctx, slots, t, w))

    def _job(self, ctx, slots, submit: float, work_s: float):
        s = self.spec
        with slots.request() as req:
            yield req
            begin = ctx.env.now
            billed_from = begin + s.provisioning_s
            end = billed_from + s.startup_s + work_s
            h = ctx.horizon_s
            self.out.instance(
                self.component, s.instance_type, billed_from, min(end, h), s.instance_count
            )
            self.out.storage(
                self.component,
                "ml_storage_gb_month",
                s.volume_gb * s.instance_count,
                billed_from,
                min(end, h),
            )
            self.rows.append((submit, begin, end, begin - submit))
            yield ctx.env.timeout(end - begin)

    def finish(self, ctx: SimContext) -> ResourceResult:
        s = self.spec
        jobs = pd.DataFrame(self.rows, columns=["submit_s", "start_s", "end_s", "wait_s"])
        billed = (
            jobs["end_s"].clip(upper=ctx.horizon_s) - jobs["start_s"] - s.provisioning_s
        ).clip(lower=0)
        return ResourceResult(
            s.name,
            s.kind,
            self.section,
            {
                "instance_type": s.instance_type,
                "jobs_started": len(jobs),
                "jobs_finished": int((jobs["end_s"] <= ctx.horizon_s).sum()),
                "instance_hours": float(billed.sum() * s.instance_count / 3600.0),
                "mean_wait_s": float(jobs["wait_s"].mean()) if len(jobs) else 0.0,
                "max_wait_s": float(jobs["wait_s"].max()) if len(jobs) else 0.0,
                "mean_processing_s": s.processing_s,
            },
            jobs,
        )


class BatchTransformModel(BulkJobModel):
    section = "batch_jobs"


class ProcessingModel(BulkJobModel):
    section = "processing_jobs"
