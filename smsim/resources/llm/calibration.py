"""The roofline's efficiency constants: what fraction of the datasheet peaks a serving engine gets.

Calibrated once each, on four measurements, and then held fixed for every accelerator, model and
dtype (``benchmarks/bench_llm_published.py`` prints the points used as "calibration" beside the
points that check the model, and ``--calibrate`` re-derives the fitted values):

* ``memory_efficiency`` 0.85 is set a priori: streaming kernels reach 80-90 % of the datasheet
  DRAM bandwidth on HBM and GDDR parts alike.
* ``compute_efficiency`` 0.68 (16-bit GEMMs) reproduces Vidur's measured profile of one Llama-3-8B
  layer on an A100 at 32,768 tokens: linear layers plus norms, rotary and activation take 67.5 ms
  (github.com/microsoft/vidur data/profiling/compute/a100/meta-llama/Meta-Llama-3-8B/mlp.csv
  @41ab8ab1), i.e. 14.3 TFLOP at 0.68 x 312 TFLOP/s.
* ``compute_efficiency_8bit`` 0.51 (fp8/int8 GEMMs) fits the prefill-bound TensorRT-LLM point
  Llama-3.1-8B FP8 on one H100, 2,048 input / 128 output tokens: 3,450 output tokens/s (NVIDIA
  TensorRT-LLM docs/source/performance/perf-overview.md @00f37686).
* ``step_overhead_s`` 1.9 ms fits the batch-1 decode of Llama-3.1-8B bf16 on one A100 40GB under
  vLLM 0.23 (75 tokens/s, a TPOT of 13.3 ms; johnmusgrave.com, "vLLM throughput-latency sweep on
  NVIDIA A100") once the weights and KV cache are read at 0.85 x 1555 GB/s.
* ``allreduce_latency_s`` over NVLink, 30 us, is Vidur's measured NCCL all-reduce on 8 H100s of
  a DGX (data/profiling/network/h100_dgx/all_reduce.csv @e26eb8f7): median 34 us over messages of
  2-512 KB, of which about 2 us is the transfer itself.
* ``link_efficiency`` 0.7 and the all-reduce latencies over PCIe (45 us) and NeuronLink (30 us)
  are assumptions, not fits: ring all-reduce reaches about 70 % of the link's one-way bandwidth,
  and PCIe has no NVLink's low-latency path between GPUs.

Any of them can be overridden per model (:func:`with_overrides`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from smsim.errors import InputError, did_you_mean

#: One all-reduce of a small message, seconds, by interconnect (``accelerator_instances.csv``).
ALLREDUCE_LATENCY_S: dict[str, float] = {"nvlink3": 30e-6, "nvlink4": 30e-6, "pcie4": 45e-6, "neuronlink2": 30e-6}


@dataclass(frozen=True)
class Efficiencies:
    memory_efficiency: float = 0.85
    compute_efficiency: float = 0.68
    compute_efficiency_8bit: float = 0.51
    link_efficiency: float = 0.7
    step_overhead_s: float = 1.9e-3
    allreduce_latency_s: float | None = None  # None: ALLREDUCE_LATENCY_S of the instance's interconnect

    def allreduce_s(self, interconnect: str) -> float:
        if self.allreduce_latency_s is not None:
            return self.allreduce_latency_s
        return ALLREDUCE_LATENCY_S.get(interconnect, max(ALLREDUCE_LATENCY_S.values()))


EFFICIENCIES = Efficiencies()

_FRACTIONS = ("memory_efficiency", "compute_efficiency", "compute_efficiency_8bit", "link_efficiency")


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
