"""One LLM serving configuration at a glance: what fits, how fast alone, how much at saturation, at what price.

Everything here is a closed form over the roofline step model (:mod:`.steady_state`), so it is
instant: the first question of someone sizing a fleet ("does Llama-3.1-70B fit a g5.12xlarge in
int4, and what does a million output tokens cost there?") before simulating any traffic.
"""

from __future__ import annotations

from smsim.resources.llm.roofline import roofline_step_model, serving_hardware
from smsim.resources.llm.steady_state import (
    closed_form_tpot_s,
    low_load_tpot_s,
    low_load_ttft_s,
    saturation,
)

GB = 1e9


def fit_summary(
    instance_type: str,
    model: str,
    weight_dtype: str = "fp16",
    kv_dtype: str = "fp16",
    tp: int | None = None,
    *,
    input_tokens: int = 1000,
    output_tokens: int = 200,
    max_num_seqs: int = 256,
    max_model_len: int | None = None,
    region: str = "us-east-1",
    catalog=None,
) -> dict:
    """The layout of ``model`` on ``instance_type`` and its closed-form performance and cost.

    Raises :class:`~smsim.errors.InputError` (with the figures) when the model does not fit.
    ``catalog`` is a loaded price catalog (default: the built-in one); the price is the
    real-time inference on-demand rate in ``region``, or absent when the catalog has none.
    """
    hw = serving_hardware(instance_type, model, weight_dtype, kv_dtype, tp, max_model_len=max_model_len)
    m = roofline_step_model(hw)
    sat = saturation(hw, m, input_tokens, output_tokens, max_num_seqs)
    per_instance = sat.output_tokens_per_s * hw.copies_per_instance
    usd_per_hour = _price(instance_type, region, catalog)
    acc = hw.instance.accelerator
    return {
        "instance_type": hw.instance_type, "model": hw.model, "weight_dtype": hw.weight_dtype, "kv_dtype": hw.kv_dtype,
        "accelerator": acc.name, "accelerators": hw.instance.count, "accelerator_memory_gb": acc.memory_gb,
        "tp": hw.tp, "copies_per_instance": hw.copies_per_instance, "weights_gb": hw.weight_bytes / GB,
        "kv_bytes_per_token": hw.kv_bytes_per_token, "kv_capacity_tokens": hw.kv_capacity_tokens,
        "max_model_len": hw.max_model_len, "model_load_s": hw.load_time_s,
        "input_tokens": input_tokens, "output_tokens": output_tokens,
        "ttft_s": low_load_ttft_s(m, input_tokens), "tpot_s": low_load_tpot_s(m, input_tokens, output_tokens),
        "closed_form_tpot_s": closed_form_tpot_s(hw),
        "saturation_batch": sat.batch, "saturation_limited_by": sat.limited_by, "saturation_tpot_s": sat.tpot_s,
        "output_tokens_per_s_per_instance": per_instance,
        "requests_per_s_per_instance": sat.requests_per_s * hw.copies_per_instance,
        "usd_per_hour": usd_per_hour, "region": region,
        "usd_per_million_output_tokens": None if usd_per_hour is None else usd_per_hour / (per_instance * 3600) * 1e6,
    }


def _price(instance_type: str, region: str, catalog) -> float | None:
    from smsim.errors import InputError
    from smsim.pricing import load_catalog

    cat = catalog if catalog is not None else load_catalog()
    try:
        return cat.ondemand_usd_per_hour(instance_type, "RealTimeInference", region)
    except InputError:
        return None
