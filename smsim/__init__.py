"""smsim: simulation and forecasting of the cost of machine learning on Amazon SageMaker.

The public API lives in :mod:`smsim.api`; the CLI (``smsim``) is a thin layer over it.
"""

__version__ = "0.1.0"
