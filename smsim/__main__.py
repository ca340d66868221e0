"""``python -m smsim`` runs the command line."""

from smsim.cli import app

app()
