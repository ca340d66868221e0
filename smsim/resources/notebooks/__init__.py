"""Notebook instances and Studio apps (``notebooks:``)."""
