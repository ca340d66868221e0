"""Commitment fees are allocated as AWS amortizes them, and the ledger says the same as the summary.

Prices from the round-number fixture catalog: ml.m5.xlarge 0.20 $/h on demand, 0.12 $/h on a
1-year no-upfront savings plan. A plan of 0.30 $/h over two hours; team x runs one m5.xlarge for
both hours, team y one for the first hour:

* hour 0: x and y need 0.12 + 0.12 = 0.24 of the 0.30 commitment; 0.06 is unused;
* hour 1: x needs 0.12; 0.18 is unused.

Amortized (what the summary allocates): x 0.24, y 0.12, unused commitment 0.24 untagged; 0.60 in all.
Unblended (the CUR bill): covered usage is negated, so the whole 0.60 fee is on the untagged fee line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim.billing import build_ledger
from smsim.billing.summary import summarize
from smsim.core.meter import Meter
from smsim.pricing import load_catalog
from smsim.pricing.options import HeldSavingsPlan, PricingOptions

MINI = Path(__file__).parent / "fixtures" / "pricing" / "mini"
START = datetime(2026, 1, 1, tzinfo=UTC)
TEAM = "resourceTags/user:team"
NET = "smsim/net_cost_usd"


def _bill(commitment: float):
    catalog = load_catalog(str(MINI))
    m = Meter()
    m.instance("a", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 7200, tags={"team": "x"})
    m.instance("b", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 3600, tags={"team": "y"})
    ledger = build_ledger(m.frame(), catalog=catalog, region="us-east-1", horizon_start=START, horizon_s=7200,
                          pricing=PricingOptions(savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=commitment)]))
    return ledger, summarize(ledger, catalog)


def _ledger_by_tag(ledger: pd.DataFrame, column: str) -> dict[str, float]:
    values = ledger[TEAM].astype(object).where(ledger[TEAM].notna(), "untagged").replace("", "untagged")
    return ledger.groupby(values.to_numpy(), sort=True)[column].sum().to_dict()


def test_amortized_cost_puts_the_used_commitment_on_the_covered_lines():
    ledger, summary = _bill(0.30)
    assert summary["cost_by_tag"]["team"] == pytest.approx({"x": 0.24, "y": 0.12, "untagged": 0.24})
    assert _ledger_by_tag(ledger, NET) == pytest.approx(summary["cost_by_tag"]["team"])
    covered = ledger[ledger["lineItem/LineItemType"] == "SavingsPlanCoveredUsage"]
    assert (covered[NET] == covered["savingsPlan/SavingsPlanEffectiveCost"]).all()
    fee = ledger[ledger["lineItem/LineItemType"] == "SavingsPlanRecurringFee"]
    assert list(fee[NET]) == pytest.approx([0.06, 0.18])  # unused commitment only
    # the unblended view charges the whole fee to the untagged fee line, as CUR does
    assert _ledger_by_tag(ledger, "lineItem/UnblendedCost") == pytest.approx({"x": 0.0, "y": 0.0, "untagged": 0.60})


def test_a_fully_used_plan_leaves_exactly_nothing_unallocated():
    # ten staggered m5.xlarge need 1.2 $/h of SP-rate usage; a 1 $/h plan is used up by summing
    # ten pieces' spend, which in floating point is 0.9999999999999999 without care
    catalog = load_catalog(str(MINI))
    m = Meter()
    for i in range(10):
        m.instance(f"r{i}", "endpoint", "RealTimeInference", "ml.m5.xlarge", 17 * i, 3600 - 13 * i,
                   tags={"team": f"t{i % 3}"})
    ledger = build_ledger(m.frame(), catalog=catalog, region="us-east-1", horizon_start=START, horizon_s=3600,
                          pricing=PricingOptions(savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=1.0)]))
    summary = summarize(ledger, catalog)
    fee = ledger[ledger["lineItem/LineItemType"] == "SavingsPlanRecurringFee"]
    assert list(fee[NET]) == [0.0] and list(fee["savingsPlan/UsedCommitment"]) == [1.0]
    assert summary["savings_plans"]["overall"]["utilization"] == 1.0
    by_team = summary["cost_by_tag"]["team"]
    assert by_team["untagged"] == 0.0
    assert sum(by_team.values()) == pytest.approx(summary["total_cost_usd"])
    assert _ledger_by_tag(ledger, NET) == pytest.approx(by_team)


def test_the_readme_tag_query_over_the_store_equals_the_summary(tmp_path):
    from smsim.api import run_scenario
    from smsim.cli import app
    from smsim.store import Store

    scenario = tmp_path / "tagged.yaml"
    scenario.write_text(
        "name: tagged\nregion: us-east-1\n"
        "horizon: {start: 2026-01-05T00:00:00Z, duration_s: 6h}\n"
        "pricing:\n  savings_plans:\n    - {commitment_usd_per_hour: 0.2, term: 1y, payment: no-upfront}\n"
        "fleets:\n"
        "  - {name: web, instance_type: ml.m5.xlarge, component: RealTimeInference, count: 1, tags: {team: web}}\n"
        "  - {name: lab, instance_type: ml.m5.xlarge, component: Notebook, count: 1}\n",
        encoding="utf-8",
    )
    result = run_scenario(scenario)
    store = Store(tmp_path / "store")
    store.record(result)
    sql = ('select "resourceTags/user:team" as team, sum("smsim/net_cost_usd") as usd '
           "from ledger join runs using (run_id) group by 1 order by 2 desc")
    frame = store.query(sql)
    from_ledger = {("untagged" if pd.isna(t) or t == "" else t): u for t, u in zip(frame.team, frame.usd, strict=True)}
    assert from_ledger == pytest.approx(result.summary["cost_by_tag"]["team"])
    assert set(from_ledger) == {"web", "untagged"}
    # a NULL tag prints as an empty cell, never as "nan"
    out = CliRunner().invoke(app, ["runs", "query", "--store", str(tmp_path / "store"), sql])
    assert out.exit_code == 0, out.output
    assert "nan" not in out.output.lower() and "none" not in out.output.lower()
    assert "web" in out.output
