"""Bills from AWS: import a Cost and Usage Report (legacy or 2.0) or a FOCUS export into the
ledger schema of a simulated run. The formats' columns (:mod:`smsim.billing.formats`) and the
export of a simulated ledger in them (:mod:`smsim.billing.export`) live with billing, since
writing a run uses them.

* :mod:`smsim.bill.usage_types`: what a line is (component, instance type, region, market,
  pricing class) decoded from its usage type and line-item type;
* :mod:`smsim.bill.files`: the files of a bill (one file or a folder of parts) and their headers;
* :mod:`smsim.bill.reader`: the import itself, streamed through DuckDB in bounded memory;
* :mod:`smsim.bill.metrics`: CloudWatch usage metrics (get-metric-data JSON, CSV exports);
* :mod:`smsim.bill.usage`: an imported bill's hourly usage per resource, plans, discount and tags;
* :mod:`smsim.bill.baseline`: the baseline scenario that reproduces a bill;

Imports point down only: this package uses billing, pricing, store and errors; nothing below it
imports it.
"""

from smsim.bill.reader import ImportedBill, import_bill

__all__ = ["ImportedBill", "import_bill"]
