"""What every command shares: error handling (exit code 2 for bad input), output, progress.

Text from users (scenario names, tags, descriptions, file names, SQL results, error messages
that quote them) reaches the terminal literally: both consoles have rich markup and emoji codes
off, so ``[bold]`` or ``[link=...]`` in a tag value is printed as typed, never interpreted (and
an unbalanced ``[/x]`` cannot crash a command). Styling smsim adds itself goes through
:func:`styled`, which keeps the user's part literal.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from smsim import notices
from smsim.errors import InputError

#: Exit code for bad input (a malformed scenario, trace, option value or missing file).
EXIT_INPUT = 2
#: Exit code when the reader of stdout went away (128 + SIGPIPE, as a shell reports it).
EXIT_BROKEN_PIPE = 141
#: Exit code for an internal error (a bug).
EXIT_INTERNAL = 70

#: Help of ``--scheduler`` (every command that fans work out takes it, next to ``--jobs``).
SCHEDULER_HELP = ("run on Dask: tcp://HOST:8786 (a running scheduler) or local:N (N local worker "
                  "processes); default $SMSIM_DASK_SCHEDULER when --jobs is 1")

#: ``--jobs``/``-j`` and ``--scheduler`` as every command that fans work out takes them (one
#: wording everywhere; the values go to :func:`smsim.executor.executor`).
JOBS_HELP = "local worker processes (0 or -1: one per CPU); see also --scheduler"
JobsOption = Annotated[int, typer.Option("--jobs", "-j", help=JOBS_HELP)]
SchedulerOption = Annotated[str | None, typer.Option("--scheduler", help=SCHEDULER_HELP)]

#: Piped output is not cut to 80 columns: tables keep every figure.
stdout = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200, markup=False, emoji=False)
stderr = Console(stderr=True, soft_wrap=True, markup=False, emoji=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line with smsim's own styling: ``("error:", "bold red")`` parts are styled, plain
    strings stay literal whatever brackets they contain."""
    return Text.assemble(*parts)


def _report_error(label: str, message: Callable[[], str]) -> None:
    """Print ``label: message`` on stderr; never raises (a failing ``str(exc)``, a closed or
    broken stderr, an unencodable character all fall back to something plainer, or to nothing)."""
    try:
        text = message()
    except Exception:  # noqa: BLE001 - an exception whose text cannot be formed
        text = "(the error message could not be formed)"
    try:
        stderr.print(styled((label, "bold red"), " ", text), highlight=False)
        return
    except Exception:  # noqa: BLE001
        pass
    try:
        sys.stderr.write(f"{label} {text}\n")
    except Exception:  # noqa: BLE001 - nowhere left to say it; the exit code still tells
        pass


def _file_not_found(exc: FileNotFoundError) -> str:
    return f"{exc.filename or exc}: file not found"


def _internal(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}\n"
            "This is a bug in smsim, not in your input. Set SMSIM_DEBUG=1 to see the traceback.")


#: ``--force`` (alias ``--overwrite``): every command that writes takes it.
ForceOpt = Annotated[bool, typer.Option(
    "--force", "--overwrite",
    help="replace an existing output file, or a folder smsim did not write (a file never becomes a folder)",
)]


def check_outputs(outputs, *, force: bool = False, inputs=()) -> None:
    """Check every output path of a command before it does any work (exit 2 on a refusal).

    ``outputs`` are ``(path, kind, option)`` triples, ``kind`` ``"dir"`` or ``"file"``, ``path``
    ``None`` when the option was not given; ``inputs`` are the command's input files, which must
    exist and which no output may replace. The rule is :func:`smsim.atomic.check_output`'s.
    """
    from smsim.atomic import check_output
    from smsim.errors import InputError

    given = [(Path(p), kind, option) for p, kind, option in outputs if p is not None]
    check_inputs(*inputs)
    seen: dict[str, str] = {}
    for path, kind, option in given:
        key = os.path.realpath(path)
        if key in seen:
            raise InputError(f"{option} {path} is also given to {seen[key]}; give each output its own path")
        seen[key] = option
        check_output(path, kind, force=force, option=option, inputs=[i for i, _ in _pairs(inputs)])


def check_store(store, no_store: bool = False) -> None:
    """The results store a command records into can be written (checked before the work)."""
    if no_store:
        return
    from smsim.atomic import check_folder_writable
    from smsim.store.store import default_store_path

    check_folder_writable(default_store_path(store), option="--store")


def _pairs(inputs):
    for item in inputs:
        path, option = item if isinstance(item, tuple) else (item, None)
        if path is not None:
            yield Path(path), option


def check_inputs(*inputs) -> None:
    """Every input file (a path, or a ``(path, option)`` pair) exists: exit 2 before any work."""
    from smsim.errors import InputError

    for path, option in _pairs(inputs):
        if not path.exists():
            raise InputError("file not found", file=str(path), path=option)


def _cannot_access(exc: OSError) -> str:
    return f"cannot access {exc.filename or exc}: {exc.strerror or exc}"


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
            _report_error("error:", functools.partial(str, exc))
            raise typer.Exit(EXIT_INPUT) from None
        except FileNotFoundError as exc:
            _report_error("error:", functools.partial(_file_not_found, exc))
            raise typer.Exit(EXIT_INPUT) from None
        except (PermissionError, IsADirectoryError, NotADirectoryError) as exc:
            _report_error("error:", functools.partial(_cannot_access, exc))
            raise typer.Exit(EXIT_INPUT) from None
        except KeyboardInterrupt:
            _report_error("interrupted;", lambda: "no partial result was written")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except BrokenPipeError:
            # the reader went away (`smsim ... | head`): stop quietly, as other Unix tools do,
            # and keep Python from failing again when it flushes stdout at exit
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError, AttributeError):  # stdout is no file (captured)
                pass
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except Exception as exc:  # an smsim bug, not bad input: say so briefly
            if os.environ.get("SMSIM_DEBUG"):
                raise
            _report_error("internal error:", functools.partial(_internal, exc))
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
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%", style="progress.percentage", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=1.0)
        yield lambda fraction: progress.update(task, completed=min(max(fraction, 0.0), 1.0))
