"""Errors for bad user input. The CLI turns these into exit code 2 and a one-line message."""

from __future__ import annotations


class InputError(Exception):
    """A user-supplied file or value is wrong.

    ``file``, ``line`` (1-based), ``column`` (1-based) and ``path`` (a field path such as
    ``endpoints[0].autoscaling.target_value`` or a row number in a trace) locate the problem.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.path = path

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        field = f"{self.path}: " if self.path else ""
        return f"{where}{field}{self.message}"


class InputErrors(InputError):
    """Several input errors found at once (all are reported, the first is the headline)."""

    def __init__(self, errors: list[InputError]) -> None:
        if not errors:
            raise ValueError("InputErrors needs at least one error")
        first = errors[0]
        super().__init__(
            first.message, file=first.file, line=first.line, column=first.column, path=first.path
        )
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def did_you_mean(word: str, candidates, n: int = 3) -> str:
    """A ``" (did you mean 'x'?)"`` suffix naming the closest candidates, or ``""``."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=n, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
