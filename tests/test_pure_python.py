"""Pure-Python mode: with NUMBA_DISABLE_JIT=1 every kernel runs as plain Python (for pdb on a plugin,
and for coverage of the kernels' logic) and gives the compiled results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import gdbench

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
import numpy as np
import gdbench
from numba.core import config
assert config.DISABLE_JIT
out = {}
for name, prob, rule, cfgs in CASES:
    r = gdbench.sweep(gdbench.problems.make(prob, **KW[prob]), rule, cfgs, steps=20, record_every=5)
    out[name] = {"theta": r.theta.tolist(), "loss": r.trace[:, :, 1].tolist(), "status": r.status,
                 "restarts": r.restarts.tolist()}
json.dump(out, sys.stdout)
"""

KW = {"logistic": {"n": 30, "d": 3}, "six_hump_camel": {}, "quadratic": {"d": 3}}
CASES = [
    ("logistic-adam", "logistic", "adam", [{"lr": 0.1}, {"lr": 0.1, "batch_size": 4, "seed": 1, "noise": 0.01},
                                           {"lr": 0.05, "batch_size": 1, "seed": 2, "clip": {"norm": 0.5}}]),
    ("camel-restarts", "six_hump_camel", "momentum",
     [{"lr": 0.01, "seed": 3, "init": {"dist": "uniform", "low": -2, "high": 2}, "restart": {"every": 7}}]),
    ("quadratic-nadam", "quadratic", "nadam", [{"lr": 0.1, "schedule": "cosine"}]),
]


def test_sweeps_without_the_jit_equal_the_compiled_ones():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    code = f"CASES = {CASES!r}\nKW = {KW!r}\n" + SCRIPT
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    plain = json.loads(r.stdout)
    for name, prob, rule, cfgs in CASES:
        c = gdbench.sweep(gdbench.problems.make(prob, **KW[prob]), rule, cfgs, steps=20, record_every=5)
        p = plain[name]
        assert p["status"] == c.status and p["restarts"] == c.restarts.tolist(), name
        # the compiled row kernels may contract and reassociate sums (gdbench._config.ROWS_FASTMATH)
        np.testing.assert_allclose(np.array(p["theta"]), c.theta, rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(np.array(p["loss"], dtype=float), c.trace[:, :, 1], rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def test_a_suite_runs_end_to_end_without_the_jit(tmp_path):
    suite = tmp_path / "tiny.toml"
    suite.write_text("""
steps = 30
record_every = 10
seeds = 2
plugins = ["%s"]
[problems.quadratic]
d = 3
[problems.linreg]
n = 30
d = 2
[optimizers.adam]
lr = 0.05
[optimizers.sgd]
lr = 0.01
[optimizers.lion]
lr = 0.01
""" % (ROOT / "examples" / "lion.py"))
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    r = subprocess.run([sys.executable, "-m", "gdbench", "run", str(suite), "--out", str(tmp_path / "o"), "--quiet",
                        "--no-figures", "--compile-workers", "0"], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    meta = json.loads((tmp_path / "o" / "meta.json").read_text())
    assert meta["environment"]["numba_env"].get("NUMBA_DISABLE_JIT") == "1"
    assert "lion" in (tmp_path / "o" / "summary.md").read_text()
