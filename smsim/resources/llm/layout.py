"""What one LLM endpoint runs: its step model and, per model copy, KV capacity, copies per
instance and model load time, from the spec (explicit values win) and, for a roofline step model,
from the hardware and model facts (:func:`smsim.resources.llm.memory.serving_hardware`).

A model that does not fit the instance (even at the largest tensor-parallel degree), an unknown
model or instance type is an :class:`~smsim.errors.InputError` with the figures, located at the
endpoint's ``step_model`` field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smsim.errors import InputError
from smsim.resources.llm.profile import StepForm, form_of, step_model


@dataclass(frozen=True)
class Layout:
    model: object  # a StepTimeModel
    form: StepForm
    kv_capacity_tokens: int
    copies_per_instance: int
    model_load_s: float
    tp: int | None = None
    accelerators_per_instance: int | None = None  # the instance's, when the facts tables know it

    def kv_capacity_blocks(self, block_size_tokens: int) -> int:
        return self.kv_capacity_tokens // block_size_tokens


def resolve(spec, base_dir: str | Path | None = None) -> Layout:
    """The :class:`Layout` of an ``llm`` endpoint spec."""
    sm = spec.step_model
    if sm.kind != "roofline":
        model = step_model(sm, base_dir)
        return Layout(model, form_of(model), int(spec.kv_capacity_tokens), spec.copies_per_instance or 1,
                      float(spec.model_load_s or 0.0))
    from smsim.resources.llm.roofline import roofline_step_model, serving_hardware

    try:
        hw = serving_hardware(spec.instance_type, sm.model, sm.weight_dtype, sm.kv_dtype, sm.tp,
                              max_model_len=sm.max_model_len)
    except InputError as exc:
        field = "instance_type" if exc.path == "instance_type" else "step_model" + (f".{exc.path}" if exc.path else "")
        raise InputError(exc.message, path=f"endpoints.{spec.name}.{field}", file=exc.file) from None
    model = roofline_step_model(hw)
    copies = spec.copies_per_instance or hw.copies_per_instance
    if copies * hw.tp > hw.instance.count:
        raise InputError(f"{copies} copies at tp={hw.tp} need {copies * hw.tp} accelerators; {spec.instance_type} "
                         f"has {hw.instance.count}", path=f"endpoints.{spec.name}.copies_per_instance")
    kv = spec.kv_capacity_tokens if spec.kv_capacity_tokens is not None else hw.kv_capacity_tokens
    load = spec.model_load_s if spec.model_load_s is not None else hw.load_time_s
    return Layout(model, form_of(model), int(kv), int(copies), float(load), hw.tp, int(hw.instance.count))


__all__ = ["Layout", "resolve"]
