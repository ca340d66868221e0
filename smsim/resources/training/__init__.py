"""Training jobs (``training_jobs:``), on demand and managed spot."""
