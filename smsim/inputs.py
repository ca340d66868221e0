"""Files a run reads (traces, histories, job traces, the price catalog), read once by the caller
and handed to the processes that simulate, so a cluster needs no shared filesystem.

Every reader of such a file goes through :func:`load` with a key that names the file and how it
is read (never the machine it sits on). The caller records what a scenario reads
(:func:`recording`, see :func:`smsim.api.read_inputs`), ships the :class:`Inputs` once per
worker, and each task runs under :func:`provided`: the readers then take the caller's objects
instead of opening files, so the numbers are those of the files the caller saw. A key that is
not provided is read from disk as usual.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

# per thread of execution: a Dask worker with several threads runs tasks of different maps at once
_PROVIDED: ContextVar[Mapping[Hashable, Any] | None] = ContextVar("smsim_inputs_provided", default=None)
_RECORDING: ContextVar[tuple[dict, ...]] = ContextVar("smsim_inputs_recording", default=())


class Inputs(Mapping):
    """What a scenario's files were read into, by reader key; immutable, picklable.

    ``digest`` is a content hash: two bundles with equal digests hold the same data, so a
    cluster client ships each distinct bundle once.
    """

    def __init__(self, items: Mapping[Hashable, Any] | None = None) -> None:
        self._items = dict(items or {})
        self._digest: str | None = None

    def __getitem__(self, key: Hashable) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Inputs({len(self)} files)"

    def __getstate__(self) -> dict:
        return {"items": self._items}

    def __setstate__(self, state: dict) -> None:
        self._items, self._digest = state["items"], None

    def merged(self, *others: Inputs) -> Inputs:
        """One bundle holding this one's and ``others``' files (several arms of a comparison)."""
        items = dict(self._items)
        for other in others:
            items.update(other._items)
        return Inputs(items)

    @property
    def digest(self) -> str:
        """SHA-256 over the keys and the pickled values, in key order."""
        if self._digest is None:
            h = hashlib.sha256()
            for key in sorted(self._items, key=repr):
                h.update(repr(key).encode())
                h.update(pickle.dumps(self._items[key], protocol=5))
            self._digest = h.hexdigest()
        return self._digest

    def __dask_tokenize__(self) -> str:
        return self.digest


def load(key: Hashable, read: Callable[[], T]) -> T:
    """The object for ``key``: the provided one when a caller shipped it, else ``read()``
    (recorded when a :func:`recording` is active)."""
    provided = _PROVIDED.get()
    if provided is not None and key in provided:
        value = provided[key]
    else:
        value = read()
    for record in _RECORDING.get():
        record[key] = value
    return value


def active() -> bool:
    """Whether this task runs on inputs a caller read (and checked) for it."""
    return _PROVIDED.get() is not None


@contextmanager
def recording() -> Iterator[dict]:
    """Collect ``{key: object}`` of every :func:`load` inside the block (wrap it in :class:`Inputs`)."""
    record: dict = {}
    token = _RECORDING.set((*_RECORDING.get(), record))
    try:
        yield record
    finally:
        _RECORDING.reset(token)


@contextmanager
def provided(inputs: Mapping[Hashable, Any] | None) -> Iterator[None]:
    """Run the block on ``inputs`` (``None``: read files as usual)."""
    if inputs is None:
        yield
        return
    token = _PROVIDED.set(inputs)
    try:
        yield
    finally:
        _PROVIDED.reset(token)


__all__ = ["Inputs", "active", "load", "provided", "recording"]
