"""Savings-plan commitment sizing: how many USD/hour to commit, and how risky that is.

- :mod:`smsim.commit.economics`: exact cost and savings of a commitment against hourly usage.
- :mod:`smsim.commit.sizing`: the commitment maximising expected savings over forecast paths.
- :mod:`smsim.commit.lookback`: AWS-style 7/30/60-day recommendations, for comparison.
- :mod:`smsim.commit.staged`: buy part now and top up once later.
- :mod:`smsim.commit.ladder`: buy in tranches, topping up at each review once usage has grown.
- :mod:`smsim.commit.levelprior`: a floor under the level's spread when the history cannot show it.
"""

from smsim.commit.economics import Existing, Outcome, PlanTerms, Tranche, evaluate
from smsim.commit.lookback import LookbackRecommendation, lookback_recommendations
from smsim.commit.sizing import Curve, Optimum, optimal_commitment, savings_curve

__all__ = [
    "Curve",
    "Existing",
    "LookbackRecommendation",
    "Optimum",
    "Outcome",
    "PlanTerms",
    "Tranche",
    "evaluate",
    "lookback_recommendations",
    "optimal_commitment",
    "savings_curve",
]
