"""Usage records -> an hourly, CUR-shaped ledger: the simulated bill.

``build_ledger`` prices the meter's usage frame (:data:`smsim.core.meter.USAGE_COLUMNS`) with a
catalog, after the simulation and without it. Every record is split at clock-hour boundaries and
priced per second; savings plans are applied per hour (see
:mod:`smsim.billing.savings_plan_application`); the enterprise discount comes last, as negative
``Discount`` lines. Columns follow the legacy AWS Cost and Usage Report (``lineItem/UnblendedCost``
...) plus ``smsim/*`` columns. Conventions, as in CUR:

* a line item is one hour of one resource's usage of one usage type at one rate: records of the
  same resource, resource kind, component, usage kind, instance type, market, rate key and tags
  in the same clock hour are one line with their usage summed (``smsim/usage_start_s`` and
  ``smsim/usage_end_s`` are the earliest start and latest end of that usage within the hour);
* the sum of ``lineItem/UnblendedCost`` is the bill: covered usage appears at on-demand cost, a
  ``SavingsPlanNegation`` line takes it back, and a ``SavingsPlanRecurringFee`` line per plan-hour
  charges the whole commitment, used or not;
* ``smsim/net_cost_usd`` is the amortized view used for allocation: covered usage at its
  savings-plan effective cost, negations 0, the fee line only its unused part. It sums to the
  same total.

Text columns are pandas categoricals (a year of a large platform is millions of line items; a
category code per line instead of a string); the four date columns are ordered categoricals whose
start and end share categories, so they compare chronologically. Nothing is rounded: cents are a
presentation concern.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from smsim.billing import hourly
from smsim.billing.columns import Vocabulary
from smsim.billing.cur import cur_frame
from smsim.billing.groups import hourly_usage, line_groups, price_groups
from smsim.billing.lines import covered_lines, discount_lines, fee_lines, take, usage_lines
from smsim.billing.savings_plan_application import apply_savings_plans
from smsim.core.meter import USAGE_COLUMNS
from smsim.pricing.catalog import Catalog
from smsim.pricing.options import PricingOptions


def build_ledger(
    usage: pd.DataFrame,
    *,
    catalog: Catalog,
    region: str,
    horizon_start: datetime,
    horizon_s: float,
    pricing: PricingOptions,
) -> pd.DataFrame:
    """The hourly line items of ``usage`` priced by ``catalog`` in ``region`` (see the module doc)."""
    missing = [c for c in USAGE_COLUMNS if c not in usage.columns]
    if missing:
        raise ValueError(f"usage frame lacks columns {missing}; build it with smsim.core.meter.usage_frame")
    vocab = Vocabulary()
    phase = hourly.phase_s(horizon_start)
    groups = line_groups(usage, vocab)
    lines = hourly_usage(usage, groups, phase)
    price_groups(groups, np.unique(lines["g"]), catalog, region, pricing, vocab)
    eligible_idx = np.flatnonzero(groups.combo[lines["g"]] >= 0)
    eligible_g = lines["g"][eligible_idx]
    coverage = apply_savings_plans(
        {"hour": lines["hour"][eligible_idx], "combo": groups.combo[eligible_g],
         "od_rate": groups.od_rate[eligible_g], "hours": lines["amount"][eligible_idx]},
        pricing.savings_plans, combos=groups.combos, catalog=catalog, region=region, phase_s=phase,
        horizon_s=horizon_s,
    )
    del eligible_g
    remaining = lines["amount"].copy()
    remaining[eligible_idx] = coverage.remaining_hours
    parts = [usage_lines(lines, remaining, groups, vocab)]
    if len(coverage.covered):
        chosen = eligible_idx[coverage.covered["piece"].to_numpy()]
        parts += covered_lines(take(lines, chosen), coverage.covered, groups, pricing, vocab)
    del lines, remaining, eligible_idx
    if len(coverage.fees):
        parts.append(fee_lines(coverage.fees, pricing, phase, vocab))
    del coverage
    if pricing.enterprise_discount_pct > 0 and sum(len(p["hour"]) for p in parts):
        parts.append(discount_lines(parts, groups, pricing.enterprise_discount_pct, vocab))
    ledger = cur_frame(parts, groups, horizon_start, vocab)
    ledger.attrs["catalog"] = catalog.describe()
    ledger.attrs["region"] = region
    return ledger
