"""The engine that knows time, not SageMaker: the SimPy clock and its registry of resource
models, the request kernel, the per-request reference model, service-time profiles, the quantile
histogram, fluid queueing maths and the usage meter. It imports only the leaves."""
