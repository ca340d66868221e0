"""Candidate -> scenario: the one place that knows the endpoint specs' field names.

The patched scenario is built by re-validating a patched ``model_dump()``, so every candidate is
checked exactly like a scenario file (a candidate the schema refuses is an input error naming
it). The endpoint's ``sla`` is set to the optimizer's latency objective so the engine reports the
attainment at exactly that threshold; ``fidelity`` is set to the tier being evaluated.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from smsim.errors import InputError
from smsim.optimize.sla import Objectives
from smsim.optimize.space import Candidate


def endpoint_patch(ep: dict, cand: Candidate, objectives: Objectives, fidelity: str) -> dict:
    """The endpoint's data (``model_dump`` form) reconfigured as ``cand``."""
    sla = {"latency_threshold_s": objectives.latency.threshold_s, "percentile": objectives.latency.percentile}
    common = {"name": ep["name"], "model": cand.model, "workload": ep["workload"], "sla": sla,
              "tags": ep.get("tags", {})}
    for key in ("invocation_timeout_s", "data_in_gb_per_request", "data_out_gb_per_request"):
        if key in ep:
            common[key] = ep[key]
    if cand.kind == "serverless":
        return {**common, "kind": "serverless", "memory_size_mb": cand.memory_size_mb,
                "max_concurrency": cand.max_concurrency}
    out = {k: v for k, v in ep.items() if k not in ("memory_size_mb", "max_concurrency", "provisioned_concurrency",
                                                      "cold_start", "idle_reclaim_s", "bill_cold_start",
                                                      "latency_key", "series_window_s")}
    out.update(common, kind="realtime", instance_type=cand.instance_type,
               concurrency_per_instance=cand.concurrency, fidelity=fidelity)
    if cand.count is not None:
        out["initial_instance_count"] = cand.count
        out["autoscaling"] = None
    elif cand.scaling is not None:
        s = cand.scaling
        base = dict(ep.get("autoscaling") or {})
        base.pop("initial_capacity", None)
        base.update(min_capacity=s.min_capacity, max_capacity=s.max_capacity, policies=[{
            "kind": "target_tracking", "metric": s.metric, "target_value": s.target_value,
            "scale_out_cooldown_s": s.scale_out_cooldown_s, "scale_in_cooldown_s": s.scale_in_cooldown_s,
        }])
        out["autoscaling"] = base
        out["initial_instance_count"] = None
    return out


def candidate_scenario(scenario, endpoint: str, cand: Candidate, objectives: Objectives, fidelity: str,
                       commitment_usd_per_hour: float = 0.0, sp_term: str = "1y", sp_payment: str = "no-upfront"):
    """``scenario`` with endpoint ``endpoint`` configured as ``cand`` (and a savings plan of
    ``commitment_usd_per_hour`` added to those already held, when > 0)."""

    data = json.loads(scenario.model_dump_json())
    data.pop("optimize", None)
    eps = data["endpoints"]
    i = next(i for i, e in enumerate(eps) if e["name"] == endpoint)
    eps[i] = endpoint_patch(eps[i], cand, objectives, fidelity)
    if commitment_usd_per_hour > 0:
        data["pricing"]["savings_plans"].append(
            {"commitment_usd_per_hour": commitment_usd_per_hour, "term": sp_term, "payment": sp_payment,
             "name": "optimizer"})
    return validated_candidate(data, scenario, cand.label(), "optimize")


def validated_candidate(data: dict, scenario, label: str, path: str):
    """``data`` (a patched scenario dump) as a Scenario; an invalid one names the candidate."""
    from smsim.scenario.schema import Scenario

    try:
        out = Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"candidate {label} is not a valid scenario: {where}: {first['msg']}", path=path) from None
    return out.with_source(scenario.source)


__all__ = ["candidate_scenario", "endpoint_patch"]
