"""Assessment of an account from its bill and metrics: the baseline that reproduces the bill, its
reconciliation, and the findings ranked by what they save."""
