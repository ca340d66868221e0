"""Forecasters by name: the registry, and the models built from other models by name (a log1p
transform of one, an ensemble of several)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from smsim.forecast.models.arima import ARIMA, ARMA
from smsim.forecast.models.base import Forecaster, fake_date
from smsim.forecast.models.ets import ETS
from smsim.forecast.models.harmonic import HarmonicAR, HarmonicSES, HarmonicTheta
from smsim.forecast.models.mstl import MSTL
from smsim.forecast.models.naive import SeasonalNaive
from smsim.forecast.models.theta import Theta


class Log1p(Forecaster):
    """Another model fitted to ``log1p(y)``, for non-negative counts whose noise grows with level.

    The point forecast is ``expm1`` of the inner forecast (the back-transformed median, the
    right point for absolute-error accuracy); the sd is half the back-transformed
    ``mean +- sd`` range, so bands widen at busy hours and narrow at quiet ones; sample paths are
    the inner paths transformed back.
    """

    def __init__(self, inner: str | Forecaster = "ets") -> None:
        self.inner = make_model(inner) if isinstance(inner, str) else inner
        self.name = f"{self.inner.name}+log1p"

    def fixed(self) -> Log1p:
        return Log1p(self.inner.fixed())

    def fit(self, y: pd.Series, season_lengths: Sequence[int] | None = None) -> Log1p:
        values = y.to_numpy(dtype=float)
        if np.any(values < 0):
            raise ValueError("log1p: the series has negative values")
        self.inner.fit(pd.Series(np.log1p(values), index=y.index), season_lengths)
        for attr in ("offset_", "last_", "seasons_", "constant_", "warnings_"):
            setattr(self, attr, getattr(self.inner, attr))
        self.y_ = values[-len(self.inner.y_):]
        self.form_ = f"log1p({getattr(self.inner, 'form_', self.inner.name)})"
        return self

    def _moments(self, h):
        mu, sd = self.inner.predict_moments(h)
        mu = np.minimum(mu, 700.0)
        return np.expm1(mu), (np.expm1(np.minimum(mu + sd, 700.0)) - np.expm1(mu - sd)) / 2

    def _simulate(self, h, n_paths, rng):
        return np.expm1(np.minimum(self.inner.simulate(h, n_paths, rng), 700.0))


class Ensemble(Forecaster):
    """The mean of several models' forecasts.

    Averaging the point forecasts of different model families is among the most reliable
    accuracy gains in forecasting. The sd is the mean of the members' sds (errors of
    different models are strongly correlated, so this is close to and not below the truth);
    intervals are recalibrated out of sample anyway.
    """

    name = "ensemble"

    def __init__(self, members: Sequence[str | Forecaster] = ("ets", "arima", "theta")) -> None:
        self.members = tuple(members)

    def fixed(self) -> Ensemble:
        fitted = getattr(self, "fitted_", None)
        return Ensemble([m.fixed() for m in fitted] if fitted else self.members)

    def _fit(self, y):
        fitted = []
        series = pd.Series(y, index=pd.RangeIndex(len(y)).map(fake_date))
        for member in self.members:
            model = make_model(member) if isinstance(member, str) else member
            try:
                fitted.append(model.fit(series, self.seasons_))
            except Exception:  # noqa: BLE001 - a member that fails is left out
                continue
        if not fitted:
            raise FloatingPointError("ensemble: no member could be fitted")
        self.fitted_ = fitted
        for m in fitted:
            self.warnings_.update(getattr(m, "warnings_", {}))
        self.form_ = "mean(" + ", ".join(getattr(m, "form_", m.name) for m in fitted) + ")"

    def _moments(self, h):
        moments = [m.predict_moments(h) for m in self.fitted_]
        return (np.mean([m for m, _ in moments], axis=0), np.mean([s for _, s in moments], axis=0))


MODELS: dict[str, type[Forecaster]] = {
    cls.name: cls for cls in (SeasonalNaive, ETS, ARIMA, ARMA, Theta, MSTL, HarmonicAR,
                              HarmonicSES, HarmonicTheta, Ensemble)
}


def make_model(name: str, **kwargs) -> Forecaster:
    """A fresh model by name (``snaive``, ``ets``, ``arima``, ``arma``, ``theta``, ``mstl``,
    ``dhr``, ``hses``, ``ensemble``)."""
    try:
        return MODELS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
