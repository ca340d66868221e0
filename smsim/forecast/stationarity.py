"""Is a series stationary? The ADF and KPSS tests together, as statsmodels documents them.

The two tests have opposite nulls: augmented Dickey-Fuller (``adfuller``) tests the null of a
unit root, KPSS (``kpss``) the null of stationarity around a constant. A series is called
stationary only when both agree, ADF rejecting its null (at 5 %) and KPSS not rejecting its own
(the four-case reading of the statsmodels example "Stationarity and detrending (ADF/KPSS)").
Any other outcome (a unit root, a trend, a break, too little data to tell) is treated as
non-stationary, so a series is given a bounded long-run spread only on evidence.

KPSS is read at 1 %, not 5 %: on persistent stationary series it rejects far more often than
its nominal size (Caner and Kilian, 2001, "Size distortions of tests of the null hypothesis of
stationarity"). On the steady fleet of ``benchmarks/bench_commit.py`` (a bounded walk on 1-6
instances, 60 days hourly) it rejected 6 of 40 seeds at 5 % and 2 at 1 %, while ADF rejected
the unit root in all 40 and growing fleets and random walks still fail KPSS at 1 % by far.
statsmodels clips the KPSS p-value to [0.01, 0.10], so the statistic is compared with the 1 %
critical value itself.

Both tests work on the raw (hourly) values: a fixed daily or weekly cycle is a periodic mean,
whose partial sums stay bounded, so it does not make KPSS reject, and the ADF lag order chosen
by AIC absorbs the short-run dependence. But a large daily cycle also hides a slow trend from
them: eight weeks of hourly traffic growing 2 % a week test stationary hour by hour (ADF p 0.00,
KPSS 0.41 < 0.74), while their 56 daily totals keep a unit root (ADF p 0.95). A sub-daily
series is therefore also tested on its daily totals (:func:`check_series_stationarity`), and is
stationary only when both agree. On the steady fleet above the daily totals tested stationary
in 40 of 40 seeds. With fewer than :data:`MIN_DAYS` whole days the daily totals cannot be
tested, and the series is called non-stationary: too little data to tell.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

#: Most recent values tested (ADF's lag search grows with length; 5,000 hours is 7 months).
MAX_OBS = 5000
#: Fewest values the tests are run on; shorter series are called non-stationary.
MIN_OBS = 48
#: Fewest whole days on which a sub-daily series' daily totals are tested as well. On fewer the
#: tests have little power: over 40 seeds, 14 days of the steady fleet's totals failed them 25
#: times and 28 days 6 times, while 28 days of traffic growing 2 % a week failed 39 times.
MIN_DAYS = 28


@dataclass(frozen=True)
class Stationarity:
    """The ADF p-value, the KPSS statistic with its critical value, and the verdict."""

    adf_p: float
    kpss_stat: float
    kpss_critical: float
    n: int
    adf_alpha: float = 0.05
    #: the same tests on the series' daily totals (sub-daily series with enough whole days)
    daily: Stationarity | None = None

    @property
    def stationary(self) -> bool:
        own = self.adf_p < self.adf_alpha and self.kpss_stat < self.kpss_critical
        return own and (self.daily is None or self.daily.stationary)

    def summary(self) -> dict:
        """JSON-ready (``None`` where the tests were not run)."""
        ran = np.isfinite(self.kpss_stat)
        out = {"stationary": self.stationary, "adf_p": round(self.adf_p, 4) if ran else None,
               "kpss_stat": round(self.kpss_stat, 4) if ran else None,
               "kpss_critical_1pct": self.kpss_critical if ran else None, "n": self.n}
        if self.daily is not None:
            out["daily_totals"] = self.daily.summary()
        return out


def check_series_stationarity(y) -> Stationarity:
    """:func:`check_stationarity` on a time-indexed series; a sub-daily one is also tested on
    its daily totals, undecided (non-stationary) under :data:`MIN_DAYS` whole days."""
    verdict = check_stationarity(y.to_numpy(dtype=float))
    step = y.index[1] - y.index[0] if len(y) > 1 else None
    if step is None or not (step.total_seconds() > 0 and 86400 % step.total_seconds() == 0
                            and step.total_seconds() < 86400):
        return verdict
    per_day = int(86400 // step.total_seconds())
    counts = y.groupby(y.index.floor("D")).agg(["sum", "count"])
    whole = counts.loc[counts["count"] == per_day, "sum"]
    from dataclasses import replace

    # Fewer than MIN_DAYS whole days: the daily totals are undecided, so is the series (two flat
    # weeks with a daily cycle pass the hourly tests but say nothing about the level's drift).
    return replace(verdict, daily=check_stationarity(whole.to_numpy(dtype=float), min_obs=MIN_DAYS))


def check_stationarity(values: np.ndarray, min_obs: int = MIN_OBS) -> Stationarity:
    """ADF (constant, lags by AIC) and KPSS (constant, Hobijn et al. lags) on ``values``."""
    from statsmodels.tsa.stattools import adfuller, kpss

    y = np.asarray(values, dtype=float)[-MAX_OBS:]
    y = y[np.isfinite(y)]
    undecided = Stationarity(1.0, float("inf"), 0.0, len(y))
    if len(y) < min_obs or np.ptp(y) == 0:
        return undecided
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KPSS warns when its p-value hits the table's edge
        try:
            adf_p = float(adfuller(y, regression="c", autolag="AIC")[1])
            stat, _, _, critical = kpss(y, regression="c", nlags="auto")
        except (ValueError, np.linalg.LinAlgError):
            return undecided
    return Stationarity(adf_p, float(stat), float(critical["1%"]), len(y))
