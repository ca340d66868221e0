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
    layout = _resolve(spec, base_dir)
    copy_accelerators(spec, layout)  # an inference component's copy fits its instance
    return layout


def copy_accelerators(spec, layout: Layout) -> tuple[int, int]:
    """``(accelerators one copy holds, accelerators one instance has)`` for an inference
    component; raises :class:`InputError` when a copy needs more than an instance has."""
    ic = spec.inference_component
    need = (ic.accelerators_per_copy if ic is not None else None) or layout.tp or 1
    per_instance = ((ic.accelerators_per_instance if ic is not None else None) or layout.accelerators_per_instance
                    or (spec.copies_per_instance or 1) * need)
    if need > per_instance:
        raise InputError(f"a copy needs {need} accelerators; {spec.instance_type} has {per_instance}",
                         path=f"endpoints.{spec.name}.inference_component.accelerators_per_copy")
    return need, per_instance


def _resolve(spec, base_dir: str | Path | None) -> Layout:
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


__all__ = ["Layout", "copy_accelerators", "resolve"]
