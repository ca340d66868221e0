"""Flat price listings of a catalog, for people: one row per (instance type, component)."""

from __future__ import annotations

from smsim.errors import InputError
from smsim.pricing.catalog import Catalog
from smsim.pricing.vocabulary import COMPONENTS, SPOT_COMPONENTS


def price_rows(
    catalog: Catalog, region: str, instance_type: str | None = None, component: str | None = None
) -> list[dict]:
    """On-demand (and, for training, spot) prices with spec, source and as-of date.

    With both ``instance_type`` and ``component`` given, an unoffered or unpriced pair is an
    InputError (with "did you mean"); otherwise pairs without a price are skipped.
    """
    if instance_type and component:
        catalog.check_offered(instance_type, component, region)
    components = [component] if component else list(COMPONENTS)
    types = [instance_type] if instance_type else catalog.instance_types(component, region)
    rows = []
    for itype in types:
        try:
            spec = catalog.instance(itype)
        except InputError:
            spec = None
        for comp in components:
            try:
                od = catalog.ondemand_usd_per_hour(itype, comp, region)
            except InputError:
                continue
            source, as_of = catalog.ondemand_source(itype, comp, region)
            spot = None
            if comp in SPOT_COMPONENTS:
                try:
                    spot = catalog.spot_usd_per_hour(itype, comp, region)
                except InputError:
                    spot = None
            rows.append({
                "instance_type": itype, "component": comp, "region": region, "usd_per_hour": od,
                "spot_usd_per_hour": spot,
                "vcpu": spec.vcpu if spec else None, "memory_gib": spec.memory_gib if spec else None,
                "accelerators": f"{spec.accelerator_count} x {spec.accelerator_type}"
                if spec and spec.accelerator_count else "",
                "as_of": as_of, "source": source,
            })
    if instance_type and not rows:
        catalog.check_offered(instance_type, component or "RealTimeInference", region)  # says why
    return rows
