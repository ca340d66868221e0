"""Forecasting models behind one contract (:class:`~smsim.forecast.models.base.Forecaster`), by
name in :mod:`smsim.forecast.models.registry`.

Every model is ``fit(y, season_lengths) -> self``, ``predict(h, levels) -> DataFrame`` with
columns ``mean, lo-80, hi-80, ...`` indexed by the future stamps, ``forecast(y, h, levels)``
(fit then predict) and ``simulate(h, n_paths, rng) -> ndarray (n_paths, h)`` sample paths.

Models reduce their forecast to two moments per step, ``(mean, sd)``; intervals are
``mean +- z * sd`` here and are recalibrated out of sample in :mod:`smsim.forecast.intervals`.
Fitting works on a numpy copy of the most recent ``max_obs`` values (statsmodels cost grows
with length and old history adds little to a next-quarter forecast).
"""
