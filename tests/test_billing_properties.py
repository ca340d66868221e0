"""Properties of the bill: never negative, never cheaper for longer usage, independent of hour splits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from smsim.billing import build_ledger
from smsim.core.meter import Meter
from smsim.pricing import load_catalog
from smsim.pricing.options import HeldSavingsPlan, PricingOptions

MINI = Path(__file__).parent / "fixtures" / "pricing" / "mini"
TYPES = ["ml.m5.xlarge", "ml.m5.2xlarge", "ml.g5.xlarge"]
HORIZON_S = 6 * 3600.0


def total(records, commitment: float, discount_pct: float, minute: int) -> float:
    m = Meter()
    for i, (itype, start, length, count, spot) in enumerate(records):
        spot = spot and itype != "ml.m5.2xlarge"  # the fixture has no spot data for it
        component = "Training" if spot else "RealTimeInference"
        m.instance(f"r{i}", "x", component, itype, start, min(start + length, HORIZON_S), count,
                   market="Spot" if spot else "OnDemand")
    plans = [HeldSavingsPlan(commitment_usd_per_hour=commitment)] if commitment > 0 else []
    ledger = build_ledger(m.frame(), catalog=load_catalog(str(MINI)), region="us-east-1",
                          horizon_start=datetime(2026, 1, 1, 0, minute, tzinfo=UTC), horizon_s=HORIZON_S,
                          pricing=PricingOptions(savings_plans=plans, enterprise_discount_pct=discount_pct))
    return float(ledger["lineItem/UnblendedCost"].sum())


record = st.tuples(st.sampled_from(TYPES), st.floats(0, 5 * 3600), st.floats(1, 3 * 3600),
                   st.integers(1, 3), st.booleans())


@settings(max_examples=15, deadline=None)
@given(st.lists(record, min_size=1, max_size=4), st.floats(0, 2), st.floats(0, 30), st.integers(0, 59),
       st.floats(1, 3600))
def test_cost_is_never_negative_and_never_decreases_with_duration(records, commitment, discount, minute, extra_s):
    base = total(records, commitment, discount, minute)
    assert base >= -1e-9
    longer = [(t, s, length + extra_s, c, spot) for t, s, length, c, spot in records]
    assert total(longer, commitment, discount, minute) >= base - 1e-9
