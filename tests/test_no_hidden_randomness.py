"""No hidden randomness: every random number comes from the run's seed, nothing from global state.

Two checks. A static one: smsim's code never calls numpy's legacy global generator, Python's
``random`` or an unseeded generator. A dynamic one: every bundled scenario (on a short
horizon), a forecast with sample paths, a projection and a commitment, computed in two separate
processes with different ``PYTHONHASHSEED`` values (so set and dict orders of strings differ),
write byte-identical outputs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import smsim
from tests.conftest import SCENARIOS

PACKAGE = Path(smsim.__file__).resolve().parent

#: What may not appear in smsim's code: numpy's legacy global generator, Python's random module,
#: generators seeded from the operating system.
FORBIDDEN = {
    "numpy's legacy global generator": re.compile(
        r"\b(?:np|numpy)\.random\.(?:seed|rand|randn|randint|random_integers|random_sample|random|ranf|"
        r"sample|choice|bytes|shuffle|permutation|beta|binomial|exponential|gamma|geometric|gumbel|"
        r"laplace|logistic|lognormal|multinomial|multivariate_normal|negative_binomial|normal|pareto|"
        r"poisson|power|rayleigh|standard_normal|standard_exponential|standard_gamma|standard_t|"
        r"triangular|uniform|vonmises|wald|weibull|zipf|RandomState|get_state|set_state)\b"),
    "Python's random module": re.compile(r"^\s*(?:import random\b|from random import)", re.M),
    "a generator seeded from the operating system": re.compile(
        r"\b(?:default_rng|SeedSequence|PCG64|Generator)\(\s*\)"),
    "scipy sampling without random_state": re.compile(r"\.rvs\((?![^)]*random_state)[^)]*\)"),
}


def test_no_global_or_unseeded_random_state_in_smsim():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for what, pattern in FORBIDDEN.items():
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {what}: {m.group(0).strip()}")
    assert not found, "\n".join(found)


def test_the_static_check_catches_what_it_forbids():
    caught = {what: bool(p.search(text)) for (what, p), text in zip(FORBIDDEN.items(), (
        "x = np.random.randn(3)", "import random\n", "rng = np.random.default_rng()",
        "stats.norm.rvs(size=3)"), strict=True)}
    assert all(caught.values()), caught
    allowed = ("np.random.default_rng(7)", "np.random.Generator(np.random.PCG64(ss))",
               "norm.rvs(size=3, random_state=rng)", "random_state=rng")
    assert not any(p.search(t) for p in FORBIDDEN.values() for t in allowed)


CHILD = r'''
import json, sys
from pathlib import Path

import numpy as np
import pandas as pd

from smsim import api
from smsim.commit.api import recommend_commitment
from smsim.forecast import forecast_series, sample_paths
from smsim.project.api import project_scenario
from smsim.scenario import load_scenario

scenarios, out = Path(sys.argv[1]), Path(sys.argv[2])
for path in sorted(scenarios.glob("*.yaml")):
    sc = load_scenario(path)
    short = min(sc.horizon.duration_s, 6 * 3600.0)
    sc = sc.model_copy(update={"horizon": sc.horizon.model_copy(update={"duration_s": short})})
    result = api.run_scenario(sc)
    api.write_run(result, out / "runs" / path.stem, ledger_format="csv")

idx = pd.date_range("2026-01-01", periods=24 * 14, freq="h")
h = np.arange(len(idx))
noise = np.random.default_rng(3).normal(0, 1.5, len(idx))
y = pd.Series(40 + 12 * np.sin(2 * np.pi * h / 24) + 0.01 * h + noise, idx, name="calls")
fc = forecast_series(y, 48, (80, 95), "ets", n_origins=2)
fc.frame.to_csv(out / "forecast.csv", index=False)
for model in ("ets", "arima"):  # statsmodels' own simulators
    paths = sample_paths(y, 48, 20, seed=5, model=model, n_origins=2)
    np.savetxt(out / f"paths-{model}.csv", paths, delimiter=",", fmt="%.17g")

proj = project_scenario(scenarios / "projection.yaml", "1d", n_paths=2, seed=4, model="ets")
(out / "projection.json").write_text(json.dumps(proj.summary, sort_keys=True, default=str))

usd = pd.Series(5 + 2 * np.sin(2 * np.pi * h / 24) + noise / 5, idx, name="usd")
rec = recommend_commitment(usd, discount=0.3, horizon_hours=24 * 60, n_paths=30, seed=9,
                           stage_at_hours=24 * 30)
(out / "commit.json").write_text(json.dumps(rec.to_dict(), sort_keys=True, default=str))
'''


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_processes_with_different_hash_seeds_write_the_same_bytes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED", "SMSIM_DASK_SCHEDULER")}
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["SMSIM_STORE"] = str(tmp_path / "store")
    procs = {}
    for hash_seed in ("1", "4242"):
        out = tmp_path / f"hash{hash_seed}"
        out.mkdir()
        procs[hash_seed] = (out, subprocess.Popen(
            [sys.executable, "-c", CHILD, str(SCENARIOS), str(out)], cwd=tmp_path,
            env={**env, "PYTHONHASHSEED": hash_seed}, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outputs = []
    for out, proc in procs.values():
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err.decode()[-3000:]
        outputs.append(_files(out))
    a, b = outputs
    n_scenarios = len(list(SCENARIOS.glob("*.yaml")))
    assert len([k for k in a if k.endswith("summary.json")]) == n_scenarios
    assert {"forecast.csv", "paths-ets.csv", "paths-arima.csv", "projection.json", "commit.json"} <= set(a)
    assert a.keys() == b.keys()
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"differ between PYTHONHASHSEED=1 and 4242: {differ}"
