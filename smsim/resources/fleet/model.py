"""Fixed fleets: a constant number of instances, always on, on a weekly schedule, or a recorded
count over time."""

from __future__ import annotations

from smsim.core.engine import ResourceResult, SimContext
from smsim.resources.steps_file import step_windows

#: The catalog's rate for ML storage volumes (GB-month), by component.
ML_STORAGE_RATE_KEY = "ml_storage_gb_month"
VOLUME_RATE_KEYS = {"Notebook": "ml_storage_notebook_gb_month", "Studio": "studio_storage_gb_month"}



class FleetModel:
    """Meters the fleet's instances over each on-window; no data plane."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.tags = ctx.tags_for(spec)
        count_steps, volume_steps = spec.count_steps, spec.volume_gb_steps
        if spec.steps_file is not None:
            from pathlib import Path

            from smsim.resources.steps_file import read_steps_file

            path = Path(spec.steps_file).expanduser()
            count_steps, file_volumes = read_steps_file(path if path.is_absolute() else ctx.scenario.base_dir / path)
            volume_steps = file_volumes if file_volumes is not None else volume_steps
        if count_steps is not None:
            self.windows = step_windows(count_steps, ctx.horizon_s)
        elif spec.schedule is None:
            self.windows = [(0.0, ctx.horizon_s, spec.count)]
        else:
            self.windows = [(a, b, spec.count) for a, b in spec.schedule.windows(ctx.start, ctx.horizon_s)]
        self.windows = [(a, b, n * spec.count_scale) for a, b, n in self.windows]
        self.volumes = step_windows(volume_steps or [], ctx.horizon_s)

    def start(self, ctx: SimContext) -> None:
        s = self.spec
        for a, b, n in self.windows:
            ctx.meter.instance(s.name, "fleet", s.component, s.instance_type, a, b, n, s.market, self.tags)
        for a, b, gb in self.volumes:
            ctx.meter.storage(s.name, "fleet", s.component, VOLUME_RATE_KEYS.get(s.component, ML_STORAGE_RATE_KEY),
                              gb, a, b, self.tags)

    def finish(self, ctx: SimContext) -> ResourceResult:
        on_s = sum(b - a for a, b, _ in self.windows)
        instance_s = sum((b - a) * n for a, b, n in self.windows)
        return ResourceResult(
            resource_id=self.spec.name,
            kind="fleet",
            section="fleets",
            metrics={
                "instance_type": self.spec.instance_type,
                "component": self.spec.component,
                "instance_hours": instance_s / 3600.0,
                "on_hours": on_s / 3600.0,
            },
        )
