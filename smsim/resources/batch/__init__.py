"""Batch transform and processing jobs (``batch_jobs:``, ``processing_jobs:``)."""
