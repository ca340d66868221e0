"""An edge fleet: the requests it takes off its endpoint and the declared device-side costs.

Device requests are the expected requests of the endpoint's original workload per clock hour
times the share (following the traffic's daily shape; the total is exact for synthetic
generators, and a recorded trace is counted), billed hour by hour;
device-months are ``devices x horizon / 730 h``; each compilation job is a point amount at its
trigger time. All three are ``declared_usd`` amounts (USD, one per unit).
"""

from __future__ import annotations

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.resources.edge.spec import DECLARED_USD
from smsim.resources.offload import hourly_requests, original_workload
from smsim.units import MONTH
from smsim.workload.jobs import trigger_times


class EdgeFleetModel:
    """One :class:`~smsim.resources.edge.spec.EdgeFleetSpec`."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.out = UsageWriter(ctx.meter, spec.name, spec.kind, ctx.tags_for(spec))
        self.requests = 0.0
        self.jobs = 0
        self.usd: dict[str, float] = {}

    def start(self, ctx: SimContext) -> None:
        s, h = self.spec, ctx.horizon_s
        ep = next(e for e in ctx.scenario.endpoints if e.name == s.endpoint)
        per_hour = s.share_of_requests * hourly_requests(original_workload(ctx.scenario, s.endpoint), h, ctx.start,
                                                         ctx.scenario.base_dir, ctx.arrivals_rng(ep))
        self.requests = float(per_hour.sum())
        self._bill("EdgeDevices", s.devices * s.usd_per_device_month * h / MONTH, 0.0, h)
        for hour, n in enumerate(per_hour.tolist()):
            self._bill("EdgeInference", n * s.usd_per_1000_inferences / 1000.0, hour * 3600.0, min((hour + 1) * 3600.0, h))
        if s.compilation_trigger is not None:
            times = trigger_times(s.compilation_trigger, ctx.start, h, ctx.rng("edge", s.name, "compile"))
            self.jobs = int(times.size)
            for t in times.tolist():
                self._bill("EdgeCompilation", s.usd_per_compilation_job, t, t)

    def _bill(self, component: str, usd: float, a: float, b: float) -> None:
        self.out.amount(component, DECLARED_USD, usd, a, b)
        self.usd[component] = self.usd.get(component, 0.0) + usd

    def finish(self, ctx: SimContext) -> ResourceResult:
        s = self.spec
        metrics = {"endpoint": s.endpoint, "share_of_requests": s.share_of_requests, "devices": s.devices,
                   "device_requests": self.requests, "compilation_jobs": self.jobs,
                   **{f"{k}_usd": v for k, v in self.usd.items()}}
        metrics.update(blended_quality(ctx.scenario, s))
        return ResourceResult(s.name, s.kind, "edge", metrics)


def blended_quality(scenario, spec) -> dict:
    """The device build's quality and the quality over all requests, when both models declare one."""
    quality = {m.name: m.quality for m in scenario.models}
    device = quality.get(spec.model) if spec.model else None
    if device is None:
        return {}
    ep = next(e for e in scenario.endpoints if e.name == spec.endpoint)
    served = quality.get(getattr(ep, "model", None))
    out = {"device_model_quality": device}
    if served is not None:
        out["blended_quality"] = (1.0 - spec.share_of_requests) * served + spec.share_of_requests * device
    return out
