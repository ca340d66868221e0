"""The seasonal naive forecaster: each step repeats the same point of the last season."""

from __future__ import annotations

import numpy as np

from smsim.forecast.models.base import Forecaster


class SeasonalNaive(Forecaster):
    """Repeat the last season; the baseline every other model must beat.

    Errors are those of a seasonal random walk: the sd after ``k`` whole seasons ahead is
    ``sigma * sqrt(k)``, sigma estimated from the seasonal differences.
    """

    name = "snaive"

    def _fit(self, y: np.ndarray) -> None:
        self.m_ = self.seasons_[0] if self.seasons_ else 1
        diff = y[self.m_:] - y[:-self.m_]
        self.sigma_ = float(np.sqrt(np.mean(diff**2)))

    def _moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(h)
        mean = self.y_[-self.m_:][steps % self.m_]
        return mean, self.sigma_ * np.sqrt(steps // self.m_ + 1)

    def _simulate(self, h, n_paths, rng):
        m = self.m_
        cycles = -(-h // m)
        shocks = rng.standard_normal((n_paths, cycles, m)) * self.sigma_
        walk = np.cumsum(shocks, axis=1).reshape(n_paths, cycles * m)[:, :h]
        return self.predict_moments(h)[0] + walk
