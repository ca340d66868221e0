"""Synthetic arrival processes: homogeneous Poisson, seasonal non-homogeneous Poisson, MMPP.

Every process is a frozen pydantic model with a ``kind`` (so scenarios embed it through a
discriminated union) and declares its moments analytically:

* ``mean_rate_per_s``: the long-run mean rate (requests/s);
* ``expected_count(duration_s, start)`` and ``count_variance(duration_s, start)``: mean and
  variance of the number of arrivals in ``[0, duration_s)`` of a window starting at ``start``.

Generation is exact and vectorised: a homogeneous Poisson process draws ``N ~ Poisson(rate * T)``
and places ``N`` sorted uniform times (no inter-arrival gaps are ever clamped or rounded, so it
cannot run fast); the seasonal process thins a piecewise-constant bound computed per 60-s bin
(Lewis-Shedler), and the MMPP draws its state path then a Poisson process per sojourn.
``iter_chunks`` yields the trace window by window, so 10^8 arrivals need memory for one chunk
only; ``generate`` concatenates the same chunks, so both give the same arrivals for one seed.

Per-request attributes are drawn from a child stream (``rng.spawn``), so adding tokens to a
workload never changes its arrival times.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from pydantic import Field, field_validator, model_validator

from smsim.spec import (
    Duration,
    Fraction,
    NonNegFloat,
    PositiveDuration,
    PositiveFloat,
    StrictModel,
)
from smsim.units import DAY, HOUR, YEAR
from smsim.workload.attributes import RequestAttributes
from smsim.workload.request_trace import RequestTrace

#: Start of the window when none is given (the scenario horizon's default start).
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
#: Expected arrivals per chunk when ``chunk_s`` is not given (bounds memory to ~10 MB/chunk).
TARGET_ARRIVALS_PER_CHUNK = 1_000_000
#: Width of the bins over which the seasonal process bounds its intensity for thinning.
BIN_S = 60.0


def _utc(start: datetime | None) -> datetime:
    if start is None:
        return DEFAULT_START
    return start.replace(tzinfo=UTC) if start.tzinfo is None else start


class ArrivalProcess(StrictModel):
    """Common interface of the synthetic generators (see the module docstring)."""

    attributes: RequestAttributes | None = Field(
        None, description="token, payload and model-mix distributions attached to each request"
    )

    # -- declared moments -------------------------------------------------------------------
    @property
    def mean_rate_per_s(self) -> float:
        raise NotImplementedError

    def expected_count(self, duration_s: float, start: datetime | None = None) -> float:
        return self.mean_rate_per_s * duration_s

    def count_variance(self, duration_s: float, start: datetime | None = None) -> float:
        """Variance of the count in the window; a Poisson process's equals its mean."""
        return self.expected_count(duration_s, start)

    def rate(self, t_s, start: datetime | None = None) -> np.ndarray:
        """Intensity (requests/s) at offsets ``t_s`` seconds from ``start``."""
        raise NotImplementedError

    def scaled(self, factor: float) -> ArrivalProcess:
        """The same process with every rate multiplied by ``factor`` (exact, keeps its class)."""
        raise NotImplementedError

    @property
    def peak_rate_per_s(self) -> float:
        """An upper bound on the intensity, used to size chunks."""
        return self.mean_rate_per_s

    # -- generation -------------------------------------------------------------------------
    def _chunk(self, rng, t0: float, t1: float, start: datetime, state):
        """Sorted arrival offsets in ``[t0, t1)`` and the process state carried to the next chunk."""
        raise NotImplementedError

    def _initial_state(self, rng):
        return None

    def default_chunk_s(self, duration_s: float) -> float:
        peak = max(self.peak_rate_per_s, 1e-12)
        return float(min(max(duration_s, 1.0), max(1.0, TARGET_ARRIVALS_PER_CHUNK / peak)))

    def iter_chunks(
        self,
        rng: np.random.Generator,
        duration_s: float,
        chunk_s: float | None = None,
        start: datetime | None = None,
    ) -> Iterator[RequestTrace]:
        """The trace over ``[0, duration_s)`` as consecutive windows of ``chunk_s`` seconds.

        Chunk ``k`` covers ``[k * chunk_s, min((k + 1) * chunk_s, duration_s))``; its times are
        offsets from the window start (not from the chunk) and its ``duration_s`` is the chunk's
        end, so every chunk is a valid :class:`RequestTrace`.
        """
        if not duration_s > 0:
            raise ValueError(f"duration_s must be > 0, found {duration_s}")
        start = _utc(start)
        chunk_s = self.default_chunk_s(duration_s) if chunk_s is None else float(chunk_s)
        if not chunk_s > 0:
            raise ValueError(f"chunk_s must be > 0, found {chunk_s}")
        arrival_rng, attribute_rng = rng.spawn(2)
        state = self._initial_state(arrival_rng)
        n_chunks = max(1, math.ceil(duration_s / chunk_s - 1e-12))
        for k in range(n_chunks):
            t0 = k * chunk_s
            t1 = duration_s if k == n_chunks - 1 else min((k + 1) * chunk_s, duration_s)
            times, state = self._chunk(arrival_rng, t0, t1, start, state)
            trace = RequestTrace(times, t1, start=start)
            if self.attributes is not None:
                trace = self.attributes.apply(trace, attribute_rng)
            yield trace

    def generate(
        self, rng: np.random.Generator, duration_s: float, start: datetime | None = None,
        chunk_s: float | None = None,
    ) -> RequestTrace:
        """The whole trace over ``[0, duration_s)`` (the concatenation of :meth:`iter_chunks`)."""
        chunks = list(self.iter_chunks(rng, duration_s, chunk_s, start))
        return concat_chunks(chunks, duration_s)


def concat_chunks(chunks: list[RequestTrace], duration_s: float) -> RequestTrace:
    """One trace from consecutive chunks (as yielded by ``iter_chunks``)."""
    first = chunks[0]
    attrs = {}
    for name in first.attributes():
        attrs[name] = np.concatenate([getattr(c, name) for c in chunks])
    return RequestTrace(
        np.concatenate([c.arrival_s for c in chunks]),
        duration_s,
        models=first.models,
        start=first.start,
        **attrs,
    )


def _sorted_uniform(rng, counts: np.ndarray, lo: np.ndarray, width: np.ndarray) -> np.ndarray:
    """``counts[i]`` uniform times in ``[lo[i], lo[i] + width[i])`` for each i, sorted overall."""
    which = np.repeat(np.arange(counts.size), counts)
    t = lo[which] + rng.random(which.size) * width[which]
    t.sort()
    return t


class PoissonArrivals(ArrivalProcess):
    """Homogeneous Poisson arrivals at ``rate_per_s`` requests per second."""

    kind: Literal["poisson"] = "poisson"
    rate_per_s: NonNegFloat

    @property
    def mean_rate_per_s(self) -> float:
        return self.rate_per_s

    def rate(self, t_s, start=None) -> np.ndarray:
        return np.full(np.shape(t_s), self.rate_per_s, dtype=np.float64)

    def scaled(self, factor: float) -> PoissonArrivals:
        return self.model_copy(update={"rate_per_s": self.rate_per_s * factor})

    def _chunk(self, rng, t0, t1, start, state):
        n = rng.poisson(self.rate_per_s * (t1 - t0))
        t = t0 + rng.random(n) * (t1 - t0)
        t.sort()
        return np.minimum(t, np.nextafter(t1, t0)), state


class Spike(StrictModel):
    """A scheduled burst: the intensity is multiplied by ``rate_multiplier`` for a while."""

    start_offset_s: Duration = Field(description="from the window start")
    duration_s: PositiveDuration
    rate_multiplier: PositiveFloat


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class SeasonalArrivals(ArrivalProcess):
    """Non-homogeneous Poisson arrivals with daily and weekly seasonality, a trend and spikes.

    Intensity (requests/s) at offset ``t`` from ``start``, with ``h`` the local hour of day::

        base_rate_per_s * (1 + daily_amplitude * cos(2 pi (h - peak_hour) / 24))
                        * (weekend_factor on local Saturday and Sunday, else 1)
                        * trend(t) * (product of the multipliers of active spikes)

    ``trend`` is 1 at ``t = 0`` and grows by ``growth_pct_per_year``: linearly
    (``1 + g t / year``, floored at 0) or exponentially (``(1 + g)^(t / year)``).
    """

    kind: Literal["seasonal"] = "seasonal"
    base_rate_per_s: NonNegFloat = Field(description="weekday daily-mean rate at t = 0")
    daily_amplitude: Fraction = 0.0
    peak_hour: float = Field(14.0, ge=0, lt=24, description="local hour of the daily peak")
    weekend_factor: NonNegFloat = 1.0
    time_zone: str = "UTC"
    trend: Literal["none", "linear", "exponential"] = "none"
    growth_pct_per_year: float = Field(0.0, ge=-100, le=10_000)
    spikes: list[Spike] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            _zone(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'America/New_York'") from None
        return value

    @model_validator(mode="after")
    def _check_trend(self):
        if self.trend == "none" and self.growth_pct_per_year != 0:
            raise ValueError(
                f"growth_pct_per_year={self.growth_pct_per_year} needs trend 'linear' or 'exponential'"
            )
        if self.trend == "exponential" and self.growth_pct_per_year <= -100:
            raise ValueError("exponential trend needs growth_pct_per_year > -100")
        return self

    @property
    def mean_rate_per_s(self) -> float:
        """Long-run mean over whole weeks at the t = 0 trend level, spikes excluded."""
        return self.base_rate_per_s * (5 + 2 * self.weekend_factor) / 7

    @property
    def peak_rate_per_s(self) -> float:
        spikes = math.prod(max(s.rate_multiplier, 1.0) for s in self.spikes)
        return self.base_rate_per_s * (1 + self.daily_amplitude) * max(1.0, self.weekend_factor) * spikes

    def scaled(self, factor: float) -> SeasonalArrivals:
        return self.model_copy(update={"base_rate_per_s": self.base_rate_per_s * factor})

    # -- intensity pieces ---------------------------------------------------------------
    def _local_s(self, t: np.ndarray, start: datetime) -> tuple[np.ndarray, np.ndarray]:
        """Local seconds since 1970-01-01 local midnight, and the UTC offset (s), at offsets t."""
        epoch = start.timestamp()
        hours = np.floor((epoch + t) / HOUR).astype(np.int64)
        uniq, inv = np.unique(hours, return_inverse=True)
        zone = _zone(self.time_zone)
        offs = np.array(
            [datetime.fromtimestamp(h * HOUR, UTC).astimezone(zone).utcoffset().total_seconds()
             for h in uniq.tolist()],
            dtype=np.float64,
        )
        offset = offs[inv.reshape(hours.shape)]
        return epoch + t + offset, offset

    def _weekly(self, local_s: np.ndarray) -> np.ndarray:
        weekday = (np.floor(local_s / DAY).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        return np.where(weekday >= 5, self.weekend_factor, 1.0)

    def _daily(self, local_s: np.ndarray) -> np.ndarray:
        hour = (local_s % DAY) / HOUR
        return 1 + self.daily_amplitude * np.cos(2 * np.pi * (hour - self.peak_hour) / 24)

    def _trend(self, t: np.ndarray) -> np.ndarray:
        g = self.growth_pct_per_year / 100
        if self.trend == "linear":
            return np.maximum(1 + g * t / YEAR, 0.0)
        if self.trend == "exponential":
            return np.power(1 + g, t / YEAR)
        return np.ones_like(t)

    def _spikes(self, t: np.ndarray) -> np.ndarray:
        m = np.ones_like(t)
        for s in self.spikes:
            on = (t >= s.start_offset_s) & (t < s.start_offset_s + s.duration_s)
            m = np.where(on, m * s.rate_multiplier, m)
        return m

    def rate(self, t_s, start: datetime | None = None) -> np.ndarray:
        t = np.asarray(t_s, dtype=np.float64)
        local, _ = self._local_s(t, _utc(start))
        return self.base_rate_per_s * self._daily(local) * self._weekly(local) * self._trend(t) * self._spikes(t)

    def _bound(self, lo: np.ndarray, hi: np.ndarray, start: datetime) -> np.ndarray:
        """An upper bound of the intensity on each bin ``[lo, hi)`` (bins shorter than a day)."""
        local_lo, off_lo = self._local_s(lo, start)
        local_hi, off_hi = self._local_s(hi, start)
        phase = (((local_lo % DAY) / HOUR - self.peak_hour) / 24) % 1.0
        span = (hi - lo) / DAY
        cos_max = np.maximum(np.cos(2 * np.pi * phase), np.cos(2 * np.pi * (phase + span)))
        cos_max = np.where((phase + span >= 1.0) | (off_lo != off_hi), 1.0, cos_max)
        daily = 1 + self.daily_amplitude * cos_max
        weekly = np.maximum(self._weekly(local_lo), self._weekly(local_hi - 1e-6))
        trend = np.maximum(self._trend(lo), self._trend(hi))
        spikes = np.ones_like(lo)
        for s in self.spikes:
            overlap = (lo < s.start_offset_s + s.duration_s) & (hi > s.start_offset_s)
            spikes = np.where(overlap, spikes * max(s.rate_multiplier, 1.0), spikes)
        return self.base_rate_per_s * daily * weekly * trend * spikes * (1 + 1e-12)

    def _chunk(self, rng, t0, t1, start, state):
        inner = np.arange(math.ceil(t0 / BIN_S) * BIN_S, t1, BIN_S)
        edges = np.unique(np.concatenate([[t0], inner, [t1]]))
        lo, hi = edges[:-1], edges[1:]
        bound = self._bound(lo, hi, start)
        counts = rng.poisson(bound * (hi - lo))
        t = _sorted_uniform(rng, counts, lo, hi - lo)
        which = np.minimum(np.searchsorted(hi, t, side="right"), hi.size - 1)
        keep = rng.random(t.size) * bound[which] < self.rate(t, start)
        return np.minimum(t[keep], np.nextafter(t1, t0)), state

    # -- declared moments -----------------------------------------------------------------
    def _breakpoints(self, duration_s: float, start: datetime) -> np.ndarray:
        """Offsets where the intensity may jump: local midnights and spike edges."""
        zone = _zone(self.time_zone)
        local = start.astimezone(zone)
        day = datetime(local.year, local.month, local.day, tzinfo=zone)
        points = [0.0, duration_s]
        while True:
            day = (day + timedelta(days=1, hours=3)).replace(hour=0)
            t = (day - start).total_seconds()
            if t >= duration_s:
                break
            points.append(t)
        for s in self.spikes:
            points += [s.start_offset_s, s.start_offset_s + s.duration_s]
        p = np.unique(np.asarray(points, dtype=np.float64))
        return p[(p >= 0) & (p <= duration_s)]

    def expected_count(self, duration_s: float, start: datetime | None = None) -> float:
        """The integral of the intensity over the window (Gauss-Legendre between jumps)."""
        start = _utc(start)
        brk = self._breakpoints(duration_s, start)
        grid = [np.linspace(a, b, max(2, math.ceil((b - a) / 600.0) + 1)) for a, b in itertools.pairwise(brk)]
        edges = np.unique(np.concatenate(grid))
        lo, width = edges[:-1], np.diff(edges)
        x, w = np.polynomial.legendre.leggauss(5)
        pts = lo[:, None] + (x[None, :] + 1) / 2 * width[:, None]
        vals = self.rate(pts.ravel(), start).reshape(pts.shape)
        return float(((vals * w[None, :]).sum(axis=1) * width / 2).sum())


class MMPPArrivals(ArrivalProcess):
    """Two-state Markov-modulated Poisson process: bursts that come and go at random.

    The process alternates between state 0 (rate ``rates_per_s[0]``) and state 1
    (``rates_per_s[1]``), staying an exponential time of mean ``mean_sojourn_s[i]`` in state i.
    It starts in its stationary distribution. Counts are overdispersed: with
    ``pi_i = m_i / (m_0 + m_1)`` and ``s = 1/m_0 + 1/m_1``, ``Var N(T) = lambda_bar T +
    2 pi_0 pi_1 (l_0 - l_1)^2 (s T - 1 + exp(-s T)) / s^2``.
    """

    kind: Literal["mmpp"] = "mmpp"
    rates_per_s: tuple[NonNegFloat, NonNegFloat]
    mean_sojourn_s: tuple[PositiveDuration, PositiveDuration]

    @property
    def _pi(self) -> tuple[float, float]:
        m0, m1 = self.mean_sojourn_s
        return m0 / (m0 + m1), m1 / (m0 + m1)

    @property
    def mean_rate_per_s(self) -> float:
        p0, p1 = self._pi
        return p0 * self.rates_per_s[0] + p1 * self.rates_per_s[1]

    @property
    def peak_rate_per_s(self) -> float:
        return max(self.rates_per_s)

    def count_variance(self, duration_s: float, start: datetime | None = None) -> float:
        p0, p1 = self._pi
        s = 1 / self.mean_sojourn_s[0] + 1 / self.mean_sojourn_s[1]
        d = self.rates_per_s[0] - self.rates_per_s[1]
        st = s * duration_s
        return self.mean_rate_per_s * duration_s + 2 * p0 * p1 * d * d * (st - 1 + math.exp(-st)) / (s * s)

    def rate(self, t_s, start=None) -> np.ndarray:
        """The stationary mean intensity (the actual one is random: it follows the hidden state)."""
        return np.full(np.shape(t_s), self.mean_rate_per_s, dtype=np.float64)

    def scaled(self, factor: float) -> MMPPArrivals:
        r0, r1 = self.rates_per_s
        return self.model_copy(update={"rates_per_s": (r0 * factor, r1 * factor)})

    def _initial_state(self, rng):
        return int(rng.random() >= self._pi[0])

    def _chunk(self, rng, t0, t1, start, state):
        means = np.asarray(self.mean_sojourn_s, dtype=np.float64)
        rates = np.asarray(self.rates_per_s, dtype=np.float64)
        # Sojourns are memoryless, so a fresh one may start at each chunk boundary.
        ends: list[np.ndarray] = []
        t, k = t0, 0
        while t < t1:
            batch = max(16, int(2 * (t1 - t) / means.mean()) + 16)
            d = rng.exponential(1.0, batch) * means[(state + k + np.arange(batch)) % 2]
            e = t + np.cumsum(d)
            ends.append(e)
            t, k = float(e[-1]), k + batch
        end = np.concatenate(ends)
        n_seg = int(np.searchsorted(end, t1, side="left")) + 1
        end = np.minimum(end[:n_seg], t1)
        lo = np.concatenate([[t0], end[:-1]])
        seg_state = (state + np.arange(n_seg)) % 2
        counts = rng.poisson(rates[seg_state] * (end - lo))
        times = _sorted_uniform(rng, counts, lo, end - lo)
        return np.minimum(times, np.nextafter(t1, t0)), int(seg_state[-1])


#: Every synthetic generator, discriminated by ``kind``.
Arrivals = Annotated[PoissonArrivals | SeasonalArrivals | MMPPArrivals, Field(discriminator="kind")]
GENERATORS: tuple[type[ArrivalProcess], ...] = (PoissonArrivals, SeasonalArrivals, MMPPArrivals)
