"""Real-time endpoints (``kind: realtime``)."""
