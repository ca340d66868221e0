"""Inference at the edge: devices that take a share of an endpoint's requests."""
