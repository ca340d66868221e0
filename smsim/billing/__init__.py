"""Billing: usage records priced into an hourly CUR-shaped ledger, summaries and allocation."""

from smsim.billing.ledger import build_ledger

__all__ = ["build_ledger"]
