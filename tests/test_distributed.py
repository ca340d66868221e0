"""Fan-out on one process, local processes and a Dask cluster: same numbers, faults, the store.

The cluster is a ``LocalCluster`` of 2 worker processes started here (one per module).
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import signal
import time

import pandas as pd
import pytest

from smsim.compare import compare
from smsim.compare.runner import run_tasks
from smsim.executor import SCHEDULER_ENV, Executor, TaskError
from smsim.scenario import load_scenario

distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed (pip install 'smsim[dask]')")

SCENARIO = """\
name: dist
horizon: {start: 2026-01-05T00:00:00Z, duration_s: 2h}
seed: 11
models:
  - name: m
    memory_gb: 2
    latency:
      ml.m5.large: {kind: lognormal, median_s: 0.2, p99_s: 0.9}
endpoints:
  - kind: realtime
    name: api
    model: m
    instance_type: ml.m5.large
    concurrency_per_instance: 2
    initial_instance_count: 1
    fidelity: request
    workload: {kind: poisson, rate_per_s: 3}
variants:
  - name: two
    patch: {endpoints: {api: {initial_instance_count: 2}}}
"""


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    cl = distributed.Client(cluster)
    yield cl
    cl.close()
    cluster.close()


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("dist") / "s.yaml"
    path.write_text(SCENARIO)
    return path


def _numbers(result) -> str:
    return json.dumps(result.summaries, sort_keys=True, default=str)


def test_compare_is_identical_serial_processes_and_dask(scenario_file, client):
    serial = compare([scenario_file], replications=4)
    procs = compare([scenario_file], replications=4, jobs=2)
    dask = compare([scenario_file], replications=4, scheduler=client)
    assert _numbers(serial) == _numbers(procs) == _numbers(dask)
    runs = [json.dumps(s["resources"], sort_keys=True) for s in serial.summaries["base"]]
    assert len(set(runs)) == 4  # the replications really differ (their seeds are their identity)
    assert serial.document == procs.document == dask.document


TRACE_SCENARIO = """\
name: traced
horizon: {start: 2026-01-05T00:00:00Z, duration_s: 1h}
seed: 3
pricing: {catalog: prices}
models:
  - name: m
    memory_gb: 2
    latency:
      ml.m5.xlarge: {kind: lognormal, median_s: 0.3, p99_s: 1.2}
endpoints:
  - kind: realtime
    name: api
    model: m
    instance_type: ml.m5.xlarge
    concurrency_per_instance: 2
    initial_instance_count: 1
    fidelity: request
    workload: {kind: trace, path: traffic/requests.csv, rate_scale: 1.5}
"""


def test_workers_that_cannot_see_the_files_give_the_local_numbers(tmp_path, client, monkeypatch):
    """The trace and the price catalog are read by the client and shipped to the workers: with
    both moved away once the client has read them, a cluster run equals a local one."""
    import shutil

    import numpy as np

    import smsim.api
    from smsim.compare.runner import _run_one
    from smsim.executor import TaskInputError

    (tmp_path / "traffic").mkdir()
    times = np.sort(np.random.default_rng(5).uniform(0, 3600, 9000))
    pd.DataFrame({"arrival_s": np.round(times, 6)}).to_csv(tmp_path / "traffic" / "requests.csv", index=False)
    shutil.copytree(os.path.join(os.path.dirname(__file__), "fixtures", "pricing", "mini"), tmp_path / "prices")
    path = tmp_path / "s.yaml"
    path.write_text(TRACE_SCENARIO)
    scenario = load_scenario(path)
    tasks = [(i, scenario, 40 + i) for i in range(4)]
    local = run_tasks(tasks)
    # the mini catalog's round prices: 4 runs of 1 h of one ml.m5.xlarge at 0.20 USD/h
    assert [r.summary["total_cost_usd"] for r in local.values()] == pytest.approx([0.20] * 4, rel=1e-9)

    real, read = smsim.api.read_inputs, []

    def read_then_move(sc, **kw):
        bundle = real(sc, **kw)
        read.append(sorted(k[0] for k in bundle))
        (tmp_path / "traffic").rename(tmp_path / "gone")
        (tmp_path / "prices").rename(tmp_path / "prices-gone")
        return bundle

    monkeypatch.setattr(smsim.api, "read_inputs", read_then_move)
    dask = run_tasks(tasks, scheduler=client)
    assert read == [["catalog", "trace"]]  # read once on the client, not per task
    assert not (tmp_path / "traffic").exists()
    for k, run in dask.items():
        assert run.summary == local[k].summary
        pd.testing.assert_frame_equal(run.ledger, local[k].ledger)
    assert len({json.dumps(r.summary["resources"], sort_keys=True) for r in dask.values()}) == 4
    # without the shipped files the workers cannot run it: they really cannot see the trace
    with Executor(scheduler=client) as ex, pytest.raises(TaskInputError, match="requests.csv"):
        ex.map(_run_one, [(0, (scenario, 40))])


def test_forecasts_of_many_series_identical_on_dask(client):
    import numpy as np

    from smsim.forecast import forecast_many

    idx = pd.date_range("2026-01-01", periods=96, freq="h")
    rng = np.random.default_rng(0)
    series = {f"s{i}": pd.Series(50 + 10 * np.sin(np.arange(96) / 24 * 2 * np.pi) + rng.normal(0, 2, 96), idx)
              for i in range(3)}
    local = forecast_many(series, 24, model="ets")
    dask = forecast_many(series, 24, model="ets", scheduler=client)
    assert [r.frame["unique_id"].iloc[0] for r in dask] == ["s0", "s1", "s2"]
    for a, b in zip(local, dask, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame)


def test_projection_paths_identical_on_dask(tmp_path, client):
    from test_project_core import _periodic

    from smsim.project.api import project_scenario

    path = _periodic(tmp_path)
    one = project_scenario(path, "2d", n_paths=3, model="snaive", keep_ledgers=True)
    dask = project_scenario(path, "2d", n_paths=3, model="snaive", keep_ledgers=True, scheduler=client)
    assert [r.summary for r in one.runs] == [r.summary for r in dask.runs]
    for a, b in zip(one.runs, dask.runs, strict=True):
        pd.testing.assert_frame_equal(a.ledger, b.ledger)
    assert one.summary == dask.summary


def test_optimizer_same_answer_and_evaluations_on_dask(client):
    from test_optimize_search import SPACES, brute_and_search, same_answer, scenario

    sc = scenario(seed=4)
    _, ex, one = brute_and_search(sc, SPACES[0], jobs=2)
    _, _, dask = brute_and_search(sc, SPACES[0], scheduler=client)
    same_answer(ex, dask)
    seen = lambda res: {e.candidate.index: e.cost_usd for e in res.evaluations}  # noqa: E731
    assert seen(one) == seen(dask)  # 2 local processes and 2 Dask workers: the same batches


def test_a_worker_killed_mid_sweep_loses_nothing(scenario_file, client):
    base = load_scenario(scenario_file)
    tasks = [(i, base, 100 + i) for i in range(12)]
    serial = run_tasks(tasks)
    pids = client.run(os.getpid)  # worker address -> pid
    killed = []

    def on_done(key, result) -> None:
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed.append(busy[0])

    got = run_tasks(tasks, scheduler=client, on_done=on_done)
    assert killed, "no worker was busy when the first result came back"
    assert list(got) == list(range(12))
    for k, run in got.items():
        assert run.summary == serial[k].summary
        pd.testing.assert_frame_equal(run.ledger, serial[k].ledger)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


def test_a_failing_task_names_its_task(client):
    tasks = [(f"x={x}", (x,)) for x in (1.0, 4.0, -1.0, 9.0)]
    with Executor(scheduler=client) as ex:
        with pytest.raises(TaskError, match=r"input x=-1.0 failed: ValueError: math domain error") as err:
            ex.map(math.sqrt, tasks, describe=lambda k: f"input {k}")
    assert err.value.key == "x=-1.0"
    with pytest.raises(TaskError, match=r"no-such.yaml: 'arm' \(seed 5\) failed: file not found"):
        run_tasks([("arm", "no-such.yaml", 5)])


def test_scheduler_from_the_environment_and_bad_values(client, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, client.scheduler.address)
    with Executor() as ex:
        assert ex.kind == "dask" and ex.workers == 2
        assert ex.map(math.sqrt, [(i, (float(i * i),)) for i in range(5)]) == {i: float(i) for i in range(5)}
    with Executor(jobs=2) as ex:  # an explicit --jobs N uses local processes
        assert ex.kind == "processes"
    monkeypatch.delenv(SCHEDULER_ENV)
    from smsim.errors import InputError

    for bad in ("local:0", "local:x", "locale", "tcp://no-port"):
        with pytest.raises(InputError, match="--scheduler"):
            Executor(scheduler=bad)


def test_a_scheduler_nobody_listens_at_fails_fast():
    import socket

    from smsim.errors import InputError

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(InputError, match=rf"--scheduler: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"):
        Executor(scheduler=f"127.0.0.1:{port}")
    assert time.monotonic() - t0 < 5


def test_cli_compare_on_a_local_cluster_matches_jobs_1(scenario_file, tmp_path):
    from typer.testing import CliRunner

    from smsim.cli import app

    runner = CliRunner()
    args = ["compare", str(scenario_file), "-r", "2", "--json", "--no-store"]
    one = runner.invoke(app, args)
    two = runner.invoke(app, [*args, "--scheduler", "local:2"])
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    strip = lambda out: {k: v for k, v in json.loads(out).items() if k != "group_id"}  # noqa: E731
    assert strip(one.stdout) == strip(two.stdout)


# -- the results store under concurrent writers ------------------------------------------------

def _writer(store_path: str, who: int, n: int, barrier) -> None:
    import smsim.store.store as store_mod
    from smsim.store import Store

    # a tiny id space makes two writers pick the same id often, as busy clients eventually do
    store_mod.new_run_id = lambda now=None: f"20260101-000000-{os.urandom(1).hex()[:1]}{os.urandom(1)[0] % 4}"
    st = Store(store_path)
    barrier.wait()
    for i in range(n):
        st.record_summary({"writer": who, "i": i, "total_cost_usd": float(who * 100 + i)}, "run")


def test_two_writers_at_once_lose_no_run(tmp_path):
    from smsim.store import Store

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 12, barrier)) for w in (1, 2)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    assert time.monotonic() - t0 < 60
    st = Store(tmp_path)
    index = st.list()
    assert len(index) == 24 and index["run_id"].is_unique
    seen = sorted((s["writer"], s["i"]) for s in (st.show(r)["summary"] for r in index["run_id"]))
    assert seen == [(w, i) for w in (1, 2) for i in range(12)]
    assert len(st.reindex()) == 24  # the folders on disk agree with the index


# -- a failing task, then --resume ---------------------------------------------------------------

FLEET = """\
name: {name}
horizon: {{start: 2026-01-05T00:00:00Z, duration_s: 2h}}
seed: 4
fleets:
  - {{name: web, instance_type: ml.m5.xlarge, count: {count}}}
"""


def test_bench_names_the_failing_scenario_and_resume_runs_only_the_rest(tmp_path, monkeypatch):
    import smsim.compare.runner as runner
    from smsim.compare.bench import run_bench
    from smsim.store import Store

    folder = tmp_path / "scenarios"
    folder.mkdir()
    for i, name in enumerate(("a", "b", "c"), 1):
        (folder / f"{name}.yaml").write_text(FLEET.format(name=name, count=i))
    real, ran, failed = runner._run_one, [], []

    def flaky(scenario, seed, catalog=None):
        ran.append(scenario.name)
        if scenario.name == "b" and not failed:
            failed.append(seed)
            raise ZeroDivisionError("boom")
        return real(scenario, seed, catalog)

    monkeypatch.setattr(runner, "_run_one", flaky)
    st = Store(tmp_path / "store")
    with pytest.raises(TaskError, match=r"'b.yaml' \(seed 4\) failed: ZeroDivisionError: boom"):
        run_bench(folder, store=st)
    assert ran == ["a", "b"] and list(st.list()["label"]) == ["a.yaml"]  # a finished and is kept
    ran.clear()
    result = run_bench(folder, store=st, resume=True)
    assert ran == ["b", "c"]  # only the unfinished arms ran again
    rows = {r["label"]: r for r in result.rows}
    assert rows["a.yaml"]["resumed"] and not rows["b.yaml"]["resumed"]
    # 2 h of 1, 2, 3 ml.m5.xlarge at one on-demand price: cost proportional to the count
    assert rows["b.yaml"]["total_cost_usd"] == pytest.approx(2 * rows["a.yaml"]["total_cost_usd"], rel=1e-12)
    assert rows["c.yaml"]["total_cost_usd"] == pytest.approx(3 * rows["a.yaml"]["total_cost_usd"], rel=1e-12)
    assert rows["a.yaml"]["total_cost_usd"] > 0


def test_compare_resume_after_a_failure_equals_an_uninterrupted_run(scenario_file, tmp_path, monkeypatch):
    import smsim.compare.runner as runner
    from smsim.store import Store

    fresh = compare([scenario_file], replications=3)
    real, ran = runner._run_one, []

    def flaky(scenario, seed, catalog=None):
        ran.append((scenario.name, seed))
        if len(ran) == 5:
            raise ZeroDivisionError("boom")
        return real(scenario, seed, catalog)

    monkeypatch.setattr(runner, "_run_one", flaky)
    st = Store(tmp_path / "store")
    with pytest.raises(TaskError, match=r"arm 'two' replication 2 \(seed \d+\) failed: ZeroDivisionError"):
        compare([scenario_file], replications=3, store=st)
    assert len(st.list()) == 4  # base x3 and two's first replication were recorded
    ran.clear()
    resumed = compare([scenario_file], replications=3, store=st, resume=True)
    assert len(ran) == 2  # only the two unfinished runs ran again
    assert len(st.list()) == 6
    assert _numbers(resumed) == _numbers(fresh)
    drop = lambda doc: {k: v for k, v in doc.items() if k != "group_id"}  # noqa: E731
    assert drop(resumed.document) == drop(fresh.document)
    for arm in ("base", "two"):
        assert resumed.series[arm].keys() == fresh.series[arm].keys()
        for name, frame in fresh.series[arm].items():
            pd.testing.assert_frame_equal(resumed.series[arm][name], frame, check_freq=False)


def test_every_command_that_fans_out_words_jobs_and_scheduler_alike():
    import typer

    from smsim.cli import app
    from smsim.cli._common import JOBS_HELP, SCHEDULER_HELP

    def commands(group, prefix=()):
        for name, cmd in getattr(group, "commands", {}).items():
            yield (*prefix, name), cmd
            yield from commands(cmd, (*prefix, name))

    seen = {}
    for name, cmd in commands(typer.main.get_command(app)):
        for param in cmd.params:
            if "--jobs" in getattr(param, "opts", ()) or "--scheduler" in getattr(param, "opts", ()):
                seen.setdefault(" ".join(name), []).append((tuple(param.opts), param.help))
    assert {"compare", "bench", "project", "optimize", "forecast"} <= set(seen)
    for name, params in seen.items():
        for opts, text in params:
            assert (opts, text) in ((("--jobs", "-j"), JOBS_HELP), (("--scheduler",), SCHEDULER_HELP)), name


def test_read_inputs_checks_or_keeps_what_reads(tmp_path):
    """With check, a trace too short for the horizon stops the client; without (projections,
    optimizer batches) the trace is still shipped and the task meets the error itself."""
    import numpy as np

    from smsim.api import read_inputs
    from smsim.errors import InputError
    from smsim.inputs import provided

    (tmp_path / "t.csv").write_text("arrival_s\n" + "\n".join(f"{t:.3f}" for t in np.arange(0, 600, 0.5)) + "\n")
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace("workload: {kind: poisson, rate_per_s: 3}", "workload: {kind: trace, path: t.csv}"))
    scenario = load_scenario(path)  # loading reads no trace; a run (and read_inputs) checks them
    with pytest.raises(InputError, match="covers 10m"):
        read_inputs(scenario)
    bundle = read_inputs(scenario, check=False)
    assert sorted(k[0] for k in bundle) == ["catalog", "trace"]
    (trace,) = [v for k, v in bundle.items() if k[0] == "trace"]
    assert len(trace.arrival_s) == 1200
    (tmp_path / "t.csv").rename(tmp_path / "gone.csv")
    from smsim.workload.spec import _load_recorded

    with provided(bundle):  # what a worker without the file reads
        assert _load_recorded(scenario.endpoints[0].workload, scenario.base_dir) is trace
