"""The optimizer: the cheapest endpoint configuration that meets a latency / error-rate SLA.

Its answer is exhaustive search's over the same space at the same fidelity (tested against brute
force); see :mod:`smsim.optimize.search` for why the shortcuts it takes cannot change it.
"""

from smsim.optimize.api import OptimizeResult, optimize
from smsim.scenario.optimize import OptimizeSpec

__all__ = ["OptimizeResult", "OptimizeSpec", "optimize"]
