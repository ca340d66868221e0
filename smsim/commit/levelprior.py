"""A floor under the spread of the usage level over the horizon, for histories that cannot show it.

A forecast fit on ``n`` days of usage learns how far the level moves from what those days did.
Over a horizon of ``h`` days, ``h`` well past ``n``, that is no evidence: a fleet that held steady
for two weeks can finish its project and shrink tenfold within two months, a move no 14-day fit
has seen (two flat weeks even pass the hourly stationarity tests; they are not called stationary
only because their daily totals are too few to test, and the model the backtest picks still
learns its spread from two weeks). Sizing is lopsided against such moves: an unused dollar of
commitment is lost in full, an uncovered dollar of usage costs only the discount.

The prior (stated, not estimated): the log of the daily mean usage moves like a driftless random
walk with a daily step of at least :data:`LEVEL_PRIOR_SD_PER_DAY`, so ``k`` days ahead its variance
is at least ``s**2 * k``. Where the paths' own spread of log daily means is narrower, each path
is multiplied day by day by ``exp(X_k - V_k / 2)``, ``X`` a random walk whose variance ``V_k`` tops
the paths' variance up to the floor. The factor has mean 1, so expected usage is unchanged: the
prior adds spread, not a trend. Paths already wider than the floor (a model that learned a wide
spread from a long or volatile history) are left alone.

The floor applies only to histories shorter than
:data:`~smsim.forecast.stationarity.MIN_DAYS` (28) whole days, too short for the forecast to test
whether the level is bounded: its daily totals are tested only from 28 days. From 28 days on, the forecast's own
choice (backtest, and the stationarity tests hour by hour and day by day) stands.

``s`` = 0.08 was chosen on simulated fleets only (``benchmarks/bench_commit_prior.py``: fleets
whose level holds for about a month at a time and then moves by a factor of about two; among
0-0.18 it gave the ladder the largest share of the hindsight savings with 14 days of history,
averaged over discounts of 0.20 and 0.44), never on the real traces
the savings-plan benchmark scores. Over 56 days it puts the level's log sd at 0.6; over a
1-year term at 1.5: applied to every history, it took the year-long purchase of a steadily
growing fleet with 60 days of history, which the forecast reads correctly, below what the
60-day lookback buys.
"""

from __future__ import annotations

import numpy as np

from smsim.rng import stream

#: Smallest daily step (sd of the log daily mean's daily change) the level is assumed to take.
LEVEL_PRIOR_SD_PER_DAY = 0.08


def level_prior_applies(history_hours: int) -> bool:
    """Whether a history of ``history_hours`` hours is too short to test for a bounded level."""
    from smsim.forecast.stationarity import MIN_DAYS

    return history_hours < MIN_DAYS * 24


def level_floor_paths(paths_usd: np.ndarray, sd_per_day: float, seed: int) -> np.ndarray:
    """``paths_usd`` (paths, hours) widened so each 24-hour block's log level has variance at least
    ``sd_per_day**2 * k`` across paths, ``k`` the block's number (1 for the first); see the module doc.

    Deterministic for a given ``seed`` (stream ``commit/level-prior``).
    """
    p = np.atleast_2d(np.asarray(paths_usd, dtype=float))
    n_paths, n = p.shape
    if sd_per_day <= 0 or n_paths < 2 or n == 0:
        return p
    n_days = -(-n // 24)
    pad = np.zeros((n_paths, n_days * 24))
    pad[:, :n] = p
    counts = np.minimum(24, n - 24 * np.arange(n_days))
    daily = pad.reshape(n_paths, n_days, 24).sum(axis=2) / counts
    eps = 1e-3 * max(float(daily.mean()), 1e-12)
    own_var = np.log(daily + eps).var(axis=0)
    k = np.arange(1, n_days + 1, dtype=float)
    # what the walk must add: the floor's excess over the paths' own variance, never decreasing
    # (a random walk's variance cannot shrink)
    added = np.maximum.accumulate(np.maximum(sd_per_day**2 * k - own_var, 0.0))
    if added[-1] <= 0.0:
        return p
    steps = np.sqrt(np.diff(added, prepend=0.0))
    z = stream(seed, "commit", "level-prior").standard_normal((n_paths, n_days))
    factor = np.exp(np.cumsum(steps * z, axis=1) - added / 2.0)
    return (pad.reshape(n_paths, n_days, 24) * factor[:, :, None]).reshape(n_paths, -1)[:, :n]


__all__ = ["LEVEL_PRIOR_SD_PER_DAY", "level_floor_paths", "level_prior_applies"]
