"""Asynchronous endpoints (``kind: async``)."""
