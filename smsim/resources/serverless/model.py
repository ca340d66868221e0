"""Serverless endpoints: the container pool under the engine, per-ms billing and metrics.

:class:`ServerlessModel` streams the endpoint's arrivals chunk by chunk through the
:class:`~smsim.resources.serverless.pool.ServerlessPool` (the semantics of one request are
there) and meters what the pool reports.

Billing (the engine records usage; prices come later from the catalog): each request's inference
duration, rounded up to the millisecond as AWS bills it, times the memory in GB (1024 MB) is
``serverless_compute_gb_second``; payload in + out is ``serverless_data_gb`` (throttled requests
are not processed, so not billed). Usage is summed per clock hour of arrival and recorded as one
amount spread over that hour. Provisioned concurrency: see :mod:`smsim.resources.serverless.spec`.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.histogram import LogHistogram
from smsim.resources.fidelity import choose_fidelity
from smsim.resources.serverless.pool import OUT_SERVED, OUT_THROTTLED, OUT_TIMED_OUT, ServerlessPool

__all__ = ["ServerlessModel"]

BYTES_PER_GB = 1024.0**3
HOUR_S = 3600.0


def _window_sums(bins: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    return np.bincount(bins, weights=weights, minlength=n)[:n].astype(np.float64)


class ServerlessModel:
    """A serverless endpoint: runs its whole workload through a :class:`ServerlessPool`."""

    SERIES_COLUMNS: ClassVar[list[str]] = ["window_start_s", "requests", "served", "throttled", "timed_out", "cold_starts",
                      "in_flight_end", "compute_gb_s", "latency_sum_s"]

    def __init__(self, spec, ctx: SimContext, backend: str = "numba") -> None:
        self.spec = spec
        self.tags = ctx.tags_for(spec)
        self.metrics: dict = {}
        self.series: pd.DataFrame | None = None
        if spec.recorded:
            self.tier = "recorded"
            return
        models = {m.name: m for m in getattr(ctx.scenario, "models", [])}
        if spec.model not in models:
            raise ValueError(f"serverless endpoint {spec.name!r}: model {spec.model!r} is not in models")
        self.profile = models[spec.model].latency_for(spec.latency_key)
        if self.profile is None:
            raise ValueError(f"model {spec.model!r} has no latency entry {spec.latency_key!r}")
        self.pool = ServerlessPool(spec.max_concurrency, spec.provisioned_concurrency, spec.idle_reclaim_s,
                                   spec.invocation_timeout_s, spec.bill_cold_start, backend)
        self.tier, _ = choose_fidelity(spec, ctx)

    def _start_recorded(self, ctx: SimContext) -> None:
        """Replay the recorded compute per hour (and the data per day) as the bill billed them."""
        from smsim.resources.steps_file import read_steps_file, step_windows

        s, horizon = self.spec, ctx.horizon_s
        steps = s.compute_gb_second_per_hour_steps
        if s.steps_file is not None:
            from pathlib import Path

            path = Path(s.steps_file).expanduser()
            steps, _ = read_steps_file(path if path.is_absolute() else ctx.scenario.base_dir / path, "gb_s_per_hour")
        comp, total = "ServerlessInference", 0.0
        for a, b, per_hour in step_windows(steps, horizon):
            gb_s = per_hour * (b - a) / HOUR_S
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_compute_gb_second", gb_s, a, b, self.tags)
            total += gb_s
        data = 0.0
        for d in range(max(1, math.ceil(horizon / 86400.0 - 1e-9))):
            a, b = d * 86400.0, min((d + 1) * 86400.0, horizon)
            gb = s.data_gb_per_day * (b - a) / 86400.0
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_data_gb", gb, a, b, self.tags)
            data += gb
        self.metrics = {"memory_size_mb": s.memory_size_mb, "max_concurrency": s.max_concurrency,
                        "fidelity": "recorded", "compute_gb_s": total, "data_processed_gb": data,
                        "instance_hours": 0.0}

    def start(self, ctx: SimContext) -> None:
        if self.tier == "recorded":
            self._start_recorded(ctx)
            return
        if self.tier == "fluid":
            self._start_fluid(ctx)
            return
        from smsim.workload.spec import iter_chunks

        s = self.spec
        horizon = ctx.horizon_s
        w = float(s.series_window_s)
        nw = max(1, math.ceil(horizon / w - 1e-9))
        nh = max(1, math.ceil(horizon / HOUR_S - 1e-9))
        win = {k: np.zeros(nw) for k in self.SERIES_COLUMNS[1:]}
        hourly = {k: np.zeros(nh) for k in ("od_gb_s", "prov_gb_s", "data_gb")}
        hist = LogHistogram()
        tot = dict.fromkeys(("requests", "served", "throttled", "timed_out", "cold_starts",
                             "within_sla", "billed_s", "data_gb", "served_provisioned", "in_flight"), 0.0)
        arrivals_rng = ctx.arrivals_rng(s)
        svc_rng = ctx.rng("endpoint", s.name, "service")
        cold_rng = ctx.rng("endpoint", s.name, "cold_start")
        sla = s.sla.latency_threshold_s if s.sla is not None else None
        chunks = iter_chunks(s.workload, arrivals_rng, horizon, None, ctx.start,
                             getattr(ctx.scenario, "base_dir", None))
        pending = np.zeros(0)  # end times of earlier requests still running at the last chunk end
        t0 = 0.0
        for chunk in chunks:
            n = len(chunk)
            t1 = float(chunk.duration_s)
            svc = self.profile.sample(svc_rng, chunk) if n else np.zeros(0)
            cold = s.cold_start.base().sample(cold_rng, n)
            res = self.pool.run(chunk.arrival_s, svc, cold)
            served = res.code == OUT_SERVED
            processed = res.code != OUT_THROTTLED
            # in flight at the end of each window closing in (t0, t1]
            run_end = chunk.arrival_s + np.where(served, res.latency_s, s.invocation_timeout_s)
            arr_p = chunk.arrival_s[processed]
            all_ends = np.sort(np.concatenate([pending, run_end[processed]]))
            ks = np.arange(math.floor(t0 / w + 1e-9), min(nw, math.floor(t1 / w + 1e-9)))
            edges = (ks + 1) * w
            win["in_flight_end"][ks] = (pending.size + np.searchsorted(arr_p, edges, side="left")
                                        - np.searchsorted(all_ends, edges, side="right"))
            pending = all_ends[all_ends > t1]
            t0 = t1
            if n == 0:
                continue
            # outcomes count when they happen: a request still running at the horizon is in flight
            finished = run_end <= horizon
            tot["in_flight"] += np.count_nonzero(processed & ~finished)
            served = served & finished
            gb_in = (chunk.payload_bytes / BYTES_PER_GB if chunk.payload_bytes is not None
                     else np.full(n, s.data_in_gb_per_request or 0.0))
            gb = np.where(processed, gb_in + (s.data_out_gb_per_request or 0.0), 0.0)
            gb_s = res.billed_s * s.memory_gb
            wb = np.minimum((chunk.arrival_s // w).astype(np.int64), nw - 1)
            hb = np.minimum((chunk.arrival_s // HOUR_S).astype(np.int64), nh - 1)
            prov = res.provisioned
            win["requests"] += _window_sums(wb, None, nw)
            win["served"] += _window_sums(wb, served.astype(float), nw)
            win["throttled"] += _window_sums(wb, (res.code == OUT_THROTTLED).astype(float), nw)
            win["timed_out"] += _window_sums(wb, ((res.code == OUT_TIMED_OUT) & finished).astype(float), nw)
            win["cold_starts"] += _window_sums(wb, res.cold.astype(float), nw)
            win["compute_gb_s"] += _window_sums(wb, gb_s, nw)
            win["latency_sum_s"] += _window_sums(wb, np.where(served, res.latency_s, 0.0), nw)
            hourly["od_gb_s"] += _window_sums(hb, np.where(prov, 0.0, gb_s), nh)
            hourly["prov_gb_s"] += _window_sums(hb, np.where(prov, gb_s, 0.0), nh)
            hourly["data_gb"] += _window_sums(hb, gb, nh)
            lat = res.latency_s[served]
            hist.add(lat)
            tot["requests"] += n
            tot["served"] += served.sum()
            tot["throttled"] += (res.code == OUT_THROTTLED).sum()
            tot["timed_out"] += ((res.code == OUT_TIMED_OUT) & finished).sum()
            tot["cold_starts"] += res.cold.sum()
            tot["billed_s"] += res.billed_s.sum()
            tot["data_gb"] += gb.sum()
            tot["served_provisioned"] += (served & prov).sum()
            if sla is not None:
                tot["within_sla"] += np.count_nonzero(lat <= sla)
        self._meter(ctx, hourly, nh, horizon)
        pool = self.pool.close(horizon)
        self.series = pd.DataFrame({"window_start_s": np.arange(nw) * w, **win})
        self.metrics = self._summary(tot, hist, pool, horizon)
        self.metrics["fidelity"] = "request"

    def _start_fluid(self, ctx: SimContext) -> None:
        """The per-minute form (:mod:`smsim.resources.serverless.fluid`)."""
        from smsim.resources.serverless import fluid
        from smsim.workload.counts import minute_counts
        from smsim.workload.spec import materialize

        s = self.spec
        horizon = ctx.horizon_s
        n_min = max(1, math.ceil(horizon / 60.0 - 1e-9))
        base_dir = getattr(ctx.scenario, "base_dir", None)
        counts, _, sample = minute_counts(s.workload, ctx.arrivals_rng(s), n_min, horizon, ctx.start, base_dir)
        svc_rng = ctx.rng("endpoint", s.name, "service")
        if self.profile.size_dependent:
            if sample is None or not len(sample.arrival_s):
                sample = materialize(s.workload, ctx.rng("endpoint", s.name, "calibration"), min(horizon, 3600.0),
                                     ctx.start, base_dir)
            draws = self.profile.sample(svc_rng, sample.take(slice(0, min(len(sample.arrival_s), 100_000))))
            S = np.quantile(draws, (np.arange(fluid.N_POINTS) + 0.5) / fluid.N_POINTS)
        else:
            S = fluid.points(self.profile, svc_rng)
        C = fluid.points(s.cold_start, ctx.rng("endpoint", s.name, "cold_start"))
        T = float(s.invocation_timeout_s)
        L = (C[:, None] + S[None, :]).ravel()  # a cold request's latency
        Cr = np.repeat(C, S.size)
        warm_ok, cold_ok = S <= T, L <= T
        warm_bill = float(fluid.billed_ms(np.where(warm_ok, S, T)).mean())
        cold_run = np.where(cold_ok, L if s.bill_cold_start else np.tile(S, C.size),
                            T if s.bill_cold_start else np.maximum(T - Cr, 0.0))
        cold_bill = float(fluid.billed_ms(cold_run).mean())
        out = np.zeros((5, n_min))
        fluid.minutes(np.asarray(counts, dtype=np.float64), float(np.minimum(S, T).mean()),
                      float(np.minimum(L, T).mean()), int(s.max_concurrency), int(s.provisioned_concurrency),
                      float(s.idle_reclaim_s), out)
        A = np.asarray(counts, dtype=np.float64)
        throttled = A * out[0]
        ok = A - throttled
        cold = ok * out[1]
        prov = ok * out[2]
        warm = ok - cold
        p_warm_ok, p_cold_ok = float(warm_ok.mean()), float(cold_ok.mean())
        served = warm * p_warm_ok + cold * p_cold_ok
        timed_out = ok - served
        gb_s = (warm * warm_bill + cold * cold_bill) * s.memory_gb
        prov_gb_s = prov * warm_bill * s.memory_gb
        per_gb = (s.data_in_gb_per_request or 0.0) + (s.data_out_gb_per_request or 0.0)
        if sample is not None and getattr(sample, "payload_bytes", None) is not None and len(sample.arrival_s):
            per_gb = float(np.mean(sample.payload_bytes)) / BYTES_PER_GB + (s.data_out_gb_per_request or 0.0)
        mean_warm = float(S[warm_ok].mean()) if warm_ok.any() else 0.0
        mean_cold = float(L[cold_ok].mean()) if cold_ok.any() else 0.0
        minute_s = np.arange(n_min) * 60.0
        w = float(s.series_window_s)
        nw = max(1, math.ceil(horizon / w - 1e-9))
        wb = np.minimum((minute_s // w).astype(np.int64), nw - 1)
        hb = np.minimum((minute_s // HOUR_S).astype(np.int64), max(1, math.ceil(horizon / HOUR_S - 1e-9)) - 1)
        nh = int(hb.max()) + 1 if hb.size else 1
        win = {
            "requests": _window_sums(wb, A, nw), "served": _window_sums(wb, served, nw),
            "throttled": _window_sums(wb, throttled, nw), "timed_out": _window_sums(wb, timed_out, nw),
            "cold_starts": _window_sums(wb, cold, nw), "in_flight_end": np.zeros(nw),
            "compute_gb_s": _window_sums(wb, gb_s, nw),
            "latency_sum_s": _window_sums(wb, warm * p_warm_ok * mean_warm + cold * p_cold_ok * mean_cold, nw),
        }
        last = np.zeros(nw, dtype=np.int64)
        last[wb] = np.arange(n_min)  # the last minute of each window
        win["in_flight_end"] = out[4][last]
        hourly = {"od_gb_s": _window_sums(hb, gb_s - prov_gb_s, nh), "prov_gb_s": _window_sums(hb, prov_gb_s, nh),
                  "data_gb": _window_sums(hb, ok * per_gb, nh)}
        self._meter(ctx, hourly, nh, horizon)
        hist = LogHistogram()
        lat = np.concatenate([S[warm_ok], L[cold_ok]])
        weight = np.concatenate([np.full(int(warm_ok.sum()), warm.sum() / S.size),
                                 np.full(int(cold_ok.sum()), cold.sum() / L.size)])
        order = np.argsort(lat, kind="stable")
        lat, weight = lat[order], weight[order]
        cum = np.cumsum(weight)
        n = float(A.sum())
        tot = {"requests": n, "served": served.sum(), "throttled": throttled.sum(), "timed_out": timed_out.sum(),
               "cold_starts": cold.sum(), "billed_s": (warm * warm_bill + cold * cold_bill).sum(),
               "data_gb": (ok * per_gb).sum(), "served_provisioned": (prov * p_warm_ok).sum(), "in_flight": 0.0,
               "within_sla": 0.0}
        if s.sla is not None:
            tot["within_sla"] = float(weight[lat <= s.sla.latency_threshold_s].sum())
        created = float(cold.sum())
        pool_end = float(out[3, -1]) if n_min else 0.0
        self.series = pd.DataFrame({"window_start_s": np.arange(nw) * w, **win})
        self.metrics = self._summary(tot, hist, {"containers_created": created,
                                                 "containers_reclaimed": max(created - pool_end, 0.0),
                                                 "container_s": float(out[3].sum() * 60.0)}, horizon)
        if cum.size and cum[-1] > 0:
            q = [float(lat[min(np.searchsorted(cum, p * cum[-1]), lat.size - 1)]) for p in (0.5, 0.9, 0.99)]
            self.metrics.update(latency_p50_s=q[0], latency_p90_s=q[1], latency_p99_s=q[2],
                                latency_mean_s=float((lat * weight).sum() / cum[-1]))
        self.metrics["fidelity"] = "fluid"

    def _meter(self, ctx: SimContext, hourly: dict, nh: int, horizon: float) -> None:
        s = self.spec
        comp = "ServerlessInference"
        for h in range(nh):
            a, b = h * HOUR_S, min((h + 1) * HOUR_S, horizon)
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_compute_gb_second",
                             hourly["od_gb_s"][h], a, b, self.tags)
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_provisioned_inference_gb_second",
                             hourly["prov_gb_s"][h], a, b, self.tags)
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_data_gb",
                             hourly["data_gb"][h], a, b, self.tags)
        if s.provisioned_concurrency:
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_provisioned_gb_second",
                             s.provisioned_concurrency * s.memory_gb * horizon, 0.0, horizon, self.tags)

    def _summary(self, tot: dict, hist: LogHistogram, pool: dict, horizon: float) -> dict:
        s = self.spec
        q = hist.quantile(np.array([0.5, 0.9, 0.99])) if hist.count else [math.nan] * 3
        n = int(tot["requests"])
        in_flight = int(tot["in_flight"])
        out = {
            "memory_size_mb": s.memory_size_mb,
            "max_concurrency": s.max_concurrency,
            "provisioned_concurrency": s.provisioned_concurrency,
            "requests": n,
            "served": int(tot["served"]),
            "timed_out": int(tot["timed_out"]),
            "dropped": 0,
            "throttled": int(tot["throttled"]),
            "in_flight": in_flight,
            "throttle_rate": tot["throttled"] / n if n else 0.0,
            "latency_p50_s": float(q[0]),
            "latency_p90_s": float(q[1]),
            "latency_p99_s": float(q[2]),
            "latency_mean_s": hist.mean if hist.count else math.nan,
            "cold_starts": int(tot["cold_starts"]),
            "cold_start_rate": tot["cold_starts"] / n if n else 0.0,
            "served_provisioned": int(tot["served_provisioned"]),
            "billed_compute_s": float(tot["billed_s"]),
            "compute_gb_s": float(tot["billed_s"]) * s.memory_gb,
            "data_processed_gb": float(tot["data_gb"]),
            "containers_created": pool["containers_created"],
            "containers_reclaimed": pool["containers_reclaimed"],
            "container_gb_hours": pool["container_s"] * s.memory_gb / HOUR_S,
            "provisioned_gb_hours": s.provisioned_concurrency * s.memory_gb * horizon / HOUR_S,
            "instance_hours": 0.0,
        }
        if s.sla is not None:
            out["sla_attainment"] = tot["within_sla"] / n if n else 1.0
            out["sla_met"] = out["sla_attainment"] >= s.sla.percentile / 100.0
        return out

    def finish(self, ctx: SimContext) -> ResourceResult:
        return ResourceResult(self.spec.name, "serverless", "endpoints", _plain(self.metrics), self.series)


def _plain(metrics: dict) -> dict:
    """Metrics as plain Python scalars (JSON-able)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in metrics.items()}
