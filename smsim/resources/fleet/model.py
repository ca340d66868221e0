"""Fixed fleets: a constant number of instances, always on or on a weekly schedule."""

from __future__ import annotations

from smsim.core.engine import ResourceResult, SimContext


class FleetModel:
    """Meters ``count`` instances over each on-window; no data plane."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.tags = ctx.tags_for(spec)
        if spec.schedule is None:
            self.windows = [(0.0, ctx.horizon_s)]
        else:
            self.windows = spec.schedule.windows(ctx.start, ctx.horizon_s)

    def start(self, ctx: SimContext) -> None:
        s = self.spec
        for a, b in self.windows:
            ctx.meter.instance(
                s.name, "fleet", s.component, s.instance_type, a, b, s.count, s.market, self.tags
            )

    def finish(self, ctx: SimContext) -> ResourceResult:
        on_s = sum(b - a for a, b in self.windows)
        return ResourceResult(
            resource_id=self.spec.name,
            kind="fleet",
            section="fleets",
            metrics={
                "instance_type": self.spec.instance_type,
                "component": self.spec.component,
                "instance_hours": on_s * self.spec.count / 3600.0,
                "on_hours": on_s / 3600.0,
            },
        )
