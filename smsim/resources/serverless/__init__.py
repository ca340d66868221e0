"""Serverless endpoints (``kind: serverless``)."""
