"""One way to fan tasks out: in this process, over local worker processes, or on a Dask cluster.

Every fan-out in smsim (``compare`` replications, ``bench`` arms, ``project`` sample paths,
optimizer evaluations, forecasts of many series) hands its tasks to :meth:`Executor.map`. A task
is ``(key, args)``; ``fn(*args)`` must be pure, so the numbers never depend on where or in which
order tasks run: every seed is part of the task's arguments (derived from its identity), and
results are reassembled in task order.

Where tasks run (:func:`executor`):

- ``jobs=1`` (the default): in this process, no pickling.
- ``jobs=N``: ``N`` local worker processes (``0`` or ``-1``: one per CPU).
- ``scheduler="tcp://host:8786"`` (or ``$SMSIM_DASK_SCHEDULER`` when ``jobs`` is 1): an
  existing Dask cluster; ``scheduler="local:N"`` starts a Dask ``LocalCluster`` of ``N`` worker
  processes for the duration; a ``distributed.Client`` is used as it is (and left open).

On Dask, an argument object shared by several tasks (a scenario) is scattered to every worker
once instead of being pickled into each task, and so are the files the tasks read (``inputs``, an
:class:`smsim.inputs.Inputs`: traces, histories, the price catalog, read by the client), so
workers need no shared filesystem; results stream back as they finish (``on_done`` and
``progress`` are called on the client, which alone writes the results store);
a worker that dies has its tasks re-run elsewhere by the scheduler, with identical results.
A task that raises ends the map with :class:`TaskError` naming the task (``describe(key)``);
results that came back before it have been handed to ``on_done`` (and so are in the store).
"""

from __future__ import annotations

import math
import os
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from smsim.errors import InputError
from smsim.inputs import Inputs, provided

#: Environment variable naming a Dask scheduler address (``--scheduler`` wins over it).
SCHEDULER_ENV = "SMSIM_DASK_SCHEDULER"

Task = tuple[Hashable, tuple]
#: Short tasks travel in chunks, about this many per worker (so the load still balances) ...
CHUNKS_PER_WORKER = 8
#: ... of at most this many tasks.
MAX_CHUNK = 16
_SCALARS = (int, float, str, bytes, bool, type(None))


class TaskError(Exception):
    """A task raised: ``key`` names the task, ``original`` is what it raised. When that is bad
    input (an :class:`InputError`) the error is a :class:`TaskInputError`, reported as such."""

    def __init__(self, key: Hashable, what: str, exc: BaseException) -> None:
        super().__init__(f"{what} failed: {type(exc).__name__}: {exc}")
        self.key = key
        self.original = exc


class TaskInputError(TaskError, InputError):
    """A task stopped on bad input; file, line and field path are the original's."""

    def __init__(self, key: Hashable, what: str, exc: InputError) -> None:
        InputError.__init__(self, f"{what} failed: {exc.message}", file=exc.file, line=exc.line,
                            column=exc.column, path=exc.path)
        self.key = key
        self.original = exc


def task_error(key: Hashable, what: str, exc: BaseException) -> TaskError:
    """The error to raise for task ``key`` (described as ``what``) that raised ``exc``."""
    if isinstance(exc, InputError):
        return TaskInputError(key, what, exc)
    return TaskError(key, what, exc)


def resolve_jobs(jobs: int | None) -> int:
    """``jobs`` local workers; 0, -1 or None mean one per CPU."""
    if jobs is None or jobs in (0, -1):
        return max(1, os.cpu_count() or 1)
    if jobs < 0:
        raise InputError(f"must be >= 1 (0 or -1: one per CPU), found {jobs}", path="--jobs")
    return int(jobs)


def _local_workers(spec: str) -> int:
    tail = spec.split(":", 1)[1]
    try:
        n = int(tail) if tail else resolve_jobs(0)
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"local:N needs a worker count N >= 1, found {spec!r}",
                         path="--scheduler")
    return n


#: Seconds to wait for a scheduler's port to answer before saying it cannot be reached.
CONNECT_TIMEOUT_S = 3.0


def _probe(address: str) -> None:
    """Refuse at once a ``tcp://HOST:PORT`` where nothing listens (a Dask client would retry for
    its whole timeout); other protocols (tls://, ...) are left to the client."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address)
    if parts.scheme != "tcp":
        return
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise InputError(f"expected tcp://HOST:PORT, found {address!r}", path="--scheduler")
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise InputError(f"cannot reach the Dask scheduler at {address}: {why} (is it running, "
                         "and is the port open from here?)", path="--scheduler") from None


class Executor:
    """Runs ``(key, args)`` tasks; use as a context manager (closes what it started)."""

    def __init__(self, jobs: int | None = 1, scheduler: Any = None) -> None:
        self.jobs = resolve_jobs(jobs)
        self.client = None
        self._pool = None  # local worker processes, started on first use and kept
        self._owned: list[Any] = []  # client and cluster this executor started
        self._scattered: dict[str, Any] = {}  # input bundles on the workers, by content digest
        if scheduler is None and self.jobs == 1:
            scheduler = os.environ.get(SCHEDULER_ENV) or None
        if scheduler is None:
            return
        if not isinstance(scheduler, str):  # a distributed.Client (or anything with submit)
            self.client = scheduler
            return
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise InputError("needs Dask: pip install 'smsim[dask]'",
                             path="--scheduler") from exc
        if scheduler.startswith("local"):
            if scheduler != "local" and not scheduler.startswith("local:"):
                raise InputError(f"expected tcp://HOST:PORT or local:N, found {scheduler!r}",
                                 path="--scheduler")
            n = _local_workers(scheduler if ":" in scheduler else "local:")
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
            self._owned.append(cluster)
            self.client = Client(cluster)
        else:
            address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
            _probe(address)
            try:
                self.client = Client(address, timeout=f"{CONNECT_TIMEOUT_S * 4:g}s")
            except Exception as exc:  # noqa: BLE001 - timed out, or something else answers there
                raise InputError(f"cannot connect to a Dask scheduler at {address}: "
                                 f"{type(exc).__name__}: {exc}", path="--scheduler") from exc
        self._owned.insert(0, self.client)

    @property
    def kind(self) -> str:
        return "dask" if self.client is not None else ("processes" if self.jobs > 1 else "serial")

    @property
    def workers(self) -> int:
        """Tasks that can run at once: local processes, or the cluster's worker threads now."""
        if self.client is not None:
            return max(1, sum(self.client.nthreads().values()))
        return self.jobs

    def close(self) -> None:
        if self._scattered and self.client is not None:
            self.client.cancel(list(self._scattered.values()))
        self._scattered.clear()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        for thing in self._owned:
            thing.close()
        self._owned.clear()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- running ---------------------------------------------------------------------------

    def map(self, fn: Callable, tasks: Sequence[Task], *,
            on_done: Callable[[Hashable, Any], None] | None = None,
            progress: Callable[[float], None] | None = None,
            describe: Callable[[Hashable], str] | None = None,
            inputs: Inputs | None = None) -> dict[Hashable, Any]:
        """Run ``fn(*args)`` for every ``(key, args)``; returns ``{key: result}`` in task order.

        ``on_done(key, result)`` and ``progress(share_done)`` run here as tasks finish.
        ``inputs`` (:func:`smsim.api.read_inputs`) are the files the tasks read: on a cluster
        they are shipped once per worker and the tasks run on them; here and in local processes
        the files themselves are read (same machine, same bytes).
        """
        results: dict[Hashable, Any] = {}
        total = max(len(tasks), 1)
        what = describe or (lambda key: f"task {key!r}")

        def done(key, result) -> None:
            results[key] = result
            if on_done is not None:
                on_done(key, result)
            if progress is not None:
                progress(len(results) / total)

        if self.client is not None and tasks:
            self._map_dask(fn, tasks, done, what, inputs)
        elif self.jobs == 1 or len(tasks) <= 1:
            for key, args in tasks:
                try:
                    result = fn(*args)
                except Exception as exc:
                    raise task_error(key, what(key), exc) from exc
                done(key, result)
        else:
            self._map_processes(fn, tasks, done, what)
        return {key: results[key] for key, _ in tasks}

    def _chunks(self, tasks: Sequence[Task]) -> list[list[int]]:
        """Task positions in consecutive chunks, about ``CHUNKS_PER_WORKER`` per worker: many
        short tasks then cost one round trip per chunk, and the load still balances."""
        per = max(1, min(MAX_CHUNK, math.ceil(len(tasks) / (self.workers * CHUNKS_PER_WORKER))))
        return [list(range(i, min(i + per, len(tasks)))) for i in range(0, len(tasks), per)]

    @staticmethod
    def _deliver(chunk: list[int], outcome: list, tasks, done, what) -> None:
        for i, (ok, value) in zip(chunk, outcome, strict=False):
            key = tasks[i][0]
            if not ok:
                raise task_error(key, what(key), value) from value
            done(key, value)

    def _map_processes(self, fn, tasks, done, what) -> None:
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs)
        pending = {self._pool.submit(_run_chunk, fn, [tasks[i][1] for i in chunk]): chunk
                   for chunk in self._chunks(tasks)}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    chunk = pending.pop(fut)
                    self._deliver(chunk, fut.result(), tasks, done, what)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise

    def _inputs_on_workers(self, inputs: Inputs | None) -> Any:
        """A future of ``inputs`` held by every worker, sent once per distinct content."""
        if inputs is None or not len(inputs):
            return None
        if inputs.digest not in self._scattered:
            self._scattered[inputs.digest] = self.client.scatter(inputs, broadcast=True, hash=False)
        return self._scattered[inputs.digest]

    def _map_dask(self, fn, tasks, done, what, inputs) -> None:
        from distributed import as_completed

        client = self.client
        bundle = self._inputs_on_workers(inputs)
        uses = Counter(id(a) for _, args in tasks for a in args if not isinstance(a, _SCALARS))
        shared: dict[int, Any] = {}
        for _, args in tasks:  # scatter each object used by several tasks once, to every worker
            for a in args:
                if uses.get(id(a), 0) > 1 and id(a) not in shared:
                    shared[id(a)] = client.scatter(a, broadcast=True, hash=False)
        prefix = f"smsim-{getattr(fn, '__name__', 'task')}-{uuid.uuid4().hex[:12]}"
        futures = {}
        for n, chunk in enumerate(self._chunks(tasks)):
            calls = [tuple(shared.get(id(a), a) for a in tasks[i][1]) for i in chunk]
            futures[client.submit(_run_chunk, fn, calls, bundle, key=f"{prefix}-{n}", pure=False)] = chunk
        try:
            # results are gathered in the background as they finish, several at a time
            for batch in as_completed(list(futures), with_results=True, raise_errors=False).batches():
                for fut, outcome in batch:
                    if fut.status == "error":  # the chunk itself failed (not one of its tasks)
                        key = tasks[futures[fut][0]][0]
                        exc = fut.exception()
                        raise task_error(key, what(key), exc) from exc
                    self._deliver(futures[fut], outcome, tasks, done, what)
                    fut.release()
        finally:
            client.cancel([f for f in futures if not f.done()])
            client.cancel(list(shared.values()))


def _run_chunk(fn: Callable, calls: list[tuple], inputs: Inputs | None = None) -> list[tuple[bool, Any]]:
    """Run ``fn(*args)`` for each call in turn, on ``inputs`` when given: ``(True, result)``, or
    ``(False, exception)`` for the first that raises (the rest of the chunk is not run)."""
    out: list[tuple[bool, Any]] = []
    with provided(inputs):
        for args in calls:
            try:
                out.append((True, fn(*args)))
            except Exception as exc:
                out.append((False, exc))
                break
    return out


def executor(jobs: int | None = 1, scheduler: Any = None) -> Executor:
    """The executor for ``--jobs`` / ``--scheduler`` (``scheduler`` may be a ``distributed.Client``)."""
    if isinstance(scheduler, Executor):
        return _Borrowed(scheduler)
    return Executor(jobs, scheduler)


class _Borrowed:
    """An executor passed in by the caller: used as it is, closed by its owner, not here."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def close(self) -> None:
        pass

    def __enter__(self) -> _Borrowed:
        return self

    def __exit__(self, *exc) -> None:
        pass


__all__ = ["SCHEDULER_ENV", "Executor", "TaskError", "TaskInputError", "executor", "resolve_jobs", "task_error"]
