"""Service-time profiles: how long one request occupies one server (model-server slot).

Every profile is a frozen dataclass that declares its moments (``mean_s``, ``var_s2``, ``scv``)
so one test checks every generator against what it claims. ``sample(rng, n, tokens=None)``
returns ``n`` service times in seconds (float64, all ``>= 0``).

A profile may scale with the request size: ``service = base + per_unit_s * tokens`` where
``base`` is drawn from the profile and ``tokens`` (payload bytes or tokens, one per request) is
given by the workload. The declared moments then describe ``base`` only; use
:func:`moments_with_tokens` for the total given the token distribution's mean and variance.

Model variants (fp16 vs int8, an instance generation) are separate profiles; :func:`scaled`
derives one by a speedup factor (service times divided by ``speedup``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "Deterministic",
    "Empirical",
    "Gamma",
    "LogNormal",
    "ServiceProfile",
    "moments_with_tokens",
    "scaled",
]

_Z99 = 2.3263478740408408  # standard normal 0.99 quantile


@dataclass(frozen=True)
class ServiceProfile:
    """Base class: subclasses implement ``_draw`` and the moment properties of the base time."""

    per_unit_s: float = 0.0

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def mean_s(self) -> float:
        raise NotImplementedError

    @property
    def var_s2(self) -> float:
        raise NotImplementedError

    @property
    def scv(self) -> float:
        """Squared coefficient of variation ``var / mean^2`` of the base time."""
        m = self.mean_s
        return self.var_s2 / (m * m) if m > 0 else 0.0

    def sample(
        self, rng: np.random.Generator, n: int, tokens: np.ndarray | None = None
    ) -> np.ndarray:
        """``n`` service times in seconds; adds ``per_unit_s * tokens`` when tokens are given."""
        out = np.asarray(self._draw(rng, int(n)), dtype=np.float64)
        if tokens is not None:
            tokens = np.asarray(tokens, dtype=np.float64)
            if tokens.shape != (n,):
                raise ValueError(f"tokens must have shape ({n},), found {tokens.shape}")
            out = out + self.per_unit_s * tokens
        return out


@dataclass(frozen=True)
class Deterministic(ServiceProfile):
    """Every request takes ``value_s`` seconds."""

    value_s: float = 1.0

    def __post_init__(self) -> None:
        if not (self.value_s >= 0 and math.isfinite(self.value_s)):
            raise ValueError(f"value_s must be finite and >= 0, found {self.value_s}")

    def _draw(self, rng, n):
        return np.full(n, self.value_s)

    @property
    def mean_s(self) -> float:
        return self.value_s

    @property
    def var_s2(self) -> float:
        return 0.0


@dataclass(frozen=True)
class LogNormal(ServiceProfile):
    """Lognormal with the given median and p99 (seconds): ``sigma = ln(p99/median) / z_0.99``."""

    median_s: float = 0.1
    p99_s: float = 0.3

    def __post_init__(self) -> None:
        if not (0 < self.median_s <= self.p99_s and math.isfinite(self.p99_s)):
            raise ValueError(
                f"need 0 < median_s <= p99_s, found median_s={self.median_s}, p99_s={self.p99_s}"
            )

    @property
    def sigma(self) -> float:
        return math.log(self.p99_s / self.median_s) / _Z99

    def _draw(self, rng, n):
        return rng.lognormal(math.log(self.median_s), self.sigma, n)

    @property
    def mean_s(self) -> float:
        return self.median_s * math.exp(self.sigma**2 / 2)

    @property
    def var_s2(self) -> float:
        s2 = self.sigma**2
        return math.expm1(s2) * self.median_s**2 * math.exp(s2)


@dataclass(frozen=True)
class Gamma(ServiceProfile):
    """Gamma with mean ``mean_s`` and coefficient of variation ``cv`` (cv = 1: exponential)."""

    mean: float = 0.1
    cv: float = 1.0

    def __post_init__(self) -> None:
        if not (self.mean > 0 and self.cv > 0 and math.isfinite(self.mean)):
            raise ValueError(f"need mean > 0 and cv > 0, found mean={self.mean}, cv={self.cv}")

    def _draw(self, rng, n):
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, n)

    @property
    def mean_s(self) -> float:
        return self.mean

    @property
    def var_s2(self) -> float:
        return (self.cv * self.mean) ** 2


@dataclass(frozen=True)
class Empirical(ServiceProfile):
    """Resamples (with replacement) observed service times ``samples_s``.

    Moments are those of the sample itself (population variance), which is exactly what
    resampling reproduces.
    """

    samples_s: tuple[float, ...] = (0.1,)

    def __post_init__(self) -> None:
        arr = np.asarray(self.samples_s, dtype=np.float64)
        if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError("samples_s must be a non-empty sequence of finite values >= 0")

    def _draw(self, rng, n):
        arr = np.asarray(self.samples_s, dtype=np.float64)
        return arr[rng.integers(0, arr.size, n)]

    @property
    def mean_s(self) -> float:
        return float(np.mean(self.samples_s))

    @property
    def var_s2(self) -> float:
        return float(np.var(self.samples_s))


def scaled(profile: ServiceProfile, speedup: float) -> ServiceProfile:
    """The profile of a faster (``speedup > 1``) or slower variant: times divided by ``speedup``.

    Example: an int8 variant measured 1.6x faster than fp16 is ``scaled(fp16, 1.6)``.
    """
    if not (speedup > 0 and math.isfinite(speedup)):
        raise ValueError(f"speedup must be finite and > 0, found {speedup}")
    per = profile.per_unit_s / speedup
    if isinstance(profile, Deterministic):
        return replace(profile, value_s=profile.value_s / speedup, per_unit_s=per)
    if isinstance(profile, LogNormal):
        return replace(
            profile, median_s=profile.median_s / speedup, p99_s=profile.p99_s / speedup,
            per_unit_s=per,
        )
    if isinstance(profile, Gamma):
        return replace(profile, mean=profile.mean / speedup, per_unit_s=per)
    if isinstance(profile, Empirical):
        return replace(
            profile, samples_s=tuple(s / speedup for s in profile.samples_s), per_unit_s=per
        )
    raise TypeError(f"cannot scale {type(profile).__name__}")


def moments_with_tokens(
    profile: ServiceProfile, tokens_mean: float, tokens_var: float
) -> tuple[float, float]:
    """(mean, variance) of ``base + per_unit_s * tokens`` with tokens independent of base."""
    k = profile.per_unit_s
    return profile.mean_s + k * tokens_mean, profile.var_s2 + k * k * tokens_var
