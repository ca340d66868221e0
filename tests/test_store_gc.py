"""What killed recordings leave in the results store is removed; recordings in progress and
complete runs are not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim import atomic
from smsim.store import Record, Store

REPO = Path(__file__).resolve().parents[1]

#: A recording's write, as ``Store.record_record`` does it: reserve the id, build the folder aside.
_WRITER = """
import sys, time
from pathlib import Path
from smsim import atomic
target = Path(sys.argv[1])
target.mkdir(parents=True)
with atomic.atomic_dir(target, check=False) as tmp:
    (tmp / "ledger.parquet").write_bytes(b"half a ledger")
    print("writing", flush=True)
    time.sleep(600)
"""


def _start_writer(target: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], cwd=REPO, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, text=True)
    assert proc.stdout.readline().strip() == "writing"
    return proc


@pytest.fixture
def writers():
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _record() -> Record:
    summary = {"scenario": "a", "seed": 1, "total_cost_usd": 2.5,
               "resources": [{"resource_id": "r-a", "kind": "fleet", "section": "fleets", "cost_usd": 2.5}]}
    ledger = pd.DataFrame({"lineItem/ResourceId": ["r-a"], "lineItem/UnblendedCost": [2.5]})
    return Record(kind="run", summary=summary, scenario_yaml="name: a\n", ledger=ledger)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _age(path: Path, seconds: float) -> None:
    for p in [path, *path.rglob("*")]:
        os.utime(p, (time.time() - seconds, time.time() - seconds))


def _hidden(store: Store, run_id: str) -> list[Path]:
    return sorted(store.path.glob(f".{run_id}.*.tmp"))


def test_a_killed_recording_is_removed_a_live_one_kept_complete_runs_untouched(tmp_path, writers):
    store = Store(tmp_path / "st")
    done = store.record(_record())
    before = _tree(store.path / done)

    killed = _start_writer(store.path / "20260101-000000-dead01")
    writers.append(killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()  # reaped: its pid no longer exists
    live = _start_writer(store.path / "20260101-000000-a11fe0")
    writers.append(live)
    # the killed writer's temporary names its pid and this host; the reserved folder stays empty
    (left,) = _hidden(store, "20260101-000000-dead01")
    assert f".w{killed.pid}-" in left.name and (left / "ledger.parquet").exists()
    _age(store.path / "20260101-000000-a11fe0", 120)  # reserved long ago, but its writer runs

    removed = store.gc()

    assert removed == [left.name, "20260101-000000-dead01"]
    assert not (store.path / "20260101-000000-dead01").exists() and _hidden(store, "20260101-000000-dead01") == []
    (kept,) = _hidden(store, "20260101-000000-a11fe0")  # in progress: untouched
    assert f".w{live.pid}-" in kept.name and (kept / "ledger.parquet").read_bytes() == b"half a ledger"
    assert (store.path / "20260101-000000-a11fe0").is_dir()
    assert _tree(store.path / done) == before
    assert list(store.list()["run_id"]) == [done]
    assert sorted(p.name for p in store.path.iterdir() if not p.name.startswith(".")) == sorted(
        [done, "index.parquet", "20260101-000000-a11fe0"])
    assert store.gc() == []  # nothing more to do while the live writer runs


def test_recording_sweeps_a_dead_writers_temporary(tmp_path, writers):
    store = Store(tmp_path / "st")
    proc = _start_writer(store.path / "20260101-000000-dead01")
    proc.kill()
    proc.wait()
    assert len(_hidden(store, "20260101-000000-dead01")) == 1
    store.record(_record())
    assert _hidden(store, "20260101-000000-dead01") == []
    assert not (store.path / "20260101-000000-dead01").exists()


def test_an_empty_reserved_folder_without_a_temporary_goes_after_a_minute(tmp_path):
    store = Store(tmp_path / "st")
    done = store.record(_record())
    (store.path / "20260101-000000-5e7ed0").mkdir()
    (store.path / "20260101-000000-0005e2").mkdir()
    (store.path / "20260101-000000-0005e2" / "notes.txt").write_text("mine")
    assert store.gc() == []  # just reserved: its writer is about to create the temporary
    _age(store.path / "20260101-000000-5e7ed0", 120)
    _age(store.path / "20260101-000000-0005e2", 120)
    assert store.gc() == ["20260101-000000-5e7ed0"]
    assert (store.path / "20260101-000000-0005e2" / "notes.txt").read_text() == "mine"  # not empty: kept
    assert list(store.list()["run_id"]) == [done]


def test_a_reused_pid_does_not_keep_a_temporary_alive(tmp_path):
    """This process is alive, but it started after a temporary an hour old appeared: not its writer."""
    if atomic._started_at(os.getpid()) is None:
        pytest.skip("no /proc here: a process's start time is unknown, so a live pid is trusted")
    tmp = Path(atomic._temp(tmp_path / "run", folder=True))
    assert atomic.abandoned(tmp_path) == []  # fresh, and this process is writing it
    _age(tmp, 3600 + time.time() - atomic._started_at(os.getpid()))
    assert atomic.abandoned(tmp_path) == [tmp]


def test_temporaries_of_other_hosts_or_unnamed_writers_go_only_when_old(tmp_path):
    other = tmp_path / ".run.w1-00000000.abcd1234.tmp"
    unnamed = tmp_path / ".index.parquet.k2x9_a7q.tmp"  # a file, as a killed index write leaves
    other.mkdir()
    (other / "ledger.parquet").write_bytes(b"x")
    unnamed.write_bytes(b"x")
    (tmp_path / ".lock").write_bytes(b"")
    assert atomic.abandoned(tmp_path) == []
    _age(other, 7200)
    _age(unnamed, 7200)
    assert atomic.abandoned(tmp_path) == []  # within the default day
    assert atomic.sweep_abandoned(tmp_path, older_than_s=3600) == [unnamed.name, other.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


def test_runs_gc_command(tmp_path, writers):
    from smsim.cli import app

    store = Store(tmp_path / "st")
    done = store.record(_record())
    proc = _start_writer(store.path / "20260101-000000-dead01")
    proc.kill()
    proc.wait()
    (left,) = _hidden(store, "20260101-000000-dead01")
    result = CliRunner().invoke(app, ["runs", "gc", "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [f"removed {left.name}", "removed 20260101-000000-dead01"]
    assert "2 leftover(s) removed from" in result.output
    assert list(store.list()["run_id"]) == [done]
    bad = CliRunner().invoke(app, ["runs", "gc", "--store", str(store.path), "--older-than-s", "-1"])
    assert bad.exit_code == 2



def _dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def test_a_hand_made_folder_is_never_removed_a_reserved_one_is(tmp_path):
    """Only a folder named as smsim names runs can be a reservation: ``mkdir store/notes`` stays,
    empty and old, even beside an abandoned temporary named after it."""
    store = Store(tmp_path / "st")
    done = store.record(_record())
    reserved = store._claim_id(datetime(2026, 1, 1, tzinfo=UTC))  # as a recording reserves its id
    hand_made = ["notes", "2026-results", "20260101-000000-NOTHEX"]
    for name in hand_made:
        (store.path / name).mkdir()
    temp = store.path / f".notes.w{_dead_pid()}-{atomic._host()}.abcd1234.tmp"
    temp.mkdir()
    for name in [*hand_made, reserved]:
        _age(store.path / name, 3600)

    assert store.gc() == [temp.name, reserved]

    assert sorted(p.name for p in store.path.iterdir()) == sorted([".lock", done, "index.parquet", *hand_made])
    assert [list((store.path / name).iterdir()) for name in hand_made] == [[], [], []]
    assert list(store.list()["run_id"]) == [done]


#: A folder write on a file system without atomic exchange (two renames), stopped at ``step``:
#: killed there (``die``) or waiting there (``wait``). ``record`` records a run in the store
#: ``target`` instead of writing ``target`` itself.
_SWAP_WRITER = """
import os, signal, sys, time
from pathlib import Path
from smsim import atomic
target, step, then = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
atomic._exchange = lambda a, b: False

def reached(name):
    if name == step:
        print("at", name, flush=True)
        if then == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(600)

atomic._reached = reached
if sys.argv[4:] == ["record"]:
    from smsim.store import Store
    Store(target).record_summary({"total_cost_usd": 1.5}, "commit")
else:
    with atomic.atomic_dir(target, check=False) as tmp:
        (tmp / "summary.json").write_text("new")
"""


def _swap(target: Path, step: str, then: str, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _SWAP_WRITER, str(target), step, then, *extra], cwd=REPO,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)}, text=True)
    assert proc.stdout.readline().strip() == f"at {step}"
    if then == "die":
        assert proc.wait() == -signal.SIGKILL  # reaped: its pid no longer exists
    return proc


def _only(store: Store, pattern: str) -> Path:
    (found,) = store.path.glob(pattern)
    return found


def test_a_swap_killed_between_its_renames_puts_the_old_run_back(tmp_path):
    store = Store(tmp_path / "st")
    done = store.record(_record())
    before = _tree(store.path / done)
    proc = _swap(store.path / done, "rename", "die")
    old = _only(store, f".{done}.w{proc.pid}-*.old")
    new = _only(store, f".{done}.w{proc.pid}-*.tmp")
    assert not (store.path / done).exists() and _tree(old) == before
    assert atomic.written_files(new) == {"summary.json": 3}  # the new folder, complete but not in place
    assert list(store.list()["run_id"]) == []

    restored: list[str] = []
    assert store.gc(restored=restored) == [new.name]

    assert restored == [done]
    assert _tree(store.path / done) == before
    assert store.show(done)["summary"] == _record().summary
    assert list(store.list()["run_id"]) == [done]
    assert sorted(p.name for p in store.path.iterdir()) == [".lock", done, "index.parquet"]


def test_a_swap_killed_after_its_renames_leaves_an_old_copy_that_goes(tmp_path):
    store = Store(tmp_path / "st")
    done = store.record(_record())
    before = _tree(store.path / done)
    proc = _swap(store.path / done, "remove-old", "die")
    old = _only(store, f".{done}.w{proc.pid}-*.old")
    assert _tree(old) == before
    assert atomic.written_files(store.path / done) == {"summary.json": 3}  # the new result, complete

    restored: list[str] = []
    assert store.gc(restored=restored) == [old.name]

    assert restored == []
    assert _tree(store.path / done) == {"_SUCCESS": (store.path / done / "_SUCCESS").read_bytes(),
                                        "summary.json": b"new"}
    assert sorted(p.name for p in store.path.iterdir()) == [".lock", done, "index.parquet"]


def test_a_recording_killed_between_its_renames_leaves_nothing_after_gc(tmp_path):
    """What a recording moves aside is its empty reserved folder: put back, then removed as a
    reservation whose writer is gone."""
    store = Store(tmp_path / "st")
    done = store.record(_record())
    proc = _swap(store.path, "rename", "die", "record")
    old = _only(store, f".*.w{proc.pid}-*.old")
    run_id = atomic.temp_target(old.name)
    new = _only(store, f".{run_id}.w{proc.pid}-*.tmp")
    assert list(old.iterdir()) == [] and not (store.path / run_id).exists()
    assert (new / "_SUCCESS").exists()

    restored: list[str] = []
    assert store.gc(restored=restored) == [new.name, run_id]

    assert restored == [run_id]
    assert sorted(p.name for p in store.path.iterdir()) == [".lock", done, "index.parquet"]
    assert list(store.list()["run_id"]) == [done]


def test_a_swap_in_progress_is_left_alone(tmp_path, writers):
    store = Store(tmp_path / "st")
    done = store.record(_record())
    before = _tree(store.path / done)
    proc = _swap(store.path / done, "rename", "wait")
    writers.append(proc)
    old = _only(store, f".{done}.w{proc.pid}-*.old")
    _age(old, 3600)

    restored: list[str] = []
    assert store.gc(restored=restored) == [] and restored == []
    assert _tree(old) == before and not (store.path / done).exists()

    new = _only(store, f".{done}.w{proc.pid}-*.tmp")
    proc.kill()
    proc.wait()
    assert store.gc(restored=restored) == [new.name] and restored == [done]
    assert _tree(store.path / done) == before


def test_an_old_folder_without_a_writer_in_its_name_is_not_touched(tmp_path):
    """``.notes.backup.old`` may be a user's; an old result moved aside by an smsim that did not
    name writers is put back by the next write to its path, not by gc."""
    store = Store(tmp_path / "st")
    done = store.record(_record())
    for name in (".notes.backup.old", f".{done}.abcd1234.old"):
        (store.path / name).mkdir()
        (store.path / name / "mine.txt").write_text("mine")
    restored: list[str] = []
    assert store.gc(older_than_s=0.0, restored=restored) == [] and restored == []
    assert (store.path / ".notes.backup.old" / "mine.txt").read_text() == "mine"
    assert (store.path / f".{done}.abcd1234.old" / "mine.txt").read_text() == "mine"
    assert not (store.path / "notes").exists() and (store.path / done / "_SUCCESS").exists()


def test_runs_gc_command_says_what_it_put_back(tmp_path):
    from smsim.cli import app

    store = Store(tmp_path / "st")
    done = store.record(_record())
    proc = _swap(store.path / done, "rename", "die")
    new = _only(store, f".{done}.w{proc.pid}-*.tmp")
    result = CliRunner().invoke(app, ["runs", "gc", "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"restored {done} (moved aside by a write killed midway)",
                                          f"removed {new.name}", f"1 leftover(s) removed from {store.path}"]
    assert list(store.list()["run_id"]) == [done]
