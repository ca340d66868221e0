"""A pipeline run as pure functions: cycle detection, one step's attempts under its retry policy,
the cache decision, and the DAG schedule (steps start when their dependencies succeed).

Times are seconds from the start of the step (attempts) or of the run (schedule).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


def find_cycle(deps: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle among steps (``[a, b, ..., a]``, each depending on the next), or None for a DAG."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in deps.get(node, ()):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep in deps and dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in deps:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


@dataclass(frozen=True)
class StepOutcome:
    """One step in one run: its billed intervals (from the step's start, over all attempts), its
    span, whether it succeeded, whether the cache served it, and how many attempts it made."""

    runs: tuple[tuple[float, float], ...] = ()
    span_s: float = 0.0
    succeeded: bool = True
    cached: bool = False
    tries: int = 0

    @property
    def billed_s(self) -> float:
        return sum(b - a for a, b in self.runs)

    @property
    def retries(self) -> int:
        return max(0, self.tries - 1)


CACHED = StepOutcome(cached=True)


#: Runs one attempt that trains for a given time: ``(billed intervals, elapsed, completed)``,
#: times from the attempt's start (provisioning included in elapsed).
Runner = Callable[[float], tuple[list[tuple[float, float]], float, bool]]


def on_demand(provisioning_s: float) -> Runner:
    """An on-demand attempt: provisioned (not billed), then billed for its whole length."""
    return lambda length: ([(provisioning_s, provisioning_s + length)], provisioning_s + length, True)


def attempts(duration_s: float, runner: Runner, fails: Sequence[float | None],
             interval_s: float = 1.0, backoff_rate: float = 2.0) -> StepOutcome:
    """Attempts until one succeeds or ``fails`` runs out. ``fails[k]`` is the share of attempt
    k's duration after which it fails (None: it succeeds); ``len(fails)`` is 1 + the retries
    allowed. ``runner`` runs an attempt (:func:`on_demand`, or a managed spot job that may also
    end without completing); the k-th retry waits ``interval_s * backoff_rate**(k-1)``."""
    t, runs = 0.0, []
    for k, fail in enumerate(fails):
        if k:
            t += interval_s * backoff_rate ** (k - 1)
        billed, elapsed, completed = runner(duration_s if fail is None else fail * duration_s)
        runs.extend((t + a, t + b) for a, b in billed)
        t += elapsed
        if fail is None and completed:
            return StepOutcome(tuple(runs), t, True, tries=k + 1)
    return StepOutcome(tuple(runs), t, False, tries=len(fails))


def cache_hit(rule: str, previous_ok: bool, deps_cached: bool, inputs_changed: bool, lucky: bool) -> bool:
    """Whether the cache serves a step: a successful execution must exist within ExpireAfter;
    ``inputs-unchanged`` then needs every dependency served from the cache and the step's own
    inputs unchanged, ``probability`` a draw below the hit probability (``lucky``)."""
    if not previous_ok:
        return False
    if rule == "probability":
        return lucky
    return deps_cached and not inputs_changed


@dataclass
class RunSchedule:
    """When each step started and ended (absent: never started), and whether the run succeeded."""

    start_s: dict[str, float] = field(default_factory=dict)
    end_s: dict[str, float] = field(default_factory=dict)
    succeeded: bool = True

    @property
    def makespan_s(self) -> float:
        return max(self.end_s.values(), default=0.0)


def schedule(order: Sequence[str], deps: Mapping[str, Sequence[str]], outcome, max_parallel: int | None = None) -> RunSchedule:
    """List-schedule one run: a step starts as soon as all its dependencies succeeded and (with
    ``max_parallel``) a slot is free, ready steps in declaration ``order``. ``outcome(name, t)``
    gives a step's :class:`StepOutcome` when it starts at ``t`` (so the cache can look at the
    clock). After a step fails for good no step starts; running steps finish."""
    run = RunSchedule()
    running: list[tuple[float, int, str]] = []
    done: set[str] = set()
    outcomes: dict[str, StepOutcome] = {}
    t, seq = 0.0, 0
    while True:
        if run.succeeded:
            for name in order:
                if name in run.start_s or not all(d in done for d in deps[name]):
                    continue
                if max_parallel is not None and len(running) >= max_parallel:
                    break
                out = outcomes[name] = outcome(name, t)
                run.start_s[name] = t
                heapq.heappush(running, (t + out.span_s, seq, name))
                seq += 1
        if not running:
            return run
        t, _, name = heapq.heappop(running)
        run.end_s[name] = t
        if outcomes[name].succeeded:
            done.add(name)
        else:
            run.succeeded = False
