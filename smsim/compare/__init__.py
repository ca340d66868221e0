"""What-if comparison: variants of a scenario (or several scenarios) run on common random
numbers, differences with confidence intervals over replications, and batch benchmarks."""

from smsim.compare.api import CompareResult, compare, compare_variants, seeds_for
from smsim.compare.diff import compare_summaries, flat_metrics, paired_interval
from smsim.scenario.patch import apply_patch, scale_traffic
from smsim.scenario.variants import Variant, load_compared, load_variants

__all__ = ["CompareResult", "Variant", "apply_patch", "compare", "compare_summaries", "compare_variants",
           "flat_metrics", "load_compared", "load_variants", "paired_interval", "scale_traffic", "seeds_for"]
