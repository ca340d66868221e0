"""How long a newly launched endpoint instance takes to become InService.

AWS publishes no figure for this. smsim's default, a fixed 600 s, is one public observation:
creating an ml.g6.xlarge endpoint with a vLLM container took 9.9-10.1 minutes to InService,
including ~66-83 s of model load (``pricing/operational_params.csv``,
``endpoint_create_to_inservice_observed``). Scale-out of an existing endpoint, other instance
types, and other containers may differ; treat the default as an observation, not a constant.

Each distribution declares its mean and variance so one helper can check every sampler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from smsim.resources.scaling.spec import FixedDelay, LognormalDelay, UniformDelay

#: Standard normal 99th percentile, for lognormals given by median and p99.
Z99 = 2.3263478740408408

DEFAULT_DELAY_S = 600.0


@dataclass(frozen=True)
class DelayDistribution:
    """A provisioning-delay distribution in seconds: ``sample`` plus declared moments."""

    kind: str
    a: float
    b: float = 0.0

    def sample(self, rng: np.random.Generator, n: int | None = None):
        if self.kind == "fixed":
            return self.a if n is None else np.full(n, self.a)
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b, n) if n is not None else float(rng.uniform(self.a, self.b))
        x = rng.lognormal(self.a, self.b, n)
        return x if n is not None else float(x)

    @property
    def mean_s(self) -> float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        return math.exp(self.a + self.b**2 / 2)

    @property
    def var_s2(self) -> float:
        if self.kind == "fixed":
            return 0.0
        if self.kind == "uniform":
            return (self.b - self.a) ** 2 / 12
        return (math.exp(self.b**2) - 1) * math.exp(2 * self.a + self.b**2)


def distribution(spec: FixedDelay | UniformDelay | LognormalDelay | None) -> DelayDistribution:
    """The sampler for a provisioning spec (the 600 s default when ``spec`` is None).

    A lognormal given median ``M`` and p99 ``P`` has ``mu = ln M`` and
    ``sigma = (ln P - ln M) / z_0.99``.
    """
    if spec is None:
        return DelayDistribution("fixed", DEFAULT_DELAY_S)
    if isinstance(spec, FixedDelay):
        return DelayDistribution("fixed", spec.delay_s)
    if isinstance(spec, UniformDelay):
        return DelayDistribution("uniform", spec.low_s, spec.high_s)
    return DelayDistribution("lognormal", math.log(spec.median_s), (math.log(spec.p99_s) - math.log(spec.median_s)) / Z99)
