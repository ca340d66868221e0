"""Training jobs: on-demand and managed spot, with warm pools, ML volumes and S3 artifacts.

Each job's lifecycle is the pure function :func:`smsim.resources.managed_spot.run_job` (SageMaker training
jobs share no queue or capacity with each other in smsim, so no event interleaving is needed and a
year of hundreds of jobs a day costs well under a second). What is metered, per billed run:

* ``instance`` usage, component ``Training``, market ``Spot`` or ``OnDemand``, ``instance_count``
  instances from ``TrainingStartTime`` (after provisioning) to the end of the run: SageMaker bills
  the instance time of the job, Downloading and Uploading included, provisioning (``Starting``)
  and capacity waits excluded. This is smsim's reading of the TrainingStartTime docs;
* ``storage`` of ``volume_gb * instance_count`` at ``ml_storage_gb_month`` over the same run;
* S3: checkpoints (``checkpoint_gb``, ``s3_standard_gb_month``) from the first run until
  ``artifact_retention_s`` after the job ends, the model artifact (``model_artifact_gb``) from
  the end for ``artifact_retention_s``, one PUT per checkpoint written and per artifact
  (``s3_put_requests_per_1000``, in thousands).

Warm pools: after a job ends its instances stay warm for ``warm_pool_keep_alive_s`` (component
``TrainingWarmPool``); a job of the same spec submitted within that window reuses them and skips
provisioning and downloading (smsim assumes image and data are cached).

Usage past the horizon is cut at the horizon; such jobs count as ``in_progress_at_horizon``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.resources.managed_spot import (
    JobOutcome,
    JobParams,
    interruption_rate,
    run_job,
    spot_params,
)
from smsim.workload.jobs import trace_jobs, trigger_times


def efficiency(n: int, serial_fraction: float, comm_cost_per_instance: float) -> float:
    """Parallel efficiency of ``n`` instances (Amdahl times a communication penalty), in (0, 1]."""
    speedup = 1.0 / (serial_fraction + (1.0 - serial_fraction) / n)
    return speedup / n / (1.0 + comm_cost_per_instance * (n - 1))


def training_seconds(work_ref_instance_hours: float, n: int, speed_factor: float, scaling) -> float:
    """Wall seconds of training for W reference instance-hours on ``n`` instances."""
    eff = efficiency(n, scaling.serial_fraction, scaling.comm_cost_per_instance)
    return work_ref_instance_hours * 3600.0 / (n * speed_factor * eff)


@dataclass
class _Warm:
    release_s: float
    instance_type: str
    count: int


class TrainingModel:
    """All jobs of one :class:`~smsim.resources.training.spec.TrainingJobSpec`."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.tags = ctx.tags_for(spec)
        self.out = UsageWriter(ctx.meter, spec.name, "training", self.tags)
        self.rate_source = ""
        self.rate_per_instance_hour = 0.0
        if spec.market == "Spot":
            self.rate_per_instance_hour, self.rate_source = interruption_rate(
                spec.spot_settings, spec.instance_type, ctx.scenario.region, ctx.catalog
            )
        self.rows: list[tuple] = []
        self.warm_hours = 0.0
        self.warm_starts = 0
        self._base: dict[tuple[int, bool], dict] = {}

    # -- job table -------------------------------------------------------------------------------
    def _jobs(self, ctx: SimContext) -> pd.DataFrame:
        s = self.spec
        arrivals = ctx.rng("training", s.name, "arrivals")
        if s.trigger.kind == "trace":
            jobs = trace_jobs(s.trigger, ctx.horizon_s, arrivals, getattr(ctx.scenario, "base_dir", None))
        else:
            submit = trigger_times(s.trigger, ctx.start, ctx.horizon_s, arrivals)
            jobs = pd.DataFrame(
                {
                    "submit_s": submit,
                    "instance_count": s.instance_count,
                    "work_reference_instance_hours": s.work_reference_instance_hours,
                    "runtime_s": np.nan,
                    "instance_type": "",
                }
            )
        counts = jobs["instance_count"].to_numpy(dtype=int)
        eff = (
            np.array(
                [
                    efficiency(int(n), s.scaling.serial_fraction, s.scaling.comm_cost_per_instance)
                    for n in counts
                ]
            )
            if len(jobs)
            else np.empty(0)
        )
        work = jobs["work_reference_instance_hours"].to_numpy(dtype=float)
        runtime = jobs["runtime_s"].to_numpy(dtype=float)
        work = np.where(np.isnan(work), runtime / 3600.0 * counts * eff, work)
        if s.work_cv > 0:
            sigma2 = math.log1p(s.work_cv**2)
            work = work * ctx.rng("training", s.name, "work").lognormal(
                -sigma2 / 2, math.sqrt(sigma2), len(work)
            )
        if s.fine_tune_fraction is not None:
            work = work * s.fine_tune_fraction
        seconds = work * 3600.0 / (counts * s.speed_factor * eff)
        types = jobs["instance_type"].astype(str).replace("", s.instance_type)
        return pd.DataFrame(
            {
                "submit_s": jobs["submit_s"].to_numpy(dtype=float),
                "count": counts,
                "train_s": seconds,
                "instance_type": types.to_numpy(),
            }
        )

    def _params(self, train_s: float, count: int, warm: bool) -> JobParams:
        key = (count, warm)
        base = self._base.get(key)
        if base is None:
            base = self._base[key] = self._base_params(count, warm)
        return JobParams(work_s=train_s, **base)

    def _base_params(self, count: int, warm: bool) -> dict:
        s = self.spec
        common = {
            "provisioning_s": s.provisioning_s,
            "download_s": s.download_s,
            "upload_s": s.upload_s,
            "max_runtime_s": s.max_runtime_s,
            "skip_first_startup": warm,
        }
        if s.market == "OnDemand":
            return common
        return dict(**common, **spot_params(s.spot_settings, count, self.rate_per_instance_hour))

    # -- simulation -----------------------------------------------------------------------------
    def start(self, ctx: SimContext) -> None:
        s = self.spec
        rng = ctx.rng("training", s.name, "spot")
        horizon = ctx.horizon_s
        warm_pool: list[_Warm] = []
        keep = s.warm_pool_keep_alive_s
        jobs = self._jobs(ctx)
        for submit, count, train_s, itype in zip(
            jobs["submit_s"].tolist(),
            jobs["count"].tolist(),
            jobs["train_s"].tolist(),
            jobs["instance_type"].tolist(),
            strict=True,
        ):
            warm = False
            if keep > 0:
                live = []
                for w in warm_pool:  # expired clusters can serve no later job: bill and drop
                    if w.release_s + keep < submit:
                        self._bill_warm(ctx, w, w.release_s + keep)
                    else:
                        live.append(w)
                warm_pool = live
                for i in range(len(warm_pool) - 1, -1, -1):
                    w = warm_pool[i]
                    if (
                        w.instance_type == itype
                        and w.count == count
                        and w.release_s <= submit <= w.release_s + keep
                    ):
                        self._bill_warm(ctx, w, submit)
                        warm_pool.pop(i)
                        warm = True
                        self.warm_starts += 1
                        break
            params = self._params(train_s, count, warm)
            out = run_job(params, rng)
            self._meter_runs(ctx, out, submit, itype, count, s.market)
            end = submit + out.end_s
            fallback = ""
            if (
                out.status == "MaxWaitTimeExceeded"
                and s.market == "Spot"
                and s.spot_settings.fallback == "on-demand"
            ):
                od = JobParams(
                    work_s=train_s,
                    checkpoint_interval_s=params.checkpoint_interval_s,
                    checkpoint_write_s=params.checkpoint_write_s,
                    provisioning_s=s.provisioning_s,
                    download_s=s.download_s,
                    upload_s=s.upload_s,
                    max_runtime_s=s.max_runtime_s,
                )
                rerun = run_job(od, rng, segments_done=out.segments_done)
                self._meter_runs(ctx, rerun, end, itype, count, "OnDemand")
                fallback = rerun.status
                end += rerun.end_s
            self._meter_s3(ctx, submit, out, end)
            if keep > 0:
                warm_pool.append(_Warm(end, itype, count))
            od_equiv = (s.download_s + train_s + s.upload_s) * count
            self.rows.append(
                (
                    submit,
                    end,
                    out.status,
                    fallback,
                    out.billable_s,
                    out.training_time_s,
                    out.savings_pct,
                    out.interruptions,
                    out.lost_work_s * count,
                    count,
                    itype,
                    od_equiv,
                    end > horizon,
                )
            )
        for w in warm_pool:
            self._bill_warm(ctx, w, w.release_s + keep)

    def _bill_warm(self, ctx: SimContext, w: _Warm, until: float) -> None:
        a, b = w.release_s, min(until, ctx.horizon_s)
        if b > a:
            self.out.instance("TrainingWarmPool", w.instance_type, a, b, w.count)
            self.out.storage(
                "TrainingWarmPool", "ml_storage_gb_month", self.spec.volume_gb * w.count, a, b
            )
            self.warm_hours += (b - a) * w.count / 3600.0

    def _meter_runs(
        self, ctx, out: JobOutcome, t0: float, itype: str, count: int, market: str
    ) -> None:
        s, h = self.spec, ctx.horizon_s
        for a, b in out.runs:
            a, b = t0 + a, min(t0 + b, h)
            if b > a:
                self.out.instance("Training", itype, a, b, count, market)
                self.out.storage("Training", "ml_storage_gb_month", s.volume_gb * count, a, b)

    def _meter_s3(self, ctx, submit: float, out: JobOutcome, end: float) -> None:
        s, h = self.spec, ctx.horizon_s
        if not out.runs or submit + out.runs[0][0] >= h:
            return
        first = submit + out.runs[0][0]
        gone = min(end + s.artifact_retention_s, h)
        puts = 0
        if s.checkpoint_gb > 0 and s.market == "Spot" and s.spot_settings.checkpoint_interval_s:
            self.out.storage("S3:Checkpoints", "s3_standard_gb_month", s.checkpoint_gb, first, gone)
            puts += out.segments_done
        if s.model_artifact_gb > 0 and out.status == "Completed" and end < h:
            self.out.storage(
                "S3:ModelArtifacts", "s3_standard_gb_month", s.model_artifact_gb, end, gone
            )
            puts += 1
        if puts and first < h:
            self.out.amount("S3:Checkpoints", "s3_put_requests_per_1000", puts / 1000.0, min(end, h))

    def finish(self, ctx: SimContext) -> ResourceResult:
        cols = [
            "submit_s",
            "end_s",
            "status",
            "fallback_status",
            "billable_s",
            "training_time_s",
            "savings_pct",
            "interruptions",
            "lost_instance_s",
            "instance_count",
            "instance_type",
            "on_demand_equivalent_instance_s",
            "in_progress_at_horizon",
        ]
        jobs = pd.DataFrame(self.rows, columns=cols)
        billable_inst_h = float((jobs["billable_s"] * jobs["instance_count"]).sum() / 3600.0)
        training_s = float(jobs["training_time_s"].sum())
        metrics = {
            "instance_type": self.spec.instance_type,
            "market": self.spec.market,
            "jobs": len(jobs),
            "completed": int((jobs["status"] == "Completed").sum()),
            "stopped_max_runtime": int((jobs["status"] == "MaxRuntimeExceeded").sum()),
            "stopped_max_wait": int((jobs["status"] == "MaxWaitTimeExceeded").sum()),
            "fallback_runs": int((jobs["fallback_status"] != "").sum()),
            "in_progress_at_horizon": int(jobs["in_progress_at_horizon"].sum()),
            "billable_instance_hours": billable_inst_h,
            "training_time_hours": training_s / 3600.0,
            "sagemaker_savings_pct": (1 - float(jobs["billable_s"].sum()) / training_s) * 100
            if training_s
            else 0.0,
            "interruptions": int(jobs["interruptions"].sum()),
            "lost_instance_hours": float(jobs["lost_instance_s"].sum() / 3600.0),
            "on_demand_equivalent_instance_hours": float(
                jobs["on_demand_equivalent_instance_s"].sum() / 3600.0
            ),
            "mean_job_elapsed_hours": float((jobs["end_s"] - jobs["submit_s"]).mean() / 3600.0)
            if len(jobs)
            else 0.0,
            "warm_pool_instance_hours": self.warm_hours,
            "warm_starts": self.warm_starts,
            "interruption_rate_per_instance_hour": self.rate_per_instance_hour,
            "interruption_rate_source": self.rate_source,
        }
        return ResourceResult(self.spec.name, "training", "training_jobs", metrics, jobs)
