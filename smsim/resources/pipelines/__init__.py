"""Pipelines (``pipelines:``): DAGs of steps on a schedule, with step caching and retries."""
