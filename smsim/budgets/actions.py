"""Budget actions as a what-if: the spend with and without them.

An action is a pure function of the metered usage and the moment its threshold is crossed
(``t``, seconds from the horizon start: the end of the hour whose line items took the period's
actual spend above ``at_percent`` of its amount, when an AWS Budgets action would run):

* ``stop-notebooks``: notebook instances (and Studio apps) stop at ``t``; their storage is kept
  and billed on;
* ``endpoint-to-minimum``: a real-time or asynchronous endpoint runs its autoscaling minimum
  from ``t`` to the end of the horizon (its instance usage after ``t`` is replaced);
* ``stop-training``: no training job starts at or after ``t``; a job running at ``t`` finishes
  (its model artifact is kept); a spot job's restart after ``t`` counts as a new start.

The engine is not rerun: the action changes usage, which is billed again, so spend before ``t``
is exactly that of the run without it. What an action does to requests (an endpoint held at
its minimum queues and times out more) is not simulated. Actions are applied in the order their
thresholds are crossed, each on the spend left by the earlier ones; each fires at most once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smsim.budgets.alerts import evaluate_timeline
from smsim.budgets.spec import Budget, BudgetAction, Threshold
from smsim.budgets.spend import hourly_spend

NOTEBOOK_KINDS = ("notebook-instance", "studio")


def _names(usage: pd.DataFrame) -> np.ndarray:
    """Each record's resource name (its ``smsim:resource`` tag; endpoint instances carry their endpoint's)."""
    return np.array([t.get("smsim:resource", r) for t, r in zip(usage["tags"], usage["resource_id"], strict=True)],
                    dtype=object)


def clip_at(usage: pd.DataFrame, mask: np.ndarray, t: float) -> pd.DataFrame:
    """Records selected by ``mask`` end by ``t``: later ones dropped, straddling ones cut (an
    ``amount`` record keeps the share of its quantity before ``t``)."""
    start, end = usage["start_s"].to_numpy(float), usage["end_s"].to_numpy(float)
    drop = mask & (start >= t)
    cut = mask & (start < t) & (end > t)
    out = usage.copy()
    if cut.any():
        amount = cut & (out["usage_kind"].to_numpy() == "amount")
        frac = np.where(end > start, (t - start) / np.where(end > start, end - start, 1.0), 1.0)
        q = out["quantity"].to_numpy(float).copy()
        q[amount] *= frac[amount]
        out["quantity"] = q
        e = end.copy()
        e[cut] = t
        out["end_s"] = e
    return out.loc[~drop].reset_index(drop=True)


def apply_action(usage: pd.DataFrame, action: BudgetAction, t: float, scenario) -> pd.DataFrame:
    """Usage with ``action`` taken at ``t`` (see the module docstring)."""
    kind = usage["resource_kind"].to_numpy()
    ukind = usage["usage_kind"].to_numpy()
    names = _names(usage)
    chosen = np.isin(names, action.resources) if action.resources else np.ones(len(usage), bool)
    if action.kind == "stop-notebooks":
        return clip_at(usage, chosen & np.isin(kind, NOTEBOOK_KINDS) & (ukind == "instance"), t)
    if action.kind == "stop-training":
        train = chosen & (kind == "training")
        start = usage["start_s"].to_numpy(float)
        kept_jobs = train & (ukind == "instance") & (start < t)
        ends = usage.loc[kept_jobs, "end_s"].to_numpy(float)
        artifact = train & (usage["component"].to_numpy() == "S3:ModelArtifacts")
        # an artifact written when a job that started before t ended is kept
        owned = np.array([bool(np.any(np.abs(ends - s) <= 3600.0)) for s in start]) & artifact
        return usage.loc[~(train & (start >= t) & ~owned)].reset_index(drop=True)
    # endpoint-to-minimum
    specs = {spec.name: spec for section, spec in scenario.resources() if section == "endpoints"}
    targets = [n for n in (action.resources or list(specs)) if n in specs]
    out = usage
    for name in targets:
        spec = specs[name]
        scaling = getattr(spec, "autoscaling", None)
        if scaling is None:
            continue  # a fixed endpoint is at its minimum already
        names = _names(out)
        mask = (names == name) & (out["usage_kind"].to_numpy() == "instance")
        if not mask.any():
            continue
        template = out.loc[mask].iloc[0]
        out = clip_at(out, mask, t)
        horizon = scenario.horizon.duration_s
        if scaling.min_capacity > 0 and t < horizon:
            row = template.to_dict()
            row.update(start_s=t, end_s=horizon, quantity=float(scaling.min_capacity))
            out = pd.concat([out, pd.DataFrame([row])], ignore_index=True)
    return out


@dataclass
class Applied:
    budget: str
    kind: str
    at_percent: float
    fired_at: str
    resources: list[str]

    def record(self) -> dict:
        return dict(self.__dict__)


def _first_crossing(budget: Budget, action: BudgetAction, ledger, start, end):
    probe = budget.model_copy(update={"thresholds": [Threshold(on="actual", percent=action.at_percent)]})
    alerts, _ = evaluate_timeline(probe, hourly_spend(ledger, budget.filters, budget.cost, start=start, end=end))
    return alerts[0].fired_at if alerts else None


def what_if(result, budgets: list[Budget], rebill) -> tuple[pd.DataFrame, list[Applied]]:
    """The ledger with every budget's actions taken, and which fired when. ``rebill(usage)``
    prices usage into a ledger (the run's catalog and pricing)."""
    scenario = result.scenario
    start = pd.Timestamp(scenario.horizon.start)
    end = start + pd.Timedelta(seconds=scenario.horizon.duration_s)
    usage, ledger = result.usage, result.ledger
    pending = [(b, a) for b in budgets for a in b.actions]
    applied: list[Applied] = []
    while pending:
        fired = [(_first_crossing(b, a, ledger, start, end), i) for i, (b, a) in enumerate(pending)]
        fired = [(f, i) for f, i in fired if f is not None]
        if not fired:
            break
        when, i = min(fired)
        b, a = pending.pop(i)
        t = (pd.Timestamp(when) - start.tz_convert("UTC") if start.tzinfo else pd.Timestamp(when) - start).total_seconds()
        usage = apply_action(usage, a, t, scenario)
        ledger = rebill(usage)
        applied.append(Applied(b.name, a.kind, a.at_percent, when, list(a.resources)))
    return ledger, applied
