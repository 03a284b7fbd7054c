"""Plugins as a new user writes them: files outside the checkout, suites, executors, entry points,
`gdbench check`, and every kind of mistake (one line, exit 2, nothing of earlier results lost)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gdbench
from gdbench.cli import main
from gdbench.plugins import PluginSource, load_file, register

ROOT = Path(__file__).resolve().parents[1]

SIGN_RULE = '''
"""signSGD: θ ← θ − scale·lr·sign(g) (Bernstein et al., 2018). Defaults: lr=0.01, scale={scale}."""

import numpy as np
from numba import njit

NAME = "{name}"
HYPER = {{"lr": 0.01, "scale": {scale}}}
STATE = ()


@njit(cache=True)
def step(theta, g, lr, scale):
    for i in range(theta.shape[0]):
        theta[i] -= scale * lr * np.sign(g[i])


def reference(theta, g, lr, scale):
    theta -= scale * lr * np.sign(g)
'''


#: the line of ``step`` that the typing-error tests break (in SIGN_RULE as written, not dedented)
SIGN_LINE = next(i for i, ln in enumerate(SIGN_RULE.splitlines(), 1) if "np.sign(g[i])" in ln)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def rule_file(tmp_path: Path, name: str = "signsgd", scale: float = 1.0, fname: str | None = None) -> Path:
    return write(tmp_path / (fname or f"{name}.py"), SIGN_RULE.format(name=name, scale=scale))


def test_a_rule_file_outside_the_checkout_is_equal_to_a_built_in(tmp_path):
    f = rule_file(tmp_path)
    p = gdbench.problems.quadratic(d=4, cond=10.0)
    r = gdbench.minimize(p, str(f), steps=200, lr=0.01, record_every=10)  # a path: registered on first use
    assert r.status in ("max_steps", "converged") and r.trace["loss"].iloc[-1] < r.trace["loss"].iloc[0]
    rec = gdbench.OPTIMIZERS["signsgd"]
    assert rec.is_plugin and rec.path == str(f.resolve()) and rec.hyper == {"lr": 0.01, "scale": 1.0}
    s = gdbench.sweep(p, "signsgd", [{"lr": 0.01, "batch_size": None}, {"lr": 0.02, "scale": 0.5}], steps=50)
    np.testing.assert_array_equal(s.theta[0], s.theta[1])  # lr·scale is the same step
    q = gdbench.problems.logistic(n=40, d=3)
    a = gdbench.minimize(q, rec, steps=60, lr=0.01, batch_size=5, seed=2, schedule="cosine", clip={"norm": 1.0})
    assert a.steps == 60
    from gdbench.checks import check_file

    kind, checks = check_file(str(f))
    assert kind == "optimizer" and all(c.ok for c in checks), [(c.name, c.detail) for c in checks if not c.ok]


def test_editing_a_plugin_recompiles_its_pairs(tmp_path):
    from gdbench.kernels.codegen import driver_name

    f = rule_file(tmp_path, name="editme", scale=1.0)
    p = gdbench.problems.quadratic(d=3)
    a = gdbench.minimize(p, str(f), steps=20, lr=0.1)
    name_a = driver_name(gdbench.OPTIMIZERS["editme"], p.definition)
    rule_file(tmp_path, name="editme", scale=0.5)
    b = gdbench.minimize(p, str(f), steps=20, lr=0.1)  # the same path, new content: replaces the old version
    name_b = driver_name(gdbench.OPTIMIZERS["editme"], p.definition)
    assert name_a != name_b and b.compile_s > 0
    assert not np.allclose(a.params, b.params)
    np.testing.assert_allclose(gdbench.minimize(p, "editme", steps=20, lr=0.1).params, b.params, rtol=0)


def test_a_loss_pair_plugin_is_a_full_data_problem(tmp_path):
    f = write(tmp_path / "sqhinge.py", '''
        """Squared hinge loss: ℓ(z, y) = max(0, 1 − yz)², a smooth linear SVM loss."""
        from numba import njit

        NAME = "sqhinge"
        KIND = "linear"
        TASK = "classification"
        PARAMS = {"margin": 1.0}
        L2 = 1e-2


        @njit
        def loss(z, y, margin):
            h = margin - y * z
            return h * h if h > 0.0 else 0.0


        @njit
        def dloss(z, y, margin):
            h = margin - y * z
            return -2.0 * y * h if h > 0.0 else 0.0
    ''')
    defn = gdbench.register_problem(f)
    assert defn.form == "linear" and not defn.has_hessian and "margin" in defn.allowed_params()
    with pytest.warns(UserWarning, match="estimated"):
        p = gdbench.problems.make("sqhinge", n=80, d=3, margin=1.5)
    assert p.f_star_source == "estimated (reference run)" and p.x_star is None
    assert p.prm.tolist() == [1e-2, 1.5]
    r = gdbench.sweep(p, "adam", [{"lr": 0.05}, {"lr": 0.05, "batch_size": 8, "seed": 1}], steps=300,
                      record_every=50)
    assert (r.trace[:, r.nrec.min() - 1, 1] >= p.f_star - 1e-12).all()  # the estimate is a good lower value
    assert gdbench.sweep(p, "adam", [{"lr": 0.05}], steps=5, rows=True).steps_done[0] == 5  # the fused kernel
    from gdbench.checks import check_problem

    assert all(c.ok for c in check_problem(defn)), [(c.name, c.detail) for c in check_problem(defn) if not c.ok]


def test_a_loss_upper_bound_changes_no_bit_and_a_bound_below_the_loss_fails_check(tmp_path):
    """logistic's ``loss_upper`` spares the fused SGD step its log1p; a plugin with logistic's loss
    and dloss but no bound runs the same SGD to the same bits, divergence included."""
    f = write(tmp_path / "logit_nobound.py", '''
        """Logistic loss without an upper bound (the built-in's loss and dloss)."""
        from gdbench.problems.logistic import dloss, loss  # noqa: F401

        NAME = "logit_nobound"
        KIND = "linear"
        TASK = "classification"
        L2 = 1e-3
    ''')
    defn = gdbench.register_problem(f)
    kw = dict(n=300, d=13, l2=1e-3, seed=3)
    with pytest.warns(UserWarning, match="estimated"):
        q = gdbench.problems.make("logit_nobound", **kw)
    p = gdbench.problems.make("logistic", **kw)
    np.testing.assert_array_equal(p.X, q.X)
    for lr in (0.05, 3e3):  # converging, and diverging at some step
        a = gdbench.minimize(p, "gd", steps=2000, lr=lr, batch_size=1, seed=5, record_every=0)
        b = gdbench.minimize(q, "gd", steps=2000, lr=lr, batch_size=1, seed=5, record_every=0)
        assert a.status == b.status and a.steps == b.steps
        np.testing.assert_array_equal(a.params, b.params)
    assert gdbench.minimize(p, "gd", steps=2000, lr=3e3, batch_size=1, seed=5, record_every=0).status == "diverged"
    from gdbench.checks import check_problem

    assert all(c.ok for c in check_problem(defn))
    bad = write(tmp_path / "logit_badbound.py", f.read_text().replace("logit_nobound", "logit_badbound") + '''

@njit
def loss_upper(z, y):
    return max(-(y * z), 0.0) + 0.5  # below log(1 + e^u) near u = 0
'''.replace("@njit", "from numba import njit\n\n\n@njit"))
    checks = check_problem(gdbench.register_problem(bad))
    failed = [c for c in checks if not c.ok]
    assert failed and "loss_upper < loss" in failed[0].detail


def test_a_vectorised_loss_form_is_checked_against_loss_and_dloss(tmp_path):
    """``loss_dloss_vec`` (logistic's: the fused kernel's call-free terms) must agree with loss and
    dloss: the built-in passes ``gdbench check``, a plugin whose form is 1e-12 off fails it, and
    the fused kernel uses the form exactly when a loss defines it."""
    from gdbench.checks import check_problem
    from gdbench.problems import get_problem

    vec = [c for c in check_problem(get_problem("logistic")) if "loss_dloss_vec" in c.detail]
    assert len(vec) == 1 and vec[0].ok, vec
    bad = write(tmp_path / "logit_badvec.py", '''
        """Logistic loss with a vectorised form 1e-12 off."""
        from numba import njit

        from gdbench.problems.logistic import dloss, loss  # noqa: F401

        NAME = "logit_badvec"
        KIND = "linear"
        TASK = "classification"


        @njit
        def loss_dloss_vec(z, y):
            return loss(z, y) * (1.0 + 1e-12), dloss(z, y)
    ''')
    defn = gdbench.register_problem(bad)
    failed = [c for c in check_problem(defn) if not c.ok]
    assert failed and "loss_dloss_vec within" in failed[0].detail
    assert defn.kernels.HAS_VEC and get_problem("logistic").kernels.HAS_VEC
    assert not get_problem("hinge").kernels.HAS_VEC


def test_a_short_form_analytic_problem(tmp_path):
    f = write(tmp_path / "bowl.py", '''
        """A shifted bowl f(x) = a·‖x − c‖² with c = (1, 2). Minimum 0 at c."""
        from numba import njit

        NAME = "bowl"
        KIND = "analytic"
        PARAMS = {"a": 2.0}
        X0 = [0.0, 0.0]
        F_STAR = 0.0
        X_STAR = [1.0, 2.0]


        @njit
        def loss_grad(theta, g, a):
            f = 0.0
            for i in range(2):
                e = theta[i] - (i + 1.0)
                f += a * e * e
                g[i] = 2.0 * a * e
            return f


        @njit
        def hess(theta, H, a):
            H[0, 0] = 2.0 * a
            H[1, 1] = 2.0 * a
            H[0, 1] = 0.0
            H[1, 0] = 0.0
    ''')
    register(f)
    p = gdbench.problems.bowl(a=3.0)
    assert p.f_star_exact and p.loss([1, 2]) == 0.0 and p.prm.tolist() == [3.0]
    r = gdbench.minimize(p, "newton", steps=1)
    np.testing.assert_allclose(r.params, [1.0, 2.0])


def test_gdbench_check_cli_and_one_line_errors(tmp_path, capsys):
    assert main(["check", str(ROOT / "examples" / "lion.py")]) == 0
    bad = {
        "missing.py": ('"""A rule."""\nNAME = "missing1"\nHYPER = {"lr": 0.1}\n', "must define STATE, step, reference"),
        "badsig.py": (SIGN_RULE.format(name="badsig", scale=1.0).replace("def step(theta, g, lr, scale)",
                                                                         "def step(theta, grad, lr, scale)"),
                      "step(theta, grad, lr, scale) must take 'g'"),
        "typing.py": (SIGN_RULE.format(name="typingerr", scale=1.0).replace("np.sign(g[i])", "np.sign(g[i]) + 'x'"),
                      f"typing.py:{SIGN_LINE}: TypingError"),
        "shadow.py": (SIGN_RULE.format(name="adam", scale=1.0), "would shadow the built-in optimizer 'adam'"),
        "syntax.py": ("NAME = 'x'\ndef step(:\n", "syntax.py:2: syntax error"),
    }
    for fname, (text, msg) in bad.items():
        f = tmp_path / fname
        f.write_text(text)
        capsys.readouterr()
        assert main(["check", str(f)]) == 2, fname
        out = capsys.readouterr().out
        assert msg in out, (fname, out)
    assert main(["check", str(tmp_path / "nope.py")]) == 2
    assert "plugin file does not exist" in capsys.readouterr().out
    # two different files with the same NAME
    rule_file(tmp_path, name="twin", fname="twin_a.py")
    rule_file(tmp_path, name="twin", scale=2.0, fname="twin_b.py")
    register(tmp_path / "twin_a.py")
    with pytest.raises(ValueError, match="two optimizer plugins are named 'twin'"):
        register(tmp_path / "twin_b.py")


SUITE = """
name = "plugsuite"
plugins = ["{rule}"]
steps = 200
record_every = 20
seeds = 2
tolerances = [1e-2, 1e-4]

[problems.quadratic]
d = 3

[problems.logistic]
n = 50
d = 3

[optimizers.signsgd]
lr = [0.01, 0.003]

[optimizers.signsgd_sgd]
rule = "{rule}"
lr = 0.003
batch_size = 5
problems = ["logistic"]

[optimizers.adam]
lr = 0.05
"""


def _suite(tmp_path: Path, name: str = "signsuite") -> Path:
    """A suite using the rule file ``rules/<name>.py`` (names are per process: one per test)."""
    (tmp_path / "rules").mkdir()
    rule_file(tmp_path / "rules", name=name)
    return write(tmp_path / "s.toml", SUITE.replace("signsgd", name).format(rule=f"rules/{name}.py"))


def _line_of(f: Path, text: str) -> int:
    return next(i for i, ln in enumerate(f.read_text().splitlines(), 1) if text in ln)


CONVERGENCE = ["run_id", "status", "steps_done", "final_loss", "steps_to_1e-02", "steps_to_1e-04"]


def test_suite_with_a_plugin_runs_locally_and_in_processes_whose_workers_get_its_source(tmp_path):
    s = _suite(tmp_path)
    out = tmp_path / "local"
    assert main(["run", str(s), "--out", str(out), "--no-figures", "--quiet"]) == 0
    meta = json.loads((out / "meta.json").read_text())
    (plug,) = meta["plugins"]
    assert plug["name"] == "signsuite" and plug["path"].endswith("rules/signsuite.py") and len(plug["sha256"]) == 64
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["variant"]) == {"signsuite", "signsuite_sgd", "adam"} and len(runs) == 2 * (2 * 2 + 1 + 2)
    assert "plugins: signsuite" in (out / "summary.md").read_text()

    # the processes executor's workers load the plugin from the source the tasks carry: move the
    # file away after planning, and they must still run the very same code
    from gdbench.harness import runner, suite

    plan = suite.load(str(s))
    moved = tmp_path / "moved.py"
    shutil.move(tmp_path / "rules" / "signsuite.py", moved)
    runner.run_plan(plan, tmp_path / "procs", executor="processes", workers=2, progress=False, figures=False)
    other = pd.read_parquet(tmp_path / "procs" / "runs.parquet")
    a = runs[CONVERGENCE].sort_values("run_id").reset_index(drop=True)
    b = other[CONVERGENCE].sort_values("run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    from gdbench.kernels.codegen import cache_root

    sha = plan.plugins[0].sha256
    assert (cache_root() / "plugins" / sha[:16] / "signsuite.py").is_file()  # written there from the shipped source


def test_a_bad_plugin_in_a_suite_is_one_line_and_keeps_earlier_results(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.md").write_text("earlier results")
    f = rule_file(tmp_path, name="breaks")
    f.write_text(f.read_text().replace("np.sign(g[i])", "np.sign(g[i]) + 'x'"))
    write(tmp_path / "s.toml", SUITE.format(rule="breaks.py").replace("signsgd", "breaks"))
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"breaks.py:{_line_of(f, 'np.sign(g[i])')}: TypingError" in err and "Traceback" not in err
    assert (out / "summary.md").read_text() == "earlier results"
    write(tmp_path / "t.toml", SUITE.format(rule="nowhere.py"))
    assert main(["run", str(tmp_path / "t.toml"), "--out", str(out), "--quiet"]) == 2
    assert "plugins: plugin file 'nowhere.py' does not exist" in capsys.readouterr().err


def test_a_plugin_that_returns_nan_is_diverged_not_a_crash(tmp_path):
    f = write(tmp_path / "nanrule.py", '''
        """Writes NaN into θ after 5 steps. Update: θ ← NaN. Defaults: lr=0.1."""
        from numba import njit

        NAME = "nanrule"
        HYPER = {"lr": 0.1}
        STATE = ()


        @njit
        def step(theta, g, lr, t):
            for i in range(theta.shape[0]):
                theta[i] -= lr * g[i] if t < 5 else theta[i] * float("nan")


        def reference(theta, g, lr, t):
            theta -= lr * g if t < 5 else theta * float("nan")
    ''')
    r = gdbench.minimize(gdbench.problems.quadratic(d=3), str(f), steps=50, record_every=1)
    assert r.status == "diverged" and r.steps == 5


def test_installed_package_entry_point_is_found_without_a_path(tmp_path):
    """A package exposing `gdbench.optimizers` (its dist-info on the path, as pip installs it) is
    listed and runs in a suite by name only."""
    site = tmp_path / "site"
    (site / "myrules").mkdir(parents=True)
    (site / "myrules" / "__init__.py").write_text("")
    rule_file(site / "myrules", name="epsign", fname="epsign.py")
    di = site / "myrules-0.1.dist-info"
    di.mkdir()
    (di / "METADATA").write_text("Metadata-Version: 2.1\nName: myrules\nVersion: 0.1\n")
    (di / "entry_points.txt").write_text("[gdbench.optimizers]\nepsign = myrules.epsign\n")
    suite = write(tmp_path / "ep.toml", """
        steps = 30
        [problems.quadratic]
        d = 3
        [optimizers.epsign]
        lr = 0.01
    """)
    env = dict(os.environ, PYTHONPATH=str(site))
    r = subprocess.run([sys.executable, "-m", "gdbench", "list", "plugins"], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0 and "epsign (optimizer)" in r.stdout and "entry point myrules" in r.stdout, r.stderr
    r = subprocess.run([sys.executable, "-m", "gdbench", "run", str(suite), "--out", str(tmp_path / "o"), "--quiet",
                        "--no-figures"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    meta = json.loads((tmp_path / "o" / "meta.json").read_text())
    assert meta["plugins"][0]["origin"] == "entry point myrules"


def test_plugin_source_round_trip_loads_the_same_module(tmp_path):
    f = rule_file(tmp_path, name="roundtrip")
    mod = load_file(f)
    from gdbench.plugins import source_of

    src = source_of(register(mod))
    assert isinstance(src, PluginSource) and src.module == mod.__name__ and src.sha256 in mod.__name__ + src.sha256
    assert src.describe()["path"] == str(f.resolve())
