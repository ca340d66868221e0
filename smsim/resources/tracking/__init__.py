"""Managed MLflow tracking servers."""
