"""Dependence between endpoints' projected traffic: a Gaussian copula of forecast errors.

Each endpoint's paths are drawn from its own forecaster, as if it were alone
(:func:`smsim.project.paths.draw_paths`). Demand of endpoints of one account often moves
together (a product launch, a holiday, a shared upstream), and then the spread of the *total*
is wider than independent paths give. This module pairs the endpoints' paths so they move
together as much as their history says, without changing any endpoint's paths:

1. **Estimate** (:func:`error_correlation`). On the days every history covers, each endpoint's
   daily total is forecast by the same day one week earlier (seasonal naive; the day before when
   the common span is under four weeks) and the errors are ranked. The Spearman correlation
   ``r_s`` of those errors becomes the copula correlation ``2 sin(pi r_s / 6)`` (exact for a
   Gaussian copula), and the matrix is made positive semi-definite (eigenvalues clipped at 0,
   unit diagonal restored). Ranks make it indifferent to each endpoint's scale and skew.
2. **Couple** (:func:`couple_paths`). Draw ``n_paths`` correlated standard normals ``Z`` (one
   column per endpoint) from the stream ``project/copula``; endpoint ``j``'s path with the
   ``k``-th smallest total over the projection goes to the row where ``Z[:, j]`` has rank ``k``.
   Every endpoint keeps exactly the set of paths it had (same marginals, hour by hour); only
   which paths are simulated together changes, so path totals have a Gaussian copula with the
   estimated correlation (the rank-reordering of Iman and Conover, as in the Schaake shuffle).

With correlation 1 the totals are comonotonic and every quantile of the sum is the sum of the
quantiles (the P10-P90 spread of the total is the sum of the spreads); with correlation 0 the
pairing is a random permutation, as independent draws are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.rng import stream

#: Fewer common daily errors than this and the correlation is not estimated (identity).
MIN_ERRORS = 14


def _ranks(x: np.ndarray) -> np.ndarray:
    return pd.Series(x).rank(method="average").to_numpy(float)


def nearest_correlation(r: np.ndarray) -> np.ndarray:
    """``r`` with negative eigenvalues clipped to 0 and the unit diagonal restored."""
    r = (np.asarray(r, float) + np.asarray(r, float).T) / 2.0
    w, v = np.linalg.eigh(r)
    c = (v * np.maximum(w, 0.0)) @ v.T
    d = np.sqrt(np.clip(np.diag(c), 1e-12, None))
    c = c / d[:, None] / d[None, :]
    np.fill_diagonal(c, 1.0)
    return np.clip(c, -1.0, 1.0)


def error_correlation(hourly: dict[str, pd.Series]) -> tuple[np.ndarray, dict]:
    """The copula correlation of the endpoints' daily forecast errors, and how it was estimated.

    ``hourly`` maps endpoint -> hourly series (DatetimeIndex). Returns ``(R, info)``; ``R`` is
    the identity (with ``info["note"]`` saying why) when the histories share too few days.
    """
    names = list(hourly)
    k = len(names)
    info: dict = {"endpoints": names, "method": "gaussian copula of daily seasonal-naive errors (Spearman)"}
    if k < 2:
        return np.eye(k), {**info, "days": 0, "lag_days": None}
    daily = {}
    for name, y in hourly.items():
        y = y.astype(float)
        idx = pd.DatetimeIndex(y.index)
        if idx.tz is not None:
            idx = idx.tz_convert("UTC").tz_localize(None)
        s = pd.Series(y.to_numpy(), index=idx)
        counts = s.resample("D").count()
        daily[name] = s.resample("D").sum()[counts == 24]  # whole days only
    frame = pd.concat(daily, axis=1, join="inner").dropna()
    frame = frame.asfreq("D")
    lag = 7 if len(frame) >= 28 else 1
    errors = (frame - frame.shift(lag)).dropna()
    n = len(errors)
    info.update({"days": int(len(frame.dropna())), "lag_days": lag, "errors": n})
    if n < MIN_ERRORS:
        info["note"] = (f"the histories share {n} daily errors (fewer than {MIN_ERRORS}); "
                        "paths are paired independently")
        return np.eye(k), info
    ranks = np.column_stack([_ranks(errors[c].to_numpy()) for c in errors.columns])
    sd = ranks.std(axis=0)
    flat = sd == 0
    ranks[:, flat] = 0.0
    sd[flat] = 1.0
    centred = ranks - ranks.mean(axis=0)
    rs = (centred.T @ centred / n) / np.outer(sd, sd)  # a constant error series: correlation 0
    np.fill_diagonal(rs, 1.0)
    return nearest_correlation(2.0 * np.sin(np.pi * rs / 6.0)), info


def correlated_normals(r: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``(n, k)`` standard normals with correlation ``r`` (PSD; singular allowed)."""
    w, v = np.linalg.eigh(np.asarray(r, float))
    root = v * np.sqrt(np.maximum(w, 0.0))
    z = stream(seed, "project", "copula").standard_normal((n, r.shape[0]))
    return z @ root.T


def couple_paths(paths: dict[str, np.ndarray], r: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Reorder each endpoint's ``(n_paths, hours)`` paths so path totals have copula ``r``.

    Row ``i`` of every output is simulated together. Each output holds the same rows as its
    input (same marginal paths), in a new order.
    """
    names = list(paths)
    if not names:
        return {}
    n = next(iter(paths.values())).shape[0]
    z = correlated_normals(r, n, seed)
    out = {}
    for j, name in enumerate(names):
        p = np.asarray(paths[name])
        by_total = np.argsort(p.sum(axis=1), kind="stable")   # path index of the k-th smallest
        rank = np.argsort(np.argsort(z[:, j], kind="stable"), kind="stable")  # rank of row i
        out[name] = p[by_total[rank]]
    return out


__all__ = ["MIN_ERRORS", "correlated_normals", "couple_paths", "error_correlation",
           "nearest_correlation"]
