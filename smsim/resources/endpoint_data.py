"""Per-request data processed in and out of an endpoint, metered per clock hour."""

from __future__ import annotations

import numpy as np

from smsim.core.engine import SimContext


def meter_trace_data(ctx: SimContext, spec, trace, kind: str, component: str, tags: dict) -> None:
    """Meter data in (the request payloads, or the spec's GB per request) and out per clock hour
    for an endpoint that holds its whole arrival trace."""
    n = len(trace)
    if n == 0:
        return
    gb_in = (trace.payload_bytes / 1024.0**3 if trace.payload_bytes is not None
             else np.full(n, spec.data_in_gb_per_request or 0.0))
    gb_out = np.full(n, spec.data_out_gb_per_request or 0.0)
    for key, gb in (("endpoint_data_in_gb", gb_in), ("endpoint_data_out_gb", gb_out)):
        ctx.meter.amounts_by_hour(spec.name, kind, component, key, trace.arrival_s, gb, ctx.horizon_s, tags)
