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
by AIC absorbs the short-run dependence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

#: Most recent values tested (ADF's lag search grows with length; 5,000 hours is 7 months).
MAX_OBS = 5000
#: Fewest values the tests are run on; shorter series are called non-stationary.
MIN_OBS = 48


@dataclass(frozen=True)
class Stationarity:
    """The ADF p-value, the KPSS statistic with its critical value, and the verdict."""

    adf_p: float
    kpss_stat: float
    kpss_critical: float
    n: int
    adf_alpha: float = 0.05

    @property
    def stationary(self) -> bool:
        return self.adf_p < self.adf_alpha and self.kpss_stat < self.kpss_critical

    def summary(self) -> dict:
        """JSON-ready (``None`` where the tests were not run)."""
        ran = np.isfinite(self.kpss_stat)
        return {"stationary": self.stationary, "adf_p": round(self.adf_p, 4) if ran else None,
                "kpss_stat": round(self.kpss_stat, 4) if ran else None,
                "kpss_critical_1pct": self.kpss_critical if ran else None, "n": self.n}


def check_stationarity(values: np.ndarray) -> Stationarity:
    """ADF (constant, lags by AIC) and KPSS (constant, Hobijn et al. lags) on ``values``."""
    from statsmodels.tsa.stattools import adfuller, kpss

    y = np.asarray(values, dtype=float)[-MAX_OBS:]
    y = y[np.isfinite(y)]
    undecided = Stationarity(1.0, float("inf"), 0.0, len(y))
    if len(y) < MIN_OBS or np.ptp(y) == 0:
        return undecided
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KPSS warns when its p-value hits the table's edge
        try:
            adf_p = float(adfuller(y, regression="c", autolag="AIC")[1])
            stat, _, _, critical = kpss(y, regression="c", nlags="auto")
        except (ValueError, np.linalg.LinAlgError):
            return undecided
    return Stationarity(adf_p, float(stat), float(critical["1%"]), len(y))
