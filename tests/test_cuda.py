"""GPU sweeps (:mod:`gdbench.cuda`): CPU/GPU agreement, reproducibility, statuses, clear errors.

The kernel tests run in this process when it can use CUDA: on a real GPU, or when pytest was
started with ``NUMBA_ENABLE_CUDASIM=1``. Otherwise (CI, no GPU) ``test_kernels_in_cuda_simulator``
runs this file again in a child process with ``NUMBA_ENABLE_CUDASIM=1``: the variable must be set
before numba.cuda is first imported, which cannot be guaranteed inside a pytest process that
has already imported numba for the other tests. Sizes are tiny because the simulator is slow.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gdbench
from gdbench.cuda import CudaUnavailable
from gdbench.optimizers import OPTIMIZERS

pytestmark = pytest.mark.gpu

HAVE_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None
IN_SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
IN_CHILD = os.environ.get("GDBENCH_CUDA_TEST_CHILD") == "1"  # the simulator run started by the test below


def _cuda_here() -> bool:
    if not HAVE_NUMBA_CUDA:
        return False
    if IN_SIMULATOR:
        return True
    return gdbench.cuda.cuda_available()


CUDA_HERE = _cuda_here()
on_cuda = pytest.mark.skipif(
    not CUDA_HERE,
    reason="no GPU in this process: the kernel tests run in the CUDA-simulator child process "
    "(test_kernels_in_cuda_simulator)" if HAVE_NUMBA_CUDA else "numba-cuda is not installed",
)
GPU_OPTIMIZERS = [name for name, o in OPTIMIZERS.items() if not o.needs_hessian]
RTOL = 1e-12


def both(problem, optimizer, configs, **kw):
    gpu = gdbench.sweep(problem, optimizer, configs, device="cuda", **kw)
    cpu = gdbench.sweep(problem, optimizer, configs, threads=1, **kw)
    return gpu, cpu


def assert_same_run(gpu, cpu, rtol=RTOL):
    """Same statuses, steps and record counts; traces and final iterates equal to ``rtol`` relative
    (per trace column, relative to the column's largest magnitude, so that a gradient norm that
    tends to 0 is compared at the scale it started from)."""
    np.testing.assert_array_equal(gpu.status_code, cpu.status_code)
    assert gpu.status == cpu.status
    np.testing.assert_array_equal(gpu.steps_done, cpu.steps_done)
    np.testing.assert_array_equal(gpu.nrec, cpu.nrec)
    for k in range(len(gpu.configs)):
        a, b = gpu.trace[k, : gpu.nrec[k]], cpu.trace[k, : cpu.nrec[k]]
        finite = np.where(np.isfinite(b), np.abs(b), 0.0)
        scale = finite.max(axis=0) if len(b) else np.zeros(4)
        for c in range(4):
            np.testing.assert_allclose(a[:, c], b[:, c], rtol=rtol, atol=rtol * scale[c],
                                       err_msg=f"config {k} {gpu.configs[k]}, trace column {c}")
        tb = cpu.theta[k]
        atol = rtol * np.abs(tb[np.isfinite(tb)]).max(initial=1.0)
        np.testing.assert_allclose(gpu.theta[k], tb, rtol=rtol, atol=atol, err_msg=f"config {k} final theta")


# --- kernels (GPU or simulator in this process) ------------------------------------------------------------------


# (optimizer, problem) pairs are mostly those the CPU tests use too, so that the CPU drivers
# compiled here are reused from the disk cache by tests/test_optimizers.py and tests/test_driver.py.


@on_cuda
@pytest.mark.parametrize("opt", GPU_OPTIMIZERS)
def test_every_update_rule_matches_cpu(opt):
    """Each rule's GPU step against its CPU driver. The CPU side is the driver ``gdbench check``
    compiles for every rule (5-D quadratic, no optional loop part), so under CI's simulator this
    test compiles no driver of its own; schedules, clipping and noise on the GPU, which apply to
    every rule alike, have tests of their own below (step, exponential, inverse-time, cosine;
    norm and value clipping)."""
    q = gdbench.problems.quadratic(d=5, cond=10.0, L=2.0, seed=3)
    lr = 0.2 if opt in ("gd", "momentum", "nesterov") else 0.05
    cfgs = [{"lr": lr}, {"lr": lr / 2, "seed": 1}]
    gpu, cpu = both(q, opt, cfgs, steps=16, record_every=4)
    assert_same_run(gpu, cpu)
    assert gpu.trace[0, gpu.nrec[0] - 1, 1] < gpu.trace[0, 0, 1]  # it moved downhill


@on_cuda
def test_rosenbrock_adam_matches_cpu():
    p = gdbench.problems.rosenbrock(d=2)
    cfgs = [{"lr": 1e-3}, {"lr": 1e-2, "schedule": {"name": "step", "step_size": 5, "gamma": 0.5}},
            {"lr": 3e-2, "clip": {"value": 1.0}, "noise": 0.1, "seed": 4}]
    assert_same_run(*both(p, "adam", cfgs, steps=20, record_every=5))


@on_cuda
def test_gradient_noise_uses_the_cpu_random_stream():
    s = gdbench.problems.saddle(d=3, k=2)
    cfgs = [{"lr": 0.1, "noise": 0.1, "seed": 1}, {"lr": 0.1, "noise": 0.1, "seed": 2}, {"lr": 0.05}]
    gpu, cpu = both(s, "gd", cfgs, steps=12, record_every=2)
    assert_same_run(gpu, cpu)  # same seeds: the same xoroshiro128+ noise as on the CPU
    assert np.isnan(gpu.trace[0, 0, 3])  # saddle has no unique x*
    q = gdbench.problems.quadratic(d=4, cond=10.0, L=2.0, seed=3)
    cfgs = [{"lr": 0.5, "schedule": {"name": "step", "step_size": 4, "gamma": 0.5}},
            {"lr": 0.4, "clip": {"value": 0.2}, "noise": 0.05, "seed": 7}, {"lr": 0.2, "schedule": "exponential"}]
    assert_same_run(*both(q, "momentum", cfgs, steps=12, record_every=3))


@on_cuda
@pytest.mark.parametrize(("prob", "opt"), [("linreg", "adam"), ("logistic", "adam"), ("logistic", "momentum"),
                                           ("hinge", "adam")])
def test_data_problems_full_and_minibatch_match_cpu(prob, opt):
    p = gdbench.problems.make(prob, n=20, d=3, seed=1)
    cfgs = [{"lr": 0.05}, {"lr": 0.05, "batch_size": 6, "seed": 3}, {"lr": 0.02, "batch_size": 1, "seed": 4},
            {"lr": 0.05, "batch_size": 4, "seed": 5, "noise": 0.01, "clip": {"norm": 1.0}, "schedule": "inverse_time"}]
    gpu, cpu = both(p, opt, cfgs, steps=12, record_every=3)
    # mini-batches are the CPU's (same per-config Fisher–Yates stream); row sums differ only in order
    assert_same_run(gpu, cpu)


@on_cuda
def test_same_seeds_reproduce_bit_for_bit_and_seeds_differ():
    p = gdbench.problems.logistic(n=16, d=2, seed=0)
    cfgs = [{"lr": 0.1, "batch_size": 3, "seed": 11}, {"lr": 0.1, "batch_size": 3, "seed": 12}]
    a = gdbench.sweep(p, "rmsprop", cfgs, steps=10, record_every=2, device="cuda")
    b = gdbench.sweep(p, "rmsprop", cfgs, steps=10, record_every=2, device="cuda")
    np.testing.assert_array_equal(a.trace, b.trace)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta[0], a.theta[1])


@on_cuda
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_divergence_and_convergence_statuses_match_cpu():
    q = gdbench.problems.quadratic(d=3, cond=5.0, L=4.0, seed=1)
    cfgs = [{"lr": 1.9 / 4.0}, {"lr": 2.1 / 4.0}, {"lr": 1e300}, {"lr": 0.3}]
    gpu, cpu = both(q, "gd", cfgs, steps=120, record_every=2, stop_tol=1e-6)
    assert gpu.status[:3] == ["converged", "diverged", "diverged"]
    assert_same_run(gpu, cpu)
    lin = gdbench.problems.linreg(n=12, d=2, seed=2)
    gpu, cpu = both(lin, "gd", [{"lr": 50.0}, {"lr": 50.0, "batch_size": 4}], steps=40, record_every=5)
    assert gpu.status == ["diverged", "diverged"]
    assert_same_run(gpu, cpu)


@on_cuda
def test_no_records_still_reports_status():
    q = gdbench.problems.quadratic(d=3, cond=5.0, L=4.0, seed=1)
    gpu, cpu = both(q, "gd", [{"lr": 0.3}, {"lr": 2.1 / 4.0}], steps=200, record_every=0)
    assert (gpu.nrec == 0).all() and gpu.status_code.tolist() == [0, 2] and gpu.steps_done[1] < 200
    assert_same_run(gpu, cpu)


@on_cuda
def test_minimize_on_cuda_equals_cpu():
    p = gdbench.problems.rosenbrock(d=3)
    g = gdbench.minimize(p, "adam", steps=10, lr=0.01, device="cuda")
    c = gdbench.minimize(p, "adam", steps=10, lr=0.01)
    assert g.status == c.status and g.steps == c.steps
    np.testing.assert_allclose(g.params, c.params, rtol=RTOL)
    np.testing.assert_allclose(g.trace["loss"], c.trace["loss"], rtol=RTOL)


@on_cuda
def test_plugins_random_starts_and_restarts_run_on_the_gpu():
    """The example plugins (registered by conftest: a rule and a loss of the linear-model family) and
    the loop's random starts and restarts give the CPU's runs on the GPU."""
    q = gdbench.problems.quadratic(d=4, cond=10.0, L=2.0, seed=3)
    assert_same_run(*both(q, "lion", [{"lr": 0.01}, {"lr": 0.003, "schedule": "cosine"}], steps=12, record_every=3))
    assert_same_run(*both(q, "polyak", [{"lr": 1.0}, {"lr": 0.5, "noise": 0.01, "seed": 3}], steps=12,
                          record_every=3))
    h = gdbench.problems.make("huber", n=20, d=3)
    assert_same_run(*both(h, "adam", [{"lr": 0.05}, {"lr": 0.05, "batch_size": 4, "seed": 2}], steps=10,
                          record_every=2))
    s = gdbench.problems.make("six_hump_camel")
    cfgs = [{"lr": 0.01, "seed": k, "init": {"dist": "uniform", "low": -2, "high": 2}, "restart": {"every": 5}}
            for k in range(3)] + [{"lr": 0.02, "seed": 5, "init": {"dist": "normal", "scale": 0.5},
                                   "restart": {"on": "stall", "window": 4, "tol": 0.5}}]
    gpu, cpu = both(s, "momentum", cfgs, steps=16, record_every=2)
    assert_same_run(gpu, cpu)
    np.testing.assert_array_equal(gpu.restarts, cpu.restarts)
    np.testing.assert_allclose(gpu.theta_start, cpu.theta_start, rtol=0)
    assert (gpu.restarts[:3] == 3).all() and not np.array_equal(gpu.theta_start[0], gpu.theta_start[1])


@on_cuda
def test_a_plugin_suite_runs_on_the_gpu_like_on_the_cpu(tmp_path):
    """A suite naming a rule plugin and a loss plugin, run with device="cuda": the same statuses and
    steps-to-tolerance as on the CPU (final losses to rounding)."""
    import pandas as pd

    from gdbench.harness import runner, suite

    ex = Path(__file__).resolve().parents[1] / "examples"
    f = tmp_path / "gpu.toml"
    f.write_text(f"""
plugins = ["{ex / 'lion.py'}", "{ex / 'huber.py'}"]
steps = 24
record_every = 6
seeds = 2
tolerances = [1e-1, 1e-2]
[problems.quadratic]
d = 3
[problems.huber]
n = 16
d = 2
[optimizers.lion]
lr = 0.05
[optimizers.adam]
lr = 0.1
batch_size = [4, "full"]
problems = ["huber"]
""")
    cols = ["status", "steps_done", "steps_to_1e-01", "steps_to_1e-02"]
    out = {}
    for dev in ("cpu", "cuda"):
        runner.run_plan(suite.load(str(f), device=dev), tmp_path / dev, progress=False, figures=False,
                        precompile_workers=0)
        runs = pd.read_parquet(tmp_path / dev / "runs.parquet")  # run ids include the device: match by name
        out[dev] = runs.sort_values(["problem", "run_name", "seed"]).reset_index(drop=True)
    a, b = out["cpu"], out["cuda"]
    assert len(a) == len(b) == 2 * (1 + 1 + 2)
    pd.testing.assert_frame_equal(a[cols], b[cols])
    np.testing.assert_allclose(a["final_loss"], b["final_loss"], rtol=1e-12)


@on_cuda
def test_newton_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="newton.*device='cpu'"):
        gdbench.sweep(gdbench.problems.rosenbrock(), "newton", [{}], steps=2, device="cuda")


@on_cuda
def test_bench_reports_both_measures(tmp_path, capsys):
    from types import SimpleNamespace

    from gdbench.cuda import bench

    assert bench.main(SimpleNamespace(quick=True, out=str(tmp_path))) == 0
    out = capsys.readouterr().out
    assert "steps/s" in out and "GB/s" in out
    if IN_SIMULATOR:
        assert "meaningless" in out
    import json

    doc = json.loads((tmp_path / "cuda_bench.json").read_text())
    assert doc["results"][0]["steps_per_s"] > 0 and doc["results"][1]["GB_per_s"] > 0


# --- this process, with or without a GPU --------------------------------------------------------------------------


def test_kernels_in_cuda_simulator():
    if CUDA_HERE:
        pytest.skip("CUDA is usable in this process: the kernel tests above ran here")
    if not HAVE_NUMBA_CUDA:
        pytest.skip("numba-cuda is not installed (pip install -e '.[cuda]'): no CUDA simulator")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", GDBENCH_CUDA_TEST_CHILD="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "gpu", str(Path(__file__))]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent.parent)
    tail = (r.stdout + r.stderr)[-6000:]
    assert r.returncode == 0, f"simulator run failed:\n{tail}"
    passed = re.search(r"(\d+) passed", r.stdout)
    assert passed and int(passed.group(1)) >= 15, f"too few kernel tests ran in the simulator:\n{tail}"


LOWER_FOR_GPU = """
import types, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import numba
import numba.cuda.dispatcher as disp
from numba import types as nt
from numba.cuda.compiler import compile_cuda
# no GPU here: tell the device-function compiler which compute capability to target
disp.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
import gdbench
from gdbench.cuda import codegen
from gdbench.engine import prepare
from gdbench.kernels.records import Scratch
from gdbench.optimizers import OPTIMIZERS
from gdbench.plugins import register
register(sys.argv[1])
for opt, prob, cfg in [("adam", "rosenbrock", {}), ("nadam", "quadratic", {}), ("adagrad", "saddle", {}),
                       ("lion", "quadratic", {"init": {"dist": "uniform", "low": -1, "high": 1},
                                              "restart": {"on": "stall", "window": 10}}),
                       ("adam", "logistic", {"batch_size": 4}), ("momentum", "hinge", {}),
                       ("adam", "linreg", {"init": {"dist": "normal", "scale": 0.1}, "restart": {"every": 5}})]:
    kw = {"d": 3} if prob in ("quadratic", "rosenbrock", "saddle") else {"n": 16, "d": 3}
    p = gdbench.problems.make(prob, **kw)
    o = OPTIMIZERS[opt]
    recs = prepare(p, o, [cfg], steps=10, record_every=2, stop_tol=0.0, div_factor=1e6, x0=None)[:4]
    tpb = codegen.data_threads(p.n, p.dim) if p.kind == "data" else 0
    mod = codegen.module(o, p.definition, p.dim, tpb)
    scr = Scratch(np.zeros((1, 1), "int32"), np.zeros(1, "int64"))
    sig = tuple(numba.typeof(r) for r in (*recs, scr))
    ir = compile_cuda(mod.kernel.py_func, nt.void, sig, cc=(9, 0)).library.get_llvm_str()
    assert "nvvm" in ir or "nvptx" in ir, (opt, prob)
    print("lowered", opt, prob)
"""


@pytest.mark.skipif(CUDA_HERE or IN_CHILD or not HAVE_NUMBA_CUDA,
                    reason="needs numba-cuda and no GPU (a GPU compiles the kernels for real above)")
def test_kernels_type_and_lower_for_a_real_gpu():
    """The simulator runs kernels as Python and so never checks that they compile for a GPU. This
    lowers a sample of kernels (both layouts, several rules and problems) to NVVM IR for
    compute capability 9.0 without a GPU, which catches what numba-cuda cannot type or lower."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    lion = Path(__file__).resolve().parents[1] / "examples" / "lion.py"
    r = subprocess.run([sys.executable, "-c", LOWER_FOR_GPU, str(lion)], env=env, capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0 and "compile_cuda" in r.stderr and "ImportError" in r.stderr:
        pytest.skip("this numba-cuda has another compiler layout")
    assert r.returncode == 0, r.stderr[-4000:]
    assert r.stdout.count("lowered") == 7


@pytest.mark.skipif(IN_CHILD, reason="checked once, by the parent process")
def test_import_gdbench_and_cpu_runs_do_not_import_numba_cuda():
    code = textwrap.dedent("""
        import sys, gdbench
        r = gdbench.minimize(gdbench.problems.quadratic(d=3), "gd", steps=3)
        assert r.steps == 3
        assert "numba.cuda" not in sys.modules and "numba_cuda.numba.cuda" not in sys.modules, \\
            sorted(m for m in sys.modules if "cuda" in m)
    """)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


def test_clear_error_when_numba_cuda_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba.cuda", None)  # makes `import numba.cuda` fail
    assert not gdbench.cuda.cuda_available()
    p = gdbench.problems.quadratic(d=3)
    with pytest.raises(CudaUnavailable, match=r"numba-cuda is not installed \(pip install"):
        gdbench.sweep(p, "gd", [{}], steps=2, device="cuda")
    with pytest.raises(CudaUnavailable, match="device='cpu'"):
        gdbench.minimize(p, "gd", steps=2, device="cuda")
    assert gdbench.minimize(p, "gd", steps=2).steps == 2  # the CPU path does not care


@pytest.mark.skipif(CUDA_HERE or not HAVE_NUMBA_CUDA, reason="needs numba-cuda without a usable GPU")
def test_clear_error_without_a_gpu():
    with pytest.raises(CudaUnavailable, match="no usable NVIDIA GPU.*NUMBA_ENABLE_CUDASIM=1"):
        gdbench.sweep(gdbench.problems.rosenbrock(), "adam", [{}], steps=2, device="cuda")


def test_unknown_device_is_a_value_error():
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda', got 'tpu'"):
        gdbench.sweep(gdbench.problems.rosenbrock(), "adam", [{}], steps=2, device="tpu")
