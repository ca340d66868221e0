"""The words prices and bills are written in: SageMaker components, usage-type tokens, regions.

Component names are smsim's; the usage-type tokens (``Train``, ``TrSpt``, ``Host``, ...) and region
prefixes (``USE1``, ``EU``, ...) are the ones seen in the AWS Price List and in AWS bills (see
``data/pricing/SOURCES.md``). ``Any`` in a price row means "every component" (the documented rule
that a type costs the same per hour whichever component runs it, unless a component row says
otherwise).
"""

from __future__ import annotations

#: SageMaker components that run ML instances and are billed per instance-second.
COMPONENTS: tuple[str, ...] = (
    "Training",
    "RealTimeInference",
    "AsyncInference",
    "BatchTransform",
    "Processing",
    "Notebook",
    "Studio",
    "TrainingWarmPool",
)
ANY_COMPONENT = "Any"

#: Components on which managed spot capacity can be used (only training jobs).
SPOT_COMPONENTS: frozenset[str] = frozenset({"Training"})

TERMS: tuple[str, ...] = ("1y", "3y")
PAYMENTS: tuple[str, ...] = ("no-upfront", "partial-upfront", "all-upfront")

#: Usage-type token per component, as in ``USE1-Train:ml.m5.large``.
USAGE_TOKEN: dict[str, str] = {
    "Training": "Train",
    "RealTimeInference": "Host",
    "AsyncInference": "AsyncInf",
    "BatchTransform": "Tsform",
    "Processing": "Processing",
    "Notebook": "Notebk",
    "Studio": "Studio",
    "TrainingWarmPool": "TrainWarmPool",
}
SPOT_USAGE_TOKEN = "TrSpt"

#: Usage-type tokens read from price lists, to components (``Hosting`` appears in unprefixed forms).
TOKEN_COMPONENT: dict[str, str] = {v: k for k, v in USAGE_TOKEN.items()} | {"Hosting": "RealTimeInference"}

#: Price-list / bill wording of a component, as in "$0.257 per Hosting ml.m5.xlarge hour".
PRICE_WORDING: dict[str, str] = {
    "Training": "Training",
    "RealTimeInference": "Hosting",
    "AsyncInference": "Async Inference",
    "BatchTransform": "BatchTransform Job",
    "Processing": "Processing",
    "Notebook": "Notebook",
    "Studio": "Studio-Notebook",
    "TrainingWarmPool": "Training Warm Pool",
}

#: Usage-type region prefix per region code (USE1, USE2, APN1, APS3 and EU are seen in AWS data;
#: the others follow the same AWS convention).
REGION_PREFIX: dict[str, str] = {
    "us-east-1": "USE1",
    "us-east-2": "USE2",
    "us-west-1": "USW1",
    "us-west-2": "USW2",
    "ca-central-1": "CAN1",
    "sa-east-1": "SAE1",
    "eu-west-1": "EU",
    "eu-west-2": "EUW2",
    "eu-west-3": "EUW3",
    "eu-central-1": "EUC1",
    "eu-north-1": "EUN1",
    "ap-south-1": "APS3",
    "ap-southeast-1": "APS1",
    "ap-southeast-2": "APS2",
    "ap-northeast-1": "APN1",
    "ap-northeast-2": "APN2",
    "ap-northeast-3": "APN3",
}
PREFIX_REGION: dict[str, str] = {v: k for k, v in REGION_PREFIX.items()}

REGION_NAME: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}


def region_prefix(region: str) -> str:
    """The usage-type prefix of ``region`` (``"USE1"``); the region code itself when unknown."""
    return REGION_PREFIX.get(region, region)


def usage_type(region: str, component: str, instance_type: str, spot: bool = False) -> str:
    """The CUR usage type of instance usage, e.g. ``USE1-Host:ml.g5.xlarge``."""
    token = SPOT_USAGE_TOKEN if spot else USAGE_TOKEN.get(component, component)
    if component == "Studio" and not spot:
        return f"{region_prefix(region)}-Studio:JupyterLab-{instance_type}"
    return f"{region_prefix(region)}-{token}:{instance_type}"
