"""A seasonal-aware, causal detector for one spend series: forecast-interval exceedance, the
interval taken from the forecaster's own past errors.

Forecast: the previous ``window`` steps (28 days; 72 hours) are decomposed with robust STL
(:class:`statsmodels.tsa.seasonal.STL`, ``robust=True``; period 7 for daily spend, 24 for hourly),
refitted every step (daily) or every 6 steps (hourly). The expected spend of ``t`` is the trend's
level over the last period plus the median of the detrended values of ``t``'s phase over the
window: a median of the values themselves, not of STL's smoothed seasonal component, so that a
few unusual days of one weekday (a team's day off) do not pull that weekday's profile; of an
even count, the higher middle value (:func:`upper_median`), as a detector of increases should
resolve a tie between two days off and two ordinary days.

Spread: in-sample residuals of a flexible fit are smaller than the errors of a forecast, so
the threshold comes from the out-of-sample
errors of the previous ``2 * window`` steps judged normal: their median corrects the
forecast's bias (a trend the level lags behind), their spread is the wider of the
normal-consistent MAD and the upper tail's (``q90 - median`` over 1.2816; bursty spend has a
heavy upper tail that the MAD alone misses), and at least ``floor_frac`` of the window's median
spend so a flat series does not alarm on cents. Until a period of such errors exists the
in-sample MAD, widened by half, stands in. Step ``t`` is anomalous when ``actual - expected >
z * spread`` (cost anomalies are increases, as in AWS), or when, for a ``k`` in ``horizons``
(3 days; 6 and 24 hours), its excess plus that of the previous ``k - 1`` normal steps exceeds
``z`` spreads of the past ``k``-step sums of errors: a moderate lasting rise (a notebook left
running) accumulates evidence no single step gives. A one-sided CUSUM of the standardized
excesses (reference half a spread, decision interval set by Siegmund's approximation so that
its false-alarm rate on clean spend matches the point test's) catches a slower climb still,
such as an endpoint scaling out day after day (daily spend only: hourly errors are strongly
autocorrelated, which a CUSUM's false-alarm rate does not allow for). Once an anomaly is under way, it goes on while
its steps stay more than ``continue_z`` (2) spreads high, so one ordinary-looking day does not
split a level shift in two or let it into the baseline. ``z`` is widened like a Student-t
prediction interval for the number of errors the spread comes from, counted at the MAD's
efficiency (0.37).

Only what was known at ``t`` is used, so the detection delay is real: an anomaly is reported at
the end of its first anomalous step. While a run of anomalous steps lasts (and of unusually quiet
ones, below ``expected - quiet_z * spread``, 2 spreads for daily spend, which are not reported),
the history keeps their expected values instead of the actual ones, so they do not become the
baseline; after ``adapt_steps``
(a period) such steps in a row the new level is accepted as normal (a deliberate change, such
as a new endpoint, stops alarming). Consecutive anomalous steps form one anomaly with its
start, end, actual and expected spend.

Start: a point-test anomaly starts on its step. When the summed evidence finds it (the sums or
the CUSUM), the rise began earlier, so its start is estimated as the change point: for a
``k``-step sum the step of its window from which the standardized excess, less the CUSUM's
reference, sums highest (Page's 1954 estimate over the window); for the CUSUM, among the steps
since its statistic was last zero (Page's estimate, which also takes in ordinary high steps
that kept it above zero), the start of the most significant rise, the likelihood-ratio estimate
of a shift of unknown size (Hinkley 1970). From the start the steps are anomalous after the fact: kept out of
the baseline and of the errors, counted in the anomaly's duration, its spend and its root
causes. The start reaches back at most ``adapt_steps - 1`` steps, so a period of anomalous
steps still contains the one it was found on. Hourly spend keeps the first flagged step: the
estimate, like the CUSUM, assumes independent errors, and hourly errors of running GPU spend
run high for hours on clean spend too, so it would reach back into ordinary hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from scipy.stats import median_abs_deviation, norm
from scipy.stats import t as student_t
from statsmodels.tsa.seasonal import STL

PERIOD = {"D": 7, "h": 24}
WINDOW = {"D": 28, "h": 72}
#: the detector starts after two cycles, fitting on all the history there is until ``WINDOW``
START = {"D": 14, "h": 48}
REFIT = {"D": 1, "h": 6}
HORIZONS = {"D": (1, 3), "h": (1, 6, 24)}
#: the CUSUM assumes independent errors: daily forecast errors nearly are, hourly ones are not
#: (lag-1 autocorrelation about 0.9 on running GPU spend, where a pod runs for hours), so
#: hourly spend relies on its 6- and 24-hour sums instead
CUSUM = {"D": True, "h": False}
#: for the same reason an anomaly of hourly spend starts where it was flagged, not at the
#: change point: a run of high hourly errors is ordinary, so the estimate would reach back into
#: clean hours (on the openb pods it turns day-long real rises into anomalies of a day)
CHANGE_POINT = {"D": True, "h": False}
#: spreads below expected from which a step is unusually quiet, kept out of the baseline and of
#: the errors (None: ``z``, as high). A quiet day (a team's day off) left in the baseline pulls
#: its weekday's median, one of four in the window, and the next ordinary such weekday then
#: puts a large error into the spread, which blinds the detector for the eight weeks it is kept;
#: from 2 spreads (the continuation's threshold) such days are caught even when the spread is
#: already wide. Hourly errors run low for hours on clean spend (a pod ended), so hourly spend
#: keeps ``z``: leaving those runs out re-accepts the level again and again
QUIET_Z = {"D": 2.0, "h": None}
#: in-sample residuals understate a forecast's error; until enough out-of-sample errors exist
#: the in-sample spread is widened by this factor
INFLATION = 1.5
#: asymptotic efficiency of the MAD relative to the standard deviation under normal errors: a
#: spread taken from the MAD of ``m`` errors is as uncertain as a standard deviation of about
#: ``0.37 m`` of them, so its prediction interval has that many degrees of freedom
MAD_EFFICIENCY = 0.3675
#: the CUSUM's reference value, in spreads: half the smallest lasting rise it is tuned to (1 spread)
CUSUM_K = 0.5


def _error_scale(errors: np.ndarray) -> float:
    """Spread of past forecast errors: the normal-consistent MAD, or the upper tail's, whichever
    is wider (``q90 - median`` over the normal's 1.2816): bursty spend has a heavy upper tail
    that the MAD alone does not see."""
    centre = np.median(errors)
    mad = float(median_abs_deviation(errors, scale="normal"))
    return max(mad, float(np.quantile(errors, 0.9) - centre) / 1.2816)


@lru_cache(maxsize=4096)
def _multiplier(z: float, m: int, efficiency: float = 1.0) -> float:
    """``z`` for a spread estimated from ``m`` errors: the Student-t quantile of the normal's
    tail probability beyond ``z``, times sqrt(1 + 1/m) (a prediction interval), so the first
    weeks, with few errors to go on, do not alarm on an underestimated spread. A spread taken
    from past forecast errors is a MAD, as uncertain as a standard deviation of
    ``efficiency * m`` errors (``MAD_EFFICIENCY``), so the t has ``efficiency * (m - 1)``
    degrees of freedom (at least 1)."""
    df = max(efficiency * (m - 1), 1.0)
    return float(student_t.isf(norm.sf(z), df=df) * np.sqrt(1.0 + 1.0 / max(m, 1)))


@dataclass(frozen=True)
class Episode:
    start: int  # first anomalous step (the change point when the sums or the CUSUM found it)
    end: int  # last anomalous step (inclusive)
    actual_usd: float
    expected_usd: float
    detected: int = -1  # the step it was found on (its end is when it is known); -1: its start

    def __post_init__(self) -> None:
        if self.detected < 0:
            object.__setattr__(self, "detected", self.start)

    @property
    def impact_usd(self) -> float:
        return self.actual_usd - self.expected_usd


def upper_median(x: np.ndarray) -> float:
    """The median of an odd count; of an even count the higher of the two middle values. A
    weekday seen four times in the window, twice as a day off, has two middle values 15 and 2.5
    USD: their mean is a spend no day has, under every ordinary such day, which would then look
    like a rise; a detector of increases takes the higher. On a normal series it runs a little
    high, which the past errors' median (the bias correction) takes back."""
    x = np.sort(np.asarray(x, float))
    return float(x[len(x) // 2])


def _baseline(hist: np.ndarray, first: int, period: int, seasonal: int, trend: int
              ) -> tuple[float, np.ndarray, float]:
    """``(level, profile, early spread)`` of the history ``hist`` whose first step is ``first``:
    ``profile[k]`` is the upper median detrended value of steps ``a`` with ``a % period == k``; the
    early spread (before out-of-sample errors exist) is the wider of the in-sample residuals'
    MAD, widened by ``INFLATION``, and the spread of same-phase differences over sqrt 2 (the
    residuals of an STL fit on a few cycles understate noise several times over)."""
    if np.ptp(hist) == 0.0:
        return float(hist[-1]), np.zeros(period), 0.0
    fit = STL(hist, period=period, seasonal=seasonal, trend=trend, robust=True).fit()
    phase = (first + np.arange(len(hist))) % period
    detrended = hist - fit.trend
    profile = np.array([upper_median(detrended[phase == k]) for k in range(period)])
    in_sample = INFLATION * float(median_abs_deviation(fit.resid, scale="normal"))
    return (float(np.mean(fit.trend[-period:])), profile,
            max(in_sample, _error_scale(hist[period:] - hist[:-period]) / np.sqrt(2.0)))


@lru_cache(maxsize=64)
def cusum_threshold(z: float, k: float | None = None) -> float:
    """Decision interval ``h`` of a one-sided CUSUM with reference ``k`` (in spreads) whose
    in-control average run length is ``1 / P(N > z)``, the point test's: Siegmund's
    approximation ARL0 = (exp(2 k b) - 2 k b - 1) / (2 k^2), b = h + 1.166, solved for ``h``
    (8.5 for z = 4, k = 0.5: one false alarm in about 31,600 clean steps)."""
    k = CUSUM_K if k is None else k
    arl0 = 1.0 / norm.sf(z)

    def gap(h: float) -> float:
        b = 2.0 * k * (h + 1.166)
        return (np.expm1(b) - b) / (2.0 * k * k) - arl0

    return float(brentq(gap, 0.0, 100.0))


def change_point(x: np.ndarray, k: float = CUSUM_K) -> int:
    """Index in ``x`` (standardized excesses, the last one the alarm's) where a rise most likely
    began: the start of the suffix whose sum of ``x - k`` is largest, the latest on a tie. For
    a one-sided CUSUM run over ``x`` this is the step after its statistic was last zero, Page's
    (1954) estimate of the change point."""
    suffix = np.cumsum((np.asarray(x, float) - k)[::-1])
    return len(suffix) - 1 - int(np.argmax(suffix))


def shift_start(x: np.ndarray) -> int:
    """Index in ``x`` (standardized excesses, the last one the alarm's) where a shift of unknown
    size most likely began: the start of the suffix whose sum ``S`` is positive and ``S^2 / n``
    (``n`` its length) largest, the latest on a tie (Hinkley 1970, a normal mean's change point).
    Over the steps since a CUSUM was last zero it picks the rise that carried it over, not the
    ordinary high steps before it that only kept it above zero."""
    tail = np.cumsum(np.asarray(x, float)[::-1])
    score = np.where(tail > 0, tail ** 2 / np.arange(1, len(tail) + 1), -np.inf)
    return len(tail) - 1 - int(np.argmax(score))


def _sums(x: np.ndarray, k: int) -> np.ndarray:
    """Sums of ``k`` consecutive values (NaN where one is NaN)."""
    return x if k == 1 else np.convolve(x, np.ones(k), mode="valid")


def expected_and_spread(values: np.ndarray, *, period: int, window: int, z: float = 4.0,
                        floor_frac: float = 0.02, adapt_steps: int | None = None,
                        seasonal: int = 7, trend: int | None = None, refit_steps: int = 1,
                        horizons: tuple[int, ...] = (1,), error_window: int | None = None,
                        min_window: int | None = None, continue_z: float = 2.0, cusum: bool = True,
                        change_points: bool = True, quiet_z: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per step: expected spend, spread, the anomaly flag (NaN / False before the warm-up) and,
    on each anomaly's first step, the step it was found on (-1 elsewhere).

    A step is also flagged when its excess over expected summed with that of the previous
    ``k - 1`` normal steps, for a ``k`` in ``horizons``, exceeds ``z`` spreads of such ``k``-step
    sums of past errors: a moderate lasting rise is evidence that accumulates. With
    ``change_points``, an anomaly found by such a sum or by the CUSUM starts at its change
    point (:func:`change_point`). A step more than ``quiet_z`` (default and at most ``z``) spreads
    below expected is unusually quiet: kept out of the baseline and of the errors."""
    values = np.asarray(values, dtype=float)
    quiet_z = z if quiet_z is None else min(quiet_z, z)
    n = len(values)
    adapt = adapt_steps if adapt_steps is not None else period
    error_window = error_window or 2 * window
    min_window = min_window or window
    lag = max(horizons) - 1
    clean = values.copy()
    expected = np.full(n, np.nan)
    spread = np.full(n, np.nan)
    errors = np.full(n, np.nan)  # out-of-sample errors of the steps judged normal
    excess = np.zeros(n)  # the same, 0 where a step was anomalous (its excess no longer counts)
    flags = np.zeros(n, dtype=bool)
    found = np.full(n, -1)  # on an anomaly's first step, the step it was found on
    unit = np.zeros(n)  # excess in the CUSUM's units (spreads, each capped at z)
    run = low_run = 0
    level_sum, h = 0.0, (cusum_threshold(z) if cusum else np.inf)
    zero_after = min_window  # the step after the CUSUM was last zero (or reset)
    fitted_at = -refit_steps
    for t in range(min_window, n):
        if t - fitted_at >= refit_steps:
            lo = max(0, t - window)
            hist = clean[lo:t]
            level, profile, early = _baseline(hist, lo, period, seasonal, trend or (2 * window + 1))
            scale_floor = max(floor_frac * float(np.median(np.abs(hist))), 1e-6)
            fitted_at = t
        # errors before the steps under test: those of a rise not yet flagged would mask it
        past = errors[max(0, t - lag - error_window):t - lag]
        known = past[~np.isnan(past)]
        exp, s, m, eff = level + profile[t % period], early, len(hist) - period, 1.0
        if len(known) >= 2 * period:
            # how far off the forecasts really were: their bias is corrected, the spread is theirs
            exp += float(np.median(known))
            s, m, eff = _error_scale(known), len(known), MAD_EFFICIENCY
        exp = max(exp, 0.0)
        s = max(s, scale_floor)
        expected[t], spread[t] = exp, s
        deviation = values[t] - exp
        zm = _multiplier(z, m, eff)
        anomalous = deviation > zm * s
        # an anomaly under way goes on while its steps stay clearly high: one ordinary-looking
        # step in a level shift neither splits it nor enters the baseline
        anomalous |= run > 0 and deviation > continue_z * s * zm / z
        # CUSUM of standardized excesses (each capped at z, so one spike does not carry it): a
        # slow climb that no single step or k-step sum shows
        unit[t] = min(deviation / (s * zm / z), z)
        level_sum = max(0.0, level_sum + unit[t] - CUSUM_K)
        start = t
        if not anomalous and level_sum > h:
            anomalous, start = True, zero_after + shift_start(unit[zero_after:t + 1])
        for k in horizons:
            if anomalous or k == 1 or t - k < min_window:
                continue
            sums = _sums(past, k)
            sums = sums[~np.isnan(sums)]
            if len(sums) >= 2 * period:
                # overlapping sums are few and alike: never trust them below independent errors' sqrt(k) s
                total = deviation + excess[t - k + 1:t].sum()
                anomalous = total - float(np.median(sums)) > zm * max(_error_scale(sums), s * np.sqrt(k))
                if anomalous:
                    start = t - k + 1 + change_point(unit[t - k + 1:t + 1])
        if level_sum == 0.0 or anomalous:
            zero_after = t + 1
        if anomalous and run == 0:
            if change_points and start < t:
                # a new anomaly: from its change point on, its steps were anomalous (never before the
                # previous one ended, nor more than a period back, so its period holds this step)
                start = max(start, t - adapt + 1, int(np.flatnonzero(flags[:t])[-1]) + 1 if flags[:t].any() else 0)
                flags[start:t] = True
                clean[start:t] = expected[start:t]
                errors[start:t] = np.nan
                excess[start:t] = 0.0
                run = t - start
                fitted_at = -refit_steps  # refit without them
            else:
                start = t
            found[start] = t
        if anomalous:
            level_sum = 0.0
            flags[t] = True
            run += 1
            low_run = 0
            if run <= adapt:
                clean[t] = exp
            else:  # a lasting change: accept the new level
                clean[t - adapt:t + 1] = values[t - adapt:t + 1]
                flags[t] = False
                errors[t - adapt:t + 1] = np.nan
                fitted_at = -refit_steps  # refit on the new level
        elif deviation < -quiet_z * s * zm / z:  # an unusually quiet step is no anomaly, nor a baseline
            run = 0
            low_run += 1
            if low_run <= adapt:
                clean[t] = exp
            else:
                clean[t - adapt:t + 1] = values[t - adapt:t + 1]
                errors[t - adapt:t + 1] = np.nan
                fitted_at = -refit_steps
        else:
            run = low_run = 0
            errors[t] = excess[t] = deviation
    return expected, spread, flags, found


def episodes(values: np.ndarray, expected: np.ndarray, flags: np.ndarray, found: np.ndarray | None = None
             ) -> list[Episode]:
    """Runs of consecutive anomalous steps; with ``found`` (the step each anomaly was found on,
    at its first step), a run is also split where a new anomaly starts."""
    out = []
    idx = np.flatnonzero(flags)
    if not idx.size:
        return out
    new = np.diff(idx) > 1
    if found is not None:
        new |= found[idx[1:]] >= 0
    breaks = np.flatnonzero(new)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]])
    for s, e in zip(starts, ends, strict=True):
        out.append(Episode(int(s), int(e), float(values[s:e + 1].sum()), float(expected[s:e + 1].sum()),
                           int(found[s]) if found is not None and found[s] >= 0 else int(s)))
    return out


def forecast(values: np.ndarray, freq: str = "D", *, z: float = 4.0, window: int | None = None,
             adapt_steps: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(expected, spread, flags, found)`` of one series of daily (``freq="D"``) or hourly (``"h"``)
    spend with the settings :func:`detect` uses: the spread is what an anomaly is measured
    against (its signal-to-noise ratio is its size over the spread)."""
    window = window or WINDOW[freq]
    return expected_and_spread(values, period=PERIOD[freq], window=window, z=z, adapt_steps=adapt_steps,
                               refit_steps=REFIT[freq], horizons=HORIZONS[freq], cusum=CUSUM[freq],
                               change_points=CHANGE_POINT[freq], quiet_z=QUIET_Z[freq],
                               min_window=START[freq] if window == WINDOW[freq] else window)


def detect(values: np.ndarray, freq: str = "D", *, z: float = 4.0, window: int | None = None,
           adapt_steps: int | None = None) -> list[Episode]:
    """Anomalies of one series of daily (``freq="D"``) or hourly (``"h"``) spend."""
    expected, _, flags, found = forecast(values, freq, z=z, window=window, adapt_steps=adapt_steps)
    return episodes(np.asarray(values, float), expected, flags, found)


def day_over_day(values: np.ndarray, *, threshold: float = 0.2, lag: int = 1) -> list[Episode]:
    """The plain rule to compare against: a step whose spend exceeds that of ``lag`` steps earlier
    (the previous day: 1 for daily spend, 24 for hourly) by more than ``threshold`` (20 %) is
    anomalous; expected spend = that earlier step's."""
    v = np.asarray(values, dtype=float)
    prev = np.concatenate([np.full(lag, np.nan), v[:-lag]])
    with np.errstate(divide="ignore", invalid="ignore"):
        flags = np.where(prev > 0, (v - prev) / prev > threshold, v > 0) & ~np.isnan(prev)
    return episodes(v, np.nan_to_num(prev), flags)
