"""A Model Monitor schedule with data capture, quality drift and retraining, on the SimPy clock.

Monitoring jobs run at the schedule's times (``Processing`` instance usage and ML volumes).
With a ``quality:`` section, each run estimates the deployed model's quality; with
``retraining:``, SimPy processes start retraining jobs (``Training`` usage) on the schedule and
on detections (:func:`~smsim.resources.monitoring.quality.should_retrain`) and deploy each new
model when its job ends. Quality statistics are integrated exactly from the deployment history
afterwards (:func:`~smsim.resources.monitoring.quality.quality_stats`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.resources.monitoring.capture import captured_requests, hourly_requests, meter_capture
from smsim.resources.monitoring.quality import quality_at, quality_stats, should_retrain
from smsim.workload.jobs import cron_times, poisson_times, trigger_times

SERIES_COLUMNS = ["run_s", "quality", "estimate", "below_threshold", "retraining_started"]


class ModelMonitorModel:
    """One :class:`~smsim.resources.monitoring.spec.ModelMonitorSpec`."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.out = UsageWriter(ctx.meter, spec.name, spec.kind, ctx.tags_for(spec))
        self.runs = np.zeros(0)
        self.shocks = np.zeros(0)
        self.deployments: list[tuple[float, float]] = [(0.0, 0.0)]
        self.retrain_starts: list[tuple[float, str]] = []
        self.busy = False
        self.ignored_alarms = 0  # alarms while retraining or within the cooldown
        self.rows: list[tuple] = []
        self.captured = 0.0
        self.captured_gb = 0.0

    # ----- setup --------------------------------------------------------------------------
    def start(self, ctx: SimContext) -> None:
        s, h = self.spec, ctx.horizon_s
        self.runs = cron_times(s.cron, "UTC", ctx.start, h)
        for t in self.runs.tolist():
            end = min(t + s.job_duration_s, h)
            self.out.instance("Processing", s.instance_type, t, end, s.instance_count)
            self.out.storage("Processing", "ml_storage_gb_month", s.volume_gb * s.instance_count, t, end)
        if s.capture is not None:
            cap = captured_requests(hourly_requests(ctx, s), s.capture.sampling_percentage,
                                    ctx.rng("monitoring", s.name, "capture"))
            self.captured = float(cap.sum())
            self.captured_gb = meter_capture(self.out, s, cap, h)
        if s.quality is None:
            return
        q = s.quality
        if q.shocks_per_day > 0:
            self.shocks = poisson_times(q.shocks_per_day, h, ctx.rng("monitoring", s.name, "shocks"))
        ctx.env.process(self._monitor(ctx, ctx.rng("monitoring", s.name, "noise")))
        r = s.retraining
        if r is not None and r.trigger is not None:
            times = trigger_times(r.trigger, ctx.start, h, ctx.rng("monitoring", s.name, "retrain"))
            ctx.env.process(self._scheduled(ctx, times))

    # ----- SimPy processes ------------------------------------------------------------------
    def _monitor(self, ctx, noise: np.random.Generator):
        s = self.spec
        r = s.retraining
        threshold = r.threshold if r is not None else None
        for t in self.runs.tolist():
            if t > ctx.env.now:
                yield ctx.env.timeout(t - ctx.env.now)
            true = quality_at(t, self.deployments[-1][1], self.shocks, s.quality)
            estimate = true + (noise.normal(0.0, s.quality.noise_sd) if s.quality.noise_sd > 0 else 0.0)
            below = threshold is not None and estimate < threshold
            since = t - self.deployments[-1][0] if len(self.deployments) > 1 else float("inf")
            start = r is not None and should_retrain(r.mode, estimate, threshold, self.busy, since, r.cooldown_s)
            if r is not None and below and not start and r.mode != "scheduled":
                self.ignored_alarms += 1
            if start:
                self.busy = True  # claimed now: the job starts when the monitoring job reports
                ctx.env.process(self._after(ctx, s.job_duration_s, "drift"))
            self.rows.append((t, true, estimate, below, start))

    def _scheduled(self, ctx, times: np.ndarray):
        for t in times.tolist():
            if t > ctx.env.now:
                yield ctx.env.timeout(t - ctx.env.now)
            if self.busy:
                continue
            self.busy = True
            ctx.env.process(self._retrain(ctx, "scheduled"))

    def _after(self, ctx, delay_s: float, reason: str):
        yield ctx.env.timeout(delay_s)
        yield from self._retrain(ctx, reason)

    def _retrain(self, ctx, reason: str):
        r = self.spec.retraining
        start, h = ctx.env.now, ctx.horizon_s
        self.retrain_starts.append((start, reason))
        end = min(start + r.duration_s, h)
        self.out.instance("Training", r.instance_type, start, end, r.instance_count)
        self.out.storage("Training", "ml_storage_gb_month", r.volume_gb * r.instance_count, start, end)
        yield ctx.env.timeout(r.duration_s)
        self.deployments.append((ctx.env.now, start))
        self.busy = False

    # ----- results --------------------------------------------------------------------------
    def finish(self, ctx: SimContext) -> ResourceResult:
        s, h = self.spec, ctx.horizon_s
        billed = np.minimum(self.runs + s.job_duration_s, h) - self.runs
        metrics: dict = {
            "schedule": s.schedule,
            "monitoring_runs": int(self.runs.size),
            "monitoring_instance_hours": float(billed.sum() * s.instance_count / 3600.0),
        }
        if s.capture is not None:
            metrics.update(captured_requests=self.captured, captured_gb=self.captured_gb)
        if s.quality is not None:
            r = s.retraining
            threshold = r.threshold if r is not None else None
            stats = quality_stats(self.deployments, self.shocks, s.quality, h, threshold)
            deployed = [d for d in self.deployments[1:] if d[0] <= h]
            metrics.update(
                mean_quality=stats.mean, min_quality=stats.minimum,
                quality_at_horizon=quality_at(h, self.deployments[-1][1], self.shocks, s.quality),
                concept_shifts=int(self.shocks.size),
            )
            if threshold is not None:
                metrics["share_below_threshold"] = stats.share_below
            if r is not None:
                metrics.update(
                    retraining_mode=r.mode,
                    retrainings_started=len(self.retrain_starts),
                    retrainings_deployed=len(deployed),
                    retrainings_on_drift=sum(1 for _, why in self.retrain_starts if why == "drift"),
                    alarms_ignored=self.ignored_alarms,
                    retraining_instance_hours=sum(min(t + r.duration_s, h) - t for t, _ in self.retrain_starts)
                    * r.instance_count / 3600.0,
                )
        series = pd.DataFrame(self.rows, columns=SERIES_COLUMNS) if self.rows else None
        return ResourceResult(s.name, s.kind, "monitoring", metrics, series)
