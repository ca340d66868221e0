"""Model Monitor schedules, data capture, model quality drift and retraining."""
