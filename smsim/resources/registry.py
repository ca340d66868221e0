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
from smsim.resources.deployment.spec import BlueGreenSpec, RollingSpec, ShadowSpec
from smsim.resources.edge.spec import EdgeFleetSpec
from smsim.resources.fleet.spec import FleetSpec
from smsim.resources.llm.spec import LlmEndpointSpec
from smsim.resources.monitoring.spec import ModelMonitorSpec
from smsim.resources.multimodel.spec import MultiModelEndpointSpec
from smsim.resources.notebooks.spec import NotebookSpec
from smsim.resources.offload import offloaded
from smsim.resources.pipelines.spec import PipelineSpec
from smsim.resources.realtime.spec import RealtimeEndpointSpec
from smsim.resources.serverless.spec import ServerlessEndpointSpec
from smsim.resources.storage.spec import S3DataSpec, TransferSpec
from smsim.resources.tracking.spec import MlflowTrackingServerSpec
from smsim.resources.training.spec import TrainingJobSpec
from smsim.resources.tuning.spec import TuningJobSpec


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
    "tuning_jobs": False,
    "batch_jobs": True,
    "processing_jobs": True,
    "notebooks": False,
    "storage": True,
    "pipelines": False,
    "deployments": True,
    "monitoring": False,
    "tracking": False,
    "edge": False,
}

KINDS: list[Kind] = [
    Kind("endpoints", RealtimeEndpointSpec, "smsim.resources.realtime.model:RealtimeEndpointModel"),
    Kind("endpoints", ServerlessEndpointSpec, "smsim.resources.serverless.model:ServerlessModel"),
    Kind("endpoints", AsyncEndpointSpec, "smsim.resources.asynchronous.model:AsyncEndpointModel"),
    Kind("endpoints", MultiModelEndpointSpec, "smsim.resources.multimodel.model:MultiModelEndpoint"),
    Kind("endpoints", LlmEndpointSpec, "smsim.resources.llm.model:LlmEndpointModel"),
    Kind("fleets", FleetSpec, "smsim.resources.fleet.model:FleetModel"),
    Kind("training_jobs", TrainingJobSpec, "smsim.resources.training.model:TrainingModel"),
    Kind("tuning_jobs", TuningJobSpec, "smsim.resources.tuning.model:TuningModel"),
    Kind("batch_jobs", BatchTransformSpec, "smsim.resources.batch.model:BatchTransformModel"),
    Kind("processing_jobs", ProcessingJobSpec, "smsim.resources.batch.model:ProcessingModel"),
    Kind("notebooks", NotebookSpec, "smsim.resources.notebooks.model:NotebookModel"),
    Kind("storage", S3DataSpec, "smsim.resources.storage.model:S3Model"),
    Kind("storage", TransferSpec, "smsim.resources.storage.model:TransferModel"),
    Kind("pipelines", PipelineSpec, "smsim.resources.pipelines.model:PipelineModel"),
    Kind("deployments", BlueGreenSpec, "smsim.resources.deployment.model:DeploymentModel"),
    Kind("deployments", RollingSpec, "smsim.resources.deployment.model:DeploymentModel"),
    Kind("deployments", ShadowSpec, "smsim.resources.deployment.model:DeploymentModel"),
    Kind("monitoring", ModelMonitorSpec, "smsim.resources.monitoring.model:ModelMonitorModel"),
    Kind("tracking", MlflowTrackingServerSpec, "smsim.resources.tracking.model:MlflowModel"),
    Kind("edge", EdgeFleetSpec, "smsim.resources.edge.model:EdgeFleetModel"),
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
    :func:`smsim.core.engine.simulate`), its endpoints thinned by the shares edge fleets serve
    (:func:`smsim.resources.offload.offloaded`). Pure in (scenario, seed): same inputs, same numbers."""
    return engine.simulate(offloaded(scenario), builders(), seed=seed, catalog=catalog, progress=progress)


__all__ = ["KINDS", "SECTIONS", "Kind", "builders", "section_type", "simulate"]
