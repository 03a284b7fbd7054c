"""Suite files: parsing, expansion into named runs, and every bad-input error (one line, exit 2)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gdbench.cli import main
from gdbench.harness import suite
from gdbench.harness.suite import SuiteError

BASE = """
steps = 50
seeds = 2
[problems.rosenbrock]
d = 2
[optimizers.adam]
lr = [0.01, 0.1]
"""


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_quick_suite_expands_every_family_times_nine_variants():
    plan = suite.load("quick")
    assert plan.name == "quick"
    assert set(plan.variants) == {"batch_gd", "sgd", "minibatch", "momentum", "nesterov", "adagrad", "rmsprop",
                                  "adadelta", "adam"}
    assert {p["problem"] for p in plan.problems.values()} == {"linreg", "logistic", "hinge", "rosenbrock", "saddle",
                                                              "quadratic"}
    assert len(plan.pairs()) == 42  # 6 problems x 7 distinct update rules
    assert plan.n_runs == (3 * 9 + 3 * 7) * 3 * 3  # stochastic estimators skipped on the analytic problems
    assert any("rosenbrock × sgd" in s for s in plan.skipped)
    ids = [r for t in plan.tasks for r in t.run_ids]
    assert len(ids) == len(set(ids))
    assert ids == [r for t in suite.load("quick").tasks for r in t.run_ids]  # stable ids
    names = {lab["run_name"] for t in plan.tasks for lab in t.labels}
    assert "adam[lr=0.01]" in names and "minibatch[lr=0.1,batch_size=32]" in names and "sgd[lr=0.001]" in names
    sgd = next(t for t in plan.tasks if t.problem == "linreg" and t.rule == "gd")
    assert {c.get("batch_size") for c in sgd.configs} == {None, 1, 32}  # batch_gd / sgd / minibatch share gd
    # one compiled driver per family: the data losses; the 2-D problems (tiny driver, D = 2); quadratic (d = 10)
    fams = {t.problem: t.driver_problems for t in plan.tasks}
    assert fams["linreg"] == fams["logistic"] == fams["hinge"] == ("linreg", "logistic", "hinge")
    assert fams["rosenbrock"] == fams["saddle"] == ("rosenbrock", "saddle") and fams["quadratic"] == ("quadratic",)
    assert all(t.driver_rules == ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam")
               for t in plan.tasks)
    from gdbench.harness.runner import compile_job

    assert len({compile_job(t).key for t in plan.tasks}) == 3


@pytest.mark.parametrize("name", ["quick", "standard", "tutorial", "saddle", "ci"])
def test_shipped_suites_load(name):
    plan = suite.load(name)
    assert plan.n_runs > 0 and plan.settings["device"] == "cpu"
    if name == "ci":
        assert plan.settings["time_budget_s"] is None and plan.settings["seeds"] == [0, 1]


def test_grid_short_forms_and_run_names(tmp_path):
    p = write(tmp_path, """
        steps = 100
        seeds = [3, 5]
        tolerances = [1e-3, 1e-6]
        target_tol = 1e-3
        time_budget_s = 2.5
        device = "cpu"
        [problems.lin]
        problem = "linreg"
        n = 40
        d = 3
        [optimizers.adam]
        lr = { logspace = [1e-3, 1e-1, 3] }
        batch_size = [8, "full"]
        beta1 = [0.8, 0.9]
        schedule = [{ name = "step", step_size = 10 }, "cosine"]
        clip = { norm = 1.0 }
        """)
    plan = suite.load(p)
    (t,) = plan.tasks
    lrs = sorted({c["lr"] for c in t.configs})
    np.testing.assert_allclose(lrs, [1e-3, 1e-2, 1e-1])
    assert lrs == [0.001, 0.01, 0.1]  # rounded to clean values
    assert t.n_runs == 3 * 2 * 2 * 2 * 2  # lr x batch x beta1 x schedule x seeds
    assert {c["seed"] for c in t.configs} == {3, 5}
    assert t.tolerances == (1e-3, 1e-6) and t.time_budget_s == 2.5 and t.stop_tol == 1e-6
    names = {lab["run_name"] for lab in t.labels}
    assert "adam[lr=0.01,batch_size=8,beta1=0.8,schedule=step(step_size=10),clip=norm=1]" in names
    assert "adam[lr=0.1,batch_size=full,beta1=0.9,schedule=cosine,clip=norm=1]" in names
    assert all(c["batch_size"] in (8, None) for c in t.configs)


def test_filter_and_problem_lr_override(tmp_path):
    p = write(tmp_path, BASE + """
        [problems.quad]
        problem = "quadratic"
        d = 3
        lr = [0.5]
        steps = 20
        [optimizers.batch_gd]
        lr = [0.1]
        """)
    plan = suite.load(p)
    quad = [t for t in plan.tasks if t.problem == "quad"]
    assert all(c["lr"] == 0.5 for t in quad for c in t.configs) and all(t.steps == 20 for t in quad)
    only = suite.load(p, filter_="quad/adam*")
    assert [(t.problem, t.rule) for t in only.tasks] == [("quad", "adam")]
    assert suite.load(p, filter_="batch_gd").n_runs == 4
    with pytest.raises(SuiteError, match="matches no run"):
        suite.load(p, filter_="nothing-like-this")


def test_device_field_passes_through(tmp_path):
    p = write(tmp_path, 'device = "cuda"\n' + BASE)
    assert all(t.device == "cuda" for t in suite.load(p).tasks)
    assert all(t.device == "cpu" for t in suite.load(p, device="cpu").tasks)


def _csv(tmp_path, text, name="data.csv"):
    (tmp_path / name).write_text(text)
    return name


BAD = [
    ("malformed", "steps = = 3\n", "malformed TOML"),
    ("unknown top field", "stepz = 3\n" + BASE, "stepz: unknown field; allowed: name, description, steps"),
    ("unknown problem", BASE + "[problems.foo]\nd = 2\n", "problems.foo: unknown problem 'foo'; allowed: linreg"),
    ("unknown problem param", BASE.replace("d = 2", "dd = 2"), "problems.rosenbrock.dd: unknown parameter"),
    ("bad problem value", BASE.replace("d = 2", "d = 1"), "problems.rosenbrock: problem 'rosenbrock': d must be"),
    ("unknown optimizer", BASE + "[optimizers.adamx]\n", "optimizers.adamx: unknown optimizer 'adamx'; allowed: gd"),
    ("unknown rule", BASE + "[optimizers.x]\nrule = 'foo'\n", "optimizers.x.rule: unknown optimizer 'foo'"),
    ("unknown hyper", BASE.replace("lr = [0.01, 0.1]", "lr = 0.1\nbeta3 = 1"),
     "optimizers.adam.beta3: unknown field; allowed: rule, problems, lr, beta1"),
    ("lr zero", BASE.replace("[0.01, 0.1]", "[0.0, 0.1]"), "optimizers.adam.lr: optimizer 'adam': lr must be > 0"),
    ("lr negative", BASE.replace("[0.01, 0.1]", "-1e-3"), "optimizers.adam.lr: optimizer 'adam': lr must be > 0"),
    ("lr text", BASE.replace("[0.01, 0.1]", "'fast'"), "optimizers.adam.lr: optimizer 'adam': lr must be a number"),
    ("empty grid", BASE.replace("[0.01, 0.1]", "[]"), "optimizers.adam.lr: empty grid"),
    ("bad logspace", BASE.replace("[0.01, 0.1]", "{ logspace = [0, 1, 3] }"), "logspace bounds must be > 0"),
    ("beta out of range", BASE + "beta1 = 1.5\n", "optimizers.adam.beta1: optimizer 'adam': beta1 must be in"),
    ("bad schedule", BASE + "schedule = 'warp'\n", "optimizers.adam.schedule: unknown schedule 'warp'; allowed"),
    ("bad clip", BASE + "clip = { max = 1 }\n", "optimizers.adam.clip: clip must be"),
    ("bad batch", BASE + "batch_size = 0\n",
     "optimizers.adam.batch_size: batch_size must be a positive integer, 'full'"),
    ("empty problems", "steps = 5\n[optimizers.adam]\n", "problems: must be a non-empty table"),
    ("no optimizers", "steps = 5\n[problems.rosenbrock]\n", "optimizers: must be a non-empty table"),
    ("bad steps", BASE.replace("steps = 50", "steps = 0"), "steps: must be an integer >= 1"),
    ("bad seeds", BASE.replace("seeds = 2", "seeds = []"), "seeds: must be an integer >= 1 or a non-empty list"),
    ("bad tolerance", "tolerances = [2.0]\n" + BASE, "tolerances: must be in (0, 1]"),
    ("bad target", "target_tol = 1e-3\n" + BASE, "target_tol: must be one of tolerances"),
    ("bad device", "device = 'tpu'\n" + BASE, "device: unknown device 'tpu'; allowed: cpu, cuda"),
    ("bad variant problems", BASE + "problems = ['nope']\n", "optimizers.adam.problems: must be a non-empty list"),
]


@pytest.mark.parametrize("case,text,message", BAD, ids=[b[0] for b in BAD])
def test_bad_suite_one_clear_error(tmp_path, case, text, message):
    p = write(tmp_path, text)
    with pytest.raises(SuiteError) as ei:
        suite.load(p)
    msg = str(ei.value)
    assert msg.startswith(str(p)), msg
    assert message in msg, msg
    assert "\n" not in msg


def _data_suite(data: str) -> str:
    return f"""
        steps = 10
        [problems.real]
        problem = "linreg"
        data = "{data}"
        target = "y"
        [optimizers.batch_gd]
        lr = 0.1
        """


def test_data_files(tmp_path):
    _csv(tmp_path, "a,b,y\n1,2,3\n2,1,0\n3,3,1\n4,0,2\n")
    plan = suite.load(write(tmp_path, _data_suite("data.csv")))  # relative to the suite file
    assert plan.tasks[0].problem_params["data"] == str((tmp_path / "data.csv").resolve())
    cases = {
        "missing.csv": "problems.real.data: data file 'missing.csv' does not exist",
        "nan.csv": "contains NaN or Inf",
        "text.csv": "column 'b' is not numeric",
    }
    _csv(tmp_path, "a,b,y\n1,2,3\n2,,0\n", "nan.csv")
    _csv(tmp_path, "a,b,y\n1,x,3\n2,y,0\n", "text.csv")
    for data, message in cases.items():
        p = write(tmp_path, _data_suite(data), f"bad_{data}.toml")
        with pytest.raises(SuiteError) as ei:
            suite.load(p)
        assert str(ei.value).startswith(str(p)) and message in str(ei.value), str(ei.value)


def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys):
    p = write(tmp_path, BASE.replace("[0.01, 0.1]", "[-0.1]"))
    assert main(["run", str(p), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lr must be > 0" in err and str(p) in err
    assert main(["run", "no_such_suite"]) == 2
    assert "unknown suite 'no_such_suite'; allowed:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_python_m_gdbench_bad_suite_no_traceback(tmp_path):
    p = write(tmp_path, "steps = [\n")
    r = subprocess.run([sys.executable, "-m", "gdbench", "run", str(p)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "malformed TOML" in r.stderr and str(p) in r.stderr
