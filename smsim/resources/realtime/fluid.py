"""The fluid tier of a real-time endpoint: per-minute counts -> :mod:`smsim.resources.scaling.fluid` -> metrics.

Arrival counts per minute:

* synthetic generators expecting at most :data:`EXACT_MAX_REQUESTS` requests over the horizon
  (where the request tier is practical too): the generator's own arrivals, streamed chunk by
  chunk from the same random stream the request tier uses and counted per minute, so for one
  seed both tiers see the very same traffic and their difference is the model's alone;
* larger synthetic workloads, without materializing requests:
* ``poisson`` / ``seasonal``: ``Poisson(integral of the rate over the minute)`` per minute, the
  integral by the midpoint rule on the generator's own rate function (relative error below
  1e-6 for a daily cycle; a spike that starts or ends inside a minute is smeared over it);
* ``mmpp``: the hidden two-state path is drawn exactly (one draw per sojourn), the rate
  integrated over each minute, then a Poisson count per minute (so bursts are kept);
* recorded traces and mixes: materialized once and counted per minute. Arrivals less than
  :data:`BATCH_TOL_S` apart form a batch (traces are often recorded at a coarse resolution:
  Mooncake's timestamps fall on a 3 s grid, ~10 requests each). The within-minute burstiness of
  the batches (squared coefficient of variation of the gaps between batches, each gap divided
  by its minute's mean gap) becomes the arrival scv of Allen-Cunneen, and each request's
  position ``j`` (from 0) in its batch adds a delay before that queueing wait: with ``c``
  servers in the minute, ``d_j = max(0, j - c + 1) x E[S] / c`` (the ``j``-th waits for
  ``j - c + 1`` completions of the ``c`` servers busy with its batch). Stable minutes only: in
  overloaded minutes the backlog dominates. This ignores the work a batch finds left by earlier
  batches beyond the Allen-Cunneen term (the M^X/G/1 decomposition would inflate ``d_j`` by
  ``1 / (1 - rho)`` for Poisson batches; on Mooncake's regular 3 s grid that overshoots the
  request tier's p99 by 2.7x, without it the p99 is 7 % low: benchmarks/bench_fluid_error.py).

The service time's mean and scv come from the profile's declared moments, or, when the profile
is linear in tokens/payload, from 10^5 calibration draws over the workload's first requests.

Overall latency quantiles and SLA attainment come from a mixture over minutes: each minute's
wait is an atom at 0 plus an exponential tail (stable minutes: Erlang C ``C`` and decay
``(c mu - lam) / f``, truncated at the timeout) or uniform between the start and end backlog
delays (overloaded minutes), weighted by the minute's served requests and accumulated on a
256-bin log grid; latency = wait + service, with the service distribution given by 512
equal-probability quantile points of the profile. These are approximations (independence of
wait and service, a pooled queue even for random routing); benchmarks/bench_fluid_error.py
measures their error against the request tier.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from smsim.core.engine import SimContext
from smsim.core.fluid import N_THETA, ServiceModel, tail_mass, wait_mass
from smsim.resources.realtime.metering import (
    COMPONENT,
    SERIES_COLUMNS,
    EndpointMeter,
    max_concurrent,
)
from smsim.resources.realtime.predictive import resolved_scaling
from smsim.resources.scaling.fluid import simulate_fluid
from smsim.workload.arrivals import ArrivalProcess
from smsim.workload.counts import batch_positions, minute_counts
from smsim.workload.spec import materialize

#: Calibration draws for the service distribution, and its quantile points.
N_CALIBRATION = 100_000
N_SERVICE_POINTS = 512
#: Wait grid: an atom at 0, then log-spaced bins from WAIT_GRID_LO_S to the timeout.
N_WAIT_BINS = 256
WAIT_GRID_LO_S = 1e-4


class FluidTier:
    """The per-minute tier of one endpoint; runs entirely in :meth:`start` (no SimPy process)."""

    def __init__(self, spec, profile, ctx: SimContext) -> None:
        self.spec = spec
        self.profile = profile
        self.horizon_s = ctx.horizon_s
        self.n_minutes = math.ceil(ctx.horizon_s / 60.0 - 1e-9)
        self.ctx = ctx
        self.wall_s = 0.0
        #: ``(minute, position, count)`` of requests behind others in their batch (traces only).
        self.batches = batch_positions(np.zeros(0))
        self.deleted_at_s: float | None = None  # lifecycle policy (set in start)
        self.dropped_deleted = 0.0

    def _service(self, sample) -> tuple[float, float, np.ndarray]:
        """(mean_s, scv, quantile points) of the service time."""
        rng = self.ctx.rng("endpoint", self.spec.name, "service")
        if sample is not None and self.profile.size_dependent and len(sample.arrival_s):
            take = sample.take(slice(0, min(len(sample.arrival_s), N_CALIBRATION)))
            draws = self.profile.sample(rng, take)
        else:
            draws = self.profile.base().sample(rng, N_CALIBRATION)
        base = self.profile.base()
        if self.profile.size_dependent:
            mean, var = float(draws.mean()), float(draws.var())
        else:
            mean, var = base.mean_s, base.var_s2
        scv = var / mean**2 if mean > 0 else 0.0
        pts = np.quantile(draws, (np.arange(N_SERVICE_POINTS) + 0.5) / N_SERVICE_POINTS)
        return max(mean, 1e-9), scv, pts

    def start(self, ctx: SimContext) -> None:
        t_wall = time.perf_counter()
        s = self.spec
        counts, ca2, sample = minute_counts(
            s.workload, ctx.arrivals_rng(s), self.n_minutes, self.horizon_s, ctx.start,
            ctx.scenario.base_dir,
        )
        if sample is None and self.profile.size_dependent:
            sample = materialize(s.workload, ctx.rng("endpoint", s.name, "calibration"),
                                 min(self.horizon_s, 3600.0), ctx.start, ctx.scenario.base_dir)
        self.mean_s, self.scv, self.service_points = self._service(sample)
        self.arrival_scv = ca2
        if not isinstance(s.workload, ArrivalProcess) and sample is not None:
            self.batches = batch_positions(sample.arrival_s)
        model = ServiceModel(self.mean_s, self.scv, ca2, s.concurrency_per_instance, s.invocation_timeout_s,
                             tuple(self.service_points.tolist()))
        scaling = resolved_scaling(s, ctx, counts)
        if s.delete_after_idle_s is not None:
            counts = self._lifecycle(np.asarray(counts, dtype=float), s.delete_after_idle_s)
        self.result = simulate_fluid(counts, scaling, model, rng=ctx.rng("endpoint", s.name, "provisioning"),
                                     start=ctx.start)
        if self.deleted_at_s is not None:
            self._clip_at_deletion(self.deleted_at_s)
        meter = EndpointMeter(ctx.meter, s.name)
        tags = ctx.tags_for(s)
        for row in self.result.instances.itertuples(index=False):
            meter.instance(f"{s.name}-{row.instance_id}", "endpoint_instance", COMPONENT, s.instance_type,
                           row.launch_s, min(row.end_s, self.horizon_s), 1, "OnDemand", tags)
        self.wall_s = time.perf_counter() - t_wall

    def _lifecycle(self, counts: np.ndarray, idle_limit_s: float) -> np.ndarray:
        """Deletion after ``idle_limit_s`` without invocations, at minute resolution: the endpoint
        goes at the end of the first idle run that long (counted from creation); later minutes'
        requests fail as dropped and are not offered to the fluid queue."""
        need = int(math.ceil(idle_limit_s / 60.0))
        last_busy = -1  # minute index of the last arrival; creation counts as one at minute -1
        for k in np.flatnonzero(counts > 0).tolist() + [counts.size + need]:
            if k - last_busy - 1 >= need:
                minute = last_busy + 1 + need
                if minute < counts.size:
                    self.deleted_at_s = minute * 60.0
                    self.dropped_deleted = float(counts[minute:].sum())
                    counts = counts.copy()
                    counts[minute:] = 0.0
                break
            last_busy = k
        return counts

    def _clip_at_deletion(self, t_del: float) -> None:
        """Every instance ends at the deletion; the minutes after it have none in service."""
        inst = self.result.instances
        inst = inst[inst.launch_s < t_del].copy()
        inst["end_s"] = np.minimum(inst.end_s.to_numpy(), t_del)
        inst["ready_s"] = np.minimum(inst.ready_s.to_numpy(), t_del)
        self.result.instances = inst.reset_index(drop=True)
        m = self.result.minutes
        after = m.start_s.to_numpy() >= t_del
        for col in ("in_service", "utilization"):
            m.loc[after, col] = 0.0

    def finish(self, ctx: SimContext) -> tuple[dict, pd.DataFrame]:
        t_wall = time.perf_counter()
        s = self.spec
        m = self.result.minutes
        arrivals = m.arrivals.to_numpy()  # offered to the queue
        no_capacity = m.no_capacity.to_numpy()  # failed at once: no instance InService
        served = m.served.to_numpy()
        timed_out = m.timed_out.to_numpy()
        in_service = m.in_service.to_numpy()
        timeout = s.invocation_timeout_s
        edges = np.concatenate([[0.0], np.geomspace(WAIT_GRID_LO_S, timeout, N_WAIT_BINS - 2), [np.inf]])
        mass = np.zeros(N_WAIT_BINS)
        g_minute, g_pos, g_count = self.batches
        pc = np.zeros(arrivals.size)
        wscale = np.zeros(arrivals.size)
        theta_weight = np.zeros(N_THETA)
        slack = m.slack_s.to_numpy()
        wait_mass(arrivals, in_service, m.backlog.to_numpy(), served, slack, float(s.concurrency_per_instance),
                   self.mean_s, (self.arrival_scv + self.scv) / 2.0, float(timeout), edges, mass, pc, wscale, theta_weight,
                   g_minute, g_pos, g_count)
        mass[1:] += tail_mass(theta_weight, edges)
        mass[-1] = 0.0  # waits beyond the timeout are timeouts, counted in ``timed_out``
        reps = np.zeros(N_WAIT_BINS)
        reps[1] = WAIT_GRID_LO_S / 2
        reps[2:-1] = np.sqrt(edges[1:-2] * edges[2:-1])
        reps[-1] = timeout
        lat = (reps[:, None] + self.service_points[None, :]).ravel()
        weight = np.repeat(mass, self.service_points.size) / self.service_points.size
        # saturated minutes: served requests started with ``slack`` left and finished within it
        sat = np.flatnonzero(slack > 0)
        if sat.size:
            pts = self.service_points
            j = np.searchsorted(pts, slack[sat], side="right")
            cum_pts = np.concatenate([[0.0], np.cumsum(pts)])
            done = np.where(j > 0, cum_pts[j] / np.maximum(j, 1), slack[sat] / 2)
            lat = np.concatenate([lat, timeout - slack[sat] + done])
            weight = np.concatenate([weight, served[sat]])
        order = np.argsort(lat, kind="stable")
        lat, weight = lat[order], weight[order]
        cum = np.cumsum(weight)
        total = cum[-1] if cum.size else 0.0
        q = [float(lat[min(np.searchsorted(cum, p * total), lat.size - 1)]) if total > 0 else math.nan
             for p in (0.5, 0.9, 0.99, 0.999)]
        offered = float(arrivals.sum())
        failed_no_capacity = float(no_capacity.sum())
        requests = offered + failed_no_capacity
        inst = self.result.instances
        ends = np.minimum(inst.end_s.to_numpy(), self.horizon_s)
        billed_s = float((ends - inst.launch_s.to_numpy()).sum())
        minute_len = np.minimum(60.0, self.horizon_s - m.start_s.to_numpy())
        conc = s.concurrency_per_instance
        busy = float((m.utilization * m.in_service * conc * minute_len).sum())
        capacity = float((m.in_service * conc * minute_len).sum())
        svc_p50 = float(np.quantile(self.service_points, 0.5))
        wait_p50 = np.where(pc > 0.5, np.where(m.backlog.to_numpy() > 0, wscale,
                                               wscale * np.log(np.maximum(2 * pc, 1.0))), 0.0)
        series = pd.DataFrame({
            "time_s": m.start_s, "instances_in_service": m.in_service, "arrivals": arrivals + no_capacity,
            "served": served, "timed_out": timed_out, "dropped": no_capacity, "latency_p50_s": np.where(arrivals > 0, wait_p50 + svc_p50, np.nan),
            "latency_p99_s": np.where(arrivals > 0, m.latency_p99_s, np.nan), "utilization": m.utilization,
        })[SERIES_COLUMNS]
        events = [e[1] for e in self.result.events]
        metrics = {
            "requests": requests + self.dropped_deleted,
            "served": float(served.sum()),
            "timed_out": float(timed_out.sum()),
            "dropped": failed_no_capacity + self.dropped_deleted,
            "no_capacity_failures": failed_no_capacity,
            "deleted_at_s": self.deleted_at_s,
            "throttled": 0,
            "in_flight_at_horizon": float(m.backlog.iloc[-1]) if len(m) else 0.0,
            "latency_p50_s": q[0],
            "latency_p90_s": q[1],
            "latency_p99_s": q[2],
            "latency_p999_s": q[3],
            "mean_wait_s": float((m.wait_mean_s * arrivals).sum() / offered) if offered else math.nan,
            "mean_instances": billed_s / self.horizon_s,
            "mean_instances_in_service": float((in_service * minute_len).sum() / self.horizon_s),
            "max_instances": max_concurrent(list(zip(inst.launch_s.tolist(), ends.tolist(), strict=True))),
            "instance_hours": billed_s / 3600.0,
            "utilization": busy / capacity if capacity > 0 else math.nan,
            "scale_out_events": events.count("scale_out"),
            "scale_in_events": events.count("scale_in"),
            "scheduled_actions": events.count("scheduled"),
            "service_mean_s": self.mean_s,
            "service_scv": self.scv,
            "arrival_scv": self.arrival_scv,
        }
        if s.sla is not None:
            within = float(weight[lat <= s.sla.latency_threshold_s].sum())
            metrics["sla_attainment"] = within / requests if requests else math.nan
        self.wall_s += time.perf_counter() - t_wall
        return metrics, series


__all__ = ["FluidTier"]
