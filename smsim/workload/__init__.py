"""Workloads: request traces, readers for trace files and public traces, synthetic arrivals.

The simulator calls :func:`materialize` (or :func:`iter_chunks` for bounded memory) with a
:data:`WorkloadSpec` and gets a :class:`RequestTrace`: sorted arrival times in seconds from
the horizon start plus optional per-request tokens, payload bytes and model.
"""

from smsim.workload.arrivals import (
    ArrivalProcess,
    Arrivals,
    MMPPArrivals,
    PoissonArrivals,
    SeasonalArrivals,
    Spike,
)
from smsim.workload.attributes import ConstantDist, EmpiricalDist, LognormalDist, RequestAttributes
from smsim.workload.real_traces import DATASETS, load_real_trace
from smsim.workload.request_trace import CountTrace, RequestTrace
from smsim.workload.spec import WorkloadSpec, iter_chunks, materialize
from smsim.workload.traces import TraceColumns, read_count_trace, read_request_trace

__all__ = [
    "DATASETS",
    "ArrivalProcess",
    "Arrivals",
    "ConstantDist",
    "CountTrace",
    "EmpiricalDist",
    "LognormalDist",
    "MMPPArrivals",
    "PoissonArrivals",
    "RequestAttributes",
    "RequestTrace",
    "SeasonalArrivals",
    "Spike",
    "TraceColumns",
    "WorkloadSpec",
    "iter_chunks",
    "load_real_trace",
    "materialize",
    "read_count_trace",
    "read_request_trace",
]
