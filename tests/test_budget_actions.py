"""Budget actions on metered usage: what each one keeps, cuts and adds, by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from smsim.budgets.actions import apply_action
from smsim.budgets.spec import BudgetAction


def _rec(rid, kind, ukind, start, end, q=1.0, component="", name=None):
    return {"resource_id": rid, "resource_kind": kind, "component": component, "usage_kind": ukind,
            "instance_type": "ml.m5.large", "market": "OnDemand", "rate_key": "", "start_s": float(start),
            "end_s": float(end), "quantity": q, "tags": {"smsim:resource": name or rid}}


def _usage(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def test_stop_notebooks_cuts_instances_and_keeps_storage():
    u = _usage(_rec("nb", "notebook-instance", "instance", 0, 7200, component="Notebook"),
               _rec("nb", "notebook-instance", "instance", 9000, 10000, component="Notebook"),
               _rec("nb", "notebook-instance", "storage", 0, 7200, q=20, component="Notebook"),
               _rec("ep", "endpoint", "instance", 0, 7200))
    out = apply_action(u, BudgetAction(kind="stop-notebooks"), 3600.0, None)
    assert out[["resource_id", "usage_kind", "start_s", "end_s"]].values.tolist() == [
        ["nb", "instance", 0.0, 3600.0], ["nb", "storage", 0.0, 7200.0], ["ep", "instance", 0.0, 7200.0]]


def test_stop_training_keeps_the_running_job_and_its_artifact():
    u = _usage(_rec("job", "training", "instance", 0, 5000, q=2, component="Training"),
               _rec("job", "training", "storage", 5000, 90000, q=15, component="S3:ModelArtifacts"),
               _rec("job", "training", "instance", 10000, 15000, q=2, component="Training"),
               _rec("job", "training", "amount", 10000, 15000, q=4, component="S3:Checkpoints"),
               _rec("job", "training", "storage", 15000, 90000, q=15, component="S3:ModelArtifacts"))
    out = apply_action(u, BudgetAction(kind="stop-training"), 8000.0, None)
    assert out[["start_s", "end_s", "component"]].values.tolist() == [
        [0.0, 5000.0, "Training"], [5000.0, 90000.0, "S3:ModelArtifacts"]]


def test_endpoint_to_minimum_replaces_instance_usage_after_the_crossing():
    spec = SimpleNamespace(name="chat", autoscaling=SimpleNamespace(min_capacity=2))
    scenario = SimpleNamespace(resources=lambda: [("endpoints", spec)], horizon=SimpleNamespace(duration_s=10000.0))
    u = _usage(_rec("chat", "endpoint", "instance", 0, 10000, q=1),
               _rec("chat", "endpoint", "instance", 2000, 6000, q=3),
               _rec("chat", "endpoint", "amount", 0, 10000, q=8),
               _rec("other", "endpoint", "instance", 0, 10000, q=1))
    out = apply_action(u, BudgetAction(kind="endpoint-to-minimum", resources=["chat"]), 4000.0, scenario)
    inst = out[(out.resource_id == "chat") & (out.usage_kind == "instance")]
    seconds = ((inst.end_s - inst.start_s) * inst.quantity).sum()
    assert seconds == pytest.approx(4000 + 3 * 2000 + 2 * 6000)  # before t as run, then 2 instances
    assert out[out.usage_kind == "amount"].quantity.tolist() == [8.0]  # requests still served
    assert out[out.resource_id == "other"].end_s.tolist() == [10000.0]


def test_amount_records_keep_their_share_before_the_crossing():
    from smsim.budgets.actions import clip_at

    u = _usage(_rec("x", "training", "amount", 0, 4000, q=10))
    out = clip_at(u, [True], 1000.0)
    assert out.quantity.tolist() == [2.5] and out.end_s.tolist() == [1000.0]


def test_what_if_spend_is_unchanged_before_the_action_and_lower_after():
    from smsim import api
    from smsim.billing.ledger import build_ledger
    from smsim.budgets.actions import what_if
    from smsim.budgets.spec import Budget
    from smsim.budgets.spend import hourly_spend
    from tests.conftest import SCENARIOS

    result = api.run_scenario(SCENARIOS / "quickstart.yaml")
    s = result.scenario
    catalog = api.catalog_for(s)
    budget = Budget.model_validate({"name": "research", "amount_usd": 60, "filters": {"tags": {"project": ["research"]}},
                                    "actions": [{"kind": "stop-notebooks", "at_percent": 80}]})

    def rebill(usage):
        return build_ledger(usage, catalog=catalog, region=s.region, horizon_start=s.horizon.start,
                            horizon_s=s.horizon.duration_s, pricing=s.pricing)

    ledger, applied = what_if(result, [budget], rebill)
    (action,) = applied
    start = pd.Timestamp(s.horizon.start)
    before = hourly_spend(result.ledger, budget.filters, "amortized", start=start)
    after = hourly_spend(ledger, budget.filters, "amortized", start=start)
    cut = pd.Timestamp(action.fired_at)
    assert before[before.index < cut].sum() > 48  # the 80 % threshold was crossed before the action
    pd.testing.assert_series_equal(before[before.index < cut], after[after.index < cut])
    assert after[after.index >= cut].sum() < before[before.index >= cut].sum()
    late = ledger["smsim/hour"] >= (cut - start).total_seconds() / 3600
    usage_type = ledger["lineItem/UsageType"].astype(str)
    assert ledger.loc[late & usage_type.str.contains("Notebk:ml."), "lineItem/UnblendedCost"].sum() == 0  # stopped
    assert ledger.loc[late & usage_type.str.contains("Notebk"), "lineItem/UnblendedCost"].sum() > 0  # volumes kept
