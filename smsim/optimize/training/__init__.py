"""The training-job optimizer: the cheapest configuration of one training job that meets its
objectives (see :mod:`smsim.optimize.training.search`)."""
