"""Out-of-sample calibration of prediction intervals (split conformal on backtest errors).

Model intervals assume the model is right; on real traffic they are often too narrow. The
rolling-origin backtest gives honest errors ``e = actual - forecast`` together with the model's
own predictive sd for the same step. The score ``|e| / sd`` is pooled over origins and steps
(normalising by sd keeps the model's horizon shape, so step 24 is wider than step 1, and gives
many more scores than one quantile per step would). The calibrated half-width at level L is
``q_L * sd`` with ``q_L`` the conformal quantile of the scores.

Per level the model's own width is kept when its backtest coverage is inside a binomial
confidence interval around the nominal level ("model-based where calibrated"), otherwise the
conformal width is used. Coverage is reported by cross-conformal evaluation: each origin is
scored with a quantile computed from the other origins only, so the number is out of sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from smsim.forecast.models.base import z_value


@dataclass(frozen=True)
class Calibration:
    """Per-level half-width multipliers of the predictive sd, and how they were obtained."""

    multipliers: dict[float, float]
    source: dict[float, str]
    coverage: dict[float, float | None] = field(default_factory=dict)
    model_coverage: dict[float, float | None] = field(default_factory=dict)
    n_scores: int = 0

    @classmethod
    def model_based(cls, levels: Sequence[float]) -> Calibration:
        """No backtest available: the model's Gaussian widths, coverage unknown."""
        return cls({lv: z_value(lv) for lv in levels}, {lv: "model" for lv in levels},
                   {lv: None for lv in levels}, {lv: None for lv in levels}, 0)

    def half_widths(self, sd: np.ndarray) -> dict[float, np.ndarray]:
        return {lv: q * np.asarray(sd, float) for lv, q in self.multipliers.items()}

    @property
    def path_scale(self) -> float:
        """Factor on sample-path deviations so paths match the calibrated 80 % band."""
        level = 80.0 if 80.0 in self.multipliers else min(self.multipliers)
        return self.multipliers[level] / z_value(level)


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The finite-sample conformal quantile: the ceil((n+1) L)-th smallest score."""
    scores = np.sort(np.asarray(scores, float))
    n = len(scores)
    if n == 0:
        return float("inf")
    k = int(np.ceil((n + 1) * level / 100.0))
    return float(scores[min(k, n) - 1])


#: Backtest errors below this share of the series' level are float residue, not misses.
EXACT_RTOL = 1e-9


def _scores(errors: np.ndarray, sd: np.ndarray, level: float | None = None) -> np.ndarray:
    """``|e| / sd``, with a floor on sd so a zero-variance forecast that misses scores large.

    With ``level`` (the typical magnitude of the actuals) an error within
    ``EXACT_RTOL * level`` counts as exact (score 0): a noiseless series forecast to the last
    bit of float residue gets a zero-width band whose coverage is 100 %, not a coin toss
    between residues.
    """
    if level is not None and np.isfinite(level):
        errors = np.where(np.abs(errors) <= EXACT_RTOL * abs(level), 0.0, errors)
    scale = np.nanmean(np.abs(errors)) if np.any(errors) else 1.0
    floor = 1e-6 * max(scale, 1e-12)
    return np.abs(errors) / np.maximum(sd, floor)


def binomial_interval(level: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Range of empirical coverage consistent with true coverage ``level`` % over ``n`` trials."""
    p = level / 100.0
    lo = stats.binom.ppf((1 - confidence) / 2, n, p) / n
    hi = stats.binom.ppf(1 - (1 - confidence) / 2, n, p) / n
    return float(lo), float(hi)


def calibrate(errors: np.ndarray, sd: np.ndarray, levels: Sequence[float],
              level: float | None = None) -> Calibration:
    """A :class:`Calibration` from backtest ``errors`` and model ``sd``, both ``(origins, steps)``.

    With fewer than two origins there is nothing to hold out, and the model widths are kept.
    ``level`` is the typical magnitude of the actuals (errors far below it count as exact).
    """
    errors = np.atleast_2d(np.asarray(errors, float))
    sd = np.atleast_2d(np.asarray(sd, float))
    if errors.shape[0] < 2 or errors.size < 10:
        return Calibration.model_based(levels)
    scores = _scores(errors, sd, level)
    n = scores.size
    mult, source, coverage, model_cov = {}, {}, {}, {}
    for lv in sorted(levels):
        z = z_value(lv)
        model_cov[lv] = float(np.mean(scores <= z))
        lo, hi = binomial_interval(lv, n)
        if lo <= model_cov[lv] <= hi:
            mult[lv], source[lv] = z, "model"
        else:
            mult[lv], source[lv] = conformal_quantile(scores.ravel(), lv), "conformal"
        coverage[lv] = _cross_coverage(scores, lv, source[lv] == "model")
    # nested bands: a higher level never gets a narrower multiplier
    running = 0.0
    for lv in sorted(mult):
        running = max(running, mult[lv])
        mult[lv] = running
    return Calibration(mult, source, coverage, model_cov, n)


def _cross_coverage(scores: np.ndarray, level: float, model: bool) -> float:
    """Coverage of each origin's errors by a band fitted without that origin."""
    if model:
        return float(np.mean(scores <= z_value(level)))
    hits = []
    for k in range(scores.shape[0]):
        rest = np.delete(scores, k, axis=0).ravel()
        hits.append(scores[k] <= conformal_quantile(rest, level))
    return float(np.mean(np.concatenate(hits)))
