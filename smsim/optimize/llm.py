"""The cheapest configuration of an LLM endpoint that meets its token SLAs.

Searched: instance type x weight quantisation (with its KV-cache dtype) x tensor-parallel degree x
``max_num_seqs`` x (fixed instance count, or autoscaling: target tracking on concurrent requests
per copy x minimum capacity), on the roofline step model. A combination the hardware
cannot hold (the model does not fit, ``tp`` does not divide the accelerators) is left out with
the reason. Every candidate is simulated token by token on the scenario's seed (common random
numbers), its whole scenario billed, and judged by the endpoint's :class:`TokenSlaSpec`
(each percentile objective met) and a failed-request share at most ``max_failed_share``.

The answer is exhaustive search's: the feasible candidate with the smallest ``(billed cost
rounded to 1e-6 USD, enumeration index)``. :func:`search` finds it simulating fewer, from one
fact: a fleet's billed cost is at least ``instances x on-demand price x hours``, its fixed size or
its autoscaling minimum (the ledger prices instance-seconds; exact for a fixed fleet; with
savings plans in the scenario the bound does not hold and nothing is pruned by it). Candidates are simulated in order of that
bound; once a feasible one is verified, every candidate whose bound exceeds its cost is pruned.
With ``screen=True`` a candidate whose fleet cannot keep up even at saturation (the steady-state
batch model of :mod:`smsim.resources.llm.steady_state`: offered output tokens/s above the fleet's
saturation throughput) is skipped unsimulated: a heuristic (steady state, mean tokens), which the
tests check against brute force on small spaces; ``screen=False`` drops it.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

from smsim.errors import InputError
from smsim.optimize.adapter import validated_candidate

COST_DECIMALS = 6


@dataclass(frozen=True)
class LlmSpace:
    """The lists to try (``tp`` None = the smallest degree that fits)."""

    instance_types: tuple[str, ...]
    weight_dtypes: tuple[str, ...] = ("fp16",)
    kv_dtypes: tuple[str, ...] = ("fp16",)
    tps: tuple[int | None, ...] = (None,)
    max_num_seqs: tuple[int, ...] = (256,)
    instances: tuple[int, ...] = (1, 2, 3, 4)
    #: autoscaled candidates: target tracking on concurrent requests per copy, each target with
    #: ``min_capacity`` = every entry of ``scaling_min`` and ``max_capacity`` = ``scaling_max``
    scaling_targets: tuple[float, ...] = ()
    scaling_min: tuple[int, ...] = (1,)
    scaling_max: int = 8


@dataclass(frozen=True)
class LlmCandidate:
    index: int
    instance_type: str
    weight_dtype: str
    kv_dtype: str
    tp: int | None
    max_num_seqs: int
    instances: int  # the fixed fleet, or the autoscaled fleet's minimum
    usd_per_hour: float
    target: float | None = None  # concurrent requests per copy (autoscaled candidates)
    max_instances: int | None = None

    def label(self) -> str:
        tp = "auto" if self.tp is None else self.tp
        fleet = (f"{self.instances} x" if self.target is None else
                 f"{self.instances}-{self.max_instances} x")
        scaling = "" if self.target is None else f" target={self.target:g}"
        return f"{fleet} {self.instance_type} {self.weight_dtype}/kv-{self.kv_dtype} tp={tp} seqs={self.max_num_seqs}{scaling}"


@dataclass
class LlmEvaluation:
    candidate: LlmCandidate
    cost_usd: float
    feasible: bool
    why: str
    metrics: dict[str, Any]

    @property
    def key(self) -> tuple[float, int]:
        return (round(self.cost_usd, COST_DECIMALS), self.candidate.index)


@dataclass
class LlmSearchResult:
    best: LlmEvaluation | None
    evaluations: list[LlmEvaluation]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (label, reason) left out before simulating
    n_candidates: int = 0
    pruned: dict[str, int] = field(default_factory=dict)


def _endpoint(scenario, name: str):
    for ep in scenario.endpoints:
        if ep.name == name and ep.kind == "llm":
            if getattr(ep, "inference_component", None) is not None:
                raise InputError(f"endpoint {name!r} is an inference component: the search covers fleets of whole "
                                 "instances (instance count or autoscaling on instances); remove its "
                                 "inference_component block to search them", path="--endpoint")
            return ep
    known = ", ".join(e.name for e in scenario.endpoints if e.kind == "llm") or "none"
    raise InputError(f"no llm endpoint named {name!r} (llm endpoints: {known})", path="--endpoint")


def candidates(scenario, name: str, space: LlmSpace, catalog) -> tuple[list[LlmCandidate], list[tuple[str, str]]]:
    """Every combination the hardware holds, in enumeration order, and those left out (why)."""
    from smsim.resources.llm.memory import serving_hardware

    _endpoint(scenario, name)
    out, skipped = [], []
    for it, wd, kd, tp, seqs in itertools.product(space.instance_types, space.weight_dtypes, space.kv_dtypes,
                                                  space.tps, space.max_num_seqs):
        ep = _endpoint(scenario, name)
        model = ep.step_model.model if ep.step_model.kind == "roofline" else None
        if model is None:
            raise InputError("the LLM optimizer searches the roofline: give the endpoint step_model: {kind: roofline, ...}",
                             path=f"endpoints.{name}.step_model")
        label = f"{it} {wd}/kv-{kd} tp={'auto' if tp is None else tp}"
        try:
            serving_hardware(it, model, wd, kd, tp, max_model_len=ep.step_model.max_model_len)
            price = float(catalog.ondemand_usd_per_hour(it, ep.COMPONENT, scenario.region))
        except (InputError, KeyError, LookupError, ValueError) as exc:
            skipped.append((label, str(getattr(exc, "message", exc))))
            continue
        for n in space.instances:
            out.append(LlmCandidate(len(out), it, wd, kd, tp, seqs, n, price))
        for target, lo in itertools.product(space.scaling_targets, space.scaling_min):
            if lo <= space.scaling_max:
                out.append(LlmCandidate(len(out), it, wd, kd, tp, seqs, lo, price, float(target), space.scaling_max))
    return out, skipped


def space_from_section(section, ep) -> LlmSpace:
    """The :class:`LlmSpace` of a scenario's ``optimize:`` section for llm endpoint ``ep``: every
    dimension left empty keeps the endpoint's own value."""
    sm = ep.step_model
    llm = section.llm if section is not None and section.llm is not None else None
    types = section.instance_types if section is not None else None
    if types is not None and not isinstance(types, list):
        raise InputError("for an llm endpoint give instance_types as a list (catalog filters are for "
                         "realtime endpoints)", path="optimize.instance_types")
    counts = section.instance_count if section is not None else None
    scaling = section.autoscaling if section is not None else None
    tps = tuple(None if t == "auto" else int(t) for t in (llm.tp if llm and llm.tp else [sm.tp or "auto"]))
    return LlmSpace(
        instance_types=tuple(types or [ep.instance_type]),
        weight_dtypes=tuple(llm.weight_dtypes if llm and llm.weight_dtypes else [sm.weight_dtype]),
        kv_dtypes=tuple(llm.kv_dtypes if llm and llm.kv_dtypes else [sm.kv_dtype]),
        tps=tps,
        max_num_seqs=tuple(llm.max_num_seqs if llm and llm.max_num_seqs else [ep.engine.max_num_seqs]),
        instances=tuple(range(counts.min, counts.max + 1)) if counts is not None else
        (() if scaling is not None else (ep.initial_instance_count or 1,)),
        scaling_targets=tuple(scaling.target_value) if scaling is not None else (),
        scaling_min=tuple(scaling.min_capacity) if scaling is not None else (1,),
        scaling_max=max(scaling.max_capacity) if scaling is not None else 8,
    )


def parse_token_sla(text: str) -> dict[str, float]:
    """``"ttft_p99_s=2,tpot_p99_s=0.1"`` -> the fields of a :class:`TokenSlaSpec` (validated)."""
    from pydantic import ValidationError

    from smsim.resources.llm.spec import TokenSlaSpec

    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        key, sep, value = part.partition("=")
        try:
            out[key.strip()] = float(value) if sep else math.nan
        except ValueError:
            raise InputError(f"token SLA {text!r}: {part!r} is not name=seconds; an llm endpoint takes e.g. "
                             "ttft_p99_s=2,tpot_p99_s=0.1", path="--sla") from None
    try:
        TokenSlaSpec(**out)
    except (ValidationError, TypeError) as exc:
        msg = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
        where = ".".join(map(str, msg["loc"]))
        raise InputError(f"token SLA {text!r}: {where + ': ' if where else ''}{msg['msg']} (fields: ttft_p50_s, "
                         "ttft_p90_s, ttft_p99_s, tpot_*, e2e_*, itl_*)", path="--sla") from None
    return out


def candidate_scenario(scenario, name: str, cand: LlmCandidate, sla: dict | None = None):
    """``scenario`` with only endpoint ``name``, configured as ``cand`` (a fixed fleet), judged
    by ``sla`` when given (else the endpoint's own)."""
    data = json.loads(scenario.model_dump_json())
    data.pop("optimize", None)
    ep = next(e for e in data["endpoints"] if e["name"] == name)
    if sla is not None:
        ep["sla"] = sla
    ep["instance_type"] = cand.instance_type
    ep["step_model"].update(weight_dtype=cand.weight_dtype, kv_dtype=cand.kv_dtype, tp=cand.tp)
    ep["engine"]["max_num_seqs"] = cand.max_num_seqs
    ep["engine"]["max_num_batched_tokens"] = max(ep["engine"]["max_num_batched_tokens"], cand.max_num_seqs)
    own = ep.get("autoscaling") or {}
    ep.update(initial_instance_count=cand.instances, autoscaling=None, kv_capacity_tokens=None,
              copies_per_instance=None)
    if cand.target is not None:  # keep the endpoint's provisioning delay and cooldowns
        cooldowns: dict = {}
        for pol in own.get("policies", []):
            if pol.get("kind") == "target_tracking":
                cooldowns = {k: pol[k] for k in ("scale_out_cooldown_s", "scale_in_cooldown_s") if k in pol}
                break
        scaling = {k: v for k, v in own.items() if k in ("provisioning", "termination_order")}
        scaling.update(min_capacity=cand.instances, max_capacity=cand.max_instances, policies=[{
            "kind": "target_tracking", "metric": "concurrent_requests_per_copy", "target_value": cand.target,
            **cooldowns}])
        ep.update(autoscaling=scaling, initial_instance_count=None)
    for section in ("endpoints", "fleets", "training_jobs", "batch_jobs", "processing_jobs", "notebooks", "storage"):
        if section in data:
            data[section] = []
    data["endpoints"] = [ep]
    return validated_candidate(data, scenario, cand.label(), "optimize")


def judge(metrics: dict[str, Any], max_failed_share: float) -> tuple[bool, str]:
    """Feasible when every token objective is met and few enough requests failed."""
    failed = (metrics["timed_out"] + metrics["dropped"]) / max(metrics["requests"], 1)
    misses = [f"{k[4:-11]} attainment {v:.2%}" for k, v in metrics.items()
              if k.startswith("sla_") and k.endswith("_attainment") and not _met(k, v)]
    if failed > max_failed_share:
        misses.append(f"{failed:.2%} failed > {max_failed_share:.2%}")
    return (not misses, "; ".join(misses) or "meets")


def _met(key: str, share: float) -> bool:
    q = float(key.split("_p")[1].split("_")[0])
    return share >= q / 100.0


def evaluate(scenario, name: str, cand: LlmCandidate, max_failed_share: float, catalog,
             sla: dict | None = None) -> LlmEvaluation:
    from smsim.run import run_scenario

    run = run_scenario(candidate_scenario(scenario, name, cand, sla), catalog=catalog)
    metrics = run.summary["resources"][0]
    ok, why = judge(metrics, max_failed_share)
    return LlmEvaluation(cand, float(run.summary["total_cost_usd"]), ok, why, metrics)


def _too_small(scenario, name: str, cand: LlmCandidate) -> bool:
    """The saturation screen (module doc): offered output tokens/s beyond the fleet's ceiling."""
    from smsim.resources.llm.memory import serving_hardware
    from smsim.resources.llm.roofline import roofline_step_model
    from smsim.resources.llm.steady_state import saturation

    ep = _endpoint(scenario, name)
    rate, mean_in, mean_out = _demand(scenario, ep)
    if rate is None:
        return False
    hw = serving_hardware(cand.instance_type, ep.step_model.model, cand.weight_dtype, cand.kv_dtype, cand.tp)
    sat = saturation(hw, roofline_step_model(hw), max(1, round(mean_in)), max(1, round(mean_out)), cand.max_num_seqs)
    fleet = cand.max_instances if cand.target is not None else cand.instances
    ceiling = sat.output_tokens_per_s * hw.copies_per_instance * fleet
    return rate * mean_out > ceiling


def _demand(scenario, ep) -> tuple[float | None, float, float]:
    """Mean arrival rate and mean tokens from the endpoint's first chunk of traffic."""
    from smsim import rng
    from smsim.workload.spec import materialize

    horizon = float(scenario.horizon.duration_s)
    trace = materialize(ep.workload, rng.stream(scenario.seed, "optimizer-demand"), horizon, scenario.horizon.start,
                        scenario.base_dir)
    if not len(trace) or trace.input_tokens is None or trace.output_tokens is None:
        return None, 0.0, 0.0
    return len(trace) / horizon, float(trace.input_tokens.mean()), float(trace.output_tokens.mean())


def search(scenario, name: str, space: LlmSpace, *, catalog=None, max_failed_share: float = 0.01,
           screen: bool = True, sla: dict | None = None) -> LlmSearchResult:
    """The cheapest feasible candidate (module doc), simulating in order of the cost bound."""
    from smsim.pricing.catalog import catalog_for

    catalog = catalog or catalog_for(scenario)
    if _endpoint(scenario, name).sla is None and sla is None:
        raise InputError("the LLM optimizer needs the endpoint's sla (e.g. {ttft_p99_s: 2, tpot_p99_s: 0.1})",
                         path=f"endpoints.{name}.sla")
    cands, skipped = candidates(scenario, name, space, catalog)
    hours = float(scenario.horizon.duration_s) / 3600.0
    plans = bool(scenario.pricing.savings_plans)
    order = sorted(cands, key=lambda c: (round(c.instances * c.usd_per_hour * hours, COST_DECIMALS), c.index))
    best: LlmEvaluation | None = None
    evals: list[LlmEvaluation] = []
    pruned = {"cost_bound": 0, "saturation_screen": 0}
    for cand in order:
        bound = round(cand.instances * cand.usd_per_hour * hours, COST_DECIMALS)
        if best is not None and not plans and (bound, cand.index) > best.key:
            pruned["cost_bound"] += 1
            continue
        if screen and _too_small(scenario, name, cand):
            pruned["saturation_screen"] += 1
            continue
        ev = evaluate(scenario, name, cand, max_failed_share, catalog, sla)
        evals.append(ev)
        if ev.feasible and (best is None or ev.key < best.key):
            best = ev
    return LlmSearchResult(best, evals, skipped, len(cands), pruned)


def brute_force(scenario, name: str, space: LlmSpace, *, catalog=None, max_failed_share: float = 0.01,
                sla: dict | None = None) -> LlmSearchResult:
    """Every candidate simulated (the definition :func:`search` must match)."""
    from smsim.pricing.catalog import catalog_for

    catalog = catalog or catalog_for(scenario)
    cands, skipped = candidates(scenario, name, space, catalog)
    evals = [evaluate(scenario, name, c, max_failed_share, catalog, sla) for c in cands]
    feasible = [e for e in evals if e.feasible]
    best = min(feasible, key=lambda e: e.key) if feasible else None
    return LlmSearchResult(best, evals, skipped, len(cands))


__all__ = ["LlmCandidate", "LlmEvaluation", "LlmSearchResult", "LlmSpace", "brute_force", "candidates",
           "parse_token_sla", "search", "space_from_section"]

