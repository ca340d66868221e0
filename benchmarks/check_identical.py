"""Check that a change leaves every result byte for byte as it was.

Runs every bundled scenario (``scenarios/*.yaml``) and ``benchmarks/platform.yaml`` through
``smsim run --json --out DIR --ledger-format csv`` and keeps, per scenario, the printed JSON
summary and the CSV ledger, plus the scenario JSON Schema (``smsim schema``). Record once from the checkout before the change, once after, and
compare the two folders: any byte that differs is named, and the exit code is 1.

    python benchmarks/check_identical.py record BEFORE_DIR [--repo CHECKOUT] [--skip-platform]
    python benchmarks/check_identical.py record AFTER_DIR
    python benchmarks/check_identical.py compare BEFORE_DIR AFTER_DIR

``--repo`` runs the scenarios with another checkout's code and files (the default is this one),
so the "before" side can come from an untouched checkout of the base commit.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def scenario_files(repo: Path, skip_platform: bool) -> list[Path]:
    files = sorted((repo / "scenarios").glob("*.yaml"))
    if not skip_platform:
        files.append(repo / "benchmarks" / "platform.yaml")
    return files


def record(out: Path, repo: Path, skip_platform: bool) -> int:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(repo)}
    failed = 0
    for path in scenario_files(repo, skip_platform):
        name = path.stem
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = Path(tmp) / "run"
            cmd = [sys.executable, "-m", "smsim", "run", str(path.relative_to(repo)), "--json", "--quiet",
                   "--no-store", "--out", str(run_dir), "--ledger-format", "csv"]
            proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True)
            # The summary names the catalog's folder: write it relative to the checkout.
            (out / f"{name}.summary.json").write_bytes(proc.stdout.replace(str(repo).encode(), b"<checkout>"))
            (out / f"{name}.exit").write_text(f"{proc.returncode}\n")
            ledger = run_dir / "ledger.csv"
            if ledger.exists():
                shutil.copyfile(ledger, out / f"{name}.ledger.csv")
            if proc.returncode != 0:
                failed += 1
                (out / f"{name}.stderr").write_bytes(proc.stderr)
        print(f"{name}: exit {proc.returncode}", flush=True)
    # The scenario file's JSON Schema: the union of every resource kind's spec.
    proc = subprocess.run([sys.executable, "-m", "smsim", "schema"], cwd=repo, env=env, capture_output=True)
    (out / "schema.json").write_bytes(proc.stdout)
    failed += proc.returncode != 0
    return 0 if failed == 0 else 1


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def compare(before: Path, after: Path) -> int:
    names_b = {p.name for p in before.iterdir() if p.suffix != ".stderr"}
    names_a = {p.name for p in after.iterdir() if p.suffix != ".stderr"}
    differ = 0
    for name in sorted(names_b | names_a):
        if name not in names_a or name not in names_b:
            print(f"{name}: only in {'before' if name in names_b else 'after'}")
            differ += 1
            continue
        same = (before / name).read_bytes() == (after / name).read_bytes()
        print(f"{name}: {'identical' if same else 'DIFFERS'} ({digest(before / name)})")
        differ += not same
    print(f"{len(names_b | names_a)} files, {differ} differ")
    return 0 if differ == 0 else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="verb", required=True)
    rec = sub.add_parser("record", help="run every scenario and keep its summary and ledger")
    rec.add_argument("out", type=Path)
    rec.add_argument("--repo", type=Path, default=REPO, help="checkout whose code and scenarios run")
    rec.add_argument("--skip-platform", action="store_true", help="leave out benchmarks/platform.yaml")
    cmp_ = sub.add_parser("compare", help="byte-compare two recorded folders")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.verb == "record":
        return record(args.out, args.repo.resolve(), args.skip_platform)
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
