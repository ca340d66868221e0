"""A managed MLflow tracking server: server hours as an amount, artifacts as S3 daily cohorts.

Server hours are metered per on-interval (the whole horizon, or each working-hours window) as an
``amount`` of hours under the size's rate key, spread over the interval. Artifact growth lands
as one cohort per day at the day's midpoint (so GB-months match linear growth), each with its
PUT requests; the initial artifacts land at time 0.
"""

from __future__ import annotations

import numpy as np

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.resources.tracking.spec import rate_key
from smsim.units import DAY, MONTH

COMPONENT = "MLflow"


class MlflowModel:
    """One :class:`~smsim.resources.tracking.spec.MlflowTrackingServerSpec`."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.out = UsageWriter(ctx.meter, spec.name, spec.kind, ctx.tags_for(spec))
        self.hours = 0.0
        self.gb_months = 0.0
        self.gb_end = 0.0

    def start(self, ctx: SimContext) -> None:
        s, h = self.spec, ctx.horizon_s
        windows = [(0.0, h)] if s.policy == "always-on" else s.working_hours.windows(ctx.start, h)
        key = rate_key(s.size)
        for a, b in windows:
            self.out.amount(COMPONENT, key, (b - a) / 3600.0, a, b)
            self.hours += (b - a) / 3600.0
        cohorts = [(0.0, s.artifact_initial_gb)] if s.artifact_initial_gb > 0 else []
        if s.artifact_growth_gb_per_day > 0:
            for d in range(int(np.ceil(h / DAY))):
                a, b = d * DAY, min((d + 1) * DAY, h)
                cohorts.append(((a + b) / 2, s.artifact_growth_gb_per_day * (b - a) / DAY))
        for t0, gb in cohorts:
            self.out.storage("S3:Artifacts", "s3_standard_gb_month", gb, t0, h)
            self.out.amount("S3:Requests", "s3_put_requests_per_1000", gb * 1024 / s.artifact_object_size_mb / 1000, t0)
            self.gb_months += gb * (h - t0) / MONTH
            self.gb_end += gb

    def finish(self, ctx: SimContext) -> ResourceResult:
        s = self.spec
        metrics = {"size": s.size, "policy": s.policy, "server_hours": self.hours,
                   "artifact_gb_months": self.gb_months, "artifact_gb_at_horizon": self.gb_end}
        if s.users is not None:
            metrics.update(users=s.users, recommended_size=s.recommended_size or "beyond Large (over 100 users)")
        return ResourceResult(s.name, s.kind, "tracking", metrics)
