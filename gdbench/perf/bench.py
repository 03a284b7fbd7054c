"""``gdbench bench``: gdbench next to its peers, in one process, in one table.

Every benchmark times *the same work* in each implementation (same data, same steps, same
batches where the peer allows it) after an untimed warm-up (compilation, caches), checks that
every implementation reaches the same result (loss, gradient or final objective; a row whose
check fails is marked ``UNEQUAL`` and gets no ratio), and reports median and min–max over
repeats. ``ratio`` is peer time / gdbench time (> 1: gdbench is faster); for the roofline it is
gdbench's share of the streaming-read speed (time to read X once / gdbench time).

Peers: NumPy (always), scikit-learn and torch (optional: skipped with a note when absent), a
hand-written whole-loop ``@njit`` loop, and the measured streaming-read roofline.

Sizes: ``full`` (the sizes of the goals in issue 4), ``quick`` (a few seconds per benchmark;
goals are then only indicative) and ``tiny`` (code paths only, for the tests).
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit, prange

from .._config import JIT, ROW_BLOCKS, ROWS_FASTMATH
from .._sys import atomic_write_text, usable_cores

SIZES: dict[str, dict[str, Any]] = {
    "full": dict(rows=[(1_000_000, 64), (200_000, 512)], rows_rep=9, sgd_n=100_000, sgd_d=64, sgd_epochs=5,
                 mb_n=200_000, mb_d=64, tiny_steps=2_000_000, torch_steps=3_000, rep=5, sweep_k=8,
                 sweep_steps=20_000, startup_rep=5, cold=True),
    "quick": dict(rows=[(200_000, 64), (40_000, 512)], rows_rep=5, sgd_n=20_000, sgd_d=64, sgd_epochs=3,
                  mb_n=50_000, mb_d=64, tiny_steps=500_000, torch_steps=1_000, rep=3, sweep_k=8,
                  sweep_steps=5_000, startup_rep=3, cold=False),
    "tiny": dict(rows=[(4_000, 16)], rows_rep=2, sgd_n=500, sgd_d=8, sgd_epochs=2, mb_n=1_000, mb_d=8,
                 tiny_steps=2_000, torch_steps=50, rep=2, sweep_k=4, sweep_steps=200, startup_rep=1, cold=False),
}


@dataclass
class Row:
    """One implementation of one benchmark."""

    benchmark: str
    impl: str
    unit: str  # what `times` measure: "s" (per call) or "ns/step"
    times: list[float]
    ratio: float | None = None  # peer time / gdbench time; roofline: stream time / gdbench time
    goal: str = ""
    met: bool | None = None
    check: str = ""  # the equal-work check, e.g. "loss rel 3e-15"
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan


@dataclass
class BenchResult:
    header: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- timing helpers


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> tuple[list[float], Any]:
    """Wall times of ``repeat`` calls after ``warmup`` untimed ones; also the last call's value."""
    out = None
    for _ in range(warmup):
        out = fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return ts, out


def timed_interleaved(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    """Round-robin timing (one call of each per round), so that machine noise hits all alike."""
    for f in fns.values():
        f()
    ts: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            ts[k].append(time.perf_counter() - t0)
    return ts


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def machine_header() -> dict[str, Any]:
    import numba

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import llvmlite.binding as llvm

        cpu = f"{cpu} ({llvm.get_host_cpu_name()})"
    except Exception:  # pragma: no cover
        pass
    blas = "unknown (threadpoolctl not installed)"
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            i = infos[0]
            blas = f"{i.get('internal_api')} {i.get('version')} {i.get('architecture') or ''} " \
                   f"({i.get('num_threads')} threads)".replace("  ", " ")
    except ImportError:
        pass
    cores = usable_cores()
    return {
        "cpu": cpu, "cores": cores, "numba_threads": numba.get_num_threads(),
        "threading_layer": _threading_layer(), "blas": blas, "python": platform.python_version(),
        "numpy": np.__version__, "numba": numba.__version__, "rows_fastmath": sorted(ROWS_FASTMATH),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _threading_layer() -> str:
    import numba

    try:
        return numba.threading_layer()
    except ValueError:
        _stream_sum(np.ones((2, 2)))  # initialises the parallel backend
        return numba.threading_layer()


# --------------------------------------------------------------------------- roofline


@njit(cache=True, nogil=True, parallel=True, fastmath=set(ROWS_FASTMATH))
def _stream_sum(X):
    """Read every element of X once (parallel over the same row blocks as the fused kernels)."""
    n, d = X.shape
    nbk = min(ROW_BLOCKS, max(n, 1))
    acc = np.zeros(nbk)
    for k in prange(nbk):
        s = 0.0
        for i in range(k * n // nbk, (k + 1) * n // nbk):
            for j in range(d):
                s += X[i, j]
        acc[k] = s
    return acc.sum()


# --------------------------------------------------------------------------- NumPy twins


def np_loss_grad(name: str, theta: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    """Full-batch loss and gradient with NumPy/BLAS (what a NumPy user writes)."""
    n, d = X.shape
    w, b = theta[:d], theta[d]
    z = X @ w + b
    g = np.empty(d + 1)
    if name == "linreg":
        r = z - y
        g[:d] = X.T @ r * (2.0 / n) + lam * w
        g[d] = 2.0 * r.mean()
        f = float(r @ r) / n
    elif name == "logistic":
        m = y * z
        f = float(np.mean(np.logaddexp(0.0, -m)))
        c = -y / (1.0 + np.exp(m))
        g[:d] = X.T @ c / n + lam * w
        g[d] = c.mean()
    else:
        h = 1.0 - y * z
        act = h > 0
        f = float(h[act].sum()) / n
        c = np.where(act, -y, 0.0)
        g[:d] = X.T @ c / n + lam * w
        g[d] = c.mean()
    return f + 0.5 * lam * float(w @ w), g


# --------------------------------------------------------------------------- data


def make_data(kind: str, n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal X; y linear + noise (regression) or its sign with 5 % flips (±1)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / math.sqrt(d)
    z = X @ w + 0.3
    if kind == "regression":
        return X, z + 0.1 * rng.standard_normal(n)
    y = np.where(z > 0, 1.0, -1.0)
    flip = rng.random(n) < 0.05
    y[flip] = -y[flip]
    return X, y


def bare_problem(name: str, X: np.ndarray, y: np.ndarray, l2: float):
    """A Problem on (X, y) without its exact optimum (f* = 0 placeholder): timing needs only the
    kernels, and the exact solvers (Newton, SMO) would dominate the set-up at these sizes."""
    import importlib

    from ..problems.base import Problem

    mod = importlib.import_module(f"gdbench.problems.{name}")
    return Problem(name, mod, X, y, np.array([l2]), np.zeros(X.shape[1] + 1), 0.0, None,
                   {"n": X.shape[0], "d": X.shape[1], "l2": l2})


def _mod(name: str):
    """The compiled kernels of a loss of the linear-model family (loss_grad, loss_grad_rows)."""
    from ..problems import PROBLEMS

    return PROBLEMS[name].kernels


# --------------------------------------------------------------------------- 1. fused full batch


def bench_fused(res: BenchResult, size: dict[str, Any]) -> None:
    for n, d in size["rows"]:
        X, yr = make_data("regression", n, d, seed=1)
        yc = np.where(yr > np.median(yr), 1.0, -1.0)
        theta = np.random.default_rng(2).standard_normal(d + 1) * 0.1
        for name in ("linreg", "logistic", "hinge"):
            _fused_one(res, size, name, X, yr if name == "linreg" else yc, theta)
        del X


def _fused_one(res: BenchResult, size: dict[str, Any], name: str, X: np.ndarray, y: np.ndarray,
               theta: np.ndarray) -> None:
    goals_roof = {"linreg": 0.85, "hinge": 0.85, "logistic": 0.65}
    n, d = X.shape
    idx = np.zeros(0, dtype=np.int64)
    prm = np.array([1e-3])
    mod = _mod(name)
    g_par = np.empty(d + 1)
    g_ser = np.empty(d + 1)
    roof_k = "roofline (read X once)"
    fns = {
        "gdbench": lambda: mod.loss_grad_rows(theta, X, y, prm, idx, 0, -1, g_par),
        roof_k: lambda: _stream_sum(X),
        "numpy": lambda: np_loss_grad(name, theta, X, y, 1e-3),
        "gdbench serial kernel": lambda: mod.loss_grad(theta, X, y, prm, idx, 0, -1, g_ser),
    }
    ts = timed_interleaved(fns, size["rows_rep"])
    f_par = mod.loss_grad_rows(theta, X, y, prm, idx, 0, -1, g_par)
    f_ser = mod.loss_grad(theta, X, y, prm, idx, 0, -1, g_ser)
    f_np, g_np = np_loss_grad(name, theta, X, y, 1e-3)
    bench = f"fused {name} loss+grad {n}x{d}"
    gd_med = statistics.median(ts["gdbench"])
    res.rows.append(Row(bench, "gdbench (rows kernel)", "s", ts["gdbench"], 1.0,
                        check=f"vs serial: loss rel {rel(f_par, f_ser):.0e}, grad rel "
                              f"{np.max(np.abs(g_par - g_ser)) / np.max(np.abs(g_ser)):.0e}"))
    roof = statistics.median(ts[roof_k]) / gd_med
    gr = goals_roof[name]
    res.rows.append(Row(bench, roof_k, "s", ts[roof_k], roof, goal=f"gdbench >= {gr:.2f} of it", met=roof >= gr,
                        note=f"{X.nbytes / statistics.median(ts[roof_k]) / 1e9:.1f} GB/s"))
    ok = rel(f_np, f_par) < 1e-9 and np.max(np.abs(g_np - g_par)) <= 1e-9 * np.max(np.abs(g_np))
    r_np = statistics.median(ts["numpy"]) / gd_med
    goal_np, met_np = "", None
    if name == "linreg":
        want = 4.0 if d <= 64 else 2.3
        goal_np, met_np = f">= {want}x", (r_np >= want) and ok
    res.rows.append(Row(bench, "numpy (BLAS, X.T @ (X @ w - y))" if name == "linreg" else "numpy (BLAS)", "s",
                        ts["numpy"], r_np if ok else None, goal_np, met_np,
                        check=f"loss rel {rel(f_np, f_par):.0e}" + ("" if ok else " UNEQUAL")))
    res.rows.append(Row(bench, "gdbench serial kernel", "s", ts["gdbench serial kernel"],
                        statistics.median(ts["gdbench serial kernel"]) / gd_med))


# --------------------------------------------------------------------------- 2. SGD vs scikit-learn


def bench_sgd(res: BenchResult, size: dict[str, Any]) -> None:
    try:
        import sklearn
        from sklearn.linear_model import SGDClassifier, SGDRegressor
    except ImportError:
        res.notes.append("scikit-learn not installed: SGD comparison skipped (pip install scikit-learn)")
        return
    import gdbench

    n, d, E = size["sgd_n"], size["sgd_d"], size["sgd_epochs"]
    # scikit-learn's per-sample update: w ← (1 − ηα)·w − η·dloss(p, y)·x, b ← b − η·dloss.
    # gdbench's, for f = mean loss + (λ/2)‖w‖²: w ← w − η'·(∂loss·x + λw). Same update when
    # squared: η' = η/2, λ = 2α (gdbench's loss is r², sklearn's ½r²); log, hinge: η' = η, λ = α.
    cases = [("linreg", "squared_error", SGDRegressor, 5e-4, 1e-4, 0.5, 2.0),
             ("logistic", "log_loss", SGDClassifier, 2e-3, 1e-4, 1.0, 1.0),
             ("hinge", "hinge", SGDClassifier, 2e-3, 1e-4, 1.0, 1.0)]
    for name, loss, Est, eta, alpha, lr_f, l2_f in cases:
        X, y = make_data("regression" if name == "linreg" else "classification", n, d, seed=3)
        p = bare_problem(name, X, y, alpha * l2_f)
        steps = E * n

        def run_gd(p=p, eta=eta, lr_f=lr_f, steps=steps):
            return gdbench.minimize(p, "gd", steps=steps, lr=eta * lr_f, batch_size=1, seed=0, record_every=0)

        def run_sk(Est=Est, loss=loss, eta=eta, alpha=alpha, X=X, y=y):
            est = Est(loss=loss, penalty="l2", alpha=alpha, learning_rate="constant", eta0=eta, max_iter=E, tol=None,
                      shuffle=True, random_state=0, average=False)
            est.fit(X, y)
            return est

        gdbench.minimize(p, "gd", steps=10, lr=eta * lr_f, batch_size=1, record_every=0)  # compile
        ts = timed_interleaved({"gdbench": run_gd, "sk": run_sk}, size["rep"])
        r = run_gd()
        est = run_sk()
        theta_sk = np.append(np.ravel(est.coef_), np.ravel(est.intercept_)[0])
        f_gd, f_sk = p.loss(r.params), p.loss(theta_sk)
        ok = rel(f_gd, f_sk) <= 0.02
        bench = f"SGD epochs {name} ({loss}) {n}x{d}, {E} ep"
        med = statistics.median(ts["gdbench"])
        res.rows.append(Row(bench, "gdbench", "s", ts["gdbench"], 1.0, check=f"f={f_gd:.6g}"))
        ratio = statistics.median(ts["sk"]) / med
        res.rows.append(Row(bench, f"scikit-learn {sklearn.__version__} {Est.__name__}", "s", ts["sk"],
                            ratio if ok else None, ">= 2.5x, objective within 2%", ratio >= 2.5 and ok,
                            check=f"f={f_sk:.6g} (rel {rel(f_gd, f_sk):.1e})" + ("" if ok else " UNEQUAL")))


# --------------------------------------------------------------------------- 3. mini-batch Adam epoch


def _batches(n: int, bs: int, seed: int, steps: int) -> list[np.ndarray]:
    """The exact row batches gdbench's driver draws (same xoroshiro stream and shuffles)."""
    from ..kernels.rng import rng_seed, shuffle

    st = np.empty(2, dtype=np.uint64)
    rng_seed(st, seed)
    perm = np.arange(n)
    shuffle(perm, st)
    pos, out = 0, []
    for _ in range(steps):
        if pos >= n:
            shuffle(perm, st)
            pos = 0
        nb = min(bs, n - pos)
        out.append(perm[pos:pos + nb].copy())
        pos += nb
    return out


def numpy_adam_epoch(X, y, lam, batches, lr, b1=0.9, b2=0.999, eps=1e-8):
    d = X.shape[1]
    theta = np.zeros(d + 1)
    m = np.zeros(d + 1)
    v = np.zeros(d + 1)
    g = np.empty(d + 1)
    for t, rows in enumerate(batches, start=1):
        Xb, yb = X[rows], y[rows]
        r = Xb @ theta[:d] + theta[d] - yb
        s = 2.0 / len(rows)
        g[:d] = s * (Xb.T @ r) + lam * theta[:d]
        g[d] = s * r.sum()
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta -= lr / (1 - b1**t) * m / (np.sqrt(v) / math.sqrt(1 - b2**t) + eps)
    return theta


def torch_adam_epoch(torch, X, y, lam, batches, lr):
    d = X.shape[1]
    w = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr)
    for rows in batches:
        Xb, yb = X[rows], y[rows]
        opt.zero_grad()
        loss = torch.mean((Xb @ w + b - yb) ** 2) + 0.5 * lam * torch.dot(w, w)
        loss.backward()
        opt.step()
    return np.append(w.detach().numpy(), b.detach().numpy())


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def bench_minibatch(res: BenchResult, size: dict[str, Any]) -> None:
    import gdbench

    n, d, bs, lam, lr = size["mb_n"], size["mb_d"], 64, 1e-4, 1e-3
    X, y = make_data("regression", n, d, seed=4)
    p = bare_problem("linreg", X, y, lam)
    steps = -(-n // bs)
    batches = _batches(n, bs, 0, steps)

    def run_gd():
        return gdbench.minimize(p, "adam", steps=steps, lr=lr, batch_size=bs, seed=0, record_every=0)

    fns: dict[str, Callable[[], Any]] = {"gdbench": run_gd, "numpy": lambda: numpy_adam_epoch(X, y, lam, batches, lr)}
    torch = _torch()
    if torch is not None:
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        bt = [torch.from_numpy(b) for b in batches]
        fns[f"torch {torch.__version__} (CPU)"] = lambda: torch_adam_epoch(torch, Xt, yt, lam, bt, lr)
    else:
        res.notes.append("torch not installed: torch rows skipped (pip install torch)")
    ts = timed_interleaved(fns, size["rep"])
    f_gd = p.loss(run_gd().params)
    bench = f"mini-batch(64) Adam epoch linreg {n}x{d}"
    med = statistics.median(ts["gdbench"])
    res.rows.append(Row(bench, "gdbench", "s", ts["gdbench"], 1.0, check=f"f={f_gd:.10g}"))
    for k, fn in fns.items():
        if k == "gdbench":
            continue
        f = p.loss(fn())
        ok = rel(f, f_gd) < 1e-6
        want = 3.0 if k == "numpy" else 10.0
        ratio = statistics.median(ts[k]) / med
        res.rows.append(Row(bench, k, "s", ts[k], ratio if ok else None, f">= {want:g}x", (ratio >= want) and ok,
                            check=f"same batches, f rel {rel(f, f_gd):.0e}" + ("" if ok else " UNEQUAL")))


# --------------------------------------------------------------------------- 4. tiny problems


@njit(**JIT)
def hand_gd_scalar(x0, x1, a, lr, steps):
    """Hand-written whole-loop gd on 2-D Rosenbrock, scalars in registers."""
    for _ in range(steps):
        r = x1 - x0 * x0
        q = 1.0 - x0
        f = a * r * r + q * q
        if not f <= 1e300:  # the same per-step divergence check gdbench makes
            break
        g0 = -4.0 * a * x0 * r - 2.0 * q
        g1 = 2.0 * a * r
        x0 -= lr * g0
        x1 -= lr * g1
    return x0, x1


@njit(**JIT)
def hand_adam_scalar(x0, x1, a, lr, b1, b2, eps, steps):
    """Hand-written whole-loop Adam (torch's formula) on 2-D Rosenbrock, scalars, running β powers."""
    m0 = m1 = v0 = v1 = 0.0
    p1 = p2 = 1.0
    for _ in range(steps):
        r = x1 - x0 * x0
        q = 1.0 - x0
        f = a * r * r + q * q
        if not f <= 1e300:
            break
        g0 = -4.0 * a * x0 * r - 2.0 * q
        g1 = 2.0 * a * r
        p1 *= b1
        p2 *= b2
        step_size = lr / (1.0 - p1)
        bc2 = np.sqrt(1.0 - p2)
        m0 = b1 * m0 + (1.0 - b1) * g0
        m1 = b1 * m1 + (1.0 - b1) * g1
        v0 = b2 * v0 + (1.0 - b2) * g0 * g0
        v1 = b2 * v1 + (1.0 - b2) * g1 * g1
        x0 -= step_size * m0 / (np.sqrt(v0) / bc2 + eps)
        x1 -= step_size * m1 / (np.sqrt(v1) / bc2 + eps)
    return x0, x1


@njit(**JIT)
def hand_adam_array(x, a, lr, b1, b2, eps, steps):
    """The same Adam loop on arrays (any d, as a user writes it with NumPy arrays)."""
    d = x.shape[0]
    g = np.empty(d)
    m = np.zeros(d)
    v = np.zeros(d)
    p1 = p2 = 1.0
    for _ in range(steps):
        f = 0.0
        g[:] = 0.0
        for i in range(d - 1):
            r = x[i + 1] - x[i] * x[i]
            q = 1.0 - x[i]
            f += a * r * r + q * q
            g[i] += -4.0 * a * x[i] * r - 2.0 * q
            g[i + 1] += 2.0 * a * r
        if not f <= 1e300:
            break
        p1 *= b1
        p2 *= b2
        step_size = lr / (1.0 - p1)
        bc2 = np.sqrt(1.0 - p2)
        for i in range(d):
            m[i] = b1 * m[i] + (1.0 - b1) * g[i]
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i]
            x[i] -= step_size * m[i] / (np.sqrt(v[i]) / bc2 + eps)
    return x


@njit(**JIT)
def hand_gd_array(x, a, lr, steps):
    d = x.shape[0]
    g = np.empty(d)
    for _ in range(steps):
        f = 0.0
        g[:] = 0.0
        for i in range(d - 1):
            r = x[i + 1] - x[i] * x[i]
            q = 1.0 - x[i]
            f += a * r * r + q * q
            g[i] += -4.0 * a * x[i] * r - 2.0 * q
            g[i + 1] += 2.0 * a * r
        if not f <= 1e300:
            break
        for i in range(d):
            x[i] -= lr * g[i]
    return x


def torch_rosenbrock(torch, opt_name: str, lr: float, steps: int) -> np.ndarray:
    x = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=lr) if opt_name == "gd" else torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        f = 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2
        f.backward()
        opt.step()
    return x.detach().numpy().copy()


def bench_tiny(res: BenchResult, size: dict[str, Any]) -> None:
    import gdbench

    p = gdbench.problems.make("rosenbrock", d=2)
    N = size["tiny_steps"]
    torch = _torch()
    for opt, lr, goal_ns in (("gd", 1e-4, 15.0), ("adam", 1e-3, 50.0)):
        gdbench.minimize(p, opt, steps=10, lr=lr, record_every=0)  # compile
        runs: list[Any] = []

        def run_gd(opt=opt, lr=lr, runs=runs):
            r = gdbench.minimize(p, opt, steps=N, lr=lr, record_every=0)
            runs.append(r)
            return r

        if opt == "gd":
            hs = {"hand @njit loop, scalars": lambda lr=lr: hand_gd_scalar(-1.2, 1.0, 100.0, lr, N),
                  "hand @njit loop, arrays": lambda lr=lr: hand_gd_array(np.array([-1.2, 1.0]), 100.0, lr, N)}
        else:
            hs = {"hand @njit loop, scalars": lambda lr=lr: hand_adam_scalar(-1.2, 1.0, 100.0, lr, 0.9, 0.999, 1e-8,
                                                                            N),
                  "hand @njit loop, arrays": lambda lr=lr: hand_adam_array(np.array([-1.2, 1.0]), 100.0, lr, 0.9,
                                                                          0.999, 1e-8, N)}
        ts = timed_interleaved({"gdbench": run_gd, **hs}, size["rep"])
        # gdbench: the driver's own clock (compiled call only); others: wall of the call
        gd_ns = [r.wall_s / N * 1e9 for r in runs[-size["rep"]:]]
        theta = runs[-1].params
        med = statistics.median(gd_ns)
        bench = f"tiny: 2-D Rosenbrock {opt}, ns/step ({N} steps)"
        res.rows.append(Row(bench, "gdbench.minimize", "ns/step", gd_ns, 1.0, f"<= {goal_ns:g} ns/step",
                            med <= goal_ns, check=f"theta={theta[0]:.9f},{theta[1]:.9f}"))
        for k, fn in hs.items():
            th = np.asarray(fn())
            ok = np.max(np.abs(th - theta)) <= 1e-9
            ns = [t / N * 1e9 for t in ts[k]]
            ratio = statistics.median(ns) / med
            res.rows.append(Row(bench, k, "ns/step", ns, ratio if ok else None, "within 1.3x (ratio >= 0.77)",
                                (ratio >= 1 / 1.3) and ok,
                                check=f"theta max diff {np.max(np.abs(th - theta)):.0e}" + ("" if ok else " UNEQUAL")))
        if torch is None:
            continue
        Nt = size["torch_steps"]
        ref = gdbench.minimize(p, opt, steps=Nt, lr=lr, record_every=0).params
        tt, th = timed(lambda opt=opt, lr=lr, Nt=Nt: torch_rosenbrock(torch, opt, lr, Nt), max(1, size["rep"] - 2))
        ok = np.max(np.abs(th - ref)) <= 1e-9
        ns = [t / Nt * 1e9 for t in tt]
        ratio = statistics.median(ns) / med
        res.rows.append(Row(bench, f"torch.optim + autograd ({Nt} steps)", "ns/step", ns, ratio if ok else None,
                            ">= 5000x", (ratio >= 5000) and ok,
                            check=f"theta@{Nt} max diff {np.max(np.abs(th - ref)):.0e}" + ("" if ok else " UNEQUAL")))


# --------------------------------------------------------------------------- 5. sweep scaling


def bench_sweep(res: BenchResult, size: dict[str, Any]) -> None:
    import gdbench

    cores = res.header["cores"]
    if cores < 2:
        res.notes.append("sweep scaling skipped: one core")
        return
    p = gdbench.problems.make("linreg", n=2000, d=16, seed=0)
    K, steps = size["sweep_k"], size["sweep_steps"]
    cfgs = [{"lr": lr} for lr in np.geomspace(1e-3, 1e-1, K)]
    gdbench.sweep(p, "adam", cfgs[:1], steps=5, record_every=0, threads=1)
    out: dict[int, list[Any]] = {1: [], 2: []}

    def run(T):
        r = gdbench.sweep(p, "adam", cfgs, steps=steps, record_every=0, threads=T, rows=False)
        out[T].append(r)
        return r

    timed_interleaved({"1": lambda: run(1), "2": lambda: run(2)}, size["rep"])
    t1 = [r.wall_s for r in out[1][-size["rep"]:]]
    t2 = [r.wall_s for r in out[2][-size["rep"]:]]
    same = np.array_equal(out[1][-1].theta, out[2][-1].theta)
    bench = f"sweep: {K} adam configs, linreg 2000x16, {steps} steps"
    ratio = statistics.median(t1) / statistics.median(t2)
    res.rows.append(Row(bench, "gdbench, 2 threads", "s", t2, 1.0, check="theta bit-identical" if same else "DIFF"))
    res.rows.append(Row(bench, "gdbench, 1 thread", "s", t1, ratio if same else None, ">= 1.8x", ratio >= 1.8 and same))


# --------------------------------------------------------------------------- 6. start-up


def bench_startup(res: BenchResult, size: dict[str, Any]) -> None:
    py = sys.executable

    def run(code: str, env: dict[str, str] | None = None) -> float:
        t0 = time.perf_counter()
        subprocess.run([py, "-c", code], check=True, env=env, capture_output=True)
        return time.perf_counter() - t0

    rep = size["startup_rep"]
    ts = [run("import gdbench") for _ in range(rep)]
    tn = [run("import numba") for _ in range(rep)]
    med = statistics.median(ts)
    res.rows.append(Row("start-up: python -c 'import gdbench'", "gdbench", "s", ts, 1.0, "<= 0.5 s", med <= 0.5))
    res.rows.append(Row("start-up: python -c 'import gdbench'", "python -c 'import numba' (floor)", "s", tn,
                        statistics.median(tn) / med))
    if not size["cold"]:
        return
    import tempfile

    code = ("import gdbench, time; p = gdbench.problems.make('rosenbrock', d=2); t = time.perf_counter(); "
            "r = gdbench.minimize(p, 'adam', steps=10, record_every=0); print(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GDBENCH_CACHE_DIR=tmp, NUMBA_CACHE_DIR=os.path.join(tmp, "numba"))
        out = []
        for _ in range(2):
            r = subprocess.run([py, "-c", code], check=True, env=env, capture_output=True, text=True)
            out.append(float(r.stdout.strip().splitlines()[-1]))
    res.rows.append(Row("first minimize call (adam x rosenbrock)", "cold: compile, empty cache", "s", [out[0]],
                        note="fresh GDBENCH_CACHE_DIR and NUMBA_CACHE_DIR"))
    res.rows.append(Row("first minimize call (adam x rosenbrock)", "warm: load from disk cache", "s", [out[1]],
                        out[0] / out[1] if out[1] > 0 else None))


# --------------------------------------------------------------------------- driver


BENCHES: dict[str, Callable[[BenchResult, dict[str, Any]], None]] = {
    "fused": bench_fused, "sgd": bench_sgd, "minibatch": bench_minibatch, "tiny": bench_tiny,
    "sweep": bench_sweep, "startup": bench_startup,
}


def run_all(mode: str = "full", only: list[str] | None = None, log: Callable[[str], None] | None = None) -> BenchResult:
    size = SIZES[mode]
    res = BenchResult(machine_header())
    res.header["mode"] = mode
    for name, fn in BENCHES.items():
        if only and name not in only:
            continue
        if log:
            log(f"[bench] {name} ...")
        t0 = time.perf_counter()
        fn(res, size)
        if log:
            log(f"[bench] {name} done in {time.perf_counter() - t0:.1f} s")
    return res


def _fmt(v: float, unit: str) -> str:
    if unit == "ns/step":
        return f"{v:.1f} ns"
    if v >= 1:
        return f"{v:.2f} s"
    if v >= 1e-3:
        return f"{v * 1e3:.1f} ms"
    return f"{v * 1e6:.0f} us"


def table(res: BenchResult) -> str:
    h = res.header
    lines = [
        f"gdbench bench ({h.get('mode')}) — {h['time_utc']}",
        f"machine: {h['cpu']}, {h['cores']} cores; numba threads: {h['numba_threads']} ({h['threading_layer']}); "
        f"BLAS: {h['blas']}",
        f"python {h['python']}, numpy {h['numpy']}, numba {h['numba']}; row kernels fastmath {h['rows_fastmath']}",
        "ratio = implementation's median / gdbench's median (> 1: gdbench faster); roofline row: time to read X "
        "once / gdbench time",
        "",
    ]
    cols = ["benchmark", "implementation", "median", "min–max", "ratio", "goal", "met", "check"]
    body = []
    for r in res.rows:
        mm = f"{_fmt(min(r.times), r.unit)}–{_fmt(max(r.times), r.unit)}" if r.times else ""
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        met = "" if r.met is None else ("met" if r.met else "MISSED")
        chk = "; ".join(x for x in (r.check, r.note) if x)
        body.append([r.benchmark, r.impl, _fmt(r.median, r.unit), mm, ratio, r.goal, met, chk])
    widths = [max(len(c), *(len(b[i]) for b in body)) if body else len(c) for i, c in enumerate(cols)]
    fmt = " | ".join(f"{{:{w}}}" for w in widths)
    lines.append(fmt.format(*cols))
    lines.append("-+-".join("-" * w for w in widths))
    prev = None
    for b in body:
        if prev is not None and b[0] == prev:
            b = ["", *b[1:]]
        else:
            prev = b[0]
        lines.append(fmt.format(*b).rstrip())
    if res.notes:
        lines.append("")
        lines.extend(f"note: {n}" for n in res.notes)
    return "\n".join(lines)


def save(res: BenchResult, out: Path, text: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = {"version": 1, "header": res.header, "notes": res.notes,
            "rows": [dict(asdict(r), median=r.median) for r in res.rows]}
    pj, pm = out / "bench.json", out / "bench.md"
    for path, content in ((pj, json.dumps(data, indent=1, default=float)), (pm, f"```\n{text}\n```\n")):
        atomic_write_text(path, content)
    return pj, pm
