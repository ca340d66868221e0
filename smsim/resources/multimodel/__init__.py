"""Multi-model endpoints (``kind: multi_model``)."""
