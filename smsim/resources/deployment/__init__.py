"""Deployments (``deployments:``): blue/green, rolling and shadow updates, billed for the capacity they add."""
