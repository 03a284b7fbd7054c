"""End to end: a tiny suite → every output file; report reproduces summary.md; compare exit codes;
interrupted-then-resumed equals uninterrupted; the folder lock; CSV tables; the processes executor."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from gdbench.cli import main
from gdbench.harness import suite
from gdbench.harness.runner import run_plan
from gdbench.harness.store import ResultStore, load_results, read_table, write_table
from gdbench.harness.tables import render_summary

# the same four (rule, problem) pairs as the Dask tests: compiled once per machine
TINY = """
name = "tiny"
description = "two problems x two optimizers"
steps = 120
record_every = 4
seeds = [0, 1]
tolerances = [1e-2, 1e-4, 1e-6]
target_tol = 1e-4
timing_steps = 50

[problems.linreg]
n = 40
d = 3

[problems.rosenbrock]
d = 2

[optimizers.batch_gd]
lr = [0.001, 0.01]

[optimizers.minibatch]
rule = "gd"
lr = [0.01]
batch_size = 8

[optimizers.adam]
lr = [0.01, 0.1]
"""

CONVERGENCE = ["run_id", "problem", "variant", "run_name", "seed", "lr", "batch_size", "status", "steps_done",
               "final_loss", "final_rel_subopt", "steps_to_1e-02", "steps_to_1e-04", "steps_to_1e-06", "escape_step"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("harness")
    path = d / "tiny.toml"
    path.write_text(TINY)
    out = d / "full"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    return path, out


def test_every_output_file(tiny):
    path, out = tiny
    plan = suite.load(path)
    runs, traces, meta = load_results(out)
    assert (out / "runs.parquet").is_file() and (out / "traces.parquet").is_file()
    assert len(runs) == plan.n_runs == (5 + 4) * 2  # minibatch on linreg only
    assert runs["run_id"].is_unique
    assert set(runs["status"]) <= {"converged", "max_steps", "diverged", "stalled"}
    assert {"host", "ns_per_step", "compile_s", "time_to_1e-04", "grad_evals_to_1e-04", "epochs_to_1e-04",
            "hyper", "schedule", "clip", "noise"} <= set(runs.columns)
    assert set(traces["run_id"]) == set(runs["run_id"])
    assert {"step", "time_s", "loss", "grad_norm", "dist_to_opt", "suboptimality", "rel_suboptimality"} <= set(
        traces.columns)
    # one trace per run, steps increasing, first record is the start
    for _rid, t in traces.groupby("run_id"):
        assert t["step"].iloc[0] == 0 and np.all(np.diff(t["step"].to_numpy()) > 0)
    assert meta["suite"]["name"] == "tiny" and len(meta["suite"]["sha256"]) == 64
    env = meta["environment"]
    for k in ("gdbench", "python", "numpy", "numba", "pandas", "cpu", "threads", "git_commit"):
        assert k in env
    assert meta["skipped"] == ["rosenbrock × minibatch: problem 'rosenbrock' has no data rows to sample "
                               "(batch_size applies to data problems only)"]
    summary = (out / "summary.md").read_text()
    assert "## Convergence" in summary and "## Timing" in summary and "| linreg | adam |" in summary
    figs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figs == ["convergence_steps.png", "convergence_time.png", "ecdf.png", "ecdf_problems.png",
                    "lr_sensitivity.png", "performance_profile.png", "timing.png", "trajectories.png", "tuning.png"]
    assert all((out / "figures" / f).stat().st_size > 10_000 for f in figs)
    assert not (out / ".lock").exists()


def test_report_reproduces_summary_byte_for_byte(tiny, tmp_path):
    _, out = tiny
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = (copy / "summary.md").read_bytes()
    (copy / "summary.md").unlink()
    assert main(["report", str(copy), "--no-figures"]) == 0
    assert (copy / "summary.md").read_bytes() == before


def test_figures_drawn_in_two_processes_equal_one_process(tiny, tmp_path, monkeypatch):
    """make_figures forks a child, and both take the next figure from a shared counter: the same
    files, byte for byte, as drawing them all here, both processes draw; and a child that fails
    leaves the figures it took to the parent."""
    from gdbench.harness import plots
    from gdbench.harness.analysis import analyse

    _, out = tiny
    runs, traces, meta = load_results(out)
    a = analyse(runs, traces, meta)
    one = plots.make_figures(runs, traces, meta, tmp_path / "one", analysis=a, workers=1)
    real, parent = plots._draw, os.getpid()
    log = tmp_path / "drawn_by"

    def logged(job):
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {job[0].__name__}\n")
        return real(job)

    monkeypatch.setattr(plots, "_draw", logged)
    two = plots.make_figures(runs, traces, meta, tmp_path / "two", analysis=a, workers=2)
    drawn = [line.split() for line in log.read_text().splitlines()]
    assert len(drawn) == 11 and len({name for _, name in drawn}) == 10  # each job once (convergence twice)
    assert {int(pid) == parent for pid, _ in drawn} == {True, False}  # both processes drew
    assert [p.name for p in one] == [p.name for p in two] and len(one) == 9
    for p, q in zip(one, two):
        assert p.read_bytes() == q.read_bytes(), p.name
    order = plots._order([(plots.fig_timing,), (plots.fig_kappa,), (plots.fig_lr_sensitivity,)])
    assert order == [2, 0, 1]  # the costliest first

    def child_fails(job):  # the forked child raises; the parent draws as usual
        if os.getpid() != parent:
            raise RuntimeError("child failed")
        return real(job)

    # the page's palette copies, made by the process that drew each figure, are those the page
    # would make itself
    from gdbench.harness import html_report

    monkeypatch.setattr(plots, "_draw", real)
    html_report._SMALL.clear()
    four = plots.make_figures(runs, traces, meta, tmp_path / "four", analysis=a, workers=2, palettes=True)
    made = {k: v[2] for k, v in html_report._SMALL.items()}
    assert sorted(made) == sorted(str(p) for p in four)
    for p in four:
        assert made[str(p)] == html_report._small_png(p), p.name
        assert html_report.small_png(p) == made[str(p)] and str(p) not in html_report._SMALL
    monkeypatch.setattr(plots, "_draw", child_fails)
    three = plots.make_figures(runs, traces, meta, tmp_path / "three", analysis=a, workers=2)
    assert [p.read_bytes() for p in three] == [p.read_bytes() for p in one]


def test_csv_tables_give_the_same_summary(tiny, tmp_path):
    _, out = tiny
    runs, _, meta = load_results(out)
    write_table(runs, tmp_path / "runs.csv")
    back = read_table(tmp_path / "runs.csv")
    assert render_summary(back, meta) == render_summary(runs, meta)
    pd.testing.assert_frame_equal(back[CONVERGENCE], runs[CONVERGENCE], check_dtype=False)


def test_compare_identical_then_changed(tiny, tmp_path, capsys):
    path, out = tiny
    again = tmp_path / "again"
    assert main(["run", str(path), "--out", str(again), "--quiet", "--no-figures"]) == 0
    capsys.readouterr()
    assert main(["compare", str(out), str(again)]) == 0  # a second run is bit-identical where it matters
    assert "identical" in capsys.readouterr().out
    runs = read_table(again / "runs.parquet")
    runs.loc[3, "final_loss"] *= 1.01
    runs.loc[5, "status"] = "diverged" if runs.loc[5, "status"] != "diverged" else "converged"
    runs.loc[6, "ns_per_step"] *= 10  # timing columns are ignored
    write_table(runs, again / "runs.parquet")
    assert main(["compare", str(out), str(again)]) == 1
    text = capsys.readouterr().out
    assert "final_loss" in text and "status" in text and "ns_per_step" not in text and "2 of" in text
    write_table(runs.drop(index=[0]), again / "runs.parquet")
    assert main(["compare", str(out), str(again)]) == 1
    assert "missing" in capsys.readouterr().out
    assert main(["compare", str(out), str(tmp_path / "nothing")]) == 2


def test_interrupted_then_resumed_equals_uninterrupted(tiny, tmp_path):
    path, out = tiny
    plan = suite.load(path)
    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        run_plan(plan, part, progress=False, figures=False, max_groups=2)
    store = ResultStore(part)
    finished = store.finished_run_ids()
    assert 0 < len(finished) < plan.n_runs
    assert not (part / ".lock").exists()  # released on interrupt
    before = {p.name: p.stat().st_mtime_ns for p in store.parts.iterdir()}
    run_plan(plan, part, resume=True, progress=False, figures=False)
    meta = json.loads((part / "meta.json").read_text())
    assert meta["run"]["runs_this_session"] == plan.n_runs - len(finished)  # nothing recomputed
    assert all(store.parts.joinpath(n).stat().st_mtime_ns == t for n, t in before.items())  # nor rewritten
    a = read_table(out / "runs.parquet")[CONVERGENCE]
    b = read_table(part / "runs.parquet")[CONVERGENCE]
    pd.testing.assert_frame_equal(a, b)  # same runs, same order, no duplicates
    ta, tb = read_table(out / "traces.parquet"), read_table(part / "traces.parquet")
    pd.testing.assert_frame_equal(ta.drop(columns="time_s"), tb.drop(columns="time_s"))
    # resuming a finished folder runs nothing
    run_plan(plan, part, resume=True, progress=False, figures=False)
    assert json.loads((part / "meta.json").read_text())["run"]["runs_this_session"] == 0
    assert len(read_table(part / "runs.parquet")) == plan.n_runs


def test_lock_refuses_a_second_run_and_takes_over_a_stale_one(tiny, tmp_path, capsys):
    path, _ = tiny
    out = tmp_path / "locked"
    out.mkdir()
    import socket

    (out / ".lock").write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "started": "x"}))
    assert main(["run", str(path), "--out", str(out), "--quiet", "--no-figures"]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("gdbench run: error: results folder") and "is in use by pid" in last
    assert "Traceback" not in err
    # a lock left by a dead process on this host is stale: taken over
    (out / ".lock").write_text(json.dumps({"pid": 2**22 + 12345, "host": socket.gethostname(), "started": "x"}))
    assert main(["run", str(path), "--out", str(out), "--quiet", "--no-figures", "--filter", "rosenbrock/adam"]) == 0
    assert len(read_table(out / "runs.parquet")) == 4 and not (out / ".lock").exists()


def test_processes_executor_same_convergence_columns(tiny, tmp_path):
    path, out = tiny
    p = tmp_path / "proc"
    assert main(["run", str(path), "--out", str(p), "--quiet", "--no-figures", "--executor", "processes",
                 "--workers", "2"]) == 0
    a = read_table(out / "runs.parquet")
    b = read_table(p / "runs.parquet")
    pd.testing.assert_frame_equal(a[CONVERGENCE], b[CONVERGENCE])
    assert b["host"].notna().all()


def test_the_helper_takes_the_later_drivers_that_balance_the_compile():
    from gdbench.harness.runner import CompileJob, helper_share

    one = [CompileJob("gd", p) for p in ("linreg", "logistic", "hinge", "rosenbrock", "saddle", "quadratic")]
    assert helper_share(one, 1) == 3 and helper_share(one, 2) == 4
    fams = [CompileJob("gd", "linreg", problems=("linreg", "logistic", "hinge")),
            CompileJob("gd", "rosenbrock", 2, problems=("rosenbrock", "saddle")), CompileJob("gd", "quadratic")]
    assert helper_share(fams, 1) == 2  # the data family (4 units) against the other two (3 + 2)
    assert helper_share(fams[:2], 1) == 1


def test_a_first_run_starts_its_helper_early_with_the_same_results(tiny, tmp_path):
    """On a machine that has compiled nothing (an empty GDBENCH_CACHE_DIR) the compile helper starts
    before the suite is loaded, compiles the shared kernels, then its share of the drivers: the runs
    are those of a run without it, and nothing is left running."""
    import subprocess
    import sys

    path, out = tiny
    env = dict(os.environ, GDBENCH_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-m", "gdbench", "run", str(path), "--out", str(tmp_path / "early"), "--quiet",
                        "--no-figures"], env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    a = read_table(out / "runs.parquet")
    b = read_table(tmp_path / "early" / "runs.parquet")
    pd.testing.assert_frame_equal(a[CONVERGENCE], b[CONVERGENCE])
    pre = json.loads((tmp_path / "early" / "meta.json").read_text())["run"]["precompile"]
    assert pre["mode"] == "background" and pre["early_started"]
    # the helper's planned driver was either still uncached when the run's process split the plan (it
    # is then given that job), or already compiled by the helper (a fast machine): one cold driver left
    assert (pre["cold"], pre["workers"], pre["early"]) in {(2, 1, True), (1, 0, False)}, pre
    assert len(list((tmp_path / "cache" / "drivers").glob("gdbench_driver_*.py"))) == 2


def test_an_early_helper_with_nothing_to_compile_finishes_and_is_reaped():
    from gdbench.harness.runner import BackgroundCompiler, start_helper

    p = start_helper()
    bc = BackgroundCompiler([], workers=1, early=p)  # nothing cold: its stdin is closed, it exits by itself
    assert bc.procs == [] and not bc.info()["early"] and p.wait(timeout=120) == 0
    bc.stop()


def test_prewarm_compiles_what_a_driver_calls(tmp_path):
    """The helper's prewarm calls the shared kernels and the rules with the argument types the CPU
    drivers pass: a driver compiled after it (another process) finds each of them in numba's cache,
    one specialisation each (the literal 0 of a full batch or a first record would compile another);
    here a driver with random starts and schedules, which call two of them."""
    import subprocess
    import sys

    code = ("from gdbench.harness.prewarm import prewarm\n"
            "assert prewarm() == []\n")
    check = ("import gdbench\n"
             "from gdbench.kernels import support, rng, transforms\n"
             "from gdbench.optimizers import OPTIMIZERS\n"
             "p = gdbench.problems.make('linreg', n=30, d=2)\n"
             "gdbench.sweep(p, 'adam', [{'lr': 1e-3}, {'lr': 1e-3, 'batch_size': 4, 'schedule': 'cosine',\n"
             "              'init': {'dist': 'normal', 'scale': 1.0}}], steps=10, record_every=2,\n"
             "              rules=['gd', 'adagrad', 'adam'])\n"
             "fns = [support.record, support.draw_start, support.rel_scale, rng.rng_seed, rng.shuffle,\n"
             "       transforms.scheduled_lr, p.kernels.loss_grad, p.kernels.loss_only]\n"
             "fns += [OPTIMIZERS[r].module.step for r in ('gd', 'adagrad', 'adam')]\n"
             "fns += [OPTIMIZERS[r].module.init for r in ('adagrad', 'adam')]\n"
             "for f in fns:\n"
             "    print(f.py_func.__qualname__, len(f.signatures), sum(f.stats.cache_misses.values()))\n")
    env = dict(os.environ, GDBENCH_CACHE_DIR=str(tmp_path / "g"), NUMBA_CACHE_DIR=str(tmp_path / "n"))
    for c in (code, check):
        r = subprocess.run([sys.executable, "-c", c], env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]
    rows = [ln.split() for ln in r.stdout.strip().splitlines()]
    assert len(rows) == 13
    for name, n_sigs, misses in rows:
        # the loss kernels were compiled by make() (f*) in this process: one specialisation, shared
        assert n_sigs == "1", f"{name}: {n_sigs} specialisations"
        assert misses == "0" or name in ("loss_grad", "loss_only"), f"{name} was compiled, not loaded"


def test_an_early_helper_plans_the_drivers_it_will_be_given(tiny, monkeypatch):
    """The early helper plans its drivers from the suite file alone, its problems built for their
    shapes (f* = 0.0 stands in, nothing solved): exactly the share the run's process gives it once
    the real plan is loaded; the stand-ins never reach the run (the problem memo is cleared)."""
    from gdbench.harness import runner, worker
    from gdbench.problems import make
    from gdbench.problems.base import shapes_only

    path, _ = tiny
    monkeypatch.setattr(runner, "_pair_is_cached", lambda job: False)  # a first run: nothing cached
    planned = runner.planned_jobs({"suite": str(path), "workers": 1})
    assert worker._PROBLEMS == {}
    plan = suite.load(path)
    jobs = runner.unique_jobs(runner.driver_jobs(plan.tasks))
    assert len(jobs) == 2 and planned == runner.helper_split(jobs, 1)[1] == [jobs[-1]]
    bc = runner.BackgroundCompiler(jobs, workers=0)  # the run's split (no helper started)
    assert bc.cold == jobs
    assert plan.optima["linreg"]["f_star"] > 0  # the real one
    with shapes_only():
        p = make("linreg", n=40, d=3)
    assert p.f_star == 0.0 and make("linreg", n=40, d=3).f_star == pytest.approx(plan.optima["linreg"]["f_star"])
    with pytest.raises(ValueError), shapes_only():
        make("linreg", n=-1)
    assert make("linreg", n=40, d=3).f_star > 0  # the switch is off again after an error


def test_an_early_helper_compiles_its_planned_driver_before_any_job_arrives(tiny, tmp_path):
    """A helper started with the plan's description compiles the driver it planned although its
    stdin brings no job (a first run: fresh caches)."""
    from gdbench.harness.runner import start_helper

    path, _ = tiny
    env = {"GDBENCH_CACHE_DIR": str(tmp_path / "g"), "NUMBA_CACHE_DIR": str(tmp_path / "n")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        p = start_helper(prewarm=True, plan={"suite": str(path), "workers": 1})
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v
    p.stdin.close()
    assert p.wait(timeout=600) == 0
    drivers = sorted(x.name for x in (tmp_path / "g" / "drivers").glob("gdbench_driver_*.py"))
    assert len(drivers) == 1 and "rosenbrock" in drivers[0], drivers


def test_background_compiler_runs_its_pairs_last_in_its_order():
    from types import SimpleNamespace

    from gdbench.harness.runner import BackgroundCompiler

    bc = BackgroundCompiler([], workers=0)  # no helper started
    assert bc.procs == [] and bc.info()["workers"] == 0
    bc.assigned = [("adam", "quadratic", 5), ("gd", "quadratic", 5)]
    pairs = [("gd", "linreg"), ("gd", "quadratic"), ("adam", "linreg"), ("adam", "quadratic")]
    tasks = [SimpleNamespace(rule=r, problem_name=p, group_id=f"{p}__{r}") for r, p in pairs]
    keys = {t.group_id: (t.rule, t.problem_name, 5 if t.problem_name == "quadratic" else 0) for t in tasks}
    order = [(t.rule, t.problem_name) for t in bc.order(tasks, keys)]
    assert order == [("gd", "linreg"), ("adam", "linreg"), ("adam", "quadratic"), ("gd", "quadratic")]
    bc.wait_for(("gd", "quadratic", 5))  # no helper alive: returns at once
    bc.stop()
