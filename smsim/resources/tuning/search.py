"""The decisions of a tuning job, as pure functions: when trials start, where Hyperband and the
median rule stop them, when completion criteria end the job, and which trial is the best.

Scores are "higher is better" (a minimised objective enters negated). Times are seconds from
the tuning job's start. Every function is deterministic in its arguments.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass


def launch_offsets(elapsed_s: Sequence[float], parallel: int, batched: bool) -> list[float]:
    """Start time of each trial, in launch order.

    ``batched=False`` (random search, Hyperband): a trial starts as soon as one of ``parallel``
    slots frees (greedy list scheduling). ``batched=True`` (Bayesian): trials run in batches of
    ``parallel``, each batch starting when the previous batch has finished. With equal
    durations ``d`` both end at ``ceil(N / parallel) * d``.
    """
    starts: list[float] = []
    if batched:
        t = 0.0
        for i in range(0, len(elapsed_s), parallel):
            batch = elapsed_s[i:i + parallel]
            starts += [t] * len(batch)
            t += max(batch)
        return starts
    slots = [0.0] * parallel
    for e in elapsed_s:
        t = heapq.heappop(slots)
        starts.append(t)
        heapq.heappush(slots, t + e)
    return starts


def hyperband_brackets(min_resource: int, max_resource: int, eta: int) -> list[list[float]]:
    """Per bracket, the fractions of full training at which its rungs sit (the final resource,
    where a trial completes, excluded). Bracket ``b`` starts at ``min_resource * eta**b``; the
    last bracket (``b = floor(log_eta(max / min))``) may have no rung: its trials run to the end.
    """
    s_max = int(math.floor(math.log(max_resource / min_resource, eta) + 1e-9))
    out = []
    for b in range(s_max + 1):
        r = min_resource * eta**b
        rungs = []
        while r < max_resource:
            rungs.append(r / max_resource)
            r *= eta
        out.append(rungs)
    return out


def hyperband_stop(score: float, rungs: Sequence[float], records: list[list[float]], eta: int) -> float | None:
    """Where a trial with ``score`` stops in a bracket with ``rungs``: the fraction of its training
    at the first rung where it does not rank in the top ``ceil(n / eta)`` of the ``n`` trials
    that reached that rung (itself included), or None when it passes every rung. Appends the
    score to ``records[k]`` of each rung it reaches (launch order stands in for arrival order).
    """
    for k, fraction in enumerate(rungs):
        record = records[k]
        record.append(score)
        better = sum(1 for s in record if s > score)
        if better >= math.ceil(len(record) / eta):
            return fraction
    return None


def median_rule_stops(quantile: float, stopped_fraction: float) -> bool:
    """Declared ``Auto`` early stopping: a trial whose objective lies below the
    ``stopped_fraction`` quantile of its distribution is stopped (the best never is)."""
    return quantile < stopped_fraction


@dataclass(frozen=True)
class TrialTimes:
    """One trial as the criteria see it: when it ends, and its final score (None if stopped)."""

    start_s: float
    end_s: float
    score: float | None


def completion_time(trials: Sequence[TrialTimes], initial_best: float, target: float | None,
                    not_improving: int | None) -> float:
    """When completion criteria end the job: the end of the first trial (in end order) whose score
    reaches ``target``, or the end of the ``not_improving``-th trial in a row that did not beat
    the best so far (stopped trials count as not improving). ``inf`` when neither happens."""
    if target is None and not_improving is None:
        return math.inf
    best, streak = initial_best, 0
    for trial in sorted(trials, key=lambda t: t.end_s):
        score = trial.score
        if score is not None and target is not None and score >= target:
            return trial.end_s
        if score is not None and score > best:
            best, streak = score, 0
        else:
            streak += 1
            if not_improving is not None and streak >= not_improving:
                return trial.end_s
    return math.inf


def best_trial(trials: Sequence[TrialTimes], stop_s: float, initial_best: float) -> tuple[int | None, float]:
    """``(index, time)`` of the best trial finished by ``stop_s``: the highest score among trials
    that ran to the end, ties to the earlier end. ``(None, 0.0)`` when the warm-start parents'
    best (``initial_best``) is not beaten: the best configuration is known from the start."""
    best_i, best_score, best_end = None, initial_best, 0.0
    for i, trial in enumerate(trials):
        if trial.score is None or trial.end_s > stop_s:
            continue
        if trial.score > best_score or (best_i is not None and trial.score == best_score and trial.end_s < best_end):
            best_i, best_score, best_end = i, trial.score, trial.end_s
    return best_i, best_end
