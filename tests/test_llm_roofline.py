"""The roofline step-time model and what fits: hand-computed bytes and times, fit errors, monotonicity."""

from __future__ import annotations

import numpy as np
import pytest

from smsim.errors import InputError
from smsim.resources.llm.calibration import EFFICIENCIES
from smsim.resources.llm.memory import ENGINE_START_S, MODEL_LOAD_GB_PER_S
from smsim.resources.llm.roofline import StepTimeModel, roofline_step_model, serving_hardware
from smsim.resources.llm.steady_state import (
    closed_form_tpot_s,
    low_load_tpot_s,
    low_load_ttft_s,
    saturation,
)

LLAMA8_LINEAR = 6_979_321_856  # 32 x (q, k, v, o, gate, up, down)
LLAMA8_EMBED = 128256 * 4096  # the embedding table; the LM head is the same size (untied)
LLAMA8_NORMS = 65 * 4096


def test_kv_bytes_per_token_by_hand():
    assert serving_hardware("ml.g5.xlarge", "Llama-3.1-8B").kv_bytes_per_token == 2 * 32 * 8 * 128 * 2 == 131072
    assert serving_hardware("ml.p4de.24xlarge", "Llama-3.1-70B").kv_bytes_per_token == 2 * 80 * 8 * 128 * 2
    assert serving_hardware("ml.g5.xlarge", "Llama-3.1-8B", kv_dtype="fp8").kv_bytes_per_token == 65536


def test_weight_bytes_by_hand_per_dtype():
    half = (2 * LLAMA8_EMBED + LLAMA8_NORMS) * 2  # embedding, LM head and norms stay 16-bit
    assert serving_hardware("ml.g6e.xlarge", "Llama-3.1-8B").weight_bytes == 8_030_261_248 * 2
    assert serving_hardware("ml.g6e.xlarge", "Llama-3.1-8B", "fp8").weight_bytes == LLAMA8_LINEAR + half
    int4 = serving_hardware("ml.g6e.xlarge", "Llama-3.1-8B", "int4").weight_bytes
    assert int4 == pytest.approx(LLAMA8_LINEAR * (0.5 + 2 / 128) + half)
    assert serving_hardware("ml.p4de.24xlarge", "Llama-3.1-70B").weight_bytes == 70_553_706_496 * 2


def test_batch_one_decode_is_bytes_over_bandwidth_plus_the_overhead():
    hw = serving_hardware("ml.p4d.24xlarge", "Llama-3.1-8B", tp=1)  # one A100 40GB, 1555 GB/s
    context = 1000
    read = (LLAMA8_LINEAR + LLAMA8_EMBED + LLAMA8_NORMS) * 2  # every weight but the embedding lookup
    kv = (context + 1) * 131072  # the context read and the new token's K, V written
    exact = roofline_step_model(hw, memory_efficiency=1.0, step_overhead_s=0.0)
    assert exact.step_time_s(0, 1, context) == pytest.approx((read + kv) / 1555e9, rel=1e-12)
    default = roofline_step_model(hw)
    expected = (read + kv) / (1555e9 * EFFICIENCIES.memory_efficiency) + EFFICIENCIES.step_overhead_s
    assert default.step_time_s(0, 1, context) == pytest.approx(expected, rel=1e-12)
    # the closed form (datasheet bandwidth, no KV, no overhead) is the floor below it
    assert closed_form_tpot_s(hw) == pytest.approx(read / 1555e9)
    assert closed_form_tpot_s(hw) < default.step_time_s(0, 1, context)


def test_prefill_is_flops_over_peak():
    hw = serving_hardware("ml.p4d.24xlarge", "Llama-3.1-8B", tp=1)  # A100 bf16 312 TFLOP/s
    m = roofline_step_model(hw, compute_efficiency=1.0, memory_efficiency=1.0, step_overhead_s=0.0)
    p = 4096
    linear = 2 * p * LLAMA8_LINEAR + 2 * LLAMA8_EMBED  # LM head for the one sequence that samples
    attention = 4 * 32 * 4096 * (p + p * p / 2)  # kv_tokens pairs + causal pairs of the chunk
    assert m.step_time_s(p, 0, p) == pytest.approx((linear + attention) / 312e12, rel=1e-12)


def test_a_model_that_does_not_fit_says_how_much_it_needs_and_what_there_is():
    with pytest.raises(InputError) as err:
        serving_hardware("ml.g5.12xlarge", "Llama-3.1-70B")
    assert str(err.value) == (
        "instance_type: Llama-3.1-70B fp16 needs 141 GB of weights; ml.g5.12xlarge has 4 x 24 GB = 96 GB")
    with pytest.raises(InputError, match=r"needs 141 GB of weights and 1\.3 GB of fp16 KV cache .* at tp=2 \(the "
                                         r"largest degree dividing its 64 attention heads\) ml.inf2.24xlarge offers"):
        serving_hardware("ml.inf2.24xlarge", "Llama-3.1-70B")
    with pytest.raises(InputError, match="tp must divide both the accelerator count and the 32 attention heads: 1, 2, 4, 8"):
        serving_hardware("ml.g5.48xlarge", "Llama-3.1-8B", tp=3)
    with pytest.raises(InputError, match="weight_dtype 'fp4' is not one of"):
        serving_hardware("ml.g5.48xlarge", "Llama-3.1-8B", "fp4")


def test_quantisation_changes_what_fits():
    assert serving_hardware("ml.g5.12xlarge", "Llama-3.1-70B", "int4").tp == 4
    assert serving_hardware("ml.p4d.24xlarge", "Llama-3.1-70B").tp == 8  # 4 x 34.5 GB < 141 GB
    hw = serving_hardware("ml.p4de.24xlarge", "Llama-3.1-70B")
    assert (hw.tp, hw.copies_per_instance) == (4, 2)
    assert serving_hardware("ml.p5.48xlarge", "Llama-3.1-70B", "fp8").copies_per_instance == 4


def test_kv_capacity_by_hand():
    hw = serving_hardware("ml.g5.xlarge", "Llama-3.1-8B")
    free = (24 * 0.9 - 1.5) * 1e9 - 8_030_261_248 * 2
    assert hw.kv_capacity_tokens == int(free // 131072) // 16 * 16 == 30816
    fp8 = serving_hardware("ml.g5.xlarge", "Llama-3.1-8B", kv_dtype="fp8").kv_capacity_tokens
    assert abs(fp8 - 2 * hw.kv_capacity_tokens) <= 16
    # tp beyond the KV heads replicates them: Llama-3.1-8B has 8, a trn1.32xlarge 16 chips
    wide = serving_hardware("ml.trn1.32xlarge", "Llama-3.1-8B", tp=16)
    assert wide.kv_replication == 2
    free16 = 16 * (32 * 0.9 - 1.5) * 1e9 - wide.weight_bytes
    assert wide.kv_capacity_tokens == int(free16 // (131072 * 2)) // 16 * 16


def test_a_copy_must_hold_one_full_sequence():
    with pytest.raises(InputError, match="for one 131072-token sequence"):
        serving_hardware("ml.g5.xlarge", "Llama-3.1-8B", max_model_len=131072)
    assert serving_hardware("ml.g5.12xlarge", "Llama-3.1-8B", max_model_len=131072).tp == 2


def test_load_time_follows_the_model_size():
    hw = serving_hardware("ml.p4de.24xlarge", "Llama-3.1-70B")
    assert hw.load_time_s == pytest.approx(ENGINE_START_S + 141.107412992 / MODEL_LOAD_GB_PER_S)
    assert serving_hardware("ml.p4de.24xlarge", "Llama-3.1-70B", "fp8").load_time_s < hw.load_time_s


CONFIGS = [("ml.g5.xlarge", "Llama-3.1-8B", "fp16", None), ("ml.p5.48xlarge", "Llama-3.1-70B", "fp8", 4),
           ("ml.p5.48xlarge", "Mixtral-8x7B", "fp16", 2), ("ml.g5.12xlarge", "Llama-3.1-70B", "int4", 4),
           ("ml.inf2.48xlarge", "Qwen2.5-7B", "fp16", 4)]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_more_work_is_never_faster(config):
    m = roofline_step_model(serving_hardware(*config[:3], tp=config[3]))
    rng = np.random.default_rng(np.random.SeedSequence(15).spawn(1)[0])
    for _ in range(300):
        p, d, k = (int(x) for x in rng.integers(0, [4096, 256, 200_000]))
        base = m.step_time_s(p, d, k)
        for more in ((p + 1 + int(rng.integers(0, 512)), d, k), (p, d + 1, k), (p, d, k + int(rng.integers(1, 10_000)))):
            assert m.step_time_s(*more) >= base
    assert m.step_time_s(0, 0, 0) == 0.0


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_vectorised_steps_equal_the_scalar_ones(config):
    m = roofline_step_model(serving_hardware(*config[:3], tp=config[3]))
    p = np.array([0, 0, 512, 2048, 0, 17])
    d = np.array([0, 1, 0, 30, 64, 3])
    k = np.array([0, 900, 512, 70_000, 64_000, 5000])
    scalar = [m.step_time_s(int(a), int(b), int(c)) for a, b, c in zip(p, d, k)]
    np.testing.assert_allclose(m.step_times_s(p, d, k), scalar, rtol=1e-12)
    assert isinstance(m, StepTimeModel)


def test_tensor_parallelism_splits_the_work_and_pays_for_the_all_reduces():
    tp4 = roofline_step_model(serving_hardware("ml.p4de.24xlarge", "Llama-3.1-70B", tp=4))
    tp8 = roofline_step_model(serving_hardware("ml.p4de.24xlarge", "Llama-3.1-70B", tp=8))
    decode4, decode8 = tp4.step_time_s(0, 1, 2000), tp8.step_time_s(0, 1, 2000)
    assert decode4 / 2 < decode8 < decode4  # faster, but overhead and all-reduces do not halve
    bare = dict(step_overhead_s=0.0, allreduce_latency_s=0.0)
    p4 = roofline_step_model(serving_hardware("ml.p4de.24xlarge", "Llama-3.1-70B", tp=4), **bare)
    p8 = roofline_step_model(serving_hardware("ml.p4de.24xlarge", "Llama-3.1-70B", tp=8), **bare)
    # a long prefill is compute-bound: twice the accelerators, half the FLOP time, plus the larger ring
    ratio = p8.step_time_s(8192, 0, 8192) / p4.step_time_s(8192, 0, 8192)
    assert 0.5 < ratio < 0.6


def test_moe_reads_only_the_experts_its_tokens_route_to():
    m = roofline_step_model(serving_hardware("ml.p5.48xlarge", "Mixtral-8x7B", tp=2), step_overhead_s=0.0,
                            allreduce_latency_s=0.0)
    one, many = m.step_time_s(0, 1, 0), m.step_time_s(0, 256, 0)
    shape = serving_hardware("ml.p5.48xlarge", "Mixtral-8x7B", tp=2).shape
    assert many / one == pytest.approx(shape.weight_bytes("fp16") / shape.active_weight_bytes("fp16"), rel=0.05)


def test_efficiency_overrides_are_checked():
    hw = serving_hardware("ml.g5.xlarge", "Llama-3.1-8B")
    assert roofline_step_model(hw, memory_efficiency=1.0).step_time_s(0, 1, 100) < \
        roofline_step_model(hw).step_time_s(0, 1, 100)
    with pytest.raises(InputError, match=r"unknown efficiency 'memory_eficiency' \(did you mean 'memory_efficiency'"):
        roofline_step_model(hw, memory_eficiency=0.9)
    with pytest.raises(InputError, match=r"compute_efficiency must be in \(0, 1\], found 1.5"):
        roofline_step_model(hw, compute_efficiency=1.5)


def test_steady_state_closed_forms_agree_with_the_step_model():
    hw = serving_hardware("ml.p5.48xlarge", "Llama-3.1-8B", "fp8", "fp8", tp=1)
    m = roofline_step_model(hw)
    sat = saturation(hw, m, 1000, 1000, max_num_seqs=64)
    assert (sat.batch, sat.limited_by) == (64, "max_num_seqs")
    assert sat.output_tokens_per_s == pytest.approx(64 / m.step_time_s(64, 64, 64 * 1500 + 64))
    assert sat.requests_per_s == pytest.approx(sat.output_tokens_per_s / 1000)
    big = saturation(hw, m, 1000, 1000, max_num_seqs=100_000)
    assert big.limited_by == "kv_cache" and big.batch == hw.kv_capacity_tokens // 1500
    assert big.output_tokens_per_s > sat.output_tokens_per_s
    assert low_load_ttft_s(m, 16384, 8192) == pytest.approx(m.step_time_s(8192, 0, 8192) + m.step_time_s(8192, 0, 16384))
    expected = np.mean([m.step_time_s(0, 1, 100 + j) for j in range(1, 50)])
    assert low_load_tpot_s(m, 100, 50) == pytest.approx(expected, rel=1e-12)


def test_every_model_instance_and_dtype_either_fits_consistently_or_says_why():
    from smsim.resources.llm.facts import fact_table

    models = list(fact_table("llm_models.csv")["model"])
    instances = list(fact_table("accelerator_instances.csv")["instance_type"])
    fits = 0
    for model in models:
        for instance in instances:
            for wd, kv in (("fp16", "fp16"), ("fp8", "fp8"), ("int8", "fp16"), ("int4", "fp8")):
                try:
                    hw = serving_hardware(instance, model, wd, kv)
                except InputError as exc:
                    assert "GB" in exc.message and model in exc.message, exc.message
                    continue
                fits += 1
                acc = hw.instance.accelerator
                assert hw.kv_capacity_tokens >= hw.max_model_len
                assert hw.copies_per_instance * hw.tp <= hw.instance.count
                assert hw.weight_bytes / hw.tp < acc.memory_gb * 1e9 * hw.gpu_memory_utilization
                assert hw.instance.count % hw.tp == 0 and hw.shape.attention_heads % hw.tp == 0
                smaller = [d for d in range(1, hw.tp) if hw.instance.count % d == 0 and hw.shape.attention_heads % d == 0]
                for d in smaller:  # the smallest degree that fits was chosen
                    with pytest.raises(InputError):
                        serving_hardware(instance, model, wd, kv, d)
    assert fits > 500
