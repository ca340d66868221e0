"""The ``models:`` registry: what a model is, and how fast it serves on each instance type.

A :class:`ModelSpec` names a deployable model (one artifact: a quantisation or a compilation is
a separate model, e.g. ``llama-8b-fp16`` and ``llama-8b-int8``) with its memory footprint, its
load time (what a multi-model endpoint pays on a cache miss) and a latency profile per instance
type. ``latency`` maps an instance type, or ``"*"`` for any other type, to a service-time profile:
the time one request occupies one model-server worker (``concurrency_per_instance`` workers run
on each instance). Profiles:

* ``lognormal``: ``median_s`` and ``p99_s`` (the two numbers a load test reports);
* ``gamma``: ``mean_s`` and coefficient of variation ``cv`` (``cv = 1`` is exponential);
* ``empirical``: observed service times ``samples_s``, resampled with replacement;
* ``deterministic``: every request takes ``value_s``.

Every profile may add a linear cost in the request's size:
``service = base + per_input_token_s x input_tokens + per_output_token_s x output_tokens +
per_payload_byte_s x payload_bytes`` (a request without that attribute adds nothing).

A model may carry its ``quality``: one offline score of the metric the team judges models by
(``quality_metric``, e.g. accuracy or AUC; higher is better), and how it was made from another
model (``technique``: quantized, pruned, distilled, fine-tuned or compiled, ``derived_from``
naming that model). Endpoints report their model's quality beside their cost, ``compare`` shows
it, and ``optimize`` can require a minimum and reports the quality-cost frontier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from smsim.spec import (
    Duration,
    InstanceType,
    NonNegFloat,
    PositiveFloat,
    StrictModel,
)

if TYPE_CHECKING:
    from smsim.core.latency import ServiceProfile

#: The ``latency`` key that applies to every instance type not listed explicitly.
ANY_INSTANCE = "*"


class _Profile(StrictModel):
    """Linear size terms shared by every profile (seconds per token or per byte)."""

    per_input_token_s: NonNegFloat = 0.0
    per_output_token_s: NonNegFloat = 0.0
    per_payload_byte_s: NonNegFloat = 0.0

    def base(self) -> ServiceProfile:
        """The size-independent part as a :mod:`smsim.core.latency` profile."""
        raise NotImplementedError

    @property
    def size_dependent(self) -> bool:
        return bool(self.per_input_token_s or self.per_output_token_s or self.per_payload_byte_s)

    def sample(self, rng: np.random.Generator, trace) -> np.ndarray:
        """Service times (s) for every request of ``trace`` (a :class:`RequestTrace`)."""
        out = self.base().sample(rng, len(trace.arrival_s))
        for coef, name in ((self.per_input_token_s, "input_tokens"),
                           (self.per_output_token_s, "output_tokens"),
                           (self.per_payload_byte_s, "payload_bytes")):
            values = getattr(trace, name)
            if coef and values is not None:
                out = out + coef * values
        return out


class LognormalLatency(_Profile):
    kind: Literal["lognormal"] = "lognormal"
    median_s: PositiveFloat
    p99_s: PositiveFloat

    @model_validator(mode="after")
    def _ordered(self):
        if self.p99_s <= self.median_s:
            raise ValueError(f"p99_s {self.p99_s} must exceed median_s {self.median_s}")
        return self

    def base(self) -> ServiceProfile:
        from smsim.core.latency import LogNormal

        return LogNormal(median_s=self.median_s, p99_s=self.p99_s)


class GammaLatency(_Profile):
    kind: Literal["gamma"] = "gamma"
    mean_s: PositiveFloat
    cv: PositiveFloat = 1.0

    def base(self) -> ServiceProfile:
        from smsim.core.latency import Gamma

        return Gamma(mean=self.mean_s, cv=self.cv)


class EmpiricalLatency(_Profile):
    kind: Literal["empirical"] = "empirical"
    samples_s: list[NonNegFloat] = Field(min_length=1, max_length=1_000_000)

    def base(self) -> ServiceProfile:
        from smsim.core.latency import Empirical

        return Empirical(samples_s=tuple(self.samples_s))


class DeterministicLatency(_Profile):
    kind: Literal["deterministic"] = "deterministic"
    value_s: NonNegFloat

    def base(self) -> ServiceProfile:
        from smsim.core.latency import Deterministic

        return Deterministic(value_s=self.value_s)


LatencyProfileSpec = Annotated[
    LognormalLatency | GammaLatency | EmpiricalLatency | DeterministicLatency,
    Field(discriminator="kind"),
]


class ModelSpec(StrictModel):
    """One deployable model and its service time on each instance type it may run on."""

    name: Annotated[str, Field(min_length=1, max_length=256)]
    memory_gb: PositiveFloat | None = Field(None, description="memory the loaded model needs (multi-model caches)")
    load_time_s: Duration = Field(0.0, description="time to load into memory on a cache miss (multi-model)")
    latency: dict[str, LatencyProfileSpec] = Field(
        min_length=1, description="service-time profile per instance type, or '*' for any type"
    )
    description: str = ""
    quality: float | None = Field(None, description="offline score of quality_metric; higher is better")
    quality_metric: str = Field("", max_length=64, description="e.g. accuracy, AUC, ROUGE-L")
    technique: Literal["base", "quantized", "pruned", "distilled", "fine-tuned", "compiled"] | None = None
    derived_from: str | None = Field(None, description="the model this one was made from (a name in models:)")

    @field_validator("latency")
    @classmethod
    def _keys(cls, value: dict) -> dict:
        from pydantic import TypeAdapter

        adapter = TypeAdapter(InstanceType)
        for key in value:
            if key != ANY_INSTANCE:
                try:
                    adapter.validate_python(key)
                except Exception:
                    raise ValueError(
                        f"latency key {key!r} is neither an instance type such as 'ml.g5.xlarge' nor '*'"
                    ) from None
        return value

    def latency_for(self, instance_type: str) -> LatencyProfileSpec | None:
        """The profile for ``instance_type``: its own entry, else the ``"*"`` entry, else None."""
        return self.latency.get(instance_type, self.latency.get(ANY_INSTANCE))


__all__ = [
    "ANY_INSTANCE",
    "DeterministicLatency",
    "EmpiricalLatency",
    "GammaLatency",
    "LatencyProfileSpec",
    "LognormalLatency",
    "ModelSpec",
]
