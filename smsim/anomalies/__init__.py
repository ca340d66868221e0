"""Cost anomaly detection with AWS Cost Anomaly Detection's controls, over a run or a bill.

* :mod:`smsim.anomalies.spend`: daily or hourly spend per resource, usage type, service,
  component and tag (the cube every monitor reads);
* :mod:`smsim.anomalies.monitors`: what a monitor watches (one series per service, resource,
  component, usage type or tag value) and its minimum impact;
* :mod:`smsim.anomalies.detector`: the seasonal-aware detector on one series;
* :mod:`smsim.anomalies.rootcause`: which resource and usage type moved;
* :mod:`smsim.anomalies.api`: the entry point ``smsim anomalies`` calls.
"""
