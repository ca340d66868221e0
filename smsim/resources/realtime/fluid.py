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
* recorded traces and mixes: materialized once and counted per minute.

The minute loop (:mod:`smsim.resources.scaling.fluid`) scales the fleet. Latency quantiles, SLA
attainment and the counts of served and timed-out requests come from the FIFO virtual waiting
time of :mod:`smsim.core.virtual_wait`, run afterwards over the minutes' offered
arrivals and in-service instances: a deterministic backlog in slots (1 s, or 0.5 s where the
arrival times are known: generated exactly or a trace, whose bursts and batches it then sees
inside the minute), with deadlines and the routing's hold on a backlog when servers are added,
plus a stochastic Erlang C wait whose scale cannot grow faster than a minute allows. When a
backlog forms, the latency quantiles are the mean over :data:`N_PATHS` sample paths of its
departures' deviation of each path's quantiles (what the mean over request-tier runs is), drawn
from the endpoint's own seed; SLA attainment and timeouts come from the pooled waits. Where the
arrival times are known, their burstiness is in the slots and the stochastic part takes Poisson
arrivals within a slot; otherwise the arrival scv of the counts (1 for synthetic generators).
In calm minutes of a trace, a request at position ``j`` (from 0) of a batch of simultaneous
arrivals first waits ``max(0, j - c + 1) x E[S] / c`` for the ``c`` servers busy with its batch.

The service time's mean and scv come from the profile's declared moments, or, when the profile
is linear in tokens/payload, from 10^5 calibration draws over the workload's first requests.

Latency = wait + service, with the service distribution given by 512 equal-probability
quantile points of the profile; a request that starts after waiting ``w`` is served when its
service fits in ``timeout - w`` (else it is cut at its deadline). Waits are pooled on a
512-bin grid, log-spaced in the wait and, past half the timeout, in the time left before the
deadline. These are approximations (independence of wait and service, one service rate per
minute); benchmarks/bench_fluid_error.py measures their error against the request tier.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from smsim.core.engine import SimContext
from smsim.core.fluid import N_THETA, ServiceModel, tail_mass
from smsim.core.virtual_wait import (
    N_PATHS,
    ROUTING_CODE,
    SLOT_S,
    SLOT_TIMES_S,
    path_quantiles,
    served_latencies,
    virtual_waits,
    wait_edges,
    weighted_quantiles,
)
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
N_WAIT_BINS = 512
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
        #: ``(sorted arrival times, index of each minute's first)`` when known (traces), else empty.
        self.arrival_times = (np.zeros(0), np.zeros(self.n_minutes + 1, dtype=np.int64))
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
        times: list[np.ndarray] = []
        counts, ca2, sample = minute_counts(
            s.workload, ctx.arrivals_rng(s), self.n_minutes, self.horizon_s, ctx.start,
            ctx.scenario.base_dir, times=times,
        )
        if times:
            t = np.ascontiguousarray(np.concatenate(times), dtype=np.float64)
            self.arrival_times = (t, np.searchsorted(t, np.arange(self.n_minutes + 1) * 60.0).astype(np.int64))
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
        in_service = m.in_service.to_numpy()
        timeout = s.invocation_timeout_s
        edges = wait_edges(timeout, N_WAIT_BINS, WAIT_GRID_LO_S)
        mass = np.zeros(N_WAIT_BINS)
        g_minute, g_pos, g_count = self.batches
        theta_weight = np.zeros(N_THETA)
        wait_mean = np.zeros(arrivals.size)
        p_wait = np.zeros(arrivals.size)
        t_arr, t_first = self.arrival_times
        pts = self.service_points
        prefix = np.concatenate([[0.0], np.cumsum(pts)])
        # with the arrival times known, their burstiness is in the slots: Poisson within a slot
        ca2, slot = (1.0, SLOT_TIMES_S) if t_arr.size else (self.arrival_scv, SLOT_S)
        served = np.zeros(arrivals.size)
        timed_out = np.zeros(arrivals.size)
        path_mass = np.zeros((N_PATHS + 1, N_WAIT_BINS))
        _, _, queued_end = virtual_waits(
            arrivals, in_service, float(s.concurrency_per_instance), self.mean_s, (ca2 + self.scv) / 2.0,
            (self.scv / 2.0 if t_arr.size else (ca2 + self.scv) / 2.0), float(timeout), ROUTING_CODE[s.routing], t_arr, t_first, pts, prefix, edges, g_minute, g_pos, g_count, slot,
            mass, theta_weight, wait_mean, p_wait, served, timed_out, path_mass,
            int(ctx.rng("endpoint", s.name, "backlog paths").integers(2**31)))
        mass[1:] += tail_mass(theta_weight, edges)
        mass[-1] = 0.0  # waits beyond the timeout are timeouts, counted in ``timed_out``
        lat, weight = served_latencies(mass, edges, pts, float(timeout))
        probs = (0.5, 0.9, 0.99, 0.999)
        if path_mass[N_PATHS].sum() > 0.0:  # a backlog: the mean of the runs' quantiles
            q = path_quantiles(mass, path_mass, edges, pts, float(timeout), probs)
        else:
            q = weighted_quantiles(lat, weight, probs)
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
        wait_p50 = np.where(p_wait > 0.5, wait_mean, 0.0)
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
            "in_flight_at_horizon": float(queued_end),
            "latency_p50_s": q[0],
            "latency_p90_s": q[1],
            "latency_p99_s": q[2],
            "latency_p999_s": q[3],
            "mean_wait_s": float((wait_mean * arrivals).sum() / offered) if offered else math.nan,
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
