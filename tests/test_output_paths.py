"""Output paths never destroy a user's files: the rule of ``smsim.atomic.check_output`` for every
command that writes, odd paths, ``--force``, and interrupts at every step of the final swap."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsim import atomic
from smsim.cli import app
from smsim.errors import InputError

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

SCENARIO = """\
name: tiny
horizon: {start: 2026-01-05T00:00:00Z, duration_s: 1d}
fleets:
  - {name: box, instance_type: ml.m5.large, component: RealTimeInference, count: 1}
"""


@pytest.fixture
def scenario(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO)
    return path


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if a simulation starts: refusals must come before any work."""
    from smsim import api

    def boom(*args, **kwargs):
        raise AssertionError("a simulation ran before the output path was refused")

    monkeypatch.setattr(api, "run_scenario", boom)


def _run(scenario: Path, out, *extra: str):
    return runner.invoke(app, ["run", str(scenario), "--out", str(out), "--no-store", "-q", *extra])


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def _foreign(tmp_path: Path) -> Path:
    precious = tmp_path / "precious"
    (precious / "sub").mkdir(parents=True)
    (precious / "notes.txt").write_text("my notes")
    (precious / "sub" / "x.txt").write_text("x")
    return precious


# -- run --out: each case of the rule -------------------------------------------------------------


def test_foreign_folder_is_refused_before_simulating_and_left_alone(tmp_path, scenario, no_simulation):
    precious = _foreign(tmp_path)
    result = _run(scenario, precious)
    assert result.exit_code == 2
    assert f"--out {precious} is a folder smsim did not write" in result.output
    assert "notes.txt" in result.output and "sub/x.txt" in result.output and "--force" in result.output
    assert _tree(precious) == {"notes.txt": "my notes", "sub/x.txt": "x"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious", "tiny.yaml"]  # no temporary left


def test_a_folder_smsim_wrote_is_replaced_without_a_flag(tmp_path, scenario):
    out = tmp_path / "res"
    assert _run(scenario, out).exit_code == 0
    marker = json.loads((out / "_SUCCESS").read_text())
    assert marker["written_by"] == "smsim"
    assert set(marker["files"]) == {"summary.json", "ledger.parquet", "ledger.daily.parquet", "ledger.totals.parquet",
                                   "ledger.daily.coarse.parquet",
                                   "usage.parquet", "scenario.resolved.yaml"}
    assert marker["files"]["summary.json"] == (out / "summary.json").stat().st_size
    (out / "usage.parquet").unlink()  # removing smsim's files is fine
    second = _run(scenario, out, "--seed", "7")
    assert second.exit_code == 0, second.output
    assert json.loads((out / "summary.json").read_text())["seed"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "tiny.yaml"]


@pytest.mark.parametrize("change", ["added", "edited"])
def test_a_smsim_folder_with_the_users_files_in_it_is_foreign(tmp_path, scenario, change):
    out = tmp_path / "res"
    assert _run(scenario, out).exit_code == 0
    if change == "added":
        (out / "analysis.ipynb").write_text("{}")
    else:
        with open(out / "summary.json", "a") as fh:
            fh.write("my remark\n")
    result = _run(scenario, out)
    assert result.exit_code == 2, result.output
    assert ("analysis.ipynb" if change == "added" else "summary.json") in result.output
    assert (out / "analysis.ipynb").exists() if change == "added" else "my remark" in (out / "summary.json").read_text()


def test_an_empty_folder_is_used(tmp_path, scenario):
    out = tmp_path / "empty"
    out.mkdir()
    assert _run(scenario, out).exit_code == 0
    assert (out / "summary.json").exists()


@pytest.mark.parametrize("force", [False, True])
def test_a_regular_file_is_never_turned_into_a_folder(tmp_path, scenario, no_simulation, force):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    result = _run(scenario, afile, *(["--force"] if force else []))
    assert result.exit_code == 2
    assert "is a file of 7 bytes" in result.output and "never replaced by a folder" in result.output
    assert afile.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "tiny.yaml"]


@pytest.mark.parametrize("force", [False, True])
def test_a_symlink_is_refused(tmp_path, scenario, no_simulation, force):
    real = _foreign(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(real)
    result = _run(scenario, link, *(["--force"] if force else []))
    assert result.exit_code == 2 and "symbolic link" in result.output
    assert link.is_symlink() and _tree(real) == {"notes.txt": "my notes", "sub/x.txt": "x"}


@pytest.mark.parametrize("out", [".", "..", "./"])
def test_the_current_folder_is_refused(tmp_path, scenario, monkeypatch, no_simulation, out):
    monkeypatch.chdir(tmp_path)
    result = _run(scenario, out, "--force")
    assert result.exit_code == 2 and "is the current folder" in result.output
    assert (tmp_path / "tiny.yaml").exists()


def test_a_folder_holding_the_scenario_is_refused_even_with_force(tmp_path, scenario, no_simulation):
    result = _run(scenario, tmp_path, "--force")
    assert result.exit_code == 2 and f"holds the input {scenario}" in result.output
    assert scenario.exists()


def test_a_parent_that_is_a_file(tmp_path, scenario, no_simulation):
    (tmp_path / "afile").write_text("x")
    result = _run(scenario, tmp_path / "afile" / "sub")
    assert result.exit_code == 2
    assert f"cannot write to {tmp_path / 'afile' / 'sub'} (--out): {tmp_path / 'afile'} is a file" in result.output


def _unwritable(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        return locked / "out"
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(dir="/sys")
    except OSError:
        return Path("/sys/smsim-test-out")  # sysfs: not writable, not even by root
    os.close(fd)
    os.unlink(probe)
    pytest.skip("running as root without a read-only folder to test with")


def test_an_unwritable_location_says_cannot_write(tmp_path, scenario, no_simulation):
    out = _unwritable(tmp_path)
    result = _run(scenario, out)
    assert result.exit_code == 2, result.output
    assert f"cannot write to {out} (--out)" in result.output
    assert "file not found" not in result.output and "internal error" not in result.output


@pytest.mark.parametrize("flag", ["--force", "--overwrite"])
def test_force_replaces_a_foreign_folder(tmp_path, scenario, flag):
    precious = _foreign(tmp_path)
    result = _run(scenario, precious, flag)
    assert result.exit_code == 0, result.output
    assert not (precious / "notes.txt").exists() and (precious / "summary.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious", "tiny.yaml"]


# -- every other command that writes --------------------------------------------------------------


def _commands(tmp_path: Path, scenario: Path):
    """(argv, output path, kind) for each command's output option."""
    data = tmp_path / "in.csv"
    data.write_text("time,value\n")
    optimize = REPO / "scenarios" / "optimize_endpoint.yaml"
    projection = REPO / "scenarios" / "projection.yaml"
    out_dir, out_file = tmp_path / "target_dir", tmp_path / "target.file"
    return [
        (["optimize", str(optimize), "--out", str(out_dir)], out_dir),
        (["project", str(projection), "--horizon", "30d", "--out", str(out_dir)], out_dir),
        (["bench", str(tmp_path), "--report", str(out_file)], out_file),
        (["bench", str(tmp_path), "--md", str(out_file)], out_file),
        (["report", str(tmp_path), "--html", str(out_file)], out_file),
        (["report", str(tmp_path), "--md", str(out_file)], out_file),
        (["forecast", str(data), "--horizon", "5", "--out", str(out_file)], out_file),
        (["forecast", str(data), "--horizon", "5", "--plot", str(out_file)], out_file),
        (["commit", str(data), "--plot", str(out_file)], out_file),
        (["schema", "--out", str(out_file)], out_file),
        (["pricing", "import", str(data), "--out", str(out_dir)], out_dir),
    ]


@pytest.mark.parametrize("index", range(11))
def test_every_command_refuses_what_it_would_destroy(tmp_path, scenario, index):
    argv, target = _commands(tmp_path, scenario)[index]
    if target.suffix == ".file":
        target.write_text("mine")
    else:
        target.mkdir()
        (target / "mine.txt").write_text("mine")
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert str(target) in result.output and "--force" in result.output
    assert (target.read_text() if target.is_file() else (target / "mine.txt").read_text()) == "mine"


def test_schema_force_replaces_a_file(tmp_path):
    target = tmp_path / "schema.json"
    target.write_text("old")
    assert runner.invoke(app, ["schema", "--out", str(target)]).exit_code == 2
    assert runner.invoke(app, ["schema", "--out", str(target), "--force"]).exit_code == 0
    assert json.loads(target.read_text())["title"] == "smsim scenario"


def test_a_file_output_where_a_folder_is_is_refused(tmp_path):
    (tmp_path / "r.html").mkdir()
    result = runner.invoke(app, ["schema", "--out", str(tmp_path / "r.html"), "--force"])
    assert result.exit_code == 2 and "is a folder" in result.output


def test_two_outputs_may_not_share_a_path(tmp_path):
    target = tmp_path / "r"
    result = runner.invoke(app, ["report", str(tmp_path), "--html", str(target), "--md", str(target)])
    assert result.exit_code == 2 and "give each output its own path" in result.output


# -- inputs are checked before the work -----------------------------------------------------------


def test_commit_evaluate_missing_file_is_exit_2_before_the_work(tmp_path, monkeypatch):
    import smsim.commit.api as commit_api

    monkeypatch.setattr(commit_api, "recommend_commitment",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("work started")))
    usage = tmp_path / "u.csv"
    usage.write_text("timestamp,ondemand_usd\n")
    result = runner.invoke(app, ["commit", str(usage), "--evaluate", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'missing.csv'}: --evaluate: file not found" in result.output


def test_project_history_missing_file_is_exit_2(tmp_path):
    result = runner.invoke(app, ["project", str(REPO / "scenarios" / "projection.yaml"), "--horizon", "30d",
                                 "--history", f"chat={tmp_path / 'nope.csv'}"])
    assert result.exit_code == 2 and "--history: file not found" in result.output


def test_a_missing_trace_file_fails_validation_with_its_location(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: t\nhorizon: {duration_s: 1h}\nmodels:\n  - name: m\n    latency: {'*': {kind: deterministic, value_s: 0.1}}\n"
        "endpoints:\n  - kind: realtime\n    name: e\n    model: m\n    instance_type: ml.m5.large\n"
        "    workload:\n      kind: trace\n      path: traces/missing.csv\n"
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:13:13: endpoints[0].workload.path: trace file not found: {tmp_path / 'traces' / 'missing.csv'}" \
        in result.output


# -- the writer itself: interrupts at every step --------------------------------------------------


class Interrupt(BaseException):
    pass


def _steps_of(monkeypatch, write) -> list[str]:
    seen: list[str] = []
    monkeypatch.setattr(atomic, "_reached", seen.append)
    write()
    monkeypatch.setattr(atomic, "_reached", lambda step: None)
    return seen


def _write_dir(target: Path, content: str) -> None:
    with atomic.atomic_dir(target) as tmp:
        (tmp / "result.txt").write_text(content)
        (tmp / "part").mkdir()
        (tmp / "part" / "more.txt").write_text(content * 2)


def _complete(target: Path) -> str:
    """The content of a complete result folder (both files and a marker that lists them)."""
    assert atomic.written_files(target) == {"result.txt": len((target / "result.txt").read_text()),
                                            "part/more.txt": len((target / "part" / "more.txt").read_text())}
    content = (target / "result.txt").read_text()
    assert (target / "part" / "more.txt").read_text() == content * 2
    return content


@pytest.mark.parametrize("exchange", [True, False], ids=["atomic-exchange", "move-aside"])
def test_an_interrupt_at_every_step_leaves_old_or_new(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    elif atomic._libc() is None:
        pytest.skip("no renameat2 on this system")
    target = tmp_path / "out"
    _write_dir(target, "old")
    steps = _steps_of(monkeypatch, lambda: _write_dir(target, "new"))
    expected = ["marker", "exchange", "remove-old", "sync"] if exchange else \
        ["marker", "exchange", "move-old-aside", "rename", "remove-old", "sync"]
    assert steps == expected
    for i, step in enumerate(steps):
        _write_dir(target, "old")

        def stop(name, at=step):
            if name == at:
                raise Interrupt(at)

        monkeypatch.setattr(atomic, "_reached", stop)
        with pytest.raises(Interrupt):
            _write_dir(target, "new")
        monkeypatch.setattr(atomic, "_reached", lambda name: None)
        got = _complete(target)
        assert got == ("old" if i < steps.index("remove-old") else "new"), step
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], step  # nothing hidden left


def test_a_failing_second_rename_puts_the_old_result_back(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "out"
    _write_dir(target, "old")
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "I/O error")
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", flaky)
    with pytest.raises(OSError):
        _write_dir(target, "new")
    monkeypatch.setattr(atomic.os, "replace", real)
    assert _complete(target) == "old"


def test_an_old_result_moved_aside_by_a_killed_swap_is_put_back(tmp_path):
    target = tmp_path / "out"
    _write_dir(target, "old")
    os.replace(target, tmp_path / ".out.abc123.old")  # a process killed between the two renames
    with pytest.raises(RuntimeError), atomic.atomic_dir(target):
        raise RuntimeError("this write fails too")
    assert _complete(target) == "old"


@pytest.mark.parametrize("step", ["rename", "sync"])
def test_a_file_write_interrupted_at_each_step(tmp_path, monkeypatch, step):
    target = tmp_path / "f.txt"
    assert _steps_of(monkeypatch, lambda: atomic.write_text(target, "old")) == ["rename", "sync"]

    def stop(name):
        if name == step:
            raise Interrupt(step)

    monkeypatch.setattr(atomic, "_reached", stop)
    with pytest.raises(Interrupt):
        atomic.write_text(target, "new", force=True)
    assert target.read_text() == ("old" if step == "rename" else "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_files_added_while_working_keep_the_new_result_aside(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(InputError, match="the new result was kept as"), atomic.atomic_dir(target) as tmp:
        (tmp / "result.txt").write_text("new")
        target.mkdir()
        (target / "mine.txt").write_text("mine")
    assert (target / "mine.txt").read_text() == "mine"
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("out.new-")]
    assert len(kept) == 1 and (kept[0] / "result.txt").read_text() == "new"


def test_no_destructive_call_outside_the_shared_writer():
    """rmtree and os.replace live in smsim/atomic.py only: nothing else may delete or replace."""
    offenders = []
    for path in (REPO / "smsim").rglob("*.py"):
        if path.name == "atomic.py" and path.parent.name == "smsim":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"rmtree|os\.replace|os\.rename|\.unlink\(|os\.remove", line):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert offenders == []


def test_an_unusable_results_store_is_refused_before_simulating(tmp_path, scenario, no_simulation):
    (tmp_path / "st").write_text("not a folder")
    result = runner.invoke(app, ["run", str(scenario), "--store", str(tmp_path / "st"), "-q"])
    assert result.exit_code == 2
    assert f"cannot write to {tmp_path / 'st'} (--store): it is a file of 12 bytes" in result.output


def test_write_path_scenario_follows_the_rule(tmp_path):
    import numpy as np

    from smsim.api import load_scenario
    from smsim.project.paths import write_path_scenario

    sc = load_scenario(REPO / "scenarios" / "projection.yaml")
    counts = {e.name: np.ones(60 * 24 * 30) for e in sc.endpoints}
    precious = _foreign(tmp_path)
    with pytest.raises(InputError, match="did not write"):
        write_path_scenario(sc, counts, 1, precious)
    path = write_path_scenario(sc, counts, 1, tmp_path / "p0")
    assert path == tmp_path / "p0" / "scenario.yaml" and atomic.written_files(tmp_path / "p0")
    assert write_path_scenario(sc, counts, 2, tmp_path / "p0") == path  # its own folder: replaced
