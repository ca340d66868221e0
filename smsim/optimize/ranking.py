"""How the optimizer ranks what it simulated, for endpoints and training jobs alike.

Candidates are ranked by ``(cost rounded to COST_DECIMALS of a USD, enumeration index)``: the
rounding keeps float noise from splitting a tie, the index breaks it. The answer of a search is
the first feasible candidate in that order (exhaustive search's answer), the "closest" one when
none is feasible is the one that misses fewest objectives, then by the smallest shortfall.
"""

from __future__ import annotations

#: Costs are compared rounded to this many decimals of a USD, so float noise cannot split a tie.
COST_DECIMALS = 6


class Ranked:
    """An evaluation with ``candidate.index``, ``cost_usd`` and a ``verdict`` (``feasible``,
    ``missed``, ``shortfall``)."""

    @property
    def feasible(self) -> bool:
        return self.verdict.feasible

    @property
    def rank_key(self) -> tuple[float, int]:
        """Order of preference: cheaper first, then enumeration order."""
        return (round(self.cost_usd, COST_DECIMALS), self.candidate.index)

    @property
    def closeness(self) -> tuple:
        """Order of nearness to feasibility: fewest objectives missed, then smallest shortfall."""
        return (len(self.verdict.missed), self.verdict.shortfall, self.rank_key)


class Outcome:
    """A search's ``best`` evaluation and all its ``evaluations``, read in rank order."""

    @property
    def n_simulations(self) -> int:
        return len(self.evaluations)

    def feasible(self) -> list:
        return sorted((e for e in self.evaluations if e.feasible), key=lambda e: e.rank_key)

    def runners_up(self, n: int) -> list:
        return self.feasible()[1:n + 1]

    def rejected_cheaper(self) -> list:
        """Simulated candidates that missed the objectives, cheaper than the answer (all when none)."""
        bad = [e for e in self.evaluations if not e.feasible]
        if self.best is not None:
            bad = [e for e in bad if e.rank_key < self.best.rank_key]
        return sorted(bad, key=lambda e: e.rank_key)

    def closest(self):
        """The simulated candidate nearest to meeting the objectives (None when nothing ran)."""
        if not self.evaluations:
            return None
        return min(self.evaluations, key=lambda e: e.closeness)


__all__ = ["COST_DECIMALS", "Outcome", "Ranked"]
