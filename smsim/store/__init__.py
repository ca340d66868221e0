"""The results store: every run, projection, optimisation, commitment and comparison, recorded
with its provenance and queryable with SQL (DuckDB views over Parquet)."""

from smsim.store.records import Record, record_from_result, scenario_hash
from smsim.store.store import STORE_ENV, Store, default_store_path, record_run

__all__ = [
           "STORE_ENV",
           "Record",
           "Store",
           "default_store_path",
           "record_from_result",
           "record_run",
           "scenario_hash",
]
