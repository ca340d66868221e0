"""Notebook instances and Studio apps: per-user on-intervals from activity and the stop policy.

Activity is generated per user with numpy (one batch per user for the whole horizon), then the
policy turns it into on-intervals: for ``idle-shutdown`` each active period ``[a, b]`` keeps the
instance on over ``[a, b + idle_timeout]`` and overlapping intervals merge, so a gap shorter than
the timeout is billed in full and a longer one costs exactly the timeout. Usage: ``instance``
(component ``Notebook`` or ``Studio``) per on-interval, tagged ``smsim:user``; ``storage`` for
each user's volume over the whole horizon. Users of a shared Studio space (``users_per_space``)
pool their activity: the space's on-intervals follow the policy over the union of it, billed once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.meter import UsageWriter
from smsim.errors import InputError
from smsim.resources.notebooks.spec import STORAGE_RATE_KEY

_COMPONENT = {"notebook-instance": "Notebook", "studio": "Studio"}
_STORAGE = STORAGE_RATE_KEY


def user_activity(spec, days: list[tuple[float, float]], rng: np.random.Generator) -> np.ndarray:
    """Active periods ``(n, 2)`` of one user over working-day windows ``days`` (seconds)."""
    if not days:
        return np.empty((0, 2))
    win = np.asarray(days, dtype=float)
    present = rng.random(len(win)) >= spec.absence_probability
    start = win[:, 0] + rng.normal(0.0, 1.0, len(win)) * spec.start_jitter_s
    end = win[:, 1] + rng.normal(0.0, 1.0, len(win)) * spec.end_jitter_s
    keep = present & (end > start)
    start, end = start[keep], end[keep]
    if start.size == 0:
        return np.empty((0, 2))
    cycle = spec.active_mean_s + spec.idle_gap_mean_s
    k = int(np.ceil(3 * (end - start).max() / cycle)) + 8
    active = rng.exponential(spec.active_mean_s, (start.size, k))
    gaps = rng.exponential(spec.idle_gap_mean_s, (start.size, k))
    offsets = np.concatenate(
        [np.zeros((start.size, 1)), np.cumsum(active + gaps, axis=1)[:, :-1]], axis=1
    )
    a = start[:, None] + offsets
    b = np.minimum(a + active, end[:, None])
    valid = a < end[:, None]
    return np.column_stack([a[valid], b[valid]])


def merge(intervals: np.ndarray) -> np.ndarray:
    """Union of ``(n, 2)`` intervals as sorted disjoint intervals."""
    if len(intervals) == 0:
        return intervals.reshape(0, 2)
    iv = intervals[np.argsort(intervals[:, 0], kind="stable")]
    reach = np.maximum.accumulate(iv[:, 1])
    new = np.ones(len(iv), dtype=bool)
    new[1:] = iv[1:, 0] > reach[:-1]
    groups = np.cumsum(new) - 1
    starts = iv[new, 0]
    ends = np.zeros(starts.size)
    np.maximum.at(ends, groups, iv[:, 1])
    return np.column_stack([starts, ends])


def on_intervals(spec, activity: np.ndarray, days, horizon_s: float) -> np.ndarray:
    """The instance's on-intervals under ``spec.policy``, clipped to ``[0, horizon_s]``."""
    if spec.policy == "always-on":
        out = np.array([[0.0, horizon_s]])
    elif spec.policy == "schedule":
        out = np.asarray(days, dtype=float).reshape(-1, 2)
    elif spec.policy == "manual":
        out = _day_spans(activity)
    else:
        out = merge(np.column_stack([activity[:, 0], activity[:, 1] + spec.idle_timeout_s]))
    out = np.clip(out, 0.0, horizon_s)
    return out[out[:, 1] > out[:, 0]]


def _day_spans(activity: np.ndarray) -> np.ndarray:
    """From each day's first activity to its last: days split where a gap exceeds 6 hours."""
    if len(activity) == 0:
        return activity.reshape(0, 2)
    iv = activity[np.argsort(activity[:, 0])]
    new = np.ones(len(iv), dtype=bool)
    new[1:] = iv[1:, 0] - iv[:-1, 1] > 6 * 3600
    idx = np.flatnonzero(new)
    ends = np.maximum.reduceat(iv[:, 1], idx)
    return np.column_stack([iv[idx, 0], ends])


class NotebookModel:
    """All users of one :class:`~smsim.resources.notebooks.spec.NotebookSpec`."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.out = UsageWriter(ctx.meter, spec.name, spec.kind, ctx.tags_for(spec))
        self.space_on_s = np.zeros(spec.spaces)
        self.active_s = np.zeros(spec.users)

    def _trace(self) -> dict[int, np.ndarray]:
        try:
            frame = pd.read_csv(self.spec.trace_path)
        except FileNotFoundError:
            raise InputError(f"notebook trace not found: {self.spec.trace_path}") from None
        if not {"user", "start_s", "end_s"} <= set(frame.columns):
            raise InputError(
                "notebook trace needs columns user, start_s, end_s", file=self.spec.trace_path
            )
        codes, _ = pd.factorize(frame["user"].astype(str))
        return {
            int(u): frame.loc[codes == u, ["start_s", "end_s"]].to_numpy(float)
            for u in np.unique(codes)
        }

    def start(self, ctx: SimContext) -> None:
        s = self.spec
        h = ctx.horizon_s
        days = s.working_hours.windows(ctx.start, h)
        trace = self._trace() if s.trace_path else None
        component = _COMPONENT[s.kind]
        activity: list[np.ndarray] = []
        for u in range(s.users):
            if trace is not None:
                activity.append(trace.get(u, np.empty((0, 2))))
            else:
                activity.append(user_activity(s, days, ctx.rng("notebooks", s.name, "user", str(u))))
            act = np.clip(activity[u], 0.0, h)
            self.active_s[u] = float((act[:, 1] - act[:, 0]).clip(min=0).sum())
        extra = {"smsim:app": s.app or "jupyterlab"} if s.kind == "studio" else {}
        k = s.users_per_space
        for j in range(s.spaces):
            members = range(j * k, min((j + 1) * k, s.users))
            name = self.space_name(j)
            tags = self.out.with_tags({"smsim:user": name, **extra})
            on = on_intervals(s, np.concatenate([activity[u] for u in members]).reshape(-1, 2), days, h)
            itype = s.user_type(j * k)
            for a, b in on.tolist():
                self.out.instance(component, itype, a, b, 1, "OnDemand", tags)
            self.out.storage(component, _STORAGE[s.kind], s.storage_gb_per_user, 0.0, h, tags)
            self.space_on_s[j] = float((on[:, 1] - on[:, 0]).sum())

    def space_name(self, j: int) -> str:
        """A user's name, or a shared space's (``NAME-space-000``)."""
        return f"{self.spec.name}-{j:03d}" if self.spec.users_per_space == 1 else f"{self.spec.name}-space-{j:03d}"

    def finish(self, ctx: SimContext) -> ResourceResult:
        s = self.spec
        on_h, active_h = self.space_on_s.sum() / 3600.0, self.active_s.sum() / 3600.0
        space = np.arange(s.users) // s.users_per_space
        per_user = pd.DataFrame(
            {
                "user": [f"{s.name}-{u:03d}" for u in range(s.users)],
                "space": [self.space_name(j) for j in space],
                "instance_type": [s.user_type(j * s.users_per_space) for j in space],
                "on_hours": self.space_on_s[space] / 3600.0,
                "active_hours": self.active_s / 3600.0,
            }
        )
        metrics = {
            "users": s.users,
            "policy": s.policy,
            "instance_hours": float(on_h),
            "active_hours": float(active_h),
            "utilization": float(active_h / on_h) if on_h else 0.0,
            "storage_gb": s.spaces * s.storage_gb_per_user,
        }
        if s.kind == "studio":
            metrics.update(app=s.app or "jupyterlab", spaces=s.spaces)
        return ResourceResult(s.name, s.kind, "notebooks", metrics, per_user)
