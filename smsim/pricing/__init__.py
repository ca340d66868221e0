"""SageMaker prices: the versioned catalog, its pure lookups, and pure cost arithmetic."""

from smsim.pricing.catalog import (
    BUILTIN,
    Catalog,
    InstanceSpec,
    Rate,
    builtin_catalog_dir,
    load_catalog,
)

__all__ = ["BUILTIN", "Catalog", "InstanceSpec", "Rate", "builtin_catalog_dir", "load_catalog"]
