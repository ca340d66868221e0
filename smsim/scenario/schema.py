"""The scenario: what to simulate, for how long, priced how.

Resource sections (``fleets``, ``endpoints``, ``training_jobs``, ...) are lists of models
whose ``kind`` field discriminates the variant; each section's type comes from the registry of
resource kinds (:mod:`smsim.resources.registry`). The ``pricing:`` section's models live in
:mod:`smsim.pricing.options`, the ``optimize:`` section's in :mod:`smsim.scenario.optimize`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from smsim.budgets.spec import (
    Budget,
    resource_filter_errors,
    tag_filter_errors,
    unique_budget_names,
)
from smsim.pricing.options import PricingOptions
from smsim.resources.models import ModelSpec
from smsim.resources.registry import SECTIONS as _SECTIONS
from smsim.resources.registry import section_type
from smsim.scenario.optimize import OptimizeSpec
from smsim.spec import (
    PositiveDuration,
    ResourceName,
    StrictModel,
    Tags,
)

#: The type of one entry of each resource section, from the registry of resource kinds.
Endpoint = section_type("endpoints")
Fleet = section_type("fleets")
TrainingJob = section_type("training_jobs")
TuningJob = section_type("tuning_jobs")
BatchJob = section_type("batch_jobs")
ProcessingJob = section_type("processing_jobs")
Notebook = section_type("notebooks")
Storage = section_type("storage")
Pipeline = section_type("pipelines")
Deployment = section_type("deployments")
Monitor = section_type("monitoring")
Tracking = section_type("tracking")
Edge = section_type("edge")


class Horizon(StrictModel):
    start: datetime = Field(
        datetime(2026, 1, 1, tzinfo=UTC),
        description="simulation start, ISO 8601; UTC when no offset is given",
    )
    duration_s: PositiveDuration = Field(description="length of the simulated period, e.g. '7d'")

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Scenario(StrictModel):
    """A whole what-if: resources, workload, horizon and pricing."""

    name: ResourceName
    description: str = ""
    region: str = Field("us-east-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    horizon: Horizon
    seed: int = Field(0, ge=0, le=2**63 - 1)
    fidelity: Literal["request", "fluid", "auto"] = Field(
        "auto", description="request-level simulation, per-minute fluid approximation, or chosen by size"
    )
    pricing: PricingOptions = Field(default_factory=PricingOptions)
    tags: Tags = Field(default_factory=dict, description="default tags on every resource")
    models: list[ModelSpec] = Field(default_factory=list, description="models endpoints serve, by name")
    endpoints: list[Endpoint] = Field(default_factory=list)
    fleets: list[Fleet] = Field(default_factory=list)
    training_jobs: list[TrainingJob] = Field(default_factory=list)
    tuning_jobs: list[TuningJob] = Field(default_factory=list, description="hyperparameter tuning jobs")
    batch_jobs: list[BatchJob] = Field(default_factory=list)
    processing_jobs: list[ProcessingJob] = Field(default_factory=list)
    notebooks: list[Notebook] = Field(default_factory=list)
    storage: list[Storage] = Field(default_factory=list)
    pipelines: list[Pipeline] = Field(default_factory=list, description="ML pipelines: DAGs of steps on a schedule")
    deployments: list[Deployment] = Field(default_factory=list, description="model deployments and the capacity they add")
    monitoring: list[Monitor] = Field(default_factory=list, description="Model Monitor schedules and retraining")
    tracking: list[Tracking] = Field(default_factory=list, description="managed MLflow tracking servers")
    edge: list[Edge] = Field(default_factory=list, description="devices serving a share of an endpoint's requests")
    optimize: OptimizeSpec | None = Field(None, description="search space and SLA for `smsim optimize`")
    budgets: list[Budget] = Field(default_factory=list, description="cost budgets and alerts for `smsim budget`")

    #: Where the scenario was read from (relative trace paths resolve against its folder).
    _source: str | None = PrivateAttr(None)
    #: ``(line, column)`` of every field path in the file it was read from (for later checks).
    _positions: dict = PrivateAttr(default_factory=dict)
    #: Endpoint workloads before edge fleets took their share (set by ``resources.offload``).
    _original_workloads: dict | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _unique_names(self):
        seen: dict[str, str] = {}
        for section, spec in self.resources():
            if spec.name in seen:
                raise ValueError(
                    f"resource name {spec.name!r} is used twice ({seen[spec.name]} and {section}); names must be unique"
                )
            seen[spec.name] = section
        return self

    @model_validator(mode="after")
    def _endpoint_models(self):
        """Every endpoint's model is in ``models`` and has a profile for the endpoint's instance type.

        Raised as a ValidationError located at the offending field, so the loader points at its line.
        """
        from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

        by_name = {m.name: m for m in self.models}
        errors: list[InitErrorDetails] = []

        def error(loc: tuple, value, message: str) -> None:
            errors.append(InitErrorDetails(type=PydanticCustomError("reference", message), loc=loc, input=value))

        names = [m.name for m in self.models]
        for i, name in enumerate(names):
            if names.index(name) != i:
                error(("models", i, "name"), name, f"model name {name!r} is used twice; names must be unique")
        for i, m in enumerate(self.models):
            if m.derived_from is not None and m.derived_from not in by_name:
                error(("models", i, "derived_from"), m.derived_from,
                      f"model {m.name!r} is derived from {m.derived_from!r}, which is not in models")
        for i, ep in enumerate(self.endpoints):
            hosted = getattr(ep, "models", None)
            refs = [(("models", j), name) for j, name in enumerate(hosted)] if hosted else (
                [(("model",), ep.model)] if getattr(ep, "model", None) is not None else [])  # llm: its own step model
            key_field = "latency_key" if hasattr(ep, "latency_key") else "instance_type"
            scaling = getattr(ep, "autoscaling", None)
            if ep.kind != "realtime" and scaling is not None:
                for j, policy in enumerate(scaling.policies):
                    if policy.kind == "predictive":
                        error(("endpoints", i, "autoscaling", "policies", j, "kind"), policy.kind,
                              f"predictive scaling is available for realtime endpoints, not {ep.kind!r} ones")
            for loc, name in refs:
                model = by_name.get(name)
                if model is None:
                    known = ", ".join(repr(n) for n in by_name) or "none"
                    error(("endpoints", i, *loc), name,
                          f"endpoint {ep.name!r} serves model {name!r}, which is not in models (known: {known})")
                elif model.latency_for(ep.instance_type) is None:
                    error(("endpoints", i, key_field), ep.instance_type,
                          f"model {name!r} has no latency profile for {ep.instance_type!r} "
                          f"(it has: {', '.join(model.latency)}); add one, or a '*' entry")
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @model_validator(mode="after")
    def _references(self):
        """A resource that names another (a deployment following a pipeline) names one that exists
        in the section it expects; the error points at the naming field."""
        from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

        errors = []
        for section in SECTIONS:
            for i, spec in enumerate(getattr(self, section, None) or []):
                for loc, target, name in (spec.references() if hasattr(spec, "references") else []):
                    known = [s.name for s in getattr(self, target, None) or []]
                    if name not in known:
                        message = (f"{spec.name!r} names {target} entry {name!r}, which the scenario does not have "
                                   f"(known: {', '.join(repr(k) for k in known) or 'none'})")
                        errors.append(InitErrorDetails(type=PydanticCustomError("reference", "{msg}", {"msg": message}),
                                                       loc=(section, i, *loc), input=name))
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @model_validator(mode="after")
    def _inference_components(self):
        """LLM inference components naming one endpoint share its instances, so they agree on
        instance type and managed instance scaling; that endpoint's name is no other resource's."""
        from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

        errors = []
        first: dict[str, tuple] = {}
        names = {spec.name for _, spec in self.resources()}
        for i, ep in enumerate(self.endpoints):
            ic = getattr(ep, "inference_component", None)
            if ic is None:
                continue
            name = ic.endpoint or ep.name
            shape = (ep.instance_type, ic.managed_instance_scaling.min_instance_count,
                     ic.managed_instance_scaling.max_instance_count, ic.accelerators_per_instance)
            message = None
            if name != ep.name and name in names:
                member = next((e for e in self.endpoints if e.name == name), None)
                mic = getattr(member, "inference_component", None)
                if mic is None or (mic.endpoint or member.name) != name:
                    message = (f"inference component {ep.name!r} names endpoint {name!r}, which is another resource "
                               "of this scenario; name the shared endpoint differently")
            if message is None and name in first and first[name][1] != shape:
                message = (f"inference components {first[name][0]!r} and {ep.name!r} share endpoint {name!r} but "
                           "differ in instance_type, managed_instance_scaling or accelerators_per_instance")
            first.setdefault(name, (ep.name, shape))
            if message:
                errors.append(InitErrorDetails(type=PydanticCustomError("reference", "{msg}", {"msg": message}),
                                               loc=("endpoints", i, "inference_component", "endpoint"), input=name))
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @model_validator(mode="after")
    def _endpoint_references(self):
        """A resource's ``endpoint`` field (monitors, edge fleets) names an endpoint of the scenario."""
        from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

        known = [e.name for e in self.endpoints]
        errors = []
        for section in SECTIONS:
            if section == "endpoints":
                continue
            for i, spec in enumerate(getattr(self, section, None) or []):
                ref = getattr(spec, "endpoint", None)
                if isinstance(ref, str) and ref not in known:
                    message = (f"{spec.kind} {spec.name!r} names endpoint {ref!r}, which is not in endpoints "
                               f"(known: {', '.join(repr(n) for n in known) or 'none'})")
                    errors.append(InitErrorDetails(type=PydanticCustomError("reference", "{msg}", {"msg": message}),
                                                   loc=(section, i, "endpoint"), input=ref))
        shares: dict[str, float] = {}
        models = {m.name for m in self.models}
        for i, fleet in enumerate(self.edge):
            if fleet.model is not None and fleet.model not in models:
                message = f"edge-fleet {fleet.name!r} runs model {fleet.model!r}, which is not in models"
                errors.append(InitErrorDetails(type=PydanticCustomError("reference", "{msg}", {"msg": message}),
                                               loc=("edge", i, "model"), input=fleet.model))
            shares[fleet.endpoint] = shares.get(fleet.endpoint, 0.0) + fleet.share_of_requests
            if shares[fleet.endpoint] > 1.0 + 1e-12:
                message = (f"edge fleets serve {shares[fleet.endpoint]:g} of endpoint {fleet.endpoint!r}'s requests "
                           f"(with {fleet.name!r}'s {fleet.share_of_requests:g}); the shares must add up to at most 1")
                errors.append(InitErrorDetails(type=PydanticCustomError("reference", "{msg}", {"msg": message}),
                                               loc=("edge", i, "share_of_requests"), input=fleet.share_of_requests))
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @model_validator(mode="after")
    def _budget_filters(self):
        """Budget names are unique; tag and resource filters name tags and resources the scenario has."""
        from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

        unique_budget_names(self.budgets)
        names = {spec.name for _, spec in self.resources()}
        errors = [InitErrorDetails(type=PydanticCustomError("reference", "{msg}", {"msg": message}),
                                   loc=loc, input=value)
                  for loc, value, message in [*tag_filter_errors(self.budgets, self.tag_keys()),
                                              *resource_filter_errors(self.budgets, names)]]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def tag_keys(self) -> set[str]:
        """Every tag key a resource's ledger lines can carry (smsim's own ``smsim:*`` included)."""
        keys = set(self.tags) | {"smsim:resource", "smsim:instance", "smsim:user", "smsim:step",
                                 "smsim:app"}
        for _, spec in self.resources():
            keys |= set(getattr(spec, "tags", None) or {})
        return keys

    def resources(self):
        """``(section, spec)`` for every resource, in file order within section order."""
        for section in SECTIONS:
            for spec in getattr(self, section, None) or []:
                yield section, spec

    @property
    def horizon_s(self) -> float:
        return self.horizon.duration_s

    @property
    def source(self) -> str | None:
        return self._source

    @property
    def base_dir(self):
        """Folder that relative paths in the scenario are resolved against."""
        from pathlib import Path

        return Path(self._source).resolve().parent if self._source else Path.cwd()

    def with_source(self, source: str | None) -> Scenario:
        self._source = None if source is None else str(source)
        return self


#: Resource sections in the order they are simulated and reported.
SECTIONS = list(_SECTIONS)
