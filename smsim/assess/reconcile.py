"""The bill against its baseline: imported vs simulated cost per component and per resource, and
why they differ.

Costs are unblended (the bill's own sum). A row is ``match`` when the two agree to the cent;
otherwise its ``why`` names what the baseline left out or priced differently (from the baseline's
notes: another service, a rate the catalog lacks or prices differently, a private discount not
applied), or ``usage or rates differ`` when nothing explains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from smsim.bill.baseline import Baseline
from smsim.bill.usage import BillUsage

#: Tolerances the baseline is held to: total and per component, per resource (relative).
TOTAL_TOLERANCE = 0.01
RESOURCE_TOLERANCE = 0.02
CENT = 0.005


@dataclass(frozen=True)
class Reconciliation:
    total: dict[str, float]
    components: pd.DataFrame
    resources: pd.DataFrame

    def within_tolerance(self) -> bool:
        """What the baseline rebuilds (rows the notes do not explain) within 1 % in total and per
        component, and within 2 % per resource."""
        rebuilt = self.components[self.components["explained"] == ""]
        a, b = float(rebuilt["imported_usd"].sum()), float(rebuilt["simulated_usd"].sum())
        ok = abs(b - a) <= TOTAL_TOLERANCE * abs(a) + CENT
        for frame, tol in ((self.components, TOTAL_TOLERANCE), (self.resources, RESOURCE_TOLERANCE)):
            checked = frame[frame["explained"] == ""]
            ok &= bool(((checked["difference_usd"].abs()) <= tol * checked["imported_usd"].abs() + CENT).all())
        return bool(ok)

    def to_dict(self) -> dict:
        return {"total": self.total, "components": self.components.to_dict("records"),
                "resources": self.resources.to_dict("records")}


def _table(imported: pd.Series, simulated: pd.Series, why: dict[str, str], key: str) -> pd.DataFrame:
    keys = sorted(set(imported.index) | set(simulated.index), key=lambda k: (-abs(imported.get(k, 0.0)), str(k)))
    rows = []
    for k in keys:
        a, b = float(imported.get(k, 0.0)), float(simulated.get(k, 0.0))
        diff = b - a
        explained = why.get(k, "")
        if abs(diff) <= CENT:
            status = "match"
        elif explained:
            status = explained
        else:
            status = "usage or rates differ"
        rows.append({key: k, "imported_usd": a, "simulated_usd": b, "difference_usd": diff,
                     "difference_pct": (100.0 * diff / a) if a else None, "why": status,
                     "explained": explained})
    return pd.DataFrame(rows, columns=[key, "imported_usd", "simulated_usd", "difference_usd", "difference_pct",
                                       "why", "explained"])


def reconcile(usage: BillUsage, baseline: Baseline, simulated_ledger: pd.DataFrame) -> Reconciliation:
    """Compare the imported bill with the simulated ledger of its baseline."""
    s = usage.summary
    cost = "lineItem/UnblendedCost"
    sim = simulated_ledger
    imported_components = pd.Series(s["cost_by_component"], dtype=float)
    simulated_components = sim.groupby("smsim/component")[cost].sum()
    imported_resources = pd.Series({r["resource_id"]: r["cost_usd"] for r in s["resources"]}, dtype=float)
    ids = sim["lineItem/ResourceId"].astype(str)
    plan_ids = {str(p): str(p) for p in usage.plans["plan"].unique()}
    # a simulated plan's fee lines carry the plan's ARN-like id; map them onto the bill's plans
    mapped = ids.map(lambda r: baseline.origin.get(r, _plan(r, plan_ids, imported_resources.index)))
    simulated_resources = sim.groupby(mapped)[cost].sum()
    why_resource: dict[str, list[str]] = {}
    why_component: dict[str, list[str]] = {}
    for rid, comp, usd, reason in baseline.notes:
        if abs(usd) < CENT:
            continue
        short = reason.split(":")[0] if reason.startswith("not rebuilt") else reason
        why_resource.setdefault(rid, []).append(short)
        why_component.setdefault(comp, []).append(short)
    if usage.discount_usd and "enterprise_discount_pct" not in baseline.data.get("pricing", {}):
        why_component.setdefault("", []).append("private discount not applied")
    other = {r["resource_id"] for r in s["resources"] if r.get("kind") == "other_service"}
    for rid in other - set(baseline.origin.values()):  # S3 lines of a bill are another service's, rebuilt
        why_resource.setdefault(rid, []).append("a service smsim does not model")
    for comp in s["cost_by_component"]:
        if comp not in simulated_components.index and comp not in why_component:
            why_component[comp] = ["not rebuilt in the baseline"]
    components = _table(imported_components, simulated_components,
                        {k: "; ".join(dict.fromkeys(v)) for k, v in why_component.items()}, "component")
    resources = _table(imported_resources, simulated_resources,
                       {k: "; ".join(dict.fromkeys(v)) for k, v in why_resource.items()}, "resource")
    a, b = float(s["total_cost_usd"]), float(sim[cost].sum())
    total = {"imported_usd": a, "simulated_usd": b, "difference_usd": b - a,
             "difference_pct": (100.0 * (b - a) / a) if a else 0.0}
    return Reconciliation(total, components, resources)


def _plan(resource_id: str, plans: dict[str, str], imported: pd.Index) -> str:
    """The bill resource of a simulated savings-plan fee line (matched by the plan's name)."""
    tail = resource_id.rsplit("/", 1)[-1]
    for p in plans:
        if tail == p:
            for rid in imported:
                if str(rid).rsplit("/", 1)[-1] == p:
                    return str(rid)
    return resource_id
