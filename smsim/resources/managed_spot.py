"""Managed spot training: the interruption rate, one job's lifecycle, and its closed forms.

Shared by every kind that runs training jobs (training jobs, the trials of tuning jobs), so the
lifecycle is one function whichever kind meters it.

Interruption rate. The EC2 Spot Instance Advisor puts each type in a bucket of *monthly
interruption frequency* (``<5%``, ``5-10%``, ``10-15%``, ``15-20%``, ``>20%``, with the feed's
own upper bounds 5, 11, 16, 22 and 100 percent). smsim reads a bucket with upper bound ``p`` %
as ``p / 100`` expected interruptions per instance per 730-hour month, so the per-instance
Poisson rate is ``lambda = (p / 100) / 730`` per instance-hour (the upper bound, i.e. the
pessimistic end of the bucket; ``>20%`` gives one interruption per instance-month). AWS
publishes no interruption data for SageMaker ``ml.*`` managed spot; using the EC2 bucket of the
underlying type is an assumption, and every job may override the rate. A job on N instances is
interrupted when any one is reclaimed, so the job rate is ``N * lambda``.

Lifecycle (:func:`run_job`). Times are seconds from the job's creation. Before each (re)start the
job waits for capacity (random) and is provisioned (``Starting``, not billed). Each run is billed
from SageMaker's ``TrainingStartTime``: it downloads (data, image, and on a restart the last
checkpoint), trains, writes a checkpoint after every ``tau`` seconds of training progress (each
write takes ``C``), and finally uploads the model. An interruption anywhere in a billed run loses
the progress since the last completed checkpoint. Definitions follow DescribeTrainingJob:

* ``training_time_s`` (TrainingTimeInSeconds): wall clock from the first ``TrainingStartTime``
  to the end, including interruptions, capacity waits and restarts in between;
* ``billable_s`` (BillableTimeInSeconds): wall clock the instances actually ran (multiply by the
  instance count for instance-seconds); metered with market ``Spot``;
* ``savings_pct`` = ``(1 - billable / training) * 100``, SageMaker's formula. It measures time
  only; the spot price discount is applied by billing on top. (SageMaker's own job logs appear to
  fold the price discount into BillableTimeInSeconds; smsim keeps time and price apart.)
* ``MaxRuntimeInSeconds`` caps billable time (``MaxRuntimeExceeded``); ``MaxWaitTimeInSeconds``
  caps elapsed time from creation, capacity waits included (``MaxWaitTimeExceeded``).

Closed form (:func:`expected_job`). Interruptions arrive at rate ``L`` per second of billed
running time; ``R`` (capacity wait + provisioning) follows each interruption and is not exposed.
For an attempt of exposed length ``x`` the expected time spent in it is
``A(x) = (1 - exp(-L x)) / L``; repeating attempts of length ``x`` with downtime ``R`` after each
failure until one succeeds takes ``K(x) = (1/L + E[R]) (exp(L x) - 1)`` in expectation (Daly's
result, the successful attempt included). The work is cut into segments of exposed length
``tau + C`` (the last is the remainder ``r`` plus the upload ``u``); segment *i* is first
attempted with extra ``a_i`` (the initial download ``d`` for the first segment, else 0) and
every retry re-downloads, so::

    E[segment] = A(a_i + L_i) + (1 - exp(-L (a_i + L_i))) * (E[R] + K(d + L_i))
    E[interruptions in segment] = (1 - exp(-L (a_i + L_i))) * exp(L (d + L_i))

and ``E[elapsed] = E[R] + sum_i E[segment]``. With ``d = 0`` each segment is exactly
``(1/L + E[R]) (exp(L (tau + C)) - 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar

from smsim.units import HOURS_PER_MONTH

#: Upper bounds (percent of instances interrupted per month) of the Spot Advisor buckets.
BUCKET_MAX_MONTHLY_PCT = {"<5%": 5.0, "5-10%": 11.0, "10-15%": 16.0, "15-20%": 22.0, ">20%": 100.0}
#: Bucket assumed when the advisor snapshot has no row for a type (most GPU types sit here).
DEFAULT_BUCKET = ">20%"


def bucket_rate_per_instance_hour(bucket: str) -> float:
    """Poisson interruption rate per instance-hour for a Spot Advisor bucket (see module doc)."""
    try:
        pct = BUCKET_MAX_MONTHLY_PCT[bucket]
    except KeyError:
        raise ValueError(
            f"unknown spot bucket {bucket!r}; one of {list(BUCKET_MAX_MONTHLY_PCT)}"
        ) from None
    return pct / 100.0 / HOURS_PER_MONTH


def advisor_bucket(instance_type: str, region: str, catalog=None) -> tuple[str, str]:
    """``(bucket, source)`` for an ml.* type from the catalog's Spot Advisor data.

    Uses ``catalog`` or, when none is given, the builtin catalog; a type or region without a row
    gets :data:`DEFAULT_BUCKET`, and the source says so (it ends up in the job metrics).
    """
    try:
        if catalog is None:
            from smsim.pricing.catalog import load_catalog

            catalog = load_catalog()
        bucket, _ = catalog.spot_interruption(instance_type, region)
        return str(bucket), f"catalog {getattr(catalog, 'name', '')} spot advisor".replace(
            "  ", " "
        )
    except Exception:  # no catalog, or no row for this type and region
        return DEFAULT_BUCKET, "default (no advisor row for this type and region)"


def interruption_rate(spot, instance_type: str, region: str, catalog=None) -> tuple[float, str]:
    """``(rate per instance-hour, source)`` for a job's :class:`~smsim.resources.common.SpotSettings`:
    its own rate, else its bucket, else the Spot Advisor bucket of ``instance_type``."""
    if spot.interruption_rate_per_instance_hour is not None:
        return spot.interruption_rate_per_instance_hour, "scenario rate"
    bucket, source = spot.interruption_bucket, "scenario bucket"
    if bucket is None:
        bucket, source = advisor_bucket(instance_type, region, catalog)
    return bucket_rate_per_instance_hour(bucket), f"{source}: {bucket}"


def spot_params(spot, count: int, rate_per_instance_hour: float) -> dict:
    """The spot fields of :class:`JobParams` for ``count`` instances under ``spot`` settings."""
    return {
        "rate_per_s": count * rate_per_instance_hour / 3600.0,
        "checkpoint_interval_s": spot.checkpoint_interval_s,
        "checkpoint_write_s": spot.checkpoint_write_s,
        "wait_mean_s": spot.capacity_wait.mean_s,
        "wait_fixed": spot.capacity_wait.distribution == "fixed",
        "max_wait_s": spot.max_wait_s,
    }


# ---------------------------------------------------------------------------------------------
# One job's lifecycle


@dataclass(frozen=True)
class JobParams:
    """Everything :func:`run_job` needs, in seconds (see module doc for the phases)."""

    work_s: float  # training seconds of progress at full speed on the job's instances
    rate_per_s: float = 0.0  # job interruption rate per second of billed running time
    checkpoint_interval_s: float | None = None
    checkpoint_write_s: float = 0.0
    provisioning_s: float = 0.0
    download_s: float = 0.0
    upload_s: float = 0.0
    wait_mean_s: float = 0.0
    wait_fixed: bool = False
    max_runtime_s: float = math.inf
    max_wait_s: float = math.inf
    skip_first_startup: bool = False  # warm pool: the first run skips provisioning and download

    def segments(self) -> tuple[int, float, float]:
        """``(n_full, full_len, last_len)``: exposed lengths of the checkpointed segments."""
        tau = self.checkpoint_interval_s
        if tau is None or tau >= self.work_s:
            return 0, 0.0, self.work_s + self.upload_s
        n_full = math.ceil(self.work_s / tau) - 1
        return n_full, tau + self.checkpoint_write_s, self.work_s - n_full * tau + self.upload_s


@dataclass
class JobOutcome:
    """What happened to one job; times in seconds from its creation."""

    status: str  # Completed | MaxWaitTimeExceeded | MaxRuntimeExceeded
    end_s: float
    runs: list[tuple[float, float]] = field(default_factory=list)  # billed intervals
    interruptions: int = 0
    lost_work_s: float = 0.0  # billed time whose progress was lost (beyond the restart download)
    segments_done: int = 0  # checkpointed segments completed (progress kept for a fallback)

    @property
    def billable_s(self) -> float:
        return sum(b - a for a, b in self.runs)

    @property
    def training_time_s(self) -> float:
        return self.end_s - self.runs[0][0] if self.runs else 0.0

    @property
    def savings_pct(self) -> float:
        t = self.training_time_s
        return (1.0 - self.billable_s / t) * 100.0 if t > 0 else 0.0


def run_job(p: JobParams, rng: np.random.Generator, segments_done: int = 0) -> JobOutcome:
    """Simulate one job (spot or on-demand: on-demand is ``rate_per_s = 0``, no wait)."""
    n_full, full_len, last_len = p.segments()
    out = JobOutcome(status="Completed", end_s=0.0, segments_done=segments_done)
    t = 0.0
    billed = 0.0
    first = True
    while True:
        if not (first and p.skip_first_startup):
            if p.wait_mean_s > 0:
                t += p.wait_mean_s if p.wait_fixed else rng.exponential(p.wait_mean_s)
            t += p.provisioning_s
        if t >= p.max_wait_s:
            out.status, out.end_s = "MaxWaitTimeExceeded", p.max_wait_s
            return out
        d = 0.0 if (first and p.skip_first_startup) else p.download_s
        first = False
        remaining = n_full - out.segments_done
        need = d + remaining * full_len + last_len
        x = rng.exponential(1.0 / p.rate_per_s) if p.rate_per_s > 0 else math.inf
        runtime_left = p.max_runtime_s - billed
        run = min(x, need, runtime_left, p.max_wait_s - t)
        out.runs.append((t, t + run))
        billed += run
        t += run
        if run >= need:
            out.segments_done = n_full
            out.end_s = t
            return out
        trained = run - d
        done = min(remaining, int(trained // full_len)) if (trained > 0 and full_len > 0) else 0
        out.segments_done += done
        if trained > 0:
            out.lost_work_s += trained - done * full_len
        if run < x:  # stopped by a cap, not by an interruption
            out.status = "MaxRuntimeExceeded" if run >= runtime_left else "MaxWaitTimeExceeded"
            out.end_s = t
            return out
        out.interruptions += 1


# ---------------------------------------------------------------------------------------------
# Closed forms


def expected_job(p: JobParams) -> dict[str, float]:
    """Expected elapsed, billable and training time and interruptions of :func:`run_job`.

    Exact for the model in the module doc when no cap binds (``max_runtime_s``/``max_wait_s``
    infinite) and the warm-pool shortcut is off. ``E[R] = wait_mean_s + provisioning_s``.
    """
    lam = p.rate_per_s
    r_mean = p.wait_mean_s + p.provisioning_s
    d = p.download_s
    n_full, full_len, last_len = p.segments()
    segs = [(d if i == 0 else 0.0, full_len) for i in range(n_full)]
    segs.append((d if n_full == 0 else 0.0, last_len))
    if lam == 0:
        run = d + n_full * full_len + last_len
        return {
            "elapsed_s": r_mean + run,
            "billable_s": run,
            "training_time_s": run,
            "interruptions": 0.0,
            "lost_work_s": 0.0,
        }
    elapsed = r_mean
    interruptions = 0.0
    for a, seg_len in segs:
        p1 = -math.expm1(-lam * (a + seg_len))
        attempt = p1 / lam
        retry = (1.0 / lam + r_mean) * math.expm1(lam * (d + seg_len))
        elapsed += attempt + p1 * (r_mean + retry)
        interruptions += p1 * math.exp(lam * (d + seg_len))
    billable = elapsed - r_mean - interruptions * r_mean
    base = d + n_full * full_len + last_len
    return {
        "elapsed_s": elapsed,
        "billable_s": billable,
        "training_time_s": elapsed - r_mean,
        "interruptions": interruptions,
        "lost_work_s": billable - base - interruptions * d,  # exact when d = 0
    }


def young_interval_s(checkpoint_write_s: float, rate_per_s: float) -> float:
    """Young's first-order optimal checkpoint interval ``sqrt(2 C / lambda)``."""
    return math.sqrt(2.0 * checkpoint_write_s / rate_per_s)


def daly_interval_s(checkpoint_write_s: float, rate_per_s: float) -> float:
    """Daly's higher-order optimum ``sqrt(2CM)(1 + sqrt(C/2M)/3 + C/(18M)) - C`` (M = 1/lambda)."""
    c, m = checkpoint_write_s, 1.0 / rate_per_s
    if c >= 2 * m:
        return m
    return math.sqrt(2 * c * m) * (1 + math.sqrt(c / (2 * m)) / 3 + c / (18 * m)) - c


def optimal_interval_s(
    checkpoint_write_s: float, rate_per_s: float, restart_s: float = 0.0
) -> float:
    """The tau minimising expected time per unit of work, ``(1/L + R)(exp(L(tau+C)) - 1) / tau``."""
    c, lam = checkpoint_write_s, rate_per_s

    def per_work(log_tau: float) -> float:
        tau = math.exp(log_tau)
        return (1 / lam + restart_s) * math.expm1(lam * (tau + c)) / tau

    guess = math.log(young_interval_s(c, lam))
    res = minimize_scalar(per_work, bracket=(guess - 1, guess + 1), tol=1e-10)
    return float(math.exp(res.x))
