"""The ``smsim`` command line: a thin typer layer over :mod:`smsim.api`.

Every module in this package that defines ``register(app)`` adds its commands; each command is a
few lines that parse options, call one library function and print its result.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="smsim",
    help="Simulate and forecast the cost of machine learning on Amazon SageMaker.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:  # pragma: no cover - console entry point
    app()
