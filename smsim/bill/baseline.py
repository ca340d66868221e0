"""A baseline scenario from a bill: the account as it ran, as a scenario smsim prices back to the
bill, so every what-if starts from reality.

Each (resource, component, instance type, market) of the bill's instance usage becomes a fleet
that replays the bill's instance-hours hour by hour (``count_steps``; an hour with 2.5
instance-hours is a count of 2.5 for that hour), with the ML storage volumes of that resource
(``volume_gb_steps``). Savings plans held come from their recurring-fee lines (commitment per hour,
start, term and payment from the usage type, as in ``SageMakerSP:1yrNoUpfront``); the enterprise
discount is inferred as the discount lines over the net cost they discount. Endpoint data and
internet egress become ``transfer`` entries at their mean GB per day (an endpoint's data under the
endpoint's component, as billed). S3 storage becomes ``s3`` entries replaying the GB held hour by
hour (``gb_steps``, one entry per resource, component and storage class) with their PUT and GET
requests per day; a serverless endpoint becomes a recorded ``serverless`` endpoint replaying its
billed GB-seconds per hour (and data per day): a bill has neither its requests nor its memory
size, so it simulates no requests, and the reconciliation says so. Since savings plans apply
per hour to per-hour usage, replaying each hour's usage reproduces the bill to the cent when the
bill's rates are the catalog's.

With CloudWatch metrics, a real-time endpoint that ran the same number of instances every hour
of the bill becomes a ``realtime`` endpoint instead: its traffic is the ``Invocations`` counts
replayed as a count trace (written beside the scenario), its service time a gamma with the
invocation-weighted mean ``ModelLatency`` (coefficient of variation 1), one worker per vCPU (per
GPU on accelerated types). It bills the same instance-hours, and what-ifs on traffic, instance
type or autoscaling then simulate its requests; its ML storage volumes go to a fleet of no
instances (``NAME-volumes``) that replays them.

What is not rebuilt is listed in :attr:`Baseline.notes` with the reason (another service, a rate
the catalog lacks, an S3 storage class or request type smsim does not price), and the
reconciliation reports it by cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from smsim.bill.usage import BillUsage
from smsim.errors import InputError

#: ``usage_type`` (without region prefix) of transfer lines -> the rate key a ``transfer`` entry bills.
TRANSFER_KEYS = {"Host:Data-Bytes-In": "endpoint_data_in_gb", "Host:Data-Bytes-Out": "endpoint_data_out_gb",
                 "DataTransfer-Out-Bytes": "data_transfer_out_internet_gb",
                 "AWS-Out-Bytes": "data_transfer_inter_region_gb",
                 "DataTransfer-Regional-Bytes": "data_transfer_cross_az_gb"}
HOURS_PER_MONTH = 730.0
#: Serverless usage types (without region prefix): compute GB-seconds, data processed (GB).
SERVERLESS_COMPUTE, SERVERLESS_DATA = "ServerlessInf:GB-Seconds", "ServerlessInf:Data-Bytes"
#: S3 storage usage type (without region prefix) -> the storage class of an ``s3`` entry.
S3_STORAGE_CLASS = {"TimedStorage-ByteHrs": "standard", "TimedStorage-SIA-ByteHrs": "standard_ia",
                    "TimedStorage-ZIA-ByteHrs": "one_zone_ia", "TimedStorage-GIR-ByteHrs": "glacier_ir",
                    "TimedStorage-GlacierByteHrs": "glacier_flexible", "TimedStorage-GDA-ByteHrs": "deep_archive"}
#: S3 request usage type (amounts in thousands) -> the ``s3`` field that rebuilds it (per day).
S3_REQUEST_FIELDS = {"Requests-Tier1": "put_requests_per_day", "Requests-Tier2": "get_requests_per_day"}
#: Recordings longer than this many steps go to a CSV beside the scenario (``steps_file``), so the
#: YAML stays small whatever the length of the bill.
INLINE_STEPS = 48
#: Savings plans that do not apply to SageMaker usage (their fees are kept out of the baseline).
OTHER_PLAN_PRODUCTS = frozenset({"ComputeSavingsPlans", "EC2InstanceSavingsPlans"})
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Baseline:
    """The scenario (plain data, ready for YAML), which bill resource each entry rebuilds, and
    what was left out and why."""

    data: dict[str, Any]
    #: scenario resource name -> bill resource id
    origin: dict[str, str] = field(default_factory=dict)
    #: (bill resource id, component, cost USD, reason) of each part not rebuilt or rebuilt approximately
    notes: list[tuple[str, str, float, str]] = field(default_factory=list)
    enterprise_discount_pct: float = 0.0
    #: count traces the endpoints replay: path relative to the scenario file -> frame (timestamp, count)
    traces: dict[str, pd.DataFrame] = field(default_factory=dict)


def resource_name(resource_id: str) -> str:
    """A scenario name for a bill resource id (an ARN's last part, other characters as '-')."""
    tail = resource_id.rstrip("/").rsplit("/", 1)[-1] if resource_id.startswith("arn:") else resource_id
    name = _NAME.sub("-", tail).strip("-._") or "resource"
    if not name[0].isalnum():
        name = "r" + name
    return name[:63]


class _Names:
    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, base: str) -> str:
        name, n = base[:63], 2
        while name in self.used:
            suffix = f"-{n}"
            name, n = base[: 63 - len(suffix)] + suffix, n + 1
        self.used.add(name)
        return name


def steps(hours: pd.Series, values: pd.Series, scale: float = 1.0) -> list[list[float]]:
    """Run-length ``[offset_s, value]`` steps of per-hour values (hours without a value are 0)."""
    per_hour = dict(zip(hours.astype(int), values.astype(float) * scale, strict=True))
    out: list[list[float]] = []
    last = None
    for h in range(0, max(per_hour) + 2):
        v = per_hour.get(h, 0.0)
        if v != last:
            out.append([float(h * 3600), float(v)])
            last = v
    return out


def _term_payment(usage_type: str, description: str) -> tuple[str, str, bool]:
    """Term and payment of a plan from its fee line; ``False`` when guessed (1y no-upfront)."""
    text = f"{usage_type} {description}".lower()
    term = re.search(r"([13])\s*-?\s*y", text)
    pay = re.search(r"(no|partial|all)\s*-?\s*upfront", text)
    if term and pay:
        return f"{term.group(1)}y", f"{pay.group(1)}-upfront", True
    return (f"{term.group(1)}y" if term else "1y"), (f"{pay.group(1)}-upfront" if pay else "no-upfront"), False


def _endpoint(usage: BillUsage, metrics, g: pd.DataFrame, rid: str, itype: str, fname: str, catalog,
              traces_dir: str) -> tuple[dict, dict, pd.DataFrame] | None:
    """A realtime endpoint (spec, model, trace) for a constant-count endpoint with metrics, else None."""
    if metrics is None or len(g) != usage.hours:
        return None
    counts = g["instance_hours"].to_numpy()
    n = float(counts[0])
    if n < 1 or n != round(n) or not (counts == n).all():
        return None
    known = {r.lower(): r for r in metrics.resources()}
    name = known.get(resource_name(rid).lower())
    if name is None:
        return None
    inv = metrics.series(name, "Invocations")
    lat = metrics.series(name, "ModelLatency", "Average")
    both = pd.concat([lat, inv], axis=1, join="inner").dropna()
    if inv.sum() <= 0 or both.empty or both.iloc[:, 1].sum() <= 0:
        return None
    mean_s = float((both.iloc[:, 0] * both.iloc[:, 1]).sum() / both.iloc[:, 1].sum())
    period = metrics.period_s(name, "Invocations")
    t0 = pd.Timestamp(usage.summary["horizon"]["start"])
    grid = pd.date_range(t0, periods=int(round(usage.hours * 3600 / period)), freq=pd.Timedelta(seconds=period))
    trace = pd.DataFrame({"timestamp": grid.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "count": inv.reindex(grid, fill_value=0.0).round().astype(int).to_numpy()})
    spec = catalog.instance(itype)
    workers = int(spec.accelerator_count) if spec.accelerator_count else max(1, int(spec.vcpu))
    model = {"name": f"{fname}-model", "latency": {"*": {"kind": "gamma", "mean_s": mean_s, "cv": 1.0}}}
    path = f"{traces_dir}/{fname}.csv"
    entry = {"kind": "realtime", "name": fname, "model": model["name"], "instance_type": itype,
             "initial_instance_count": int(n), "concurrency_per_instance": workers,
             "workload": {"kind": "trace", "path": path, "shape": "counts", "interval_s": float(period),
                          "placement": "uniform"}}
    return entry, model, trace


def _with_volumes(frame: pd.DataFrame, g: pd.DataFrame) -> pd.DataFrame:
    """``offset_s, count`` steps joined with the volume steps of ``g`` (hourly GB-months) on
    every offset where either changes, each carried forward."""
    vol = pd.DataFrame(steps(g["hour"], g["gb_months"], scale=HOURS_PER_MONTH), columns=["offset_s", "volume_gb"])
    both = frame.merge(vol, on="offset_s", how="outer").sort_values("offset_s").ffill().fillna(0.0)
    keep = (both[["count", "volume_gb"]].diff().abs().sum(axis=1) > 0).to_numpy().copy()
    keep[0] = True
    return both[keep].reset_index(drop=True)


def _recorded_steps(entry: dict, key: str, column: str, recorded: list[list[float]], out: Baseline,
                    path: str) -> None:
    """Steps inline under ``key``, or in a ``steps_file`` CSV at ``path`` when too long to inline."""
    if len(recorded) > INLINE_STEPS:
        entry["steps_file"] = path
        out.traces[path] = pd.DataFrame(recorded, columns=["offset_s", column])
    else:
        entry[key] = recorded


def _s3_name(rid: str, own: str | None, cls: str) -> str:
    """``resource[-component][-class]``: the component when it is not the bill's product or the
    class's own (``S3:Checkpoints``), the class when not Standard."""
    parts = [resource_name(rid)[:40]]
    if own is not None and not own.startswith("Amazon"):
        parts.append(resource_name(own.replace(":", "-")).lower())
    if cls != "standard":
        parts.append(cls)
    return "-".join(parts)


def _bill_resource(rid: str, rows: pd.DataFrame) -> str:
    """The resource the bill summary files these lines under (another service's lines go under
    ``PRODUCT (other service)``, as an AWS bill's S3 lines do)."""
    if "resource_kind" in rows and (rows["resource_kind"] == "other_service").all():
        return f"{rows['product'].iloc[0]} (other service)"
    return rid


def _s3(usage: BillUsage, names: _Names, out: Baseline, traces_dir: str) -> tuple[list[dict], set]:
    """``s3`` entries replaying the bill's S3 storage hour by hour (GB held, per resource, component
    and storage class) with their PUT and GET requests per day; and the ``(resource, component,
    usage type)`` keys of ``usage.amounts`` they rebuild."""
    hourly = usage.hourly if usage.hourly is not None else pd.DataFrame(
        columns=["resource", "component", "usage_type", "hour", "amount"])
    storage = hourly[hourly["usage_type"].astype(str).str.startswith("TimedStorage")]
    entries: dict[tuple[str, str | None, str], dict] = {}
    done: set[tuple[str, str, str]] = set()
    days = usage.hours / 24.0
    for (rid, comp, utype), g in storage.groupby(["resource", "component", "usage_type"], sort=True):
        cls = S3_STORAGE_CLASS.get(str(utype))
        if cls is None:
            continue  # left to the notes (a class smsim does not price)
        own = None if comp == f"S3:{cls}" else str(comp)
        fname = names.take(_s3_name(rid, own, cls))
        entry: dict[str, Any] = {"kind": "s3", "name": fname}
        if cls != "standard":
            entry["storage_class"] = cls
        if own is not None:
            entry["component"] = own
        _recorded_steps(entry, "gb_steps", "gb", steps(g["hour"], g["amount"], scale=HOURS_PER_MONTH), out,
                        f"{traces_dir}/{fname}.gb.csv")
        tags = {k: v for k, v in usage.tags.get(rid, {}).items() if not k.startswith("smsim:")}
        if tags:
            entry["tags"] = tags
        entries.setdefault((rid, own, cls), entry)
        out.origin[fname] = _bill_resource(rid, g)
        done.add((rid, str(comp), str(utype)))
    requests = usage.amounts[usage.amounts["usage_type"].isin(list(S3_REQUEST_FIELDS))]
    for row in requests.itertuples(index=False):
        own = None if row.component == "S3:Requests" else str(row.component)
        entry = next((e for (r, c, _), e in entries.items() if r == row.resource and c == own), None)
        if entry is None:
            fname = names.take(_s3_name(row.resource, own, "standard"))
            entry = {"kind": "s3", "name": fname}
            if own is not None:
                entry["component"] = own
            entries[(row.resource, own, "")] = entry
            out.origin[fname] = _bill_resource(row.resource, pd.DataFrame([row._asdict()]))
        field_ = S3_REQUEST_FIELDS[row.usage_type]
        entry[field_] = entry.get(field_, 0.0) + float(row.amount) * 1000.0 / days
        done.add((row.resource, str(row.component), str(row.usage_type)))
    return list(entries.values()), done


def _serverless(usage: BillUsage, names: _Names, out: Baseline, traces_dir: str) -> tuple[list[dict], set]:
    """Recorded ``serverless`` endpoints replaying each endpoint's billed GB-seconds per hour (and
    its data processed per day); and the ``(resource, component, usage type)`` keys they rebuild.
    A bill says neither requests nor memory size, so the endpoint simulates no requests."""
    hourly = usage.hourly if usage.hourly is not None else pd.DataFrame(
        columns=["resource", "component", "usage_type", "hour", "amount"])
    compute = hourly[hourly["usage_type"].astype(str) == SERVERLESS_COMPUTE]
    entries: dict[str, dict] = {}
    done: set[tuple[str, str, str]] = set()
    days = usage.hours / 24.0

    def entry_of(rid: str) -> dict:
        if rid not in entries:
            fname = names.take(resource_name(rid))
            entries[rid] = {"kind": "serverless", "name": fname, "memory_size_mb": 1024, "max_concurrency": 200}
            tags = {k: v for k, v in usage.tags.get(rid, {}).items() if not k.startswith("smsim:")}
            if tags:
                entries[rid]["tags"] = tags
            out.origin[fname] = rid
        return entries[rid]

    for (rid, comp), g in compute.groupby(["resource", "component"], sort=True):
        entry = entry_of(str(rid))
        _recorded_steps(entry, "compute_gb_second_per_hour_steps", "gb_s_per_hour", steps(g["hour"], g["amount"]),
                        out, f"{traces_dir}/{entry['name']}.gb_s.csv")
        done.add((str(rid), str(comp), SERVERLESS_COMPUTE))
        out.notes.append((str(rid), str(comp), float(g["cost_usd"].sum()),
                          "serverless endpoint rebuilt from its billed GB-seconds per hour (no requests simulated)"))
    data = usage.amounts[(usage.amounts["usage_type"] == SERVERLESS_DATA)]
    for row in data.itertuples(index=False):
        if row.resource in entries:
            entry = entries[row.resource]
            entry["data_gb_per_day"] = entry.get("data_gb_per_day", 0.0) + float(row.amount) / days
            done.add((str(row.resource), str(row.component), SERVERLESS_DATA))
    return list(entries.values()), done


def build_baseline(usage: BillUsage, catalog, *, name: str | None = None, infer_discount: bool = True,
                   region: str | None = None, metrics=None, traces_dir: str = "traces") -> Baseline:
    """The baseline scenario data of ``usage`` (see the module docstring)."""
    s = usage.summary
    region = region or s.get("region") or "us-east-1"
    names = _Names()
    out = Baseline(data={})
    fleets: list[dict[str, Any]] = []
    endpoints: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    by_resource: dict[tuple[str, str], dict[str, Any]] = {}
    inst = usage.instances
    groups = list(inst.groupby(["resource", "component", "instance_type", "market"], sort=True))
    # savings plans cover tied usage in file order: list the usage the bill covered most first
    groups.sort(key=lambda kg: -float(kg[1]["covered_hours"].sum()) / max(float(kg[1]["instance_hours"].sum()), 1e-12))
    for (rid, comp, itype, market), g in groups:
        cost = float(g["public_cost_usd"].sum())
        try:
            catalog.check_offered(itype, comp, region)
        except InputError as exc:
            out.notes.append((rid, comp, cost, f"not rebuilt: {exc.message}"))
            continue
        fname = names.take(resource_name(rid) if (rid, comp) not in by_resource else
                           f"{resource_name(rid)}-{itype.removeprefix('ml.')}-{market.lower()}")
        tags = {k: v for k, v in usage.tags.get(rid, {}).items() if not k.startswith("smsim:")}
        served = (_endpoint(usage, metrics, g, rid, itype, fname, catalog, traces_dir)
                  if comp == "RealTimeInference" and market == "OnDemand" else None)
        if served is not None:
            entry, model, trace = served
            endpoints.append(entry)
            models.append(model)
            out.traces[entry["workload"]["path"]] = trace
        else:
            entry = {"name": fname, "instance_type": itype, "component": comp}
            if market != "OnDemand":
                entry["market"] = market
            recorded = steps(g["hour"], g["instance_hours"])
            if len(recorded) > INLINE_STEPS:
                path = f"{traces_dir}/{fname}.steps.csv"
                entry["steps_file"] = path
                out.traces[path] = pd.DataFrame(recorded, columns=["offset_s", "count"])
            else:
                entry["count_steps"] = recorded
            fleets.append(entry)
        if tags:
            entry["tags"] = tags
        by_resource.setdefault((rid, comp), entry)
        out.origin[fname] = rid
        hours = float(g["instance_hours"].sum())
        bill_rate = cost / hours if hours > 0 else 0.0
        if market == "Spot":
            ours = catalog.spot_usd_per_hour(itype, comp, region)
        else:
            ours = catalog.ondemand_usd_per_hour(itype, comp, region)
        if hours > 0 and abs(bill_rate - ours) > 5e-4 * max(ours, 1e-9) + 5e-7:
            out.notes.append((rid, comp, cost, f"the bill's rate for {itype} {market} is {bill_rate:.6g} USD/h, "
                                               f"the catalog's {ours:.6g} USD/h"))
    for (rid, comp), g in usage.volumes.groupby(["resource", "component"], sort=True):
        entry = by_resource.get((rid, comp))
        if entry is not None and "steps_file" in entry:  # the volumes go into the same file
            frame = out.traces[entry["steps_file"]]
            out.traces[entry["steps_file"]] = _with_volumes(frame, g)
            continue
        if entry is not None and entry.get("kind") == "realtime":
            # a realtime endpoint has no volumes of its own: a fleet of no instances carries them
            vname = names.take(f"{entry['name'][:55]}-volumes")
            fleets.append({"name": vname, "instance_type": entry["instance_type"], "component": comp,
                           "count_steps": [[0.0, 0.0]],
                           "volume_gb_steps": steps(g["hour"], g["gb_months"], scale=HOURS_PER_MONTH)})
            out.origin[vname] = rid
            out.notes.append((rid, comp, float(g["cost_usd"].sum()),
                              f"the endpoint's ML storage volumes replayed by the fleet {vname} (no instances)"))
            continue
        if entry is None:
            out.notes.append((rid, comp, float(g["cost_usd"].sum()),
                              "not rebuilt: ML storage of a resource with no instance usage in the bill"))
            continue
        entry["volume_gb_steps"] = steps(g["hour"], g["gb_months"], scale=HOURS_PER_MONTH)
    days = usage.hours / 24.0
    storage, rebuilt = _s3(usage, names, out, traces_dir)
    serverless, served = _serverless(usage, names, out, traces_dir)
    endpoints += serverless
    rebuilt |= served
    for row in usage.amounts.itertuples(index=False):
        if (row.resource, str(row.component), str(row.usage_type)) in rebuilt:
            continue
        key = TRANSFER_KEYS.get(row.usage_type)
        if key is None:
            what = ("another service smsim does not rebuild" if row.resource_kind == "other_service"
                    else f"{row.usage} usage ({row.usage_type}) is not rebuilt in the baseline")
            out.notes.append((row.resource, row.component, float(row.cost_usd), what))
            continue
        suffix = {"endpoint_data_in_gb": "-data-in", "endpoint_data_out_gb": "-data-out"}.get(key, "")
        tname = names.take(resource_name(row.resource)[:50] + suffix)
        storage.append({"kind": "transfer", "name": tname, "rate_key": key, "gb_per_day": float(row.amount) / days})
        if row.component != "DataTransfer":  # an endpoint's data stays under the endpoint's component
            storage[-1]["component"] = str(row.component)
        out.origin[tname] = row.resource
    plans = []
    for plan, g in usage.plans.groupby("plan", sort=True):
        product = str(g["product"].iloc[0]) if "product" in g else ""
        text = f"{product} {g['usage_type'].iloc[0]}"
        if product in OTHER_PLAN_PRODUCTS or not (not product or "MachineLearning" in text or "SageMaker" in text):
            out.notes.append((str(plan), "SavingsPlan", float(g["commitment_usd"].sum()),
                              f"a {product or 'non-SageMaker'} plan does not cover SageMaker; not in the baseline"))
            continue
        term, payment, known = _term_payment(str(g["usage_type"].iloc[0]), str(g["description"].iloc[0]))
        entry = {"name": str(plan) or "held", "commitment_usd_per_hour": float(g["commitment_usd"].median()),
                 "term": term, "payment": payment}
        first = int(g["hour"].min())
        if first > 0:
            entry["start_offset_s"] = float(first * 3600)
        plans.append(entry)
        if not known:
            out.notes.append((str(plan), "SavingsPlan", float(g["commitment_usd"].sum()),
                              f"term and payment not on the bill; assumed {term} {payment}"))
    pricing: dict[str, Any] = {}
    if usage.discount_usd < 0 and usage.discounted_base_usd > 0:
        pct = -usage.discount_usd / usage.discounted_base_usd * 100.0
        out.enterprise_discount_pct = pct
        if infer_discount:
            pricing["enterprise_discount_pct"] = round(pct, 9)
        else:
            out.notes.append(("", "Discount", usage.discount_usd,
                              f"a private discount of {pct:.4g} % is on the bill; not in the baseline"))
    if plans:
        pricing["savings_plans"] = plans
    start = s["horizon"]["start"]
    stem = re.sub(r"(\.(csv|gz|parquet|snappy|cur2|focus))+$", "", str(s.get("scenario") or "bill"), flags=re.I)
    data: dict[str, Any] = {
        "name": resource_name(f"{stem}-baseline"),
        "description": f"Baseline rebuilt from the bill {s.get('scenario', '')}: instance usage replayed hour by hour",
        "region": region,
        "horizon": {"start": start, "duration_s": float(s["horizon"]["duration_s"])},
    }
    if name:
        data["name"] = resource_name(name)
    if pricing:
        data["pricing"] = pricing
    if models:
        data["models"] = models
    if endpoints:
        data["endpoints"] = endpoints
    if fleets:
        data["fleets"] = fleets
    if storage:
        data["storage"] = storage
    out.data = data
    return out
