"""The search space: every candidate endpoint configuration, in one fixed order.

A :class:`Candidate` is one configuration of the optimized endpoint (kind, model variant,
instance type, workers per instance, and capacity: a fixed fleet size, a target-tracking
policy, or a serverless size). Savings-plan commitments are not candidates: they change the
bill, not the simulation, so each simulated candidate is priced under every commitment option.

Candidates are numbered in enumeration order (group by group, fixed fleet sizes ascending within
a group). That number breaks ties between configurations of equal cost, so the optimizer and
exhaustive search agree on *which* of several equally cheap configurations is the answer: the
one enumerated first, i.e. the smaller fleet, the earlier model, type and policy in the lists.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from smsim.errors import InputError, did_you_mean
from smsim.optimize.sla import Objectives, parse_error_rate, parse_latency
from smsim.scenario.optimize import InstanceFilter, OptimizeSpec

COMPONENT = "RealTimeInference"


@dataclass(frozen=True)
class Scaling:
    """A target-tracking policy to try."""

    min_capacity: int
    max_capacity: int
    target_value: float
    metric: str
    scale_out_cooldown_s: float
    scale_in_cooldown_s: float

    def label(self) -> str:
        return (f"as[{self.min_capacity}-{self.max_capacity} {self.metric}={self.target_value:g}"
                f" cd={self.scale_out_cooldown_s:g}/{self.scale_in_cooldown_s:g}s]")


@dataclass(frozen=True)
class Candidate:
    """One configuration. ``group`` is everything but the fixed fleet size, so the sizes of one
    group form the capacity ladder the search bisects (``count`` is None off fixed fleets)."""

    index: int
    kind: str  # "realtime" | "serverless"
    model: str
    instance_type: str | None
    concurrency: int
    count: int | None = None
    scaling: Scaling | None = None
    memory_size_mb: int | None = None
    max_concurrency: int | None = None
    keep_base_capacity: bool = False
    group: tuple = field(default=(), compare=False)

    @property
    def fixed(self) -> bool:
        return self.count is not None

    def label(self) -> str:
        if self.kind == "serverless":
            return f"serverless {self.model} {self.memory_size_mb}MB x{self.max_concurrency}"
        cap = (f"x{self.count}" if self.count is not None else
               self.scaling.label() if self.scaling is not None else "base capacity")
        return f"{self.instance_type} {self.model} c{self.concurrency} {cap}"

    def to_dict(self) -> dict:
        d = {"index": self.index, "kind": self.kind, "model": self.model, "instance_type": self.instance_type,
             "concurrency_per_instance": self.concurrency, "label": self.label()}
        if self.count is not None:
            d["instance_count"] = self.count
        if self.scaling is not None:
            d["autoscaling"] = dict(self.scaling.__dict__)
        if self.kind == "serverless":
            d.update(memory_size_mb=self.memory_size_mb, max_concurrency=self.max_concurrency)
        return d


@dataclass(frozen=True)
class Space:
    """Candidates of one endpoint plus what every candidate is priced and judged with."""

    endpoint: str
    candidates: tuple[Candidate, ...]
    objectives: Objectives
    commitments: tuple[float | str, ...]
    sp_term: str
    sp_payment: str
    #: ``(model, quality)`` of variants left out for being below ``min_quality``.
    below_quality: tuple[tuple[str, float], ...] = ()

    def groups(self) -> dict[tuple, list[Candidate]]:
        """Candidates by group, each in enumeration order (fixed sizes ascending)."""
        out: dict[tuple, list[Candidate]] = {}
        for c in self.candidates:
            out.setdefault(c.group, []).append(c)
        return out

    def __len__(self) -> int:
        return len(self.candidates)


def pick_endpoint(scenario, name: str | None):
    """The endpoint spec named ``name``, or the scenario's only endpoint."""
    eps = list(scenario.endpoints)
    if name is None:
        if len(eps) != 1:
            raise InputError(f"the scenario has {len(eps)} endpoints; name the one to optimize (optimize.endpoint)",
                             path="optimize.endpoint")
        return eps[0]
    for ep in eps:
        if ep.name == name:
            return ep
    raise InputError(f"no endpoint named {name!r}" + did_you_mean(name, [e.name for e in eps]),
                     path="optimize.endpoint")


def model_memory_ok(model, spec) -> bool:
    """Whether ``model`` fits: accelerator memory on accelerated types, host memory otherwise."""
    if model.memory_gb is None:
        return True
    have = spec.accelerator_memory_gib if spec.accelerator_count > 0 else spec.memory_gib
    return have >= model.memory_gb


def resolve_types(scenario, ep, spec: OptimizeSpec, catalog) -> list[str]:
    """Instance types of the space: the list given, a catalog filter, or the endpoint's own."""
    if spec.instance_types is None:
        return [ep.instance_type]
    if isinstance(spec.instance_types, list):
        for t in spec.instance_types:
            catalog.instance(t)  # unknown types are input errors
        return list(dict.fromkeys(spec.instance_types))
    f: InstanceFilter = spec.instance_types
    out = []
    for t in catalog.instance_types(COMPONENT, scenario.region):
        s = catalog.instance(t)
        if f.accelerator == "gpu" and s.accelerator_count == 0:
            continue
        if f.accelerator == "none" and s.accelerator_count > 0:
            continue
        if f.accelerator not in ("any", "gpu", "none") and s.accelerator_type != f.accelerator:
            continue
        if f.families and s.family not in f.families:
            continue
        if f.min_memory_gib is not None and s.memory_gib < f.min_memory_gib:
            continue
        if f.max_usd_per_hour is not None and catalog.ondemand_usd_per_hour(t, COMPONENT, scenario.region) > f.max_usd_per_hour:
            continue
        out.append(t)
    if not out:
        raise InputError(f"no instance type in the catalog matches {f.model_dump(exclude_defaults=True)}",
                         path="optimize.instance_types")
    return out


def build_space(scenario, spec: OptimizeSpec, catalog) -> Space:
    """Enumerate the candidates of ``spec`` over ``scenario`` (see the module docstring for order)."""
    ep = pick_endpoint(scenario, spec.endpoint)
    models = {m.name: m for m in scenario.models}
    names = spec.models or [ep.model]
    for n in names:
        if n not in models:
            raise InputError(f"optimize.models names {n!r}, which is not in models" + did_you_mean(n, models),
                             path="optimize.models")
    names, below = quality_filter(names, models, spec.min_quality)
    objectives = Objectives(parse_latency(spec.sla), parse_error_rate(spec.max_error_rate))
    types = resolve_types(scenario, ep, spec, catalog) if ep.kind == "realtime" or spec.instance_types else []
    concs = spec.concurrency_per_instance or [getattr(ep, "concurrency_per_instance", 1)]
    scalings: list[Scaling] = []
    if spec.autoscaling is not None:
        a = spec.autoscaling
        for lo, hi, tv, so, si in itertools.product(a.min_capacity, a.max_capacity, a.target_value,
                                                    a.scale_out_cooldown_s, a.scale_in_cooldown_s):
            if lo <= hi:
                scalings.append(Scaling(lo, hi, tv, a.metric, so, si))
    counts = list(range(spec.instance_count.min, spec.instance_count.max + 1)) if spec.instance_count else []
    keep_base = not counts and not scalings and ep.kind == "realtime"

    out: list[Candidate] = []

    def add(**kw) -> None:
        out.append(Candidate(index=len(out), **kw))

    for model_name, itype, conc in itertools.product(names, types, concs):
        model = models[model_name]
        if model.latency_for(itype) is None or not model_memory_ok(model, catalog.instance(itype)):
            continue
        base = dict(kind="realtime", model=model_name, instance_type=itype, concurrency=conc)
        for n in counts:
            add(**base, count=n, group=("fixed", model_name, itype, conc))
        for s in scalings:
            add(**base, scaling=s, group=("scaling", model_name, itype, conc, s))
        if keep_base:
            add(**base, keep_base_capacity=True, group=("base", model_name, itype, conc))
    if spec.serverless is not None:
        for model_name in names:
            if models[model_name].latency_for("*") is None:
                continue
            for mem, mc in itertools.product(spec.serverless.memory_size_mb, spec.serverless.max_concurrency):
                if models[model_name].memory_gb is not None and models[model_name].memory_gb > mem / 1024:
                    continue
                add(kind="serverless", model=model_name, instance_type=None, concurrency=1,
                    memory_size_mb=mem, max_concurrency=mc, group=("serverless", model_name, mem, mc))
    if not out:
        raise InputError("the search space is empty: no model variant has a latency profile and enough memory "
                         "on any instance type given", path="optimize")
    return Space(endpoint=ep.name, candidates=tuple(out), objectives=objectives,
                 commitments=tuple(spec.savings_plan_usd_per_hour), sp_term=spec.savings_plan_term,
                 sp_payment=spec.savings_plan_payment, below_quality=below)


def quality_filter(names: list[str], models: dict, min_quality: float | None) -> tuple[list[str], tuple]:
    """The model variants meeting ``min_quality``, and ``(name, quality)`` of those left out.
    Every variant must declare its quality when a minimum is asked for, and declared metrics
    must agree (an accuracy is not comparable with an AUC)."""
    metrics = {models[n].quality_metric for n in names if models[n].quality is not None and models[n].quality_metric}
    if len(metrics) > 1:
        raise InputError(f"the model variants score quality on different metrics ({', '.join(sorted(metrics))}); "
                         "qualities are comparable only on one", path="optimize.models")
    if min_quality is None:
        return names, ()
    missing = [n for n in names if models[n].quality is None]
    if missing:
        raise InputError(f"min_quality {min_quality:g} needs every model variant to declare quality; "
                         f"{', '.join(repr(n) for n in missing)} do not (models[].quality)", path="optimize.min_quality")
    keep = [n for n in names if models[n].quality >= min_quality]
    below = tuple((n, models[n].quality) for n in names if models[n].quality < min_quality)
    if not keep:
        best = max(names, key=lambda n: models[n].quality)
        raise InputError(f"no model variant reaches min_quality {min_quality:g}; the best is {best!r} with "
                         f"{models[best].quality:g}", path="optimize.min_quality")
    return keep, below


__all__ = ["Candidate", "Scaling", "Space", "build_space", "model_memory_ok", "pick_endpoint", "quality_filter",
           "resolve_types"]
