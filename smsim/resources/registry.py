"""The registry of resource kinds: one line per kind.

A kind is a scenario section (``endpoints``, ``fleets``, ...), the pydantic spec of its entries
(whose ``kind`` literal tells it apart from the section's other kinds) and the simulation model
that the engine builds for each entry, named ``"module:Class"`` and imported only when a
scenario runs. The scenario schema builds each section's type from :data:`KINDS`
(:func:`section_type`) and :func:`simulate` hands the engine each kind's model, so adding a kind
is one new folder under ``smsim/resources`` and one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import Field

from smsim.core import engine
from smsim.resources.asynchronous.spec import AsyncEndpointSpec
from smsim.resources.batch.spec import BatchTransformSpec, ProcessingJobSpec
from smsim.resources.fleet.spec import FleetSpec
from smsim.resources.llm.spec import LlmEndpointSpec
from smsim.resources.multimodel.spec import MultiModelEndpointSpec
from smsim.resources.notebooks.spec import NotebookSpec
from smsim.resources.realtime.spec import RealtimeEndpointSpec
from smsim.resources.serverless.spec import ServerlessEndpointSpec
from smsim.resources.storage.spec import S3DataSpec, TransferSpec
from smsim.resources.training.spec import TrainingJobSpec


@dataclass(frozen=True)
class Kind:
    section: str
    spec: type
    model: str  # "module:Class", called as Class(spec, ctx)

    @property
    def names(self) -> tuple[str, ...]:
        """The ``kind`` values this spec accepts."""
        annotation = self.spec.model_fields["kind"].annotation
        assert get_origin(annotation) is Literal, self.spec
        return get_args(annotation)


#: Scenario sections in the order they are simulated and reported, each with whether its entries
#: are a union tagged by ``kind`` (True) or one model (False).
SECTIONS: dict[str, bool] = {
    "endpoints": True,
    "fleets": False,
    "training_jobs": False,
    "batch_jobs": True,
    "processing_jobs": True,
    "notebooks": False,
    "storage": True,
}

KINDS: list[Kind] = [
    Kind("endpoints", RealtimeEndpointSpec, "smsim.resources.realtime.model:RealtimeEndpointModel"),
    Kind("endpoints", ServerlessEndpointSpec, "smsim.resources.serverless.model:ServerlessModel"),
    Kind("endpoints", AsyncEndpointSpec, "smsim.resources.asynchronous.model:AsyncEndpointModel"),
    Kind("endpoints", MultiModelEndpointSpec, "smsim.resources.multimodel.model:MultiModelEndpoint"),
    Kind("endpoints", LlmEndpointSpec, "smsim.resources.llm.model:LlmEndpointModel"),
    Kind("fleets", FleetSpec, "smsim.resources.fleet.model:FleetModel"),
    Kind("training_jobs", TrainingJobSpec, "smsim.resources.training.model:TrainingModel"),
    Kind("batch_jobs", BatchTransformSpec, "smsim.resources.batch.model:BatchTransformModel"),
    Kind("processing_jobs", ProcessingJobSpec, "smsim.resources.batch.model:ProcessingModel"),
    Kind("notebooks", NotebookSpec, "smsim.resources.notebooks.model:NotebookModel"),
    Kind("storage", S3DataSpec, "smsim.resources.storage.model:S3Model"),
    Kind("storage", TransferSpec, "smsim.resources.storage.model:TransferModel"),
]


def section_type(section: str) -> Any:
    """The type of one entry of ``section``: its kinds' specs as a union tagged by ``kind``, or
    the section's one spec."""
    specs = tuple(k.spec for k in KINDS if k.section == section)
    if not SECTIONS[section]:
        (spec,) = specs
        return spec
    return Annotated[Union[specs], Field(discriminator="kind")]  # noqa: UP007 (built from the registry)


def builders() -> dict[tuple[str, str], engine.Builder]:
    """``(section, kind) -> model class`` for every registered kind (imports the models)."""
    out: dict[tuple[str, str], engine.Builder] = {}
    for k in KINDS:
        module, name = k.model.split(":")
        model = getattr(importlib.import_module(module), name)
        for kind in k.names:
            out[(k.section, kind)] = model
    return out


def simulate(scenario, *, seed: int | None = None, catalog=None, progress=None) -> engine.SimResult:
    """Run ``scenario`` to its horizon with every registered kind's model (see
    :func:`smsim.core.engine.simulate`). Pure in (scenario, seed): same inputs, same numbers."""
    return engine.simulate(scenario, builders(), seed=seed, catalog=catalog, progress=progress)


__all__ = ["KINDS", "SECTIONS", "Kind", "builders", "section_type", "simulate"]
