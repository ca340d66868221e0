"""The discrete-event engine: SimPy control plane, fast request data plane, usage metering."""
