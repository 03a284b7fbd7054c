"""The Dask executor: results, retries, worker death, optional import, and a suite run equal to local.

One LocalCluster (2 worker processes, 1 thread each) is shared by the whole module; the
suite-level tests reach it through ``--scheduler``, which also exercises the remote path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402  (installed with distributed)

from gdbench.harness.dask_executor import DaskExecutor  # noqa: E402

_BLAS_ENV_BEFORE = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}

# the helpers below run on the workers, which cannot import this test module: ship them by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def dask_ex():
    ex = DaskExecutor(workers=2)
    yield ex
    ex.close()


# -- functions run on the workers ------------------------------------------------------------


def _square(x):
    return x * x


def _worker_env(_):
    import numba

    return {
        "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS"),
        "numba_threads": numba.get_num_threads(),
        "GDBENCH_CACHE_DIR": os.environ.get("GDBENCH_CACHE_DIR"),
        "pid": os.getpid(),
    }


def _fail_counting(path):
    with open(path, "a") as f:
        f.write("x")
    raise RuntimeError("boom")


def _flaky(args):
    """Fails on its first attempt (marker file), succeeds on the retry."""
    marker, value = args
    if not os.path.exists(marker):
        Path(marker).touch()
        raise RuntimeError("transient")
    return value


def _die_once(args):
    """SIGKILLs its own worker process in the middle of the task, the first time only."""
    marker, value = args
    if not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(60)  # never reached
    return value, os.getpid()


def _slow(x):
    time.sleep(0.5)
    return x


# -- executor-level tests ------------------------------------------------------------------


def test_results_stream_back_complete(dask_ex):
    got = list(dask_ex.map_unordered(_square, range(20)))
    assert sorted(got) == [x * x for x in range(20)]
    assert list(dask_ex.map_unordered(_square, [])) == []


def test_workers_single_numba_thread_and_shared_cache(dask_ex):
    from gdbench.kernels.codegen import cache_dir

    envs = list(dask_ex.map_unordered(_worker_env, range(4)))
    for e in envs:
        assert e["numba_threads"] == 1  # in the thread that runs the task
        assert e["GDBENCH_CACHE_DIR"] == str(cache_dir().parent)
    assert all(p != os.getpid() for p in (e["pid"] for e in envs))  # ran out of process


def _threads_of(task):
    import numba

    numba.core.config.reload_config()  # what numba's next compilation does: must not raise
    return task.threads


def test_group_tasks_get_one_thread_unless_the_suite_says_otherwise(dask_ex):
    import dataclasses

    t = _group_tasks()[0]
    assert t.threads is None
    got = sorted(dask_ex.map_unordered(_threads_of, [t, dataclasses.replace(t, group_id="g2", threads=3)]))
    assert got == [1, 3]


def test_run_on_worker_leaves_numba_thread_count_alone(monkeypatch):
    """Changing NUMBA_NUM_THREADS after numba started its pool makes the next compile raise;
    the worker wrapper must never do it, even when asked to."""
    import numba

    from gdbench.harness.dask_executor import run_on_worker

    numba.get_num_threads()  # starts numba's thread pool in this process
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    env = {"NUMBA_NUM_THREADS": str(numba.config.NUMBA_NUM_THREADS + 1)}
    assert run_on_worker(_threads_of, _group_tasks()[0], env, 1) is None
    assert "NUMBA_NUM_THREADS" not in os.environ
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)  # restore this thread's setting


def _f_star(spec):
    from gdbench.problems import make

    name, params = spec
    return make(name, **params).f_star


def test_reference_optima_identical_on_workers(dask_ex):
    """Problems are built on the workers: their f* must be bit-identical to the client's (a
    LAPACK solve whose last bits depend on the BLAS thread count once made them differ)."""
    from gdbench.problems import make

    specs = [("quadratic", {"d": 100, "cond": 1000.0}), ("linreg", {"n": 500, "d": 60, "seed": 3})]
    got = list(dask_ex.map_unordered(_f_star, specs))
    want = [make(n, **p).f_star for n, p in specs]
    assert sorted(got) == sorted(want)
    # and starting the LocalCluster did not pin this process's BLAS threads (dask's default does)
    assert {k: os.environ.get(k) for k in _BLAS_ENV_BEFORE} == _BLAS_ENV_BEFORE


def _compile_fresh(x):
    import numba

    return numba.njit(lambda a: a + 1)(x), numba.get_num_threads()


def test_processes_executor_workers_can_compile():
    """Regression (found measuring the executors): the process-pool initializer changed
    NUMBA_NUM_THREADS after numba was imported, so a worker's first compilation raised."""
    from gdbench.harness.executors import make_executor

    ex = make_executor("processes", workers=1)
    try:
        assert list(ex.map_unordered(_compile_fresh, [1])) == [(2, 1)]
    finally:
        ex.close()


def test_exception_retried_then_raised(dask_ex, tmp_path):
    counter = tmp_path / "attempts"
    with pytest.raises(RuntimeError, match="boom"):
        list(dask_ex.map_unordered(_fail_counting, [str(counter)]))
    assert counter.read_text() == "x" * (1 + dask_ex.retries)  # first try + 2 retries


def test_transient_failure_is_retried(dask_ex, tmp_path):
    tasks = [(str(tmp_path / f"m{i}"), i) for i in range(4)]
    assert sorted(dask_ex.map_unordered(_flaky, tasks)) == [0, 1, 2, 3]


def test_worker_killed_mid_task_is_rescheduled(dask_ex, tmp_path):
    marker = tmp_path / "killed"
    tasks = [(str(marker), i) for i in range(6)]
    got = list(dask_ex.map_unordered(_die_once, tasks))
    assert sorted(v for v, _ in got) == list(range(6))
    killed_pid = int(marker.read_text())
    assert killed_pid not in {pid for _, pid in got}  # nothing came back from the dead worker
    dask_ex.client.wait_for_workers(2, timeout=60)  # the nanny restarted it


def test_early_close_cancels_pending(dask_ex):
    gen = dask_ex.map_unordered(_slow, range(8))
    first = next(gen)
    gen.close()
    assert first in range(8)
    assert sorted(dask_ex.map_unordered(_square, range(3))) == [0, 1, 4]  # still usable


def test_keys_are_readable_and_unique(dask_ex):
    class T:
        group_id = "linreg-gd-abc"

    assert dask_ex.task_key(T(), 0).startswith("gdbench-linreg-gd-abc-")
    other = DaskExecutor.__new__(DaskExecutor)
    other.key_prefix, other._session = "gdbench-", "other"
    assert other.task_key(T(), 0) != dask_ex.task_key(T(), 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="workers"):
        DaskExecutor(workers=0)
    with pytest.raises(ValueError, match="scheduler"):
        DaskExecutor(scheduler="tcp://127.0.0.1:9", timeout=1)


def test_without_dask_installed_clear_error_and_other_executors_work(tmp_path):
    """Hide dask in a fresh interpreter: gdbench and the local/processes executors import and
    work; asking for dask gives one ValueError naming the extra, and `gdbench run --executor
    dask` prints it as one line (exit 2) without touching the previous results in --out."""
    (tmp_path / "tiny.toml").write_text(TINY_SUITE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.md").write_text("previous results")
    code = (
        "import sys\n"
        "for m in ('dask', 'distributed'): sys.modules[m] = None\n"
        "import gdbench, gdbench.cli\n"
        "from gdbench.harness.executors import make_executor\n"
        "for n in ('local', 'processes'):\n"
        "    ex = make_executor(n, workers=1); assert sorted(ex.map_unordered(abs, [-1, 2])) == [1, 2]; ex.close()\n"
        "try:\n"
        "    make_executor('dask')\n"
        "except ValueError as e:\n"
        "    print('ERR', e)\n"
        f"rc = gdbench.cli.main(['run', {str(tmp_path / 'tiny.toml')!r}, '--out', {str(out)!r}, '--quiet',\n"
        "                        '--executor', 'dask'])\n"
        "print('RC', rc)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "ERR" in res.stdout and "gdbench[dask]" in res.stdout
    assert "RC 2" in res.stdout
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("gdbench run: error:") and "gdbench[dask]" in last and "Traceback" not in res.stderr
    assert (out / "summary.md").read_text() == "previous results"  # a failed start loses nothing
    assert not (out / ".lock").exists()


# -- the real work function on the cluster ----------------------------------------------------


def _group_tasks():
    from gdbench.harness.executors import GroupTask

    def task(gid, problem, params, rule, lrs):
        cfgs = tuple({"lr": lr, "seed": s} for lr in lrs for s in (0, 1))
        ids = tuple(f"{gid}:{i}" for i in range(len(cfgs)))
        return GroupTask(group_id=gid, suite="t", problem=problem, problem_name=problem, problem_params=params,
                         rule=rule, run_ids=ids, configs=cfgs, labels=tuple({"variant": rule} for _ in cfgs),
                         steps=200, record_every=10, timing_steps=50)

    # the same four (rule, problem) pairs as the suites below and in test_kill_resume: compiled once
    return [
        task("g-linreg-gd", "linreg", {"n": 80, "d": 3, "seed": 0}, "gd", (0.01, 0.1)),
        task("g-linreg-adam", "linreg", {"n": 80, "d": 3, "seed": 1}, "adam", (0.01, 0.1)),
        task("g-rosen-gd", "rosenbrock", {"d": 2}, "gd", (1e-4, 1e-3)),
        task("g-rosen-adam", "rosenbrock", {"d": 3}, "adam", (1e-3, 1e-2)),
    ]


def _convergence_columns(row):
    from gdbench.harness.worker import TIMING_COLUMNS_PREFIX

    return {k: v for k, v in row.items() if not k.startswith(TIMING_COLUMNS_PREFIX)}


def test_run_group_on_workers_matches_in_process(dask_ex):
    import numpy as np
    import pandas as pd

    from gdbench.harness.worker import run_group

    tasks = _group_tasks()
    remote = {r.group_id: r for r in dask_ex.map_unordered(run_group, tasks)}  # first: compiles in parallel
    local = {t.group_id: run_group(t) for t in tasks}
    assert remote.keys() == local.keys()
    for gid, lr in local.items():
        rr = remote[gid]
        assert rr.pid != os.getpid()
        pd.testing.assert_frame_equal(pd.DataFrame([_convergence_columns(r) for r in rr.runs]),
                                      pd.DataFrame([_convergence_columns(r) for r in lr.runs]), check_exact=True)
        assert all(r["host"] == rr.host for r in rr.runs)
        for col, arr in lr.traces.items():
            if col != "time_s":
                np.testing.assert_array_equal(rr.traces[col], arr, err_msg=f"{gid}: traces column {col}")


def test_cache_dir_applied_only_where_writable(monkeypatch, tmp_path):
    from gdbench.harness import dask_executor as de

    monkeypatch.delenv("GDBENCH_CACHE_DIR", raising=False)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    de.run_on_worker(_square, 3, {"GDBENCH_CACHE_DIR": str(blocked / "cache")}, None)
    assert "GDBENCH_CACHE_DIR" not in os.environ  # unwritable: this worker keeps its own cache
    assert de.run_on_worker(_square, 3, {"GDBENCH_CACHE_DIR": str(tmp_path / "c")}, None) == 9
    assert os.environ["GDBENCH_CACHE_DIR"] == str(tmp_path / "c")


# -- whole suites through the CLI -------------------------------------------------------------

TINY_SUITE = """
name = "tiny"
steps = 300
record_every = 10
seeds = 2
tolerances = [1e-2, 1e-4]
target_tol = 1e-2

[problems.linreg]
n = 100
d = 3

[problems.rosenbrock]
d = 2

[optimizers.batch_gd]
lr = [0.001, 0.01]

[optimizers.adam]
lr = [0.01, 0.1]
"""


def _gdbench_run(suite, out, *extra):
    from gdbench.cli import main

    return main(["run", str(suite), "--out", str(out), "--quiet", "--no-figures", *extra])


def _runs_table(out):
    from gdbench.harness.store import load_results
    from gdbench.harness.worker import TIMING_COLUMNS_PREFIX

    runs = load_results(out)[0]
    keep = [c for c in runs.columns if not c.startswith(TIMING_COLUMNS_PREFIX)]
    return runs[keep].sort_values("run_id").reset_index(drop=True), runs


@pytest.fixture(scope="module")
def tiny_suite(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    (d / "tiny.toml").write_text(TINY_SUITE)
    assert _gdbench_run(d / "tiny.toml", d / "local") == 0
    return d / "tiny.toml", _runs_table(d / "local")[0]


def _scheduler(dask_ex):
    return dask_ex.client.scheduler.address


def test_suite_on_dask_equals_local(dask_ex, tiny_suite, tmp_path):
    import pandas as pd

    suite, local = tiny_suite
    assert _gdbench_run(suite, tmp_path / "dask", "--executor", "dask", "--scheduler", _scheduler(dask_ex)) == 0
    remote, full = _runs_table(tmp_path / "dask")
    pd.testing.assert_frame_equal(remote, local, check_exact=True)  # every convergence column identical
    assert full["host"].astype(str).str.len().gt(0).all()
    meta = __import__("json").loads((tmp_path / "dask" / "meta.json").read_text())
    assert meta["executor"]["name"] == "dask"


class _KillFirstTask(distributed.WorkerPlugin):
    """Test-only fault: the first gdbench task that starts executing on any worker SIGKILLs that
    worker process (once per marker file; the restarted worker gets the plugin again)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith("gdbench-") and not os.path.exists(self.marker):
            Path(self.marker).write_text(f"{key} {os.getpid()}")
            os.kill(os.getpid(), signal.SIGKILL)


def test_worker_killed_mid_suite_still_completes(dask_ex, tiny_suite, tmp_path):
    import pandas as pd

    suite, local = tiny_suite
    marker = tmp_path / "killed"
    client = dask_ex.client
    client.register_plugin(_KillFirstTask(str(marker)), name="gdbench-kill-first-task")
    try:
        assert _gdbench_run(suite, tmp_path / "dask", "--executor", "dask", "--scheduler", _scheduler(dask_ex)) == 0
    finally:
        client.unregister_worker_plugin("gdbench-kill-first-task")
    assert marker.exists(), "no worker was killed"
    pd.testing.assert_frame_equal(_runs_table(tmp_path / "dask")[0], local, check_exact=True)
    client.wait_for_workers(2, timeout=180)  # the nanny restarts the killed one (slow on a busy 2-core machine)


def test_executor_from_the_suite_file(dask_ex, tiny_suite, tmp_path):
    """`executor = {name, scheduler, workers}` in the suite picks the executor; the CLI wins."""
    import json

    import pandas as pd

    _, local = tiny_suite
    suite = tmp_path / "tiny_dask.toml"
    suite.write_text(TINY_SUITE.replace('name = "tiny"', 'name = "tiny"\n'
                                        f'executor = {{ name = "dask", scheduler = "{_scheduler(dask_ex)}" }}'))
    assert _gdbench_run(suite, tmp_path / "a") == 0
    assert json.loads((tmp_path / "a" / "meta.json").read_text())["executor"]["name"] == "dask"
    pd.testing.assert_frame_equal(_runs_table(tmp_path / "a")[0], local, check_exact=True)
    assert _gdbench_run(suite, tmp_path / "b", "--executor", "local") == 0  # its scheduler is then ignored
    assert json.loads((tmp_path / "b" / "meta.json").read_text())["executor"]["name"] == "local"


def test_bad_executor_field_is_one_clear_line(tmp_path, capsys):
    suite = tmp_path / "bad.toml"
    suite.write_text(TINY_SUITE.replace('name = "tiny"', 'name = "tiny"\nexecutor = { name = "spark" }'))
    assert _gdbench_run(suite, tmp_path / "out") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "executor.name" in err and "spark" in err and "dask" in err, err


def test_waiting_for_more_workers_than_the_cluster_has_is_a_clear_error(dask_ex):
    with pytest.raises(ValueError, match="only 2 worker"):
        DaskExecutor(scheduler=_scheduler(dask_ex), workers=3, timeout=1)


def _always_die(_):
    os.kill(os.getpid(), signal.SIGKILL)


def test_task_that_keeps_killing_its_worker_is_one_clear_error(dask_ex):
    from gdbench.errors import UserError

    sched = dask_ex._cluster.scheduler
    before, sched.allowed_failures = sched.allowed_failures, 0  # give up after the first death
    try:
        with pytest.raises(UserError, match="each died while running it.*--resume"):
            list(dask_ex.map_unordered(_always_die, [1]))
    finally:
        sched.allowed_failures = before
    dask_ex.client.wait_for_workers(2, timeout=60)


def test_plugin_suite_on_dask_workers_without_the_file(dask_ex, tmp_path):
    """A suite with a rule plugin runs on the workers from the source its tasks carry (the file is
    moved away after planning) and gives the local run's numbers."""
    import pandas as pd
    from test_plugins import CONVERGENCE, _suite

    from gdbench.harness import runner, suite
    from gdbench.harness.store import ResultStore
    from gdbench.harness.worker import run_group

    s = _suite(tmp_path, name="signdask")
    local = runner.run_plan(suite.load(str(s)), tmp_path / "local", progress=False, figures=False)
    plan = suite.load(str(s))
    (tmp_path / "rules" / "signdask.py").rename(tmp_path / "moved.py")
    out = tmp_path / "dask"
    for res in dask_ex.map_unordered(run_group, plan.tasks):
        ResultStore(out).write_part(res)
    runs, _ = ResultStore(out).consolidate()
    a = pd.read_parquet(local / "runs.parquet")[CONVERGENCE].sort_values("run_id").reset_index(drop=True)
    b = runs[CONVERGENCE].sort_values("run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
