"""Presenting results: terminal tables, plots and self-contained HTML reports."""
