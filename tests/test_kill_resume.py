"""No result is ever lost: SIGKILL the process running a suite, resume, compare; and the folder lock.

``python -m gdbench run`` runs in a subprocess; once some groups are on disk the test SIGKILLs it
(no cleanup handler runs), then ``--resume`` finishes the suite. Compared with an uninterrupted
run: no run missing, none duplicated, and none recomputed — the part files written before the
kill are untouched (same inode, size and mtime) and the resumed session ran exactly the runs
that were missing. While the first process holds the folder, a second ``gdbench run`` on it is
refused with a clear message and changes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

# 9 problem instances x 2 rules = 18 groups of 4 runs, each group a few tens of ms, so a kill after
# the first groups always leaves most of the suite to do; only 4 (rule, problem) pairs to compile
# (the same as test_dask's suite)
KILL_SUITE = """
name = "killme"
steps = 1500
record_every = 25
seeds = 2
tolerances = [1e-2, 1e-4]
target_tol = 1e-2
stop_tol = 0

[problems.linreg_0]
problem = "linreg"
n = 1000
d = 20
seed = 0

[problems.linreg_1]
problem = "linreg"
n = 1000
d = 20
seed = 1

[problems.linreg_2]
problem = "linreg"
n = 1000
d = 20
seed = 2

[problems.linreg_3]
problem = "linreg"
n = 1000
d = 20
seed = 3

[problems.linreg_4]
problem = "linreg"
n = 1000
d = 20
seed = 4

[problems.rosen_2]
problem = "rosenbrock"
d = 2

[problems.rosen_3]
problem = "rosenbrock"
d = 3

[problems.rosen_4]
problem = "rosenbrock"
d = 4

[problems.rosen_6]
problem = "rosenbrock"
d = 6

[optimizers.batch_gd]
lr = [0.001, 0.01]

[optimizers.adam]
lr = [0.001, 0.01]
"""

N_GROUPS, N_RUNS = 18, 72


def _convergence(out: Path) -> pd.DataFrame:
    from gdbench.harness.store import load_results
    from gdbench.harness.worker import TIMING_COLUMNS_PREFIX

    runs = load_results(out)[0]
    keep = [c for c in runs.columns if not c.startswith(TIMING_COLUMNS_PREFIX)]
    return runs[keep].sort_values("run_id").reset_index(drop=True)


def _parts(out: Path) -> dict[str, tuple[int, int, int]]:
    """Finished part files (runs and traces) -> (inode, size, mtime_ns)."""
    d = out / "parts"
    if not d.is_dir():
        return {}
    res = {}
    for p in d.iterdir():
        if p.name.startswith(".") or ".tmp" in p.name:
            continue
        st = p.stat()
        res[p.name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return res


def _runs_parts(parts) -> list[str]:
    return [n for n in parts if ".runs." in n]


@pytest.fixture(scope="module")
def kill_suite(tmp_path_factory):
    """The suite file and its uninterrupted result (in-process, local executor)."""
    from gdbench.harness import suite as suite_mod
    from gdbench.harness.runner import run_plan

    d = tmp_path_factory.mktemp("killsuite")
    path = d / "killme.toml"
    path.write_text(KILL_SUITE)
    plan = suite_mod.load(str(path))
    assert len(plan.tasks) == N_GROUPS and plan.n_runs == N_RUNS
    run_plan(plan, d / "reference", precompile_workers=None, progress=False, figures=False)
    return path, _convergence(d / "reference")


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    from gdbench.harness.dask_executor import DaskExecutor

    ex = DaskExecutor(workers=2)
    yield ex.client.scheduler.address
    ex.close()


def _start(suite: Path, out: Path, extra: list[str], log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gdbench", "run", str(suite), "--out", str(out), "--quiet", "--no-figures", *extra]
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=out.parent)


def _wait_for(cond, proc: subprocess.Popen, timeout: float, what: str, log: Path) -> None:
    t0 = time.monotonic()
    while not cond():
        if proc.poll() is not None:
            pytest.fail(f"gdbench run exited ({proc.returncode}) before {what}:\n{log.read_text()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            proc.wait()
            pytest.fail(f"timed out waiting for {what}:\n{log.read_text()}")
        time.sleep(0.005)


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_sigkill_then_resume_loses_nothing(executor, kill_suite, tmp_path, request, capsys):
    from gdbench.cli import main

    suite, reference = kill_suite
    extra = ["--executor", executor]
    if executor == "dask":
        extra += ["--scheduler", request.getfixturevalue("cluster")]
    out, log = tmp_path / "out", tmp_path / "run.log"
    proc = _start(suite, out, extra, log)

    # 1. while it runs, the folder is locked: a second run is refused and changes nothing
    _wait_for(lambda: (out / ".lock").exists(), proc, 120, "the lock", log)
    before = _parts(out)
    assert main(["run", str(suite), "--out", str(out), "--quiet", "--no-figures"]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert f"in use by pid {proc.pid}" in last and "Traceback" not in err, err
    assert all(_parts(out).get(k) == v for k, v in before.items())  # nothing of the first run touched

    # 2. SIGKILL once some groups are on disk
    _wait_for(lambda: len(_runs_parts(_parts(out))) >= 2, proc, 180, "the first finished groups", log)
    proc.send_signal(signal.SIGKILL)
    proc.wait()  # reap it: a zombie would still look alive to the lock
    at_kill = _parts(out)
    finished_parts = _runs_parts(at_kill)
    assert 2 <= len(finished_parts) < N_GROUPS, "the run finished before the kill; make KILL_SUITE longer"
    from gdbench.harness.store import ResultStore

    finished_ids = ResultStore(out).finished_run_ids()
    assert (out / ".lock").exists()  # left behind by the killed process

    # 3. resume: takes over the stale lock, runs only what is missing
    assert main(["run", str(suite), "--out", str(out), "--resume", "--quiet", "--no-figures", *extra]) == 0
    after = _parts(out)
    for name in finished_parts:  # not recomputed: the finished parts were not rewritten
        assert after[name] == at_kill[name], f"{name} was rewritten by --resume"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["run"]["resumed"] is True
    assert meta["run"]["runs_this_session"] == N_RUNS - len(finished_ids)  # only the missing runs ran
    assert not (out / ".lock").exists()

    # 4. no run missing, none duplicated (in the table and across the part files), same results
    from gdbench.harness.store import read_part

    per_part = [read_part(out / "parts" / n)["run_id"].astype(str).tolist() for n in _runs_parts(after)]
    all_ids = [r for ids in per_part for r in ids]
    assert len(all_ids) == len(set(all_ids)) == N_RUNS
    got = _convergence(out)
    assert got["run_id"].is_unique and len(got) == N_RUNS
    pd.testing.assert_frame_equal(got, reference, check_exact=True)
    if os.environ.get("GDBENCH_TEST_VERBOSE"):
        print(f"{executor}: killed after {len(finished_ids)} of {N_RUNS} runs")
