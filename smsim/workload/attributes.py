"""Per-request attributes for synthetic traces: token counts, payload sizes, model mix.

Each distribution is a frozen pydantic model with a ``kind`` and declares its ``mean`` and
``variance`` (in its own unit: tokens or bytes), so one test checks every one of them.
Integer-valued attributes (tokens, bytes) are rounded to the nearest integer and floored at 1
after sampling; for the lognormal that shifts the mean by less than 0.5 of a unit, and the
declared moments are those of the continuous distribution.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from smsim.spec import NonNegFloat, PositiveFloat, StrictModel
from smsim.workload.request_trace import RequestTrace

#: z such that P(Z <= z) = 0.99 for a standard normal.
Z99 = 2.3263478740408408


class ConstantDist(StrictModel):
    """Every request has the same value."""

    kind: Literal["constant"] = "constant"
    value: NonNegFloat

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value, dtype=np.float64)


class LognormalDist(StrictModel):
    """Lognormal fitted to a median and a 99th percentile (the numbers people know)."""

    kind: Literal["lognormal"] = "lognormal"
    median: PositiveFloat
    p99: PositiveFloat
    integer: bool = Field(True, description="round to whole units (tokens, bytes), at least 1")

    @model_validator(mode="after")
    def _order(self):
        if self.p99 <= self.median:
            raise ValueError(f"p99 ({self.p99}) must be greater than median ({self.median})")
        return self

    @property
    def mu(self) -> float:
        return math.log(self.median)

    @property
    def sigma(self) -> float:
        return math.log(self.p99 / self.median) / Z99

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    @property
    def variance(self) -> float:
        s2 = self.sigma**2
        return (math.exp(s2) - 1) * math.exp(2 * self.mu + s2)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        x = rng.lognormal(self.mu, self.sigma, n)
        return np.maximum(np.rint(x), 1.0) if self.integer else x


class EmpiricalDist(StrictModel):
    """Values resampled with replacement from a list (for example a real trace's tokens)."""

    kind: Literal["empirical"] = "empirical"
    values: list[NonNegFloat] = Field(min_length=1)

    @classmethod
    def from_array(cls, values: np.ndarray) -> EmpiricalDist:
        return cls(values=[float(v) for v in np.asarray(values, dtype=np.float64)])

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def variance(self) -> float:
        return float(np.var(self.values))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float64)[rng.integers(0, len(self.values), n)]


Distribution = Annotated[ConstantDist | LognormalDist | EmpiricalDist, Field(discriminator="kind")]


class RequestAttributes(StrictModel):
    """How to fill per-request attributes of a trace that lacks them.

    ``models`` maps model names to weights; each request is assigned a model independently
    with probability proportional to its weight (so a Poisson stream splits into independent
    Poisson streams per model).
    """

    input_tokens: Distribution | None = None
    output_tokens: Distribution | None = None
    payload_bytes: Distribution | None = None
    models: dict[str, PositiveFloat] | None = Field(None, min_length=1)

    def apply(self, trace: RequestTrace, rng: np.random.Generator, *, overwrite: bool = False) -> RequestTrace:
        """The trace with missing attributes drawn (existing ones kept unless ``overwrite``)."""
        n = len(trace)
        new: dict = {}
        for name in ("input_tokens", "output_tokens", "payload_bytes"):
            dist = getattr(self, name)
            if dist is not None and (overwrite or getattr(trace, name) is None):
                new[name] = dist.sample(rng, n)
        if self.models and (overwrite or trace.model_index is None):
            names = tuple(self.models)
            p = np.asarray([self.models[m] for m in names], dtype=np.float64)
            new["model_index"] = rng.choice(len(names), size=n, p=p / p.sum())
            new["models"] = names
        return trace.with_attributes(**new) if new else trace
