"""Budgets and alerts with AWS Budgets' semantics, over a run's hourly ledger or a projection.

* :mod:`smsim.budgets.spec`: the scenario's ``budgets:`` section (periods, amounts, filters,
  thresholds);
* :mod:`smsim.budgets.periods`: calendar periods (month, quarter, year) and each one's amount;
* :mod:`smsim.budgets.spend`: the hourly spend a budget counts (filters, cost type);
* :mod:`smsim.budgets.alerts`: when each threshold fires on a timeline;
* :mod:`smsim.budgets.risk`: probability and P50/P90 date of a breach over projection paths;
* :mod:`smsim.budgets.api`: budgets over a run, bill or projection, once loaded
  (:func:`smsim.api.budget_report`, which ``smsim budget`` calls, reads the scenario or budgets
  file and runs or projects the scenario).
"""
