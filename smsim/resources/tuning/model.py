"""Tuning jobs: trials planned, launched into parallel slots, stopped, and metered as training.

Each tuning job is worked out as a pure function of its draws (as training jobs are): every
trial's full duration and objective are drawn (or read from the trial log), the strategy's
stopping rule fixes how much of it trains, the managed spot lifecycle
(:func:`smsim.resources.managed_spot.run_job`) turns that into billed runs and an elapsed time,
:func:`~smsim.resources.tuning.search.launch_offsets` places the trials in time, and completion
criteria (or ``max_runtime_s``) cut the job short: trials not started by then never run, running
ones are stopped then. Metered per trial run: ``instance`` usage, component ``Training``
(tuning trials are training jobs and are billed as such), market ``Spot`` or ``OnDemand``, and
the ML volumes as ``ml_storage_gb_month``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import ndtri

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.resources.managed_spot import JobParams, interruption_rate, run_job, spot_params
from smsim.resources.tuning.search import (
    TrialTimes,
    best_trial,
    completion_time,
    hyperband_brackets,
    hyperband_stop,
    launch_offsets,
    median_rule_stops,
)
from smsim.workload.jobs import trigger_times

COLUMNS = ["submit_s", "end_s", "wall_time_s", "trials_launched", "trials_completed",
           "trials_stopped_early", "trials_cut_by_completion", "instance_s", "best_objective",
           "time_to_best_s", "best_from_parent", "interruptions", "in_progress_at_horizon"]


class TuningModel:
    """All tuning jobs of one :class:`~smsim.resources.tuning.spec.TuningJobSpec`."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.out = UsageWriter(ctx.meter, spec.name, "tuning", ctx.tags_for(spec))
        self.rate_per_instance_hour, self.rate_source = 0.0, ""
        if spec.market == "Spot":
            self.rate_per_instance_hour, self.rate_source = interruption_rate(
                spec.spot_settings, spec.instance_type, ctx.scenario.region, ctx.catalog)
        self.log = spec.load_trial_log(getattr(ctx.scenario, "base_dir", None))
        self.sign = 1.0 if spec.objective.goal == "maximize" else -1.0
        self.rows: list[tuple] = []

    # -- one job's trials -------------------------------------------------------------------
    def _values(self, q: np.ndarray) -> np.ndarray:
        """Objective values at score quantiles ``q`` (low = worse, whatever the goal)."""
        o = self.spec.objective
        at = q if o.goal == "maximize" else 1.0 - q
        return o.mean + o.sd * ndtri(at) if o.distribution == "normal" else o.low + at * (o.high - o.low)

    def _plan(self, rngs: dict[str, np.random.Generator]) -> tuple[np.ndarray, list[float | None]]:
        """Training seconds of each trial and its final score (None when it stops early). Each
        quantity has its own stream, so what-ifs that change one keep the others' draws."""
        s, n = self.spec, self.spec.max_trials
        rng = rngs["log"]
        if self.log is not None:
            idx = np.arange(n) if s.trial_log.order == "as-logged" else rng.integers(0, len(self.log), n)
            train = self.log.duration_s[idx]
            scores = [self.sign * float(v) if done else None
                      for v, done in zip(self.log.objective[idx], self.log.completed[idx], strict=True)]
            return train, scores
        full = s.trial_duration.draw(rngs["duration"], n)
        q = rngs["objective"].uniform(size=n)
        score = self.sign * self._values(q)
        fraction = np.ones(n)
        final: list[float | None] = [float(x) for x in score]
        if s.hyperband is not None:
            hb = s.hyperband
            brackets = hyperband_brackets(hb.min_resource, hb.max_resource, hb.reduction_factor)
            records = [[[] for _ in rungs] for rungs in brackets]
            for j in range(n):
                b = j % len(brackets)
                stop = hyperband_stop(float(score[j]), brackets[b], records[b], hb.reduction_factor)
                if stop is not None:
                    fraction[j], final[j] = stop, None
        elif s.early_stopping is not None:
            es = s.early_stopping
            at = rngs["stop"].uniform(es.stop_at_min_fraction, es.stop_at_max_fraction, n)
            for j in range(n):
                if median_rule_stops(float(q[j]), es.stopped_fraction):
                    fraction[j], final[j] = at[j], None
        return full * fraction, final

    def _initial_best(self, rng: np.random.Generator) -> float:
        ws = self.spec.warm_start
        if ws is None:
            return -math.inf
        return float(np.max(self.sign * self._values(rng.uniform(size=ws.parent_trials))))

    def _params(self, train_s: float) -> JobParams:
        s = self.spec
        extra = (spot_params(s.spot_settings, s.instance_count, self.rate_per_instance_hour)
                 if s.market == "Spot" else {})
        return JobParams(work_s=float(train_s), provisioning_s=s.provisioning_s, download_s=s.download_s,
                         upload_s=s.upload_s, **extra)

    def _job(self, ctx: SimContext, submit: float, rngs: dict[str, np.random.Generator]) -> None:
        s, h = self.spec, ctx.horizon_s
        train, final = self._plan(rngs)
        initial_best = self._initial_best(rngs["warm"])
        outcomes = [run_job(self._params(t), rngs["spot"]) for t in train]
        starts = launch_offsets([o.end_s for o in outcomes], s.parallel, s.strategy == "bayesian")
        trials = [TrialTimes(a, a + o.end_s, f if o.status == "Completed" else None)
                  for a, o, f in zip(starts, outcomes, final, strict=True)]
        c = s.completion
        target = None if c is None or c.target_objective is None else self.sign * c.target_objective
        stop = completion_time(trials, initial_best, target, None if c is None else c.max_trials_not_improving)
        if s.max_runtime_s is not None:
            stop = min(stop, s.max_runtime_s)
        launched = [i for i, t in enumerate(trials) if t.start_s < stop]
        instance_s = 0.0
        for i in launched:
            for a, b in outcomes[i].runs:
                a, b = submit + starts[i] + a, min(submit + starts[i] + b, submit + stop, h)
                if b > a:
                    self.out.instance("Training", s.instance_type, a, b, s.instance_count, s.market)
                    self.out.storage("Training", "ml_storage_gb_month", s.volume_gb * s.instance_count, a, b)
                    instance_s += (b - a) * s.instance_count
        end = min(stop, max(trials[i].end_s for i in launched))
        best_i, t_best = best_trial(trials, end, initial_best)
        cut = sum(1 for i in launched if trials[i].end_s > stop)
        stopped = sum(1 for i in launched if final[i] is None and trials[i].end_s <= stop)
        completed = sum(1 for i in launched if trials[i].score is not None and trials[i].end_s <= stop)
        best = trials[best_i].score if best_i is not None else initial_best
        self.rows.append((submit, submit + end, end, len(launched), completed, stopped, cut, instance_s,
                          self.sign * best if math.isfinite(best) else math.nan, t_best, best_i is None,
                          sum(outcomes[i].interruptions for i in launched), submit + end > h))

    def start(self, ctx: SimContext) -> None:
        s = self.spec
        submits = trigger_times(s.trigger, ctx.start, ctx.horizon_s, ctx.rng("tuning", s.name, "arrivals"))
        rngs = {part: ctx.rng("tuning", s.name, part)
                for part in ("log", "duration", "objective", "stop", "spot", "warm")}
        for submit in submits.tolist():
            self._job(ctx, submit, rngs)

    def finish(self, ctx: SimContext) -> ResourceResult:
        jobs = pd.DataFrame(self.rows, columns=COLUMNS)
        n = len(jobs)

        def mean(col: str, scale: float = 1.0) -> float:
            return float(jobs[col].mean() / scale) if n else math.nan

        metrics = {
            "cost_unit": "jobs",
            "instance_type": self.spec.instance_type,
            "strategy": self.spec.strategy,
            "market": self.spec.market,
            "jobs": n,
            "trials": int(jobs["trials_launched"].sum()),
            "trials_completed": int(jobs["trials_completed"].sum()),
            "trials_stopped_early": int(jobs["trials_stopped_early"].sum()),
            "trials_cut_by_completion": int(jobs["trials_cut_by_completion"].sum()),
            "instance_hours": float(jobs["instance_s"].sum() / 3600.0),
            "mean_wall_time_h": mean("wall_time_s", 3600.0),
            "mean_time_to_best_h": mean("time_to_best_s", 3600.0),
            "mean_best_objective": mean("best_objective"),
            "interruptions": int(jobs["interruptions"].sum()),
            "in_progress_at_horizon": int(jobs["in_progress_at_horizon"].sum()),
            "interruption_rate_per_instance_hour": self.rate_per_instance_hour,
            "interruption_rate_source": self.rate_source,
        }
        return ResourceResult(self.spec.name, "tuning", "tuning_jobs", metrics, jobs)
