"""What every command shares: error handling (exit code 2 for bad input), output, progress."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from smsim import notices
from smsim.errors import InputError

#: Exit code for bad input (a malformed scenario, trace, option value or missing file).
EXIT_INPUT = 2
#: Exit code for an internal error (a bug).
EXIT_INTERNAL = 70

#: Piped output is not cut to 80 columns: tables keep every figure.
stdout = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
stderr = Console(stderr=True, soft_wrap=True)


def handles_errors(fn: Callable) -> Callable:
    """Turn :class:`InputError` (and a missing file) into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with notices.record() as caught:
                result = fn(*args, **kwargs)
            for line in notices.summarise(caught):  # warnings nobody turned into notes
                stderr.print(f"warning: {line}", markup=False, highlight=False)
            return result
        except InputError as exc:
            stderr.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            raise typer.Exit(EXIT_INPUT) from None
        except FileNotFoundError as exc:
            name = exc.filename or str(exc)
            stderr.print(f"[bold red]error:[/] {name}: file not found", markup=True, highlight=False)
            raise typer.Exit(EXIT_INPUT) from None
        except KeyboardInterrupt:
            stderr.print("interrupted; no partial result was written")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # an smsim bug, not bad input: say so briefly
            if os.environ.get("SMSIM_DEBUG"):
                raise
            stderr.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
                "This is a bug in smsim, not in your input. Set SMSIM_DEBUG=1 to see the traceback.",
                markup=True, highlight=False,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def print_json(document: Any) -> None:
    """One JSON document on stdout (no rich markup, stable key order)."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(value):
    import datetime as _dt

    import numpy as np

    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator[Callable[[float], None] | None]:
    """A rich progress bar fed with a fraction in [0, 1]; ``None`` when off or not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        "[progress.percentage]{task.percentage:>3.0f}%",
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=1.0)
        yield lambda fraction: progress.update(task, completed=min(max(fraction, 0.0), 1.0))
