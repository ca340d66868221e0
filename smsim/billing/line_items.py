"""How each kind of usage is written on a bill: product code, usage type, operation, unit, wording.

Instance usage follows the usage types seen in the AWS Price List and bills (``USE1-Train:ml.m5.large``,
``USE1-TrSpt:...`` for managed spot); see :mod:`smsim.pricing.vocabulary`. Non-instance rate keys
use AWS-style names (S3 ``TimedStorage-ByteHrs``, ``Requests-Tier1`` ...) that smsim keeps as a
convention; they are labels for grouping, not facts the prices depend on.
"""

from __future__ import annotations

from smsim.pricing.vocabulary import PRICE_WORDING, REGION_NAME, USAGE_TOKEN, region_prefix

#: rate_key -> (product code, usage-type suffix, operation, pricing unit, what one unit is)
RATE_LINES: dict[str, tuple[str, str, str, str, str]] = {
    "serverless_compute_gb_second": ("AmazonSageMaker", "ServerlessInf:GB-Seconds", "Invoke-Endpoint", "GB-Second", "GB-second of serverless inference"),
    "serverless_data_gb": ("AmazonSageMaker", "ServerlessInf:Data-Bytes", "Invoke-Endpoint", "GB", "GB of serverless inference data processed"),
    "endpoint_data_in_gb": ("AmazonSageMaker", "Host:Data-Bytes-In", "Invoke-Endpoint", "GB", "GB for Endpoint Data IN"),
    "endpoint_data_out_gb": ("AmazonSageMaker", "Host:Data-Bytes-Out", "Invoke-Endpoint", "GB", "GB for Endpoint Data OUT"),
    "ml_storage_gb_month": ("AmazonSageMaker", "{token}:VolumeUsage.gp2", "CreateVolume-Gp2", "GB-Mo", "GB-Mo of {wording} ML storage"),
    "ml_storage_notebook_gb_month": ("AmazonSageMaker", "Notebk:VolumeUsage.gp2", "CreateVolume-Gp2", "GB-Mo", "GB-Mo of Notebook Instance ML storage"),
    "studio_storage_gb_month": ("AmazonSageMaker", "Studio:VolumeUsage.gp3", "CreateVolume-Gp3", "GB-Mo", "GB-Mo of Studio space storage"),
    "s3_standard_gb_month": ("AmazonS3", "TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", "GB-Mo of S3 Standard storage"),
    "s3_standard_ia_gb_month": ("AmazonS3", "TimedStorage-SIA-ByteHrs", "StandardIAStorage", "GB-Mo", "GB-Mo of S3 Standard-IA storage"),
    "s3_one_zone_ia_gb_month": ("AmazonS3", "TimedStorage-ZIA-ByteHrs", "OneZoneIAStorage", "GB-Mo", "GB-Mo of S3 One Zone-IA storage"),
    "s3_glacier_ir_gb_month": ("AmazonS3", "TimedStorage-GIR-ByteHrs", "GlacierInstantRetrievalStorage", "GB-Mo", "GB-Mo of S3 Glacier Instant Retrieval storage"),
    "s3_glacier_flexible_gb_month": ("AmazonS3", "TimedStorage-GlacierByteHrs", "GlacierStorage", "GB-Mo", "GB-Mo of S3 Glacier Flexible Retrieval storage"),
    "s3_deep_archive_gb_month": ("AmazonS3", "TimedStorage-GDA-ByteHrs", "DeepArchiveStorage", "GB-Mo", "GB-Mo of S3 Glacier Deep Archive storage"),
    "s3_put_requests_per_1000": ("AmazonS3", "Requests-Tier1", "PutObject", "1000 Requests", "1,000 PUT, COPY, POST or LIST requests"),
    "s3_get_requests_per_1000": ("AmazonS3", "Requests-Tier2", "GetObject", "1000 Requests", "1,000 GET and other requests"),
    "s3_glacier_flexible_retrieval_gb": ("AmazonS3", "Retrieval-Bytes", "RestoreObject", "GB", "GB retrieved from S3 Glacier Flexible Retrieval"),
    "data_transfer_out_internet_gb": ("AWSDataTransfer", "DataTransfer-Out-Bytes", "", "GB", "GB data transfer out to the internet"),
    "data_transfer_inter_region_gb": ("AWSDataTransfer", "AWS-Out-Bytes", "", "GB", "GB data transfer to another region"),
    "mlflow_tracking_server_small_hour": ("AmazonSageMaker", "mlflow_tracking_server_small_hour", "", "Hrs", "hour of a Small MLflow tracking server"),
    "mlflow_tracking_server_medium_hour": ("AmazonSageMaker", "mlflow_tracking_server_medium_hour", "", "Hrs", "hour of a Medium MLflow tracking server"),
    "mlflow_tracking_server_large_hour": ("AmazonSageMaker", "mlflow_tracking_server_large_hour", "", "Hrs", "hour of a Large MLflow tracking server"),
    "declared_usd": ("External", "Declared-USD", "", "USD", "USD declared in the scenario (not an AWS charge)"),
    "data_transfer_cross_az_gb": ("AWSDataTransfer", "DataTransfer-Regional-Bytes", "", "GB", "GB data transfer between availability zones"),
}

SAVINGS_PLAN_PRODUCT = "MachineLearningSavingsPlans"


def rate_line(rate_key: str, region: str, component: str, usd: float, storage: bool) -> dict[str, str]:
    """Product code, usage type, operation, unit and description of a non-instance line."""
    product, suffix, operation, unit, what = RATE_LINES.get(
        rate_key, ("AmazonSageMaker", rate_key, "", "GB-Mo" if storage else "Units", f"unit of {rate_key}")
    )
    token = USAGE_TOKEN.get(component, component)
    wording = PRICE_WORDING.get(component, component)
    suffix = suffix.format(token=token)
    return {
        "product": product,
        "usage_type": f"{region_prefix(region)}-{suffix}",
        "operation": operation,
        "unit": unit,
        "description": f"${usd:.6g} per {what.format(wording=wording)}",
    }


def instance_description(usd_per_hour: float, component: str, instance_type: str, region: str, spot: bool) -> str:
    """Bill wording, as in ``$0.257 per Hosting ml.m5.xlarge hour in EU (Ireland)``."""
    wording = "Spot Training" if spot else PRICE_WORDING.get(component, component)
    return f"${usd_per_hour:.6g} per {wording} {instance_type} hour in {REGION_NAME.get(region, region)}"


def savings_plan_usage_type(term: str, payment: str) -> str:
    """As in the SP price list: ``SageMakerSP:1yrPartialUpfront``."""
    words = "".join(part.capitalize() for part in payment.split("-"))
    return f"SageMakerSP:{term}r{words}"
