"""The roofline's efficiency constants: what fraction of the datasheet peaks a serving engine gets.

Calibrated once, on two published points, and then held fixed for every accelerator, model and
dtype (``benchmarks/bench_llm_published.py`` prints them as "calibration" beside the points
that check the model):

* ``memory_efficiency`` 0.85 is set a priori: streaming kernels reach 80-90 % of the datasheet
  DRAM bandwidth on HBM and GDDR parts alike.
* ``step_overhead_s`` then follows from the batch-1 decode of Llama-3.1-8B bf16 on one A100 40GB
  under vLLM 0.23 (75 tokens/s, a TPOT of 13.3 ms; johnmusgrave.com, "vLLM throughput-latency
  sweep on NVIDIA A100"): 13.3 ms - 16.06 GB / (1555 GB/s x 0.85) - KV reads = 1.0 ms.
* ``compute_efficiency`` follows from the prefill-bound TensorRT-LLM point Llama-3.1-8B FP8 on
  one H100, 2048 input / 128 output tokens: 3,450 output tokens/s (NVIDIA TensorRT-LLM
  perf-overview.md @00f37686).
* ``link_efficiency`` and the all-reduce latencies are assumptions, not fits: ring all-reduce
  reaches about 70 % of the link's one-way bandwidth; a small all-reduce costs about 10 us over
  NVLink (vLLM's custom all-reduce), 30 us over PCIe (NCCL) and 15 us over NeuronLink.

Any of them can be overridden per model (:func:`with_overrides`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from smsim.errors import InputError, did_you_mean

#: One all-reduce of a small message, seconds, by interconnect (``accelerator_instances.csv``).
ALLREDUCE_LATENCY_S: dict[str, float] = {"nvlink3": 10e-6, "nvlink4": 10e-6, "pcie4": 30e-6, "neuronlink2": 15e-6}


@dataclass(frozen=True)
class Efficiencies:
    memory_efficiency: float = 0.85
    compute_efficiency: float = 0.5
    link_efficiency: float = 0.7
    step_overhead_s: float = 1.0e-3
    allreduce_latency_s: float | None = None  # None: ALLREDUCE_LATENCY_S of the instance's interconnect

    def allreduce_s(self, interconnect: str) -> float:
        if self.allreduce_latency_s is not None:
            return self.allreduce_latency_s
        return ALLREDUCE_LATENCY_S.get(interconnect, max(ALLREDUCE_LATENCY_S.values()))


EFFICIENCIES = Efficiencies()

_FRACTIONS = ("memory_efficiency", "compute_efficiency", "link_efficiency")


def with_overrides(base: Efficiencies, overrides: dict) -> Efficiencies:
    """``base`` with some fields replaced; unknown names and out-of-range values are input errors."""
    names = [f.name for f in fields(Efficiencies)]
    for name, value in overrides.items():
        if name not in names:
            raise InputError(f"unknown efficiency {name!r}" + did_you_mean(name, names), path=name)
        if value is None and name == "allreduce_latency_s":
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
            raise InputError(f"{name} must be a number, found {value!r}", path=name)
        if name in _FRACTIONS and not 0 < value <= 1:
            raise InputError(f"{name} must be in (0, 1], found {value}", path=name)
        if name not in _FRACTIONS and value < 0:
            raise InputError(f"{name} must be >= 0 seconds, found {value}", path=name)
    return replace(base, **overrides) if overrides else base
