"""Correctness of the performance code: fused kernels, the rows-mode driver, the gate, the bench
and perf commands in tiny sizes. Performance itself is never asserted here."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gdbench
from gdbench.perf import cmd_gate
from gdbench.perf._data import bare_problem, make_data
from gdbench.perf._kernels import row_loss_grad
from gdbench.problems.linear_kernels import QUAD_MIN_D

DATA_PROBLEMS = ["linreg", "logistic", "hinge"]


def _mod(name):
    return gdbench.problems.PROBLEMS[name].kernels


@pytest.mark.parametrize("name", DATA_PROBLEMS)
@pytest.mark.parametrize("n,d", [(1, 3), (7, 5), (129, 1), (1000, 17), (3001, 64), (390, QUAD_MIN_D + 1)])
def test_fused_rows_kernel_equals_serial_kernel(name, n, d):
    """loss_grad_rows (nb < 0) sums rows in ROW_BLOCKS contiguous blocks (rows in order inside a
    block, two or four at a time, the dot product and Σ cᵢxᵢ reassociated by the compiler), then
    adds the blocks in block order; loss_grad sums rows in order. Same value to 1e-12 relative (the
    sums are of O(n) terms of mixed sign: the tolerance is on the scale of the largest term); so
    does loss_only_rows. (390 rows of width QUAD_MIN_D + 1: blocks of 6 or 7 rows, four at a time
    and the rest one by one.)"""
    X, y = make_data("regression" if name == "linreg" else "classification", n, d, seed=n + d)
    mod = _mod(name)
    rng = np.random.default_rng(d)
    prm = np.array([1e-2])
    idx = np.zeros(0, dtype=np.int64)
    for _ in range(3):
        theta = rng.standard_normal(d + 1)
        g1, g2 = np.empty(d + 1), np.empty(d + 1)
        f1 = mod.loss_grad(theta, X, y, prm, idx, 0, -1, g1)
        f2 = mod.loss_grad_rows(theta, X, y, prm, idx, 0, -1, g2)
        np.testing.assert_allclose(f2, f1, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(g1).max()))
        np.testing.assert_allclose(mod.loss_only_rows(theta, X, y, prm, idx, 0, -1, g2), f1, rtol=1e-12, atol=1e-14)
    # a mini-batch (nb >= 0) goes through the serial kernel unchanged
    if n >= 3:
        rows = np.arange(n)[::-1].copy()
        g1, g2 = np.empty(d + 1), np.empty(d + 1)
        assert mod.loss_grad_rows(theta, X, y, prm, rows, 1, 2, g2) == mod.loss_grad(theta, X, y, prm, rows, 1, 2, g1)
        assert np.array_equal(g1, g2)


@pytest.mark.parametrize("name,d", [("linreg", 24), ("linreg", QUAD_MIN_D + 1), ("logistic", QUAD_MIN_D + 1)])
def test_fused_kernel_is_independent_of_thread_count(name, d):
    """Bit for bit, for rows taken two at a time and four at a time (and logistic's vectorised form)."""
    import numba

    X, y = make_data("regression" if name == "linreg" else "classification", 5000, d, seed=1)
    mod = _mod(name)
    theta = np.random.default_rng(0).standard_normal(d + 1)
    prm, idx = np.array([0.0]), np.zeros(0, dtype=np.int64)
    out = []
    for t in sorted({1, numba.config.NUMBA_NUM_THREADS}):
        numba.set_num_threads(t)
        g = np.empty(d + 1)
        out.append((mod.loss_grad_rows(theta, X, y, prm, idx, 0, -1, g), g))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for f, g in out[1:]:
        assert f == out[0][0] and np.array_equal(g, out[0][1])


def test_fused_kernel_propagates_nan():
    X, y = make_data("regression", 300, 4, seed=2)
    theta = np.array([np.nan, 0.0, 0.0, 0.0, 0.0])
    g = np.empty(5)
    f = _mod("linreg").loss_grad_rows(theta, X, y, np.array([0.0]), np.zeros(0, dtype=np.int64), 0, -1, g)
    assert np.isnan(f)


@pytest.mark.parametrize("name,opt", [("linreg", "gd"), ("logistic", "adam"), ("hinge", "momentum")])
def test_rows_mode_driver_matches_config_mode(name, opt):
    p = gdbench.problems.make(name, n=400, d=6, seed=0)
    kw = dict(steps=60, record_every=7)
    a = gdbench.sweep(p, opt, [{"lr": 0.05}], rows=False, **kw)
    b = gdbench.sweep(p, opt, [{"lr": 0.05}], rows=True, **kw)
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(b.trace[0, : b.nrec[0], 1], a.trace[0, : a.nrec[0], 1], rtol=1e-11)
    assert b.status == a.status


@pytest.mark.parametrize("name,opt,batch", [("linreg", "adam", 16), ("hinge", "gd", 1), ("logistic", "gd", 1)])
def test_rows_mode_keeps_a_stochastic_run_s_steps(name, opt, batch):
    """Mini-batch and SGD runs on the row-parallel driver: the steps stay serial (θ bit for bit,
    the fused SGD step included); only the full evaluations (start, records, end) are summed by
    row blocks."""
    p = gdbench.problems.make(name, n=300, d=5, seed=1)
    kw = dict(steps=700, record_every=50)
    cfg = [{"lr": 0.02, "batch_size": batch, "seed": 3}]
    a = gdbench.sweep(p, opt, cfg, rows=False, **kw)
    b = gdbench.sweep(p, opt, cfg, rows=True, **kw)
    np.testing.assert_array_equal(b.theta, a.theta)
    assert a.nrec[0] == b.nrec[0] == 15 and b.status == a.status
    np.testing.assert_array_equal(b.trace[0, :15, 0], a.trace[0, :15, 0])
    np.testing.assert_allclose(b.trace[0, :15, 1:], a.trace[0, :15, 1:], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b.loss, a.loss, rtol=1e-12)


# --------------------------------------------------------------------------- gate


def _suite_json(path: Path, values: dict[str, list[list[float]]]) -> str:
    """A pyperf JSON file: name -> one list of values per worker process."""
    import pyperf

    benches = []
    for name, runs in values.items():
        prs = [pyperf.Run(v, metadata={"name": name, "loops": 1}, collect_metadata=False) for v in runs]
        benches.append(pyperf.Benchmark(prs))
    pyperf.BenchmarkSuite(benches).dump(str(path), replace=True)
    return str(path)


def _runs(center, spread, procs=4, n=5, seed=0):
    rng = np.random.default_rng(seed)
    return [list(center * (1 + spread * rng.standard_normal(n))) for _ in range(procs)]


def _gate(tmp_path, base, new, *extra):
    b = _suite_json(tmp_path / "base.json", base)
    h = _suite_json(tmp_path / "new.json", new)
    r = subprocess.run([sys.executable, "-m", "gdbench", "perf-gate", b, h, *extra], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def test_gate_fails_on_significant_slowdown(tmp_path):
    rc, out = _gate(tmp_path, {"k": _runs(1e-3, 0.01)}, {"k": _runs(2e-3, 0.01, seed=1)})
    assert rc == 1 and "SLOWER" in out and "Benchmark" in out  # pyperf's table is printed too


def test_gate_passes_within_threshold_insignificant_or_identical(tmp_path):
    base = {"k": _runs(1e-3, 0.01)}
    assert _gate(tmp_path, base, {"k": _runs(1.2e-3, 0.01, seed=1)})[0] == 0  # 20 % < 35 %
    assert _gate(tmp_path, base, base)[0] == 0  # identical
    noisy_base = {"k": [[1e-3, 5e-3, 1e-3], [1e-3, 1e-3, 6e-3]] * 2}
    noisy_new = {"k": [[1e-3, 1e-3, 9e-3], [1e-3, 1e-3, 1e-3]] * 2}
    rc, out = _gate(tmp_path, noisy_base, noisy_new)  # the minimum did not move: noise
    assert rc == 0, out
    assert _gate(tmp_path, base, {"k": _runs(1.2e-3, 0.01, seed=1)}, "--threshold", "0.1")[0] == 1


def test_gate_needs_enough_processes(tmp_path):
    """One process per file (gdbench perf --fast) never fails; per-process significance needs
    every new process slower than every base process, which 2 + 2 processes cannot make
    significant (p = 1/6)."""
    rc, _ = _gate(tmp_path, {"k": _runs(1e-3, 0.01, procs=1)}, {"k": _runs(2e-3, 0.01, procs=1, seed=1)})
    assert rc == 0
    rc, _ = _gate(tmp_path, {"k": _runs(1e-3, 0.01, procs=2)}, {"k": _runs(2e-3, 0.01, procs=2, seed=1)},
                  "--min-runs", "2")
    assert rc == 0
    rc, _ = _gate(tmp_path, {"k": _runs(1e-3, 0.01, procs=3)}, {"k": _runs(2e-3, 0.01, procs=3, seed=1)})
    assert rc == 1


def test_gate_ignores_process_level_noise(tmp_path):
    """A/A-like: identical code, one slow process in each file, medians 1.5x apart by chance in
    the values, but the process ranges overlap: not a regression."""
    base = {"k": [[1.0e-3] * 5, [1.1e-3] * 5, [1.9e-3] * 5, [1.0e-3] * 5]}
    new = {"k": [[1.6e-3] * 5, [1.7e-3] * 5, [1.5e-3] * 5, [1.8e-3] * 5]}
    rc, out = _gate(tmp_path, base, new)
    assert rc == 0, out


def test_gate_logic_units():
    v = cmd_gate.compare_values("x", [1.0] * 5, [1.0] * 5, 0.35)
    assert not v.slower and not v.significant
    v = cmd_gate.compare_values("x", [1.0, 1.01, 0.99, 1.0], [2.0, 2.02, 1.98, 2.0], 0.35)
    assert v.slower and v.significant and v.ratio_min == pytest.approx(1.98 / 0.99)


# --------------------------------------------------------------------------- commands


def test_bench_tiny_all_paths(tmp_path):
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "gdbench", "bench", "--tiny", "--out", str(tmp_path),
                        "--only", "fused", "--only", "sgd", "--only", "minibatch", "--only", "tiny", "--only", "sweep"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "benchmark" in r.stdout and "BLAS" in r.stdout and "UNEQUAL" not in r.stdout
    data = json.loads((tmp_path / "bench.json").read_text())
    impls = {row["impl"] for row in data["rows"]}
    assert {"gdbench.minimize", "numpy", "roofline (read X once)"} <= impls
    if any(row["benchmark"].startswith("SGD epochs") for row in data["rows"]):  # (needs scikit-learn)
        assert "random-row read floor (same rows, same order)" in impls
    assert (tmp_path / "bench.md").read_text().startswith("```")


def test_bench_cuda_without_cuda_is_one_clear_line(tmp_path, monkeypatch):
    from gdbench.perf import cmd_bench

    monkeypatch.setitem(sys.modules, "gdbench.cuda.bench", None)  # import fails
    import argparse

    rc = cmd_bench.run(argparse.Namespace(device="cuda", quick=True, tiny=False, out=str(tmp_path), only=None))
    assert rc == 2


def test_random_row_floor_reads_every_row_of_the_driver_s_epochs():
    """The SGD floor reads the rows in the driver's order (the permutations of one-row batches)
    and each once per epoch: its sum of xᵢᵀw + b − yᵢ is E times NumPy's over all rows."""
    from gdbench.perf._kernels import driver_batches, driver_perms
    from gdbench.perf._peers import random_row_read

    n, d, E = 37, 9, 3
    perms = driver_perms(n, 4, E)
    np.testing.assert_array_equal(perms.ravel(), np.concatenate(driver_batches(n, 1, 4, E * n)))
    assert all(sorted(p) == list(range(n)) for p in perms)
    X, y = make_data("regression", n, d, seed=2)
    theta = np.linspace(-1.0, 1.0, d + 1)
    want = E * float(np.sum(X @ theta[:d] + theta[d] - y))
    for ahead in (0, 8, 100):
        assert random_row_read(X, y, perms, theta, ahead) == pytest.approx(want, rel=1e-12)


def test_sgd_peer_objective_mapping():
    """sklearn's squared loss is ½r² with penalty α; gdbench's is r² + (λ/2)‖w‖²: η' = η/2, λ = 2α
    give the same update (checked here on one step from the same point)."""
    X, y = make_data("regression", 50, 4, seed=0)
    p = bare_problem("linreg", X, y, 2 * 1e-3)
    theta = np.zeros(5)
    theta[:4] = 0.3
    eta, alpha = 0.01, 1e-3
    i = 7
    r = X[i] @ theta[:4] + theta[4] - y[i]
    sk_w = (1 - eta * alpha) * theta[:4] - eta * r * X[i]
    g = np.empty(5)
    row_loss_grad(p, theta, np.array([i]), g)
    ours = theta - eta / 2 * g
    np.testing.assert_allclose(ours[:4], sk_w, rtol=1e-14)
    np.testing.assert_allclose(ours[4], theta[4] - eta * r, rtol=1e-14)


@pytest.mark.slow
def test_perf_fast_smoke(tmp_path):
    out = tmp_path / "p.json"
    r = subprocess.run([sys.executable, "-m", "gdbench", "perf", "--fast", "--quiet", "-o", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    import pyperf

    names = {b.get_name() for b in pyperf.BenchmarkSuite.load(str(out)).get_benchmarks()}
    assert "driver_step_gd_rosenbrock2" in names and len(names) == 7


def test_perf_command_inherits_numba_environment(monkeypatch):
    import argparse

    from gdbench.perf import cmd_perf

    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")
    monkeypatch.setenv("GDBENCH_FASTMATH", "0")
    cmd = cmd_perf.command(argparse.Namespace(fast=True, output=None, processes=None, values=None, quiet=True))
    inh = cmd[cmd.index("--inherit-environ") + 1].split(",")
    assert "NUMBA_NUM_THREADS" in inh and "GDBENCH_FASTMATH" in inh and "--small" in cmd


# --------------------------------------------------------------------------- instruction counts


def _count_json(path: Path, values: dict[str, list[float]], mode: str = "instructions") -> str:
    from gdbench.perf import _count

    if mode == "instructions":
        _count.write_pyperf(values, path, small=True)
        return str(path)
    return _suite_json(path, {k: [[v] for v in vs] for k, vs in values.items()})


def test_gate_on_instruction_counts(tmp_path):
    """Counts are deterministic: a few percent is a regression, identical counts are not, and
    the default threshold for count files is INSTR_THRESHOLD (3 %), not the wall-time 35 %."""
    base = _count_json(tmp_path / "b.json", {"k": [1000.0, 1000.1, 999.9], "j": [50.0] * 3})
    same = _count_json(tmp_path / "s.json", {"k": [1000.05] * 3, "j": [50.0] * 3})
    up5 = _count_json(tmp_path / "u.json", {"k": [1050.0] * 3, "j": [50.0] * 3})
    up2 = _count_json(tmp_path / "v.json", {"k": [1020.0] * 3, "j": [50.0] * 3})

    def gate(b, n, *extra):
        r = subprocess.run([sys.executable, "-m", "gdbench", "perf-gate", "--no-table", b, n, *extra],
                           capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    assert gate(base, same)[0] == 0
    rc, out = gate(base, up5)
    assert rc == 1 and "instruction counts" in out and "k " in out and "SLOWER" in out
    assert gate(base, up2)[0] == 0  # 2 % < 3 %
    assert gate(base, up2, "--threshold", "0.01")[0] == 1
    timed = _count_json(tmp_path / "t.json", {"k": [1e-3] * 3}, mode="time")
    rc, out = gate(base, timed)
    assert rc == 2 and "compare files of one kind" in out


def test_count_rule_units():
    v = cmd_gate.compare_counts("x", [[100.0], [100.01]], [[120.0]], 0.03)
    assert v.slower and v.separated and v.ratio_median == pytest.approx(120 / 100.005)
    v = cmd_gate.compare_counts("x", [[100.0], [130.0]], [[120.0]], 0.03)  # overlapping: not separated
    assert not v.slower


def test_parse_callgrind_dumps(tmp_path):
    from gdbench.perf._count import parse_dumps

    for i, (label, total) in enumerate([("a#1", 20), ("a#0", 10), ("b#0", 7)], start=1):
        (tmp_path / f"cg.123.{i}").write_text(f"version: 1\ncmd: python\npart: {i}\ndesc: Trigger: Client Request: "
                                              f"{label}\nevents: Ir\nsummary: {total}\ntotals: {total}\n")
    (tmp_path / "cg.123").write_text("desc: Trigger: Program termination\ntotals: 0\n")
    assert parse_dumps(tmp_path) == {"a": [10, 20], "b": [7]}


def test_client_requests_are_no_ops_outside_valgrind():
    """The magic instruction sequence runs natively (no crash) and answers the default."""
    from gdbench.perf import _callgrind

    if not _callgrind.available():
        pytest.skip("client requests are x86-64 Linux only")
    assert _callgrind.running_on_valgrind() is False
    assert _callgrind.request(_callgrind.TOGGLE_COLLECT, default=7) == 7
    _callgrind.toggle_collect()
    _callgrind.dump_stats_at("label")


def test_inject_factor(monkeypatch):
    from gdbench.perf.perf_suite import INJECT_ENV, inject_factor

    monkeypatch.setenv(INJECT_ENV, "driver_step_adam=1.2, fused_grad_linreg_200000x64=1.5")
    assert inject_factor("driver_step_adam_rosenbrock2") == 1.2
    assert inject_factor("fused_grad_linreg_200000x64") == 1.5
    assert inject_factor("driver_step_gd_rosenbrock2") == 1.0
    for bad in ("driver_step_adam", "x=0.5", "=1.2", "x=abc"):
        monkeypatch.setenv(INJECT_ENV, bad)
        with pytest.raises(ValueError, match=INJECT_ENV):
            inject_factor("x")


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_instruction_counts_are_deterministic_and_see_injected_work():
    """Under callgrind, one driver benchmark counted twice in one process gives the same count
    to 1e-3 (the Python around the compiled call is not counted), a plausible number of
    instructions per step, and 1.2x the steps show up as ~1.2x the count."""
    from gdbench.perf import _count

    name = "driver_step_gd_rosenbrock2"
    base = _count.run_counts(True, [name], reps=2, log=lambda s: None)[name]
    assert (max(base) - min(base)) / min(base) < 1e-3
    assert 20 < base[0] < 2000  # instructions per 2-D Rosenbrock gd step
    slow = _count.run_counts(True, [name], reps=1, log=lambda s: None, inject=1.2)[name]
    assert 1.15 < slow[0] / base[0] < 1.25


def test_interleaved_timing_warms_each_function_before_its_timed_call():
    """``warm``: untimed calls of the same function after the idle, before each timed one."""
    import time

    from gdbench.perf._timing import timed_interleaved

    calls = {"a": 0, "b": 0}

    def make(k):
        def f():
            calls[k] += 1
            time.sleep(0.001)
        return f

    ts = timed_interleaved({"a": make("a"), "b": make("b")}, 2, warm=0.004)
    assert len(ts["a"]) == len(ts["b"]) == 2
    # one untimed call first, then per round at least one warm call and the timed one
    assert calls["a"] >= 5 and calls["b"] >= 5
    calls.update(a=0, b=0)
    timed_interleaved({"a": make("a"), "b": make("b")}, 2)
    assert calls == {"a": 3, "b": 3}
