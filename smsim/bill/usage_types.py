"""What a bill line is, from its product code, usage type and line-item type.

SageMaker usage types read ``[PREFIX-]TOKEN:DETAIL``: the region prefix (``USE1``, ``EU`` ...; absent
in some exports), a component token (``Train``, ``TrSpt`` for managed spot training, ``Host``,
``AsyncInf``, ``Tsform``, ``Processing``, ``Notebk``, ``Studio``, ``TrainWarmPool``,
``ServerlessInf``) and a detail: an instance type (``ml.m5.xlarge``, ``JupyterLab-ml.t3.medium``),
``VolumeUsage.gp2`` (ML storage), ``Data-Bytes-In`` / ``Data-Bytes-Out`` (endpoint data) or
``GB-Seconds`` (serverless compute). The vocabulary is :mod:`smsim.pricing.vocabulary`'s, so a
usage type smsim writes decodes to what it was written from.

Line-item types set the pricing class: ``SavingsPlanCoveredUsage``, ``SavingsPlanNegation``,
``SavingsPlanRecurringFee`` and ``SavingsPlanUpfrontFee`` are savings-plan lines; ``Discount``
and its kinds are the enterprise discount; ``Credit``, ``Refund``, ``Tax``, ``Fee`` ... keep their
own name. Lines of services other than SageMaker are kept, labelled with their product code as
component and ``other_service`` as resource kind.
"""

from __future__ import annotations

import re

from smsim.pricing.vocabulary import PREFIX_REGION, SPOT_USAGE_TOKEN, TOKEN_COMPONENT

SAGEMAKER_PRODUCTS = frozenset({"AmazonSageMaker", "Amazon SageMaker"})
SAVINGS_PLAN_PRODUCTS = frozenset({"MachineLearningSavingsPlans", "ComputeSavingsPlans", "SavingsPlans for AWS Machine Learning"})

#: Component token -> component, with serverless and the unprefixed "Hosting" wording.
_TOKENS = TOKEN_COMPONENT | {SPOT_USAGE_TOKEN: "Training", "ServerlessInf": "ServerlessInference",
                             "Hosting": "RealTimeInference"}
_KIND = {
    "Training": "training", "TrainingWarmPool": "training", "RealTimeInference": "endpoint",
    "AsyncInference": "endpoint", "ServerlessInference": "endpoint", "BatchTransform": "batch",
    "Processing": "processing", "Notebook": "notebook", "Studio": "studio", "SavingsPlan": "savings_plan",
}
_PREFIX = re.compile(r"^(?P<prefix>[A-Z]{2,4}[0-9]?)-(?P<body>.+)$")
_SP_LINES = {
    "SavingsPlanCoveredUsage": "savings_plan_covered", "SavingsPlanNegation": "savings_plan_negation",
    "SavingsPlanRecurringFee": "savings_plan_commitment", "SavingsPlanUpfrontFee": "savings_plan_upfront",
}
_DISCOUNTS = frozenset({"Discount", "EdpDiscount", "PrivateRateDiscount", "BundledDiscount", "EnterpriseDiscount"})

#: What :func:`decode` returns, in order.
DECODED = ("component", "resource_kind", "instance_type", "region", "market", "pricing_class", "usage")


def split_usage_type(usage_type: str) -> tuple[str, str, str]:
    """``(region, token, detail)`` of a usage type; region "" when it has no known prefix.

    >>> split_usage_type("USE1-Host:ml.m5.xlarge")
    ('us-east-1', 'Host', 'ml.m5.xlarge')
    >>> split_usage_type("Host:ml.m5.xlarge")
    ('', 'Host', 'ml.m5.xlarge')
    """
    region = ""
    body = usage_type.strip()
    m = _PREFIX.match(body)
    if m and (m["prefix"] in PREFIX_REGION or re.fullmatch(r"[A-Z]{3}[0-9]", m["prefix"])):
        region = PREFIX_REGION.get(m["prefix"], "")
        body = m["body"]
    token, _, detail = body.partition(":")
    return region, token, detail


def _instance(detail: str) -> str:
    at = detail.find("ml.")
    return detail[at:] if at >= 0 and re.fullmatch(r"ml\.[\w.-]+", detail[at:]) else ""


def decode(product: str, usage_type: str, line_type: str,
           pricing_category: str = "") -> tuple[str, ...]:
    """The :data:`DECODED` fields of a line: component, resource kind, instance type, region,
    market, pricing class and what was used (``instance``, ``storage``, ``data_in``,
    ``data_out``, ``serverless_gb_seconds``, ``serverless_data``, ``fee``, ``other``).

    ``pricing_category`` is FOCUS's (``Standard``, ``Dynamic`` for spot, ``Committed``).
    """
    region, token, detail = split_usage_type(usage_type or "")
    instance = _instance(detail)
    sagemaker = product in SAGEMAKER_PRODUCTS or (not product and token in _TOKENS)
    if line_type in ("SavingsPlanRecurringFee", "SavingsPlanUpfrontFee") or product in SAVINGS_PLAN_PRODUCTS:
        return ("SavingsPlan", "savings_plan", "", region, "", _SP_LINES.get(line_type, "savings_plan_commitment"),
                "fee")
    if sagemaker and token in _TOKENS:
        component = _TOKENS[token]
    elif sagemaker:
        component = f"SageMaker:{token}" if token else "SageMaker"
    else:
        component = product or "Unknown"
    kind = _KIND.get(component, "sagemaker_other" if sagemaker else "other_service")
    spot = token == SPOT_USAGE_TOKEN or pricing_category == "Dynamic"
    market = "Spot" if spot else "OnDemand"
    if line_type in _SP_LINES:
        pricing_class = _SP_LINES[line_type]
    elif line_type in _DISCOUNTS:
        pricing_class = "enterprise_discount"
    elif line_type not in ("Usage", ""):
        pricing_class = re.sub(r"(?<!^)(?=[A-Z])", "_", line_type).lower()  # Credit -> credit, RIFee -> r_i_fee
    elif instance:
        pricing_class = "spot" if spot else "on_demand"
    elif "VolumeUsage" in detail or "TimedStorage" in token or "Storage" in detail:
        pricing_class = "storage"
    else:
        pricing_class = "metered"
    return component, kind, instance, region, market, pricing_class, _usage(instance, token, detail)


def _usage(instance: str, token: str, detail: str) -> str:
    if instance:
        return "instance"
    if "VolumeUsage" in detail or "Storage" in token:
        return "storage"
    if detail.endswith("Data-Bytes-In"):
        return "data_in"
    if detail.endswith("Data-Bytes-Out") or "Out-Bytes" in token:
        return "data_out"
    if token == "ServerlessInf":
        return "serverless_gb_seconds" if detail.startswith("GB-Second") else "serverless_data"
    return "other"

