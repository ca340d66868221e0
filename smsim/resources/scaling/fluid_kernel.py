"""The fluid tier's compiled minute loop: an autoscaled fleet's queue, minute by minute.

Per minute ``k`` (period ``[60k, 60k + 60)``), with ``A`` arrivals, ``s`` InService instances
(time-averaged over the minute) and ``c = s x concurrency`` servers of rate ``mu = 1 / E[S]``:

* **Stable minutes** (no backlog, ``A < c mu 60``): everything is served; the mean wait is
  Allen-Cunneen's ``Wq = C(c, a) / (c mu - lam) x (ca2 + cs2) / 2`` with Erlang C ``C`` and
  ``a = lam / mu``; the wait tail is ``P(W > t) = C exp(-t (c mu - lam) / f)``, ``f = (ca2 + cs2)/2``
  (the same forms as :func:`smsim.queueing.allen_cunneen_wq` and
  :func:`smsim.queueing.gg_c_p_wait_gt`); requests whose wait exceeds the invocation timeout
  time out, and the p99 wait inverts the tail.
* **Overloaded minutes** (or minutes that start with a backlog) are a fluid queue:
  ``backlog' = backlog + A - c mu 60`` (not below 0). The mean wait is the mean backlog over
  the minute divided by the service rate; the p99 wait is the larger end backlog over the rate
  (the last request in line).
* **Saturated minutes**: FIFO keeps the newest requests queued, so a backlog larger than the
  arrivals of the last ``timeout_s`` seconds means the head of the queue reaches its deadline.
  The request kernel (:mod:`smsim.core.kernel`) then starts each request just before its
  deadline, with a slack ``delta``, and cuts those whose service exceeds it at the deadline
  (holding the server until then): nothing abandons the queue, but most starts time out in
  service. The fluid tier takes that equilibrium: the ``L = backlog + A - recent`` requests
  leaving the queue share the minute's ``c x 60`` server-seconds, so ``delta`` solves
  ``E[min(S, delta)] = c x 60 / L``; ``L x P(S <= delta)`` are served (latency between
  ``timeout - delta`` and the timeout), the rest time out, the servers are fully busy, and
  the queue keeps the recent arrivals. ``delta`` is in the ``slack_s`` column (0 otherwise).
  ``S`` is the service distribution given as equal-probability quantile points
  (:attr:`ServiceModel.quantiles_s`; a lognormal with the given mean and scv by default).
* p99 latency is the p99 wait plus a p99 service time from a lognormal with the given mean
  and scv (an approximation; the sum of quantiles overstates the quantile of the sum).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from smsim.core.fluid import erlang_c, saturated_slack

#: Columns of :attr:`FluidResult.minutes`.
MINUTE_COLUMNS = [
    "start_s", "arrivals", "capacity", "in_service", "utilization", "wait_mean_s", "wait_p99_s",
    "latency_p99_s", "served", "timed_out", "backlog", "slack_s", "no_capacity",
]


METRIC_CODE = {"invocations_per_instance": 0, "cpu_utilization": 1, "gpu_utilization": 1,
                "backlog_per_instance": 2, "backlog": 3, "no_capacity_invocation_failures": 4}


CMP_CODE = {">": 0, ">=": 1, "<": 2, "<=": 3}


@numba.njit(cache=True)
def typical_count(mean: float) -> float:
    """The median of a Poisson count with this mean: what one reading of a fluctuating queue
    typically shows (a policy that scales to zero on an empty backlog reads 0 when ``mean <
    ln 2``, where the mean itself never is 0)."""
    if mean <= 0.0:
        return 0.0
    if mean > 50.0:
        return math.floor(mean + 1.0 / 3.0 - 0.02 / mean)
    p = math.exp(-mean)
    c = p
    k = 0
    while c < 0.5:
        k += 1
        p *= mean / k
        c += p
    return float(k)


@numba.njit(cache=True)
def count_quantile(mean: float, u: float, z: float) -> float:
    """The ``u`` quantile of a Poisson count with this mean (``z`` the standard normal ``u``
    quantile, used above a mean of 50); ``u = 0.5, z = 0`` gives :func:`typical_count`."""
    if mean <= 0.0:
        return 0.0
    if mean > 50.0:
        return max(math.floor(mean + 1.0 / 3.0 - 0.02 / mean + z * math.sqrt(mean)), 0.0)
    p = math.exp(-mean)
    c = p
    k = 0
    while c < u and k < 1000:
        k += 1
        p *= mean / k
        c += p
    return float(k)


@numba.njit(cache=True)
def backlog_reading(backlog: float, in_process: float, servers: float, u: float, z: float, drawn: bool) -> float:
    """One reading of an internal queue's backlog (queued plus in processing). Without a draw,
    the median of a Poisson count with their mean. With one, the queue's fluid count plus a
    drawn count of requests in processing: at a time, those are the arrivals of the last
    service time or so still being served (Poisson, as in M/G/infinity), at most the servers.
    A policy acts on single readings through thresholds and a ceiling, so the median reading
    biases its decisions (a scale-in to ``ceil(reading / target)`` instances, or to zero when
    nothing is in processing); a draw gives them the request tier's distribution."""
    if not drawn:
        return typical_count(backlog + in_process)
    return typical_count(backlog) + min(count_quantile(in_process, u, z), math.floor(servers + 1e-9))


@numba.njit(cache=True)
def _breach(value: float, missing: bool, thr: float, cmp: int, missing_zero: bool) -> bool:
    if missing:
        if not missing_zero:
            return False
        value = 0.0
    if cmp == 0:
        return value > thr
    if cmp == 1:
        return value >= thr
    if cmp == 2:
        return value < thr
    return value <= thr


@numba.njit(cache=True)
def queue_at_end(backlog0, a_min, rate_s, t_arr, lo, hi, minute_s):
    """Requests still queued at the end of a minute starting at ``minute_s`` with ``backlog0``
    queued, whose ``a_min`` arrivals come at the sorted times ``t_arr[lo:hi]`` (scaled to
    ``a_min``) and whose servers start ``rate_s`` requests per second: the fluid queue's
    reflection ``max(backlog0 + A - 60 r, max_i (A from t_i on) - r (end - t_i), 0)``. A burst
    that starts late in the minute is still queued at its end, whatever the minute's mean."""
    raw = hi - lo
    q = backlog0 + a_min - 60.0 * rate_s
    if raw <= 0:
        return max(q, 0.0)
    scale = a_min / raw
    end = minute_s + 60.0
    for i in range(lo, hi):
        cand = (hi - i) * scale - rate_s * (end - t_arr[i])
        if cand > q:
            q = cand
    return max(q, 0.0)


@numba.njit(cache=True)
def run_minutes(k0, k_stop, every_minute, arrivals, cum_arrivals, frac, d_full, frac_pos, cover_max, count0, backlog0,
                svc, svc_q, svc_prefix, alarm_i, alarm_f, alarm_dyn, flags, capacity, lo, hi, out, t_arr, t_first,
                read_u, read_z):
    """Run minutes ``k0 .. k_stop - 1``; return ``(k_last, count, backlog)`` at the first minute
    after which a policy could act (or ``k_stop - 1``). ``out`` rows follow MINUTE_COLUMNS[1:].

    ``svc`` = (mean_s, scv_s, scv_a, concurrency, timeout_s, service_p99_s, queue without
    capacity: 1 for an internal queue, whose backlog metric adds the requests in processing), ``svc_q`` the sorted
    service quantile points and ``svc_prefix`` their prefix sums; per alarm,
    ``alarm_i`` = (metric, comparison, datapoints, periods, kind, missing_zero),
    ``alarm_f`` = (threshold, target), ``alarm_dyn`` = (can_act, scale-in blocked until s).
    ``frac_pos`` is the part of ``frac`` from instances becoming ready in the minute and
    ``cover_max`` the largest share of the minute one of them serves: in a minute without an
    instance InService from its start, the arrivals before the first one is ready fail
    (no capacity) and are not offered to the queue. ``t_arr`` (sorted, s) are the arrival times
    when known (``t_first[k]`` indexes minute ``k``'s first), else empty: arrivals uniform in
    the minute; with them the queue at a minute's end is :func:`queue_at_end`. ``read_u`` and
    ``read_z`` (uniform and standard normal quantile per minute, or empty) draw the backlog
    readings of an internal queue (:func:`backlog_reading`).
    """
    mean_s, scv_s, scv_a, conc, timeout_s, svc_p99 = svc[0], svc[1], svc[2], svc[3], svc[4], svc[5]
    queue_all = svc[6] > 0.0  # an internal queue: no arrival fails for want of capacity
    drawn = read_u.shape[0] > 0
    a_metric, a_cmp, a_dp, a_periods = alarm_i[:, 0], alarm_i[:, 1], alarm_i[:, 2], alarm_i[:, 3]
    a_kind, a_missing_zero = alarm_i[:, 4], alarm_i[:, 5]
    a_thr, a_target = alarm_f[:, 0], alarm_f[:, 1]
    a_can_act, a_block_until = alarm_dyn[:, 0], alarm_dyn[:, 1]
    mu = 1.0 / mean_s
    f = (scv_a + scv_s) / 2.0
    count = count0
    backlog = backlog0
    n_alarms = alarm_i.shape[0] if flags.shape[0] > 0 else 0
    counts = np.zeros(n_alarms, dtype=np.int64)
    for a in range(n_alarms):
        for j in range(max(0, k0 - a_periods[a]), k0):  # the removal below drops k0 - periods
            counts[a] += flags[a, j]
    young_minutes = timeout_s / 60.0
    for k in range(k0, k_stop):
        count += d_full[k]
        s = count + frac[k]
        if s < 1e-12:
            s = 0.0
        A = arrivals[k]
        nc = 0.0
        if s - frac_pos[k] < 0.5 and not queue_all:  # no instance InService from the start of the minute
            nc = A * (1.0 - min(max(cover_max[k], 0.0), 1.0))
            A -= nc
        c_eff = s * conc
        rate_min = c_eff * mu * 60.0
        lam = A / 60.0
        served = 0.0
        timed_out = 0.0
        wait_mean = 0.0
        wait_p99 = 0.0
        cut_slack = 0.0
        saturated = False
        have_times = t_arr.shape[0] > 0
        q_end = queue_at_end(backlog, A, rate_min / 60.0, t_arr, t_first[k], t_first[k + 1], 60.0 * k) \
            if have_times else 0.0
        if backlog <= 0.0 and A < rate_min and q_end <= 0.0:
            c_int = int(round(c_eff))  # noqa: RUF046 (explicit int for numba)
            a_off = lam / mu
            if c_int >= 1 and a_off < c_int and f > 0.0:
                pc = erlang_c(c_int, a_off)
                slack = c_int * mu - lam
                wait_mean = pc / slack * f
                p_to = pc * math.exp(-timeout_s * slack / f)
                timed_out = A * p_to
                if pc > 0.01:
                    wait_p99 = min(f * math.log(pc / 0.01) / slack, timeout_s)
                wait_mean = min(wait_mean, timeout_s)
            served = A - timed_out
            backlog = 0.0
        else:
            total = backlog + A
            served = min(total, rate_min)
            if have_times:
                served = min(served, total - q_end)
            b1 = total - served
            # FIFO: queued requests older than the timeout exceed the recent arrivals
            young_from = k + 1 - young_minutes  # arrivals after this minute are younger than the timeout
            y_i = int(math.floor(young_from))  # noqa: RUF046 (explicit int for numba)
            if y_i < 0:
                recent = cum_arrivals[k + 1]
            else:
                recent = cum_arrivals[k + 1] - cum_arrivals[y_i] - (young_from - y_i) * arrivals[y_i]
            if b1 > recent:
                # the head of the queue reaches its deadline: starts just before it, cut after
                saturated = True
                leaving = total - recent
                cut_slack, p_ok = saturated_slack(svc_q, svc_prefix, c_eff * 60.0 / leaving)
                served = leaving * p_ok
                timed_out = leaving - served
                b1 = recent
                wait_mean = min((backlog + b1) / 2.0 / (leaving / 60.0), timeout_s)
                wait_p99 = timeout_s - cut_slack
            elif rate_min > 0.0:
                wait_mean = min((backlog + b1) / 2.0 / (rate_min / 60.0), timeout_s)
                wait_p99 = min(max(backlog, b1) / (rate_min / 60.0), timeout_s)
            else:
                wait_mean = timeout_s
                wait_p99 = timeout_s
            backlog = b1
        util = 0.0
        if c_eff > 0.0:
            util = 1.0 if saturated else min(1.0, served * mean_s / (c_eff * 60.0))
        out[0, k] = A
        out[1, k] = capacity
        out[2, k] = s
        out[3, k] = util
        out[4, k] = wait_mean
        out[5, k] = wait_p99
        out[6, k] = timeout_s if saturated else wait_p99 + svc_p99
        out[7, k] = served
        out[8, k] = timed_out
        out[9, k] = backlog
        out[10, k] = cut_slack
        out[11, k] = nc
        stop = every_minute
        if capacity == 0 and backlog > 0.0:
            stop = True
        for a in range(n_alarms):
            m = a_metric[a]
            missing = False
            if m == 0:
                value = A / s if s > 0.0 else 0.0
                missing = A <= 0.0 or s <= 0.0
            elif m == 1:
                value = util * 100.0
                missing = s <= 0.0
            elif m == 2:
                held = backlog_reading(backlog, util * c_eff, c_eff, read_u[k], read_z[k], drawn) \
                    if queue_all else backlog
                value = held / s if s > 0.0 else held
            elif m == 3:
                value = backlog_reading(backlog, util * c_eff, c_eff, read_u[k], read_z[k], drawn) \
                    if queue_all else backlog
            else:
                value = nc
                missing = nc <= 0.0
            flag = 1 if _breach(value, missing, a_thr[a], a_cmp[a], a_missing_zero[a] == 1) else 0
            if a_kind[a] == 1 and nc > 0.0:
                flag = 0  # unmet demand is never below target (smsim.resources.scaling.policies)
            flags[a, k] = flag
            counts[a] += flag
            if k - a_periods[a] >= 0:
                counts[a] -= flags[a, k - a_periods[a]]
            if counts[a] >= a_dp[a] and a_can_act[a] > 0.0:
                kind = a_kind[a]
                if kind == 2:
                    stop = True
                elif kind == 0 and not missing:
                    base = s if s > 0.0 else 1.0
                    want = min(max(math.ceil(base * value / a_target[a] - 1e-9), lo), hi)
                    stop = stop or want > capacity
                elif kind == 1 and 60.0 * (k + 1) >= a_block_until[a]:
                    raw = 0
                    if not missing:
                        base = s if s > 0.0 else 1.0
                        raw = math.ceil(base * value / a_target[a] - 1e-9)
                    want = min(max(raw, lo), hi)
                    stop = stop or want < capacity
        if stop:
            return k, count, backlog
    return k_stop - 1, count, backlog
