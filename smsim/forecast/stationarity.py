"""Is a series stationary? The ADF and KPSS tests together, as statsmodels documents them.

The two tests have opposite nulls: augmented Dickey-Fuller (``adfuller``) tests the null of a
unit root, KPSS (``kpss``) the null of stationarity around a constant. A series is called
stationary only when both agree, ADF rejecting its null and KPSS not rejecting its own, at
``alpha`` (the four-case reading of the statsmodels example "Stationarity and detrending
(ADF/KPSS)"). Any other outcome (a unit root, a trend, a break, too little data to tell) is
treated as non-stationary, so a series is given a bounded long-run spread only on evidence.

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
    """ADF and KPSS p-values and the verdict at ``alpha``.

    ``kpss_p`` is interpolated in the KPSS table and is clipped to [0.01, 0.10] by statsmodels.
    """

    adf_p: float
    kpss_p: float
    alpha: float
    n: int

    @property
    def stationary(self) -> bool:
        return self.adf_p < self.alpha and self.kpss_p >= self.alpha

    def summary(self) -> dict:
        return {"stationary": self.stationary, "adf_p": round(self.adf_p, 4),
                "kpss_p": round(self.kpss_p, 4), "alpha": self.alpha, "n": self.n}


def check_stationarity(values: np.ndarray, alpha: float = 0.05) -> Stationarity:
    """ADF (constant, lags by AIC) and KPSS (constant, Hobijn et al. lags) on ``values``."""
    from statsmodels.tsa.stattools import adfuller, kpss

    y = np.asarray(values, dtype=float)[-MAX_OBS:]
    y = y[np.isfinite(y)]
    if len(y) < MIN_OBS or np.ptp(y) == 0:
        return Stationarity(1.0, 0.0, alpha, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KPSS warns when its p-value hits the table's edge
        try:
            adf_p = float(adfuller(y, regression="c", autolag="AIC")[1])
            kpss_p = float(kpss(y, regression="c", nlags="auto")[1])
        except (ValueError, np.linalg.LinAlgError):
            return Stationarity(1.0, 0.0, alpha, len(y))
    return Stationarity(adf_p, kpss_p, alpha, len(y))
