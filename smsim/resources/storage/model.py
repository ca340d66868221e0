"""S3 lifecycle by daily cohorts, and steady transfers.

Growth lands as one cohort per day at the day's midpoint (so GB-seconds match linear growth);
``initial_gb`` lands at time 0. Each cohort walks through its classes: ``storage`` usage per
class at that class's GB-month rate key, clipped to the horizon. When a cohort leaves a class
(transition or expiration) before the class's minimum duration, S3 charges the remaining days:
smsim records them as an ``amount`` of GB-months under the class's rate key (component
``EarlyDelete``) at the moment it leaves. PUTs: one per object written (``gb * 1024 /
object_size_mb``); GETs and Glacier retrievals are spread over each day. Lifecycle transition
request fees are not modelled.

Recorded data (``gb_steps`` or ``steps_file``, a baseline rebuilt from a bill) is held in its one
class as recorded, hour by hour; its PUTs and GETs are spread over each day.
"""

from __future__ import annotations

import numpy as np

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.resources.steps_file import step_windows
from smsim.resources.storage.spec import CLASS_RATE_KEY, MIN_DAYS
from smsim.units import DAY, MONTH


class S3Model:
    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.out = UsageWriter(ctx.meter, spec.name, "s3", ctx.tags_for(spec))
        self.gb_seconds: dict[str, float] = {}
        self.early_gb_months = 0.0
        self.end_gb = 0.0

    def phases(self) -> list[tuple[str, float, float]]:
        """``(class, from_s, to_s)`` relative to a cohort's creation (``to_s`` may be inf)."""
        s = self.spec
        bounds = [0.0] + [t.after_days * DAY for t in s.transitions]
        classes = ["standard"] + [t.storage_class for t in s.transitions]
        ends = bounds[1:] + [s.expiration_days * DAY if s.expiration_days else np.inf]
        return list(zip(classes, bounds, ends, strict=True))

    def _recorded(self, ctx: SimContext) -> None:
        s, h = self.spec, ctx.horizon_s
        steps = s.gb_steps
        if s.steps_file is not None:
            from pathlib import Path

            from smsim.resources.steps_file import read_steps_file

            path = Path(s.steps_file).expanduser()
            steps, _ = read_steps_file(path if path.is_absolute() else ctx.scenario.base_dir / path, "gb")
        cls = s.storage_class
        for a, b, gb in step_windows(steps, h):
            self.out.storage(s.component or f"S3:{cls}", CLASS_RATE_KEY[cls], gb, a, b)
            self.gb_seconds[cls] = self.gb_seconds.get(cls, 0.0) + gb * (b - a)
        last = [gb for a, gb in steps if a < h]
        self.end_gb = float(last[-1]) if last else 0.0

    def start(self, ctx: SimContext) -> None:
        s, h = self.spec, ctx.horizon_s
        days = int(np.ceil(h / DAY))
        requests = s.component or "S3:Requests"
        if s.recorded:
            self._recorded(ctx)
        cohorts = [(0.0, s.initial_gb)] if s.initial_gb > 0 else []
        cohorts += [
            (min((d + 0.5) * DAY, h), s.growth_gb_per_day)
            for d in range(days)
            if s.growth_gb_per_day > 0 and (d + 0.5) * DAY < h
        ]
        phases = self.phases()
        for t0, gb in cohorts:
            self.out.amount(
                requests, "s3_put_requests_per_1000", gb * 1024 / s.object_size_mb / 1000, t0
            )
            for cls, a, b in phases:
                start, stop = t0 + a, t0 + b
                if start >= h:
                    break
                self.out.storage(s.component or f"S3:{cls}", CLASS_RATE_KEY[cls], gb, start, min(stop, h))
                self.gb_seconds[cls] = self.gb_seconds.get(cls, 0.0) + gb * (min(stop, h) - start)
                held = b - a
                if stop <= h and held < MIN_DAYS[cls] * DAY:
                    gb_months = gb * (MIN_DAYS[cls] * DAY - held) / MONTH
                    self.out.amount("S3:EarlyDelete", CLASS_RATE_KEY[cls], gb_months, stop)
                    self.early_gb_months += gb_months
                if stop > h:
                    self.end_gb += gb
        for d in range(days):
            a, b = d * DAY, min((d + 1) * DAY, h)
            frac = (b - a) / DAY
            self.out.amount(
                requests, "s3_get_requests_per_1000", s.get_requests_per_day * frac / 1000, a, b
            )
            self.out.amount(
                requests, "s3_put_requests_per_1000", s.put_requests_per_day * frac / 1000, a, b
            )
            if s.glacier_retrieval_gb_per_day > 0 and self._held(
                "glacier_flexible", a, cohorts, phases
            ):
                self.out.amount(
                    "Retrieval",
                    "s3_glacier_flexible_retrieval_gb",
                    s.glacier_retrieval_gb_per_day * frac,
                    a,
                    b,
                )

    @staticmethod
    def _held(cls: str, t: float, cohorts, phases) -> bool:
        """Whether some cohort is in ``cls`` at ``t`` (cohorts are contiguous daily)."""
        if not cohorts:
            return False
        first, last = cohorts[0][0], cohorts[-1][0]
        return any(c == cls and first <= t - a and t - b < last for c, a, b in phases)

    def finish(self, ctx: SimContext) -> ResourceResult:
        metrics = {f"{cls}_gb_months": v / MONTH for cls, v in self.gb_seconds.items()}
        metrics.update(
            {"early_delete_gb_months": self.early_gb_months, "gb_at_horizon": self.end_gb}
        )
        return ResourceResult(self.spec.name, "s3", "storage", metrics)


class TransferModel:
    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.out = UsageWriter(ctx.meter, spec.name, "transfer", ctx.tags_for(spec))
        self.total = 0.0

    def start(self, ctx: SimContext) -> None:
        h = ctx.horizon_s
        for d in range(int(np.ceil(h / DAY))):
            a, b = d * DAY, min((d + 1) * DAY, h)
            gb = self.spec.gb_per_day * (b - a) / DAY
            self.out.amount(self.spec.component, self.spec.rate_key, gb, a, b)
            self.total += gb

    def finish(self, ctx: SimContext) -> ResourceResult:
        return ResourceResult(
            self.spec.name,
            "transfer",
            "storage",
            {"gb": self.total, "rate_key": self.spec.rate_key},
        )
