"""One call from a usage source to a commitment recommendation with its risk: what the CLI runs.

Steps: read the eligible hourly usage; resolve the discount (``discount`` or the catalog); take
what existing plans leave; sample future usage paths over the horizon; find the exact optimum
over those paths; score it (P10/P50/P90 savings, utilization, coverage, chance of a loss); put
the 7/30/60-day lookback recommendations, a staged purchase and a ladder (a first tranche now,
top-ups at each review once usage has grown, :mod:`smsim.commit.ladder`) next to it, scored on
the same paths; with actual usage, score every recommendation and the hindsight optimum on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smsim import notices
from smsim.commit.adapters import FALLBACK_MODEL, catalog_discount, usage_paths
from smsim.commit.economics import (
    Existing,
    Outcome,
    PlanTerms,
    break_even_utilization,
    evaluate,
    residual_after_existing,
)
from smsim.commit.ladder import FIRST_QUANTILE, LadderResult, evaluate_ladder, first_tranche
from smsim.commit.levelprior import LEVEL_PRIOR_SD_PER_DAY, level_floor_paths, level_prior_applies
from smsim.commit.lookback import LOOKBACK_DAYS, lookback_recommendations
from smsim.commit.sizing import Curve, optimal_commitment, savings_curve
from smsim.commit.staged import best_staged, evaluate_staged
from smsim.commit.usage import EligibleUsage, read_usage, usage_from_series
from smsim.errors import InputError
from smsim.forecast.series import MAX_ABS_VALUE

MIN_HISTORY_HOURS = 48


def _nanmean(values) -> float | None:
    v = np.atleast_1d(np.asarray(values, dtype=float))
    return float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else None


def _summary(outcome: Outcome) -> dict[str, float]:
    s = np.atleast_1d(outcome.savings_usd)
    util = np.atleast_1d(outcome.utilization)
    return {
        "expected_savings_usd": float(s.mean()),
        "p10_savings_usd": float(np.quantile(s, 0.10)),
        "p50_savings_usd": float(np.quantile(s, 0.50)),
        "p90_savings_usd": float(np.quantile(s, 0.90)),
        "probability_of_loss": float(np.mean(s < 0)),
        "expected_utilization": float(np.nanmean(util)) if np.isfinite(util).any() else None,
        "expected_coverage": _nanmean(outcome.coverage),  # None: no usage to cover
        "expected_ondemand_usd": float(np.mean(outcome.ondemand_usd)),
    }


@dataclass
class CommitResult:
    """A recommendation, its risk on the forecast paths, the alternatives, and (maybe) hindsight."""

    terms: PlanTerms
    horizon_hours: int
    n_paths: int
    seed: int
    model: str
    discount_source: str
    existing_usd_per_hour: float
    history_hours: int
    recommended_usd_per_hour: float
    recommended: dict[str, float]
    break_even: dict[str, float]
    lookback: dict[str, dict[str, Any]]
    staged: dict[str, Any] | None
    curve: Curve
    ladder: dict[str, Any] | None = None
    level_prior: dict[str, Any] | None = None
    evaluation: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (the ``--json`` output)."""
        rec = self.recommended
        return {
            "recommended_commitment_usd_per_hour": self.recommended_usd_per_hour,
            "expected_savings_usd": rec["expected_savings_usd"],
            "savings_usd": {k: rec[f"{k}_savings_usd"] for k in ("p10", "p50", "p90")},
            "probability_of_loss": rec["probability_of_loss"],
            "utilization": rec["expected_utilization"],
            "coverage": rec["expected_coverage"],
            "break_even": self.break_even,
            "lookback": self.lookback,
            "staged": self.staged,
            "ladder": self.ladder,
            "level_prior": self.level_prior,
            "evaluation": self.evaluation,
            "plan": {
                "term": self.terms.term,
                "payment": self.terms.payment,
                "discount": self.terms.discount,
                "discount_source": self.discount_source,
                "upfront_fraction": self.terms.upfront_fraction,
                "cost_of_capital_per_year": self.terms.cost_of_capital_per_year,
                "existing_commitment_usd_per_hour": self.existing_usd_per_hour,
            },
            "horizon_hours": self.horizon_hours,
            "history_hours": self.history_hours,
            "paths": self.n_paths,
            "seed": self.seed,
            "forecast_model": self.model,
            "savings_are": "present value of on-demand cost avoided minus commitment paid, "
            "over the horizon, for the new commitment only (nominal when cost of capital is 0)",
            "curve": {
                "commitment_usd_per_hour": self.curve.commitment_usd_per_hour,
                "expected_savings_usd": self.curve.expected_savings_usd,
                "p10_savings_usd": self.curve.p10_savings_usd,
                "p90_savings_usd": self.curve.p90_savings_usd,
            },
            "notes": self.notes,
        }


def _load(source: str | Path | EligibleUsage | pd.Series | np.ndarray,
          sum_duplicates: bool = False) -> EligibleUsage:
    if isinstance(source, EligibleUsage):
        return source
    if isinstance(source, (pd.Series, np.ndarray)):
        return usage_from_series(source)
    return read_usage(source, sum_duplicates)


def resolve_terms(usage: EligibleUsage, term: str, payment: str, discount: float | None,
                  cost_of_capital_per_year: float, catalog: str) -> tuple[PlanTerms, str]:
    """The plan terms, with the discount from ``discount`` or else the catalog."""
    if discount is not None:
        return PlanTerms.of(discount, term, payment, cost_of_capital_per_year), "--discount"
    if usage.mix is None:
        raise InputError(
            f"{usage.source}: the usage does not say which instance types ran (columns instance_type, "
            "component, region), so no catalog rate applies; pass --discount (e.g. 0.3)",
            path="--discount",
        )
    d, assumed = catalog_discount(usage.mix, term, payment, catalog)
    label = f"catalog {catalog!r}" + (" (assumed SP rates, not published ones)" if assumed else "")
    return PlanTerms.of(d, term, payment, cost_of_capital_per_year), label


def recommend_commitment(
    source: str | Path | EligibleUsage | pd.Series | np.ndarray,
    *,
    term: str = "1y",
    payment: str = "no-upfront",
    discount: float | None = None,
    horizon_hours: int | None = None,
    existing_usd_per_hour: float = 0.0,
    existing_discount: float | None = None,
    n_paths: int = 200,
    seed: int = 0,
    cost_of_capital_per_year: float = 0.0,
    actual: str | Path | EligibleUsage | pd.Series | np.ndarray | None = None,
    stage_at_hours: int | None = 3 * 730,
    model: str = "auto",
    catalog: str = "builtin",
    curve_points: int = 81,
    sum_duplicates: bool = False,
    ladder_every_hours: int | None = 730,
    paths: np.ndarray | None = None,
    level_prior_sd_per_day: float = LEVEL_PRIOR_SD_PER_DAY,
) -> CommitResult:
    """Size a savings-plan commitment for the usage in ``source`` (see the module doc).

    ``sum_duplicates`` lets a usage CSV repeat an hour (its rows are added up); otherwise a
    repeated hour is an :class:`InputError`. Warnings of the forecast (a fit that did not
    converge, one value dwarfing the rest) end up in ``notes``, in plain words.
    ``ladder_every_hours`` is the ladder's review interval (None or 0: no ladder). ``paths``
    (shape ``(n_paths, horizon)``) replaces the forecast, e.g. to size several discounts on one
    forecast; ``model`` then only labels them. With fewer than 28 days of history, the
    paths' level spread is floored at a random walk of ``level_prior_sd_per_day`` per day
    (:mod:`smsim.commit.levelprior`; 0 turns it off), given paths included.
    """
    usage = _load(source, sum_duplicates)
    terms, discount_source = resolve_terms(usage, term, payment, discount, cost_of_capital_per_year, catalog)
    horizon = int(horizon_hours) if horizon_hours is not None else terms.term_hours
    if not 24 <= horizon <= terms.term_hours:
        raise InputError(f"horizon must be between 1 day and the {terms.term} term ({terms.term_hours} h), "
                         f"found {horizon} h", path="--horizon")
    if n_paths < 1:
        raise InputError(f"--paths must be >= 1, found {n_paths}", path="--paths")
    history = usage.hourly_usd
    if len(history) < MIN_HISTORY_HOURS:
        raise InputError(f"need at least {MIN_HISTORY_HOURS} hours of usage history, found {len(history)}",
                         file=usage.source)
    if existing_usd_per_hour < 0:
        raise InputError(f"--existing must be >= 0 USD/hour, found {existing_usd_per_hour}", path="--existing")
    existing = ([Existing(float(existing_usd_per_hour), existing_discount or terms.discount)]
                if existing_usd_per_hour > 0 else [])
    notes: list[str] = []

    if ladder_every_hours is not None and ladder_every_hours < 0:
        raise InputError(f"the ladder's review interval must be >= 0 hours (0: no ladder), found {ladder_every_hours}",
                         path="--ladder-every")
    given_paths = paths is not None
    if paths is not None:
        paths = np.maximum(np.asarray(paths, dtype=float), 0.0)
        if paths.ndim != 2 or paths.shape[1] != horizon:
            raise InputError(f"paths must have shape (n_paths, {horizon}), found {paths.shape}")
        n_paths, model_name = paths.shape[0], model
    else:
        with notices.record() as caught:
            paths, model_name = usage_paths(history, horizon, n_paths, seed, model)
        notes.extend(notices.summarise(caught, "forecast"))
    if not given_paths and model == "auto" and model_name != FALLBACK_MODEL:
        from smsim.forecast.api import long_horizon_stationarity

        verdict = long_horizon_stationarity(history, horizon)
        if verdict is not None and verdict.stationary:
            notes.append(f"usage tests stationary (ADF p={verdict.adf_p:.3g}, KPSS {verdict.kpss_stat:.3g} "
                         f"< {verdict.kpss_critical:g} at 1%): paths beyond the backtested horizon come from "
                         "a stationary model, whose spread stays bounded over the term")
    if not np.all(np.isfinite(paths)) or float(np.max(paths, initial=0.0)) > MAX_ABS_VALUE:
        raise InputError(f"the usage forecast ({model_name}) diverged (largest hourly value {np.max(paths):g} "
                         "USD): check the usage for a unit or export error, or choose another --model",
                         file=usage.source)
    if not (np.isfinite(level_prior_sd_per_day) and 0.0 <= level_prior_sd_per_day <= 1.0):
        raise InputError(f"the level prior's daily step must be in [0, 1] (log scale), found {level_prior_sd_per_day}",
                         path="--level-prior")
    level_doc = {"sd_per_day": float(level_prior_sd_per_day), "applied": False}
    if level_prior_sd_per_day > 0 and level_prior_applies(len(history)):
        widened = level_floor_paths(paths, level_prior_sd_per_day, seed)
        if not np.array_equal(widened, paths):
            paths = widened
            level_doc["applied"] = True
            notes.append(f"{len(history) / 24:.0f} days of history cannot show how far the level moves over "
                         f"{horizon / 24:.0f} days: the paths' level spread was widened to a random walk of "
                         f"{level_prior_sd_per_day:g} per day on the log scale (--level-prior)")
    residual_paths, _ = residual_after_existing(paths, existing)
    best = optimal_commitment(residual_paths, terms)
    c_star = best.commitment_usd_per_hour
    rec_outcome = evaluate(paths, c_star, terms, existing)

    hist_residual, _ = residual_after_existing(history.to_numpy(), existing)
    lookbacks = lookback_recommendations(hist_residual, terms)
    lookback_doc: dict[str, dict[str, Any]] = {}
    for days, lb in lookbacks.items():
        lookback_doc[f"{days}d"] = {
            "commitment_usd_per_hour": lb.commitment_usd_per_hour,
            "window_hours": lb.hours_used,
            "window_savings_usd": lb.window_savings_usd,
            "complete_window": lb.complete,
            "on_forecast": _summary(evaluate(paths, lb.commitment_usd_per_hour, terms, existing)),
        }
        if not lb.complete:
            notes.append(f"{days}-day lookback used only the {lb.hours_used} hours of history available")

    staged_doc = None
    if stage_at_hours and 0 < stage_at_hours < horizon:
        st = best_staged(paths, c_star, int(stage_at_hours), terms, existing)
        staged_doc = {
            "first_usd_per_hour": st.first_usd_per_hour,
            "at_hour": st.at_hour,
            "rule": "at at_hour, top up with the optimum over the last 30 days of confirmed usage",
            "expected_top_up_usd_per_hour": float(st.top_up_usd_per_hour.mean()),
            "p10_top_up_usd_per_hour": float(np.quantile(st.top_up_usd_per_hour, 0.1)),
            "p90_top_up_usd_per_hour": float(np.quantile(st.top_up_usd_per_hour, 0.9)),
            "on_forecast": _summary(st.outcome),
        }

    ladder_doc = None
    if ladder_every_hours and ladder_every_hours < horizon:
        first = min(first_tranche(residual_paths, terms, FIRST_QUANTILE), c_star)
        lad = evaluate_ladder(paths, history.to_numpy(), first, int(ladder_every_hours), terms, existing)
        ladder_doc = _ladder_doc(lad, terms)
    elif ladder_every_hours:
        notes.append(f"no ladder: its review interval ({ladder_every_hours} h) is not shorter than the "
                     f"horizon ({horizon} h)")

    top = max([c_star, *(lb.commitment_usd_per_hour for lb in lookbacks.values())])
    top = top * 1.5 if top > 0 else max(float(np.quantile(residual_paths, 0.5)), 1e-6)
    grid = np.unique(np.concatenate([np.linspace(0.0, top, curve_points), [c_star]]))
    curve = savings_curve(residual_paths, terms, grid)

    break_even = {
        "utilization": break_even_utilization(terms, horizon),
        "mean_covered_ondemand_usd_per_hour": c_star / (1 - terms.discount) * break_even_utilization(terms, horizon),
        "explanation": "the plan pays off only if more than this share of the commitment is used, i.e. "
        "if the on-demand usage it absorbs averages more than mean_covered_ondemand_usd_per_hour",
    }
    result = CommitResult(
        terms=terms, horizon_hours=horizon, n_paths=n_paths, seed=seed, model=model_name,
        discount_source=discount_source, existing_usd_per_hour=float(existing_usd_per_hour),
        history_hours=len(history), recommended_usd_per_hour=c_star,
        recommended=_summary(rec_outcome), break_even=break_even, lookback=lookback_doc,
        staged=staged_doc, curve=curve, ladder=ladder_doc, level_prior=level_doc, notes=notes,
    )
    if actual is not None:
        result.evaluation = evaluate_in_hindsight(
            _load(actual, sum_duplicates), result, existing, int(stage_at_hours or 0), history.to_numpy())
    return result


def _ladder_doc(lad: LadderResult, terms: PlanTerms) -> dict[str, Any]:
    final = lad.final_usd_per_hour
    return {
        "first_usd_per_hour": lad.first_usd_per_hour,
        "first_quantile": FIRST_QUANTILE,
        "every_hours": lad.every_hours,
        "tranche_term_hours": terms.term_hours,
        "rule": "buy now the level that 3 in 4 forecast paths support (their own optima's 25th "
        "percentile); at every review, if usage over the interval just ended averaged at least the "
        "interval before, top up to the best commitment over the interval just ended; never sell. "
        "Each tranche is a plan of its own with its own term",
        "expected_final_usd_per_hour": float(final.mean()),
        "p10_final_usd_per_hour": float(np.quantile(final, 0.1)),
        "p90_final_usd_per_hour": float(np.quantile(final, 0.9)),
        "expected_tranches": float(lad.tranches.mean()),
        "on_forecast": _summary(lad.outcome),
    }


def evaluate_in_hindsight(actual: EligibleUsage, result: CommitResult, existing: list[Existing],
                          stage_at_hours: int = 0, history_usd: np.ndarray | None = None) -> dict[str, Any]:
    """Realized savings of each recommendation, and of the best commitment in hindsight, on ``actual``.

    ``share_of_hindsight_savings`` divides by the best *single* commitment bought at hour 0; a
    ladder, which buys later too, can exceed 1 on a growing fleet.
    """
    terms = result.terms
    u = actual.hourly_usd.to_numpy()[: result.horizon_hours]
    if len(u) < 24:
        raise InputError(f"actual usage must cover at least 24 hours, found {len(u)}", file=actual.source)
    r, _ = residual_after_existing(u, existing)
    hindsight = optimal_commitment(r, terms)

    def realized(c: float) -> dict[str, float]:
        out = evaluate(u, c, terms, existing)
        return {
            "commitment_usd_per_hour": c,
            "realized_savings_usd": float(out.savings_usd),
            "utilization": float(out.utilization) if np.isfinite(out.utilization) else None,
            "coverage": float(out.coverage),
            "share_of_hindsight_savings": (float(out.savings_usd) / hindsight.expected_savings_usd
                                           if hindsight.expected_savings_usd > 0 else None),
        }

    doc: dict[str, Any] = {
        "hours": len(u),
        "actual_ondemand_usd": float(u.sum()),
        "smsim": realized(result.recommended_usd_per_hour),
        **{f"lookback_{k}": realized(v["commitment_usd_per_hour"]) for k, v in result.lookback.items()},
        "hindsight_optimum": realized(hindsight.commitment_usd_per_hour),
    }
    if result.staged and 0 < stage_at_hours < len(u):
        st = evaluate_staged(u, result.staged["first_usd_per_hour"], stage_at_hours, terms, existing)
        doc["staged"] = {
            "first_usd_per_hour": st.first_usd_per_hour,
            "top_up_usd_per_hour": float(st.top_up_usd_per_hour[0]),
            "realized_savings_usd": float(st.outcome.savings_usd[0]),
        }
    if result.ladder and history_usd is not None and result.ladder["every_hours"] < len(u):
        lad = evaluate_ladder(u, history_usd, result.ladder["first_usd_per_hour"], result.ladder["every_hours"],
                              terms, existing)
        saved = float(lad.outcome.savings_usd[0])
        doc["ladder"] = {
            "first_usd_per_hour": lad.first_usd_per_hour,
            "final_usd_per_hour": float(lad.final_usd_per_hour[0]),
            "tranches": [{"hour": int(h), "usd_per_hour": float(c)} for h, c in
                         zip([0, *lad.review_hours], lad.purchases_usd_per_hour[0], strict=True) if c > 0],
            "realized_savings_usd": saved,
            "utilization": float(lad.outcome.utilization[0]) if np.isfinite(lad.outcome.utilization[0]) else None,
            "share_of_hindsight_savings": (saved / hindsight.expected_savings_usd
                                           if hindsight.expected_savings_usd > 0 else None),
        }
    if len(u) < result.horizon_hours:
        doc["note"] = (f"actual usage covers {len(u)} of the {result.horizon_hours} horizon hours; "
                       "realized savings are over those hours only")
    return doc


__all__ = ["LOOKBACK_DAYS", "CommitResult", "evaluate_in_hindsight", "recommend_commitment", "resolve_terms"]
