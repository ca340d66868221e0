"""Hyperparameter tuning jobs (``tuning_jobs:``): trials, strategies, early stopping, warm start, spot."""
