"""The price catalog: versioned SageMaker price facts, loaded and validated once, queried purely.

``load_catalog("builtin")`` reads ``data/pricing`` (or the copy packaged as ``smsim/_catalog``);
``load_catalog(path)`` reads a user catalog directory (see :mod:`smsim.pricing.catalog_files`).
A :class:`Catalog` holds no simulation state: every method is a lookup over the loaded rows.

Lookup rules (documented in ``data/pricing/SOURCES.md``):

* on-demand: the exact ``(region, type, component)`` row, else the type's ``Any`` row in that
  region, else another component's row of the type in that region (a type costs the same per hour
  across components, to within a cent, in every explicit comparison found). A type the component
  does not offer (``unavailable.csv``) or a region without a price is an :class:`InputError`;
  instance prices never borrow another region's price.
* non-instance rates: exact region, then ``unspecified``, then ``us-east-1``, then any region; a
  fallback is reported in :attr:`Rate.note`.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from smsim import inputs
from smsim.errors import InputError, did_you_mean
from smsim.pricing import catalog_files
from smsim.pricing.savings_plans import SavingsPlanRates
from smsim.pricing.vocabulary import ANY_COMPONENT, COMPONENTS, SPOT_COMPONENTS

BUILTIN = "builtin"
RATE_FALLBACK_REGIONS = ("unspecified", "us-east-1")


def builtin_catalog_dir() -> Path:
    """Where the built-in catalog lives: the packaged ``smsim/_catalog``, else the repo's data/pricing."""
    packaged = importlib.resources.files("smsim") / "_catalog"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "data" / "pricing"


@dataclass(frozen=True)
class InstanceSpec:
    instance_type: str
    family: str
    vcpu: float
    memory_gib: float
    accelerator_count: int
    accelerator_type: str
    accelerator_memory_gib: float


@dataclass(frozen=True)
class Rate:
    """A non-instance price: ``usd`` per ``unit`` (as written in the catalog)."""

    rate_key: str
    region: str
    usd: float
    unit: str
    source: str
    as_of: str
    note: str = ""


@dataclass(frozen=True)
class Catalog:
    name: str
    as_of: str
    description: str
    directory: Path
    tables: dict[str, pd.DataFrame] = field(repr=False)
    _od: dict = field(repr=False)
    _unavailable: frozenset = field(repr=False)
    _spot: dict = field(repr=False)
    _rates: dict = field(repr=False)
    _specs: dict = field(repr=False)
    _sp: SavingsPlanRates = field(repr=False)

    # -- instances ---------------------------------------------------------------------------
    def instance(self, instance_type: str) -> InstanceSpec:
        try:
            return self._specs[instance_type]
        except KeyError:
            raise InputError(
                f"unknown instance type {instance_type!r} in catalog {self.name!r}"
                + did_you_mean(instance_type, self._specs),
                path="instance_type",
            ) from None

    def instance_types(self, component: str | None = None, region: str | None = None) -> list[str]:
        """Types with an on-demand price (for ``component`` and in ``region`` when given), sorted."""
        if component is not None:
            self._check_component(component)
        found = set()
        for reg, itype, _comp in self._od:
            if region is not None and reg != region:
                continue
            if component is not None and not self._offered(itype, component, reg):
                continue
            found.add(itype)
        return sorted(found)

    def _offered(self, instance_type: str, component: str, region: str) -> bool:
        return (
            (region, instance_type, component) not in self._unavailable
            and ("*", instance_type, component) not in self._unavailable
        )

    def _check_component(self, component: str) -> None:
        if component not in COMPONENTS:
            raise InputError(
                f"unknown component {component!r}; expected one of {', '.join(COMPONENTS)}"
                + did_you_mean(component, COMPONENTS),
                path="component",
            )

    def check_offered(self, instance_type: str, component: str, region: str) -> None:
        """InputError unless ``instance_type`` is known, offered for ``component`` and priced in ``region``."""
        self._check_component(component)
        known = set(self._specs) | {k[1] for k in self._od}
        if instance_type not in known:
            raise InputError(
                f"unknown instance type {instance_type!r} in catalog {self.name!r}"
                + did_you_mean(instance_type, sorted(known)),
                path="instance_type",
            )
        if not self._offered(instance_type, component, region):
            raise InputError(
                f"{instance_type} is not offered for {component}"
                + did_you_mean(instance_type, self.instance_types(component, region)),
                path="instance_type",
            )
        if self._od_row(instance_type, component, region) is None:
            regions = sorted({k[0] for k in self._od if k[1] == instance_type})
            raise InputError(
                f"catalog {self.name!r} has no on-demand price for {instance_type} in {region} "
                f"(priced in: {', '.join(regions) or 'none'}); import a price list with 'smsim pricing import'",
                path="region",
            )

    # -- prices ------------------------------------------------------------------------------
    def _od_row(self, instance_type: str, component: str, region: str):
        for comp in (component, ANY_COMPONENT, *COMPONENTS):
            row = self._od.get((region, instance_type, comp))
            if row is not None:
                return row
        return None

    def ondemand_usd_per_hour(self, instance_type: str, component: str, region: str) -> float:
        self.check_offered(instance_type, component, region)
        return self._od_row(instance_type, component, region)[0]

    def ondemand_source(self, instance_type: str, component: str, region: str) -> tuple[str, str]:
        """``(source, as_of)`` of the on-demand price used for this usage."""
        self.check_offered(instance_type, component, region)
        _, source, as_of = self._od_row(instance_type, component, region)
        return source, as_of

    def spot_savings_pct(self, instance_type: str, region: str) -> float:
        row = self._spot.get((region, instance_type))
        if row is None:
            raise InputError(
                f"catalog {self.name!r} has no spot savings for {instance_type} in {region}; "
                "set pricing.spot.discount_pct in the scenario",
                path="pricing.spot.discount_pct",
            )
        return row[2]

    def spot_usd_per_hour(
        self, instance_type: str, component: str, region: str, discount_pct: float | None = None
    ) -> float:
        """Managed spot rate: on-demand x (1 - savings); savings from the Spot Advisor unless given."""
        if component not in SPOT_COMPONENTS:
            raise InputError(
                f"managed spot is offered only for {', '.join(sorted(SPOT_COMPONENTS))}, not {component}",
                path="market",
            )
        ondemand = self.ondemand_usd_per_hour(instance_type, component, region)
        savings = self.spot_savings_pct(instance_type, region) if discount_pct is None else float(discount_pct)
        return ondemand * (1.0 - savings / 100.0)

    def spot_interruption(self, instance_type: str, region: str) -> tuple[str, float]:
        """``(bucket, max_rate_per_month_fraction)``: the Spot Advisor bucket and its upper bound."""
        row = self._spot.get((region, instance_type))
        if row is None:
            raise InputError(
                f"catalog {self.name!r} has no spot interruption data for {instance_type} in {region}",
                path="instance_type",
            )
        return row[0], row[1] / 100.0

    def sp_rate_usd_per_hour(self, instance_type: str, component: str, region: str, term: str, payment: str) -> float:
        """The savings-plan rate per instance-hour (a listed rate, or on-demand x (1 - discount))."""
        ondemand = self.ondemand_usd_per_hour(instance_type, component, region)
        return self._sp.rate_usd_per_hour(instance_type, component, region, term, payment, ondemand)

    def sp_rate_is_assumed(self, instance_type: str, component: str, region: str, term: str, payment: str) -> bool:
        return self._sp.row(instance_type, component, region, term, payment).assumed

    def rate(self, rate_key: str, region: str) -> Rate:
        for reg in (region, *RATE_FALLBACK_REGIONS):
            found = self._rates.get((rate_key, reg))
            if found is not None:
                note = "" if reg == region else f"no {region} price in the catalog; the {reg} price is used"
                return Rate(rate_key, reg, found[0], found[1], found[2], found[3], note)
        others = sorted(k[1] for k in self._rates if k[0] == rate_key)
        if others:
            found = self._rates[(rate_key, others[0])]
            tried = ", ".join(dict.fromkeys((region, *RATE_FALLBACK_REGIONS)))
            note = f"no price for {tried} in the catalog; the {others[0]} price is used"
            return Rate(rate_key, others[0], found[0], found[1], found[2], found[3], note)
        keys = sorted({k[0] for k in self._rates})
        raise InputError(f"unknown rate {rate_key!r} in catalog {self.name!r}" + did_you_mean(rate_key, keys), path="rate_key")

    def sources(self) -> pd.DataFrame:
        """Every distinct ``(file, source, as_of)`` the catalog rests on, with a row count."""
        parts = [
            t[["source", "as_of"]].assign(file=name) for name, t in self.tables.items() if len(t)
        ]
        all_rows = pd.concat(parts, ignore_index=True)
        return (
            all_rows.groupby(["file", "source", "as_of"], sort=True).size().rename("rows").reset_index()
        )

    def describe(self) -> dict:
        return {"name": self.name, "as_of": self.as_of, "description": self.description}


def load_catalog(name_or_path: str = BUILTIN) -> Catalog:
    """The catalog ``builtin`` or a user catalog directory, validated once and cached per path."""
    if name_or_path == BUILTIN:
        directory = builtin_catalog_dir()
        return _load(str(directory), True, _stamp(directory))
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        raise InputError(
            f"price catalog {name_or_path!r} is neither 'builtin' nor a catalog directory",
            file=str(name_or_path), path="pricing.catalog",
        )
    return _load(str(path.resolve()), False, _stamp(path))



def catalog_for(scenario) -> Catalog:
    """The catalog a scenario names in ``pricing.catalog`` (a relative path resolves against
    the scenario's folder, ``base_dir``). Read through :mod:`smsim.inputs`, so a task whose
    caller shipped the files reads none itself. Any object with those two attributes will do:
    this module knows no scenario model."""
    name = scenario.pricing.catalog
    if name != BUILTIN and not Path(name).is_absolute():
        name = str(scenario.base_dir / name)
    return inputs.load(("catalog", name), lambda: load_catalog(name))

def _stamp(directory: Path) -> tuple:
    """Modification times and sizes of the catalog files: a re-imported catalog is read again."""
    names = (*catalog_files.SCHEMAS, catalog_files.METADATA_FILE)
    return tuple(
        (n, st.st_mtime_ns, st.st_size) for n in names if (f := directory / n).is_file() and (st := f.stat())
    )


@functools.lru_cache(maxsize=16)
def _load(directory: str, builtin: bool, stamp: tuple) -> Catalog:
    path = Path(directory)
    meta = catalog_files.read_metadata(path)
    tables = catalog_files.read_directory(path)
    extends = meta.get("extends")
    if not builtin and extends not in (None, BUILTIN):
        raise InputError(f"'extends' must be 'builtin' or null, found {extends!r}", file=str(path / "catalog.json"))
    if not builtin and extends == BUILTIN:
        tables = catalog_files.overlay(load_catalog(BUILTIN).tables, tables)
    for name in catalog_files.SCHEMAS:
        tables.setdefault(name, catalog_files.empty_table(name))
    if builtin and not len(tables["ondemand.csv"]):
        raise InputError("the built-in catalog has no on-demand prices", file=str(path))
    return _build(meta.get("name") or (BUILTIN if builtin else path.name), meta, path, tables)


def _build(name: str, meta: dict, path: Path, tables: dict[str, pd.DataFrame]) -> Catalog:
    od = tables["ondemand.csv"]
    inst = tables["instances.csv"]
    specs = {
        r.instance_type: InstanceSpec(
            r.instance_type, r.family, float(r.vcpu), float(r.memory_gib),
            int(0 if pd.isna(r.accelerator_count) else r.accelerator_count), r.accelerator_type,
            float(0 if pd.isna(r.accelerator_memory_gib) else r.accelerator_memory_gib),
        )
        for r in inst.itertuples(index=False)
    }
    rates = tables["rates.csv"]
    spot = tables["spot.csv"]
    unavailable = tables["unavailable.csv"]
    return Catalog(
        name=str(name),
        as_of=str(meta.get("as_of") or catalog_files.newest_as_of(tables)),
        description=str(meta.get("description", "")),
        directory=path,
        tables=tables,
        _od={
            (r.region, r.instance_type, r.component): (float(r.usd_per_hour), r.source, r.as_of)
            for r in od.itertuples(index=False)
        },
        _unavailable=frozenset(zip(unavailable.region, unavailable.instance_type, unavailable.component)),
        _spot={
            (r.region, r.instance_type): (r.interruption_bucket, float(r.interruption_max_pct), float(r.ec2_savings_pct))
            for r in spot.itertuples(index=False)
        },
        _rates={
            (r.rate_key, r.region): (float(r.usd), r.unit, r.source, r.as_of) for r in rates.itertuples(index=False)
        },
        _specs=specs,
        _sp=SavingsPlanRates.from_frame(tables["savings_plan_rates.csv"]),
    )
