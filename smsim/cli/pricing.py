"""``smsim pricing show`` and ``smsim pricing import``: look at the catalog, bring in real prices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import ForceOpt, check_outputs, handles_errors, print_json, stdout


def register(app: typer.Typer) -> None:
    pricing = typer.Typer(
        help="Look at the price catalog; import AWS price lists and savings-plan rates.", no_args_is_help=True
    )
    app.add_typer(pricing, name="pricing")

    @pricing.command("show")
    @handles_errors
    def show(
        instance_type: str = typer.Option(None, "--instance-type", "-t", help="one instance type, e.g. ml.g5.xlarge"),
        component: str = typer.Option(None, "--component", "-c", help="Training, RealTimeInference, ..."),
        region: str = typer.Option("us-east-1", "--region", "-r"),
        catalog: str = typer.Option(
            "builtin", "--catalog", help="'builtin' (default) or a catalog folder made by 'smsim pricing import'"),
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    ) -> None:
        """On-demand (and managed spot) prices per instance-hour, with as-of dates and sources."""
        from smsim.pricing import load_catalog
        from smsim.pricing.listing import price_rows

        cat = load_catalog(catalog)
        rows = price_rows(cat, region, instance_type, component)
        if as_json:
            print_json({"catalog": cat.describe() | {"directory": str(cat.directory)}, "prices": rows})
            return
        from rich.table import Table

        table = Table(title=f"catalog {cat.name} (as of {cat.as_of}), {region}")
        if catalog == "builtin":
            table.caption = "the built-in catalog; an imported one is shown with --catalog DIR"
        else:
            table.caption = f"catalog folder {cat.directory}"
        for col in ("instance type", "component", "USD/hour", "spot USD/hour", "vCPU", "GiB", "accelerators", "as of"):
            table.add_column(col, justify="right" if "USD" in col or col in ("vCPU", "GiB") else "left")
        for r in rows:
            spot = "" if r["spot_usd_per_hour"] is None else f"{r['spot_usd_per_hour']:.4f}"
            table.add_row(
                r["instance_type"], r["component"], f"{r['usd_per_hour']:.4f}", spot,
                f"{r['vcpu'] or ''}", f"{r['memory_gib'] or ''}", r["accelerators"], r["as_of"],
            )
        stdout.print(table)

    @pricing.command("import")
    @handles_errors
    def import_(
        file: Annotated[Path, typer.Argument(
            help="AmazonSageMaker bulk price CSV, a rates CSV (rate_key,region,unit,usd,as_of,source), "
                 "or savings-plan offering-rates JSON")],
        out: Annotated[Path, typer.Option("--out", "-o", help="user catalog directory to create or extend")],
        name: Annotated[str | None, typer.Option("--name", help="catalog name recorded with results")] = None,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="YYYY-MM-DD the savings-plan rates were read (their JSON carries no date)")] = None,
        force: ForceOpt = False,
    ) -> None:
        """Import real AWS prices into a user catalog that a scenario names with pricing.catalog."""
        from smsim.pricing.importers import import_prices

        check_outputs([(out, "dir", "--out")], force=force, inputs=[file])
        result = import_prices(file, out, name, as_of=as_of, force=force)
        stdout.print(
            f"imported {result['rows']} rows into {result['catalog']}/{result['file']} "
            f"(catalog {result['name']!r}, as of {result['as_of']}); "
            f"see it with 'smsim pricing show --catalog {result['catalog']}', "
            f"use it with 'pricing.catalog: {result['catalog']}'",
            highlight=False,
        )
