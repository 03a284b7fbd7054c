"""What gdbench is measured against: the streaming-read roofline, the random-row read floor, NumPy
and torch twins of the benchmarked work, and hand-written whole-loop ``@njit`` loops.

Each twin does the same work as gdbench (same data, same steps, same batches); the benchmarks
check that they reach the same result before they compare times.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .._config import JIT, ROW_BLOCKS, ROWS_FASTMATH
from ..kernels.prefetch import prefetch_row

# --------------------------------------------------------------------------- roofline


@njit(cache=True, nogil=True, parallel=True, fastmath=set(ROWS_FASTMATH))
def stream_sum(X):
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


@njit(cache=True, nogil=True, parallel=True, fastmath=set(ROWS_FASTMATH))
def hand_linreg_grad(theta, X, y, lam, g):
    """The fused linreg loss+gradient as one would write it by hand for this machine: ``prange``
    over the same row blocks, a dot and an axpy per row, per-block partial sums (what gdbench's
    generated row kernel is measured against: how close a plain kernel gets to the roofline)."""
    n, d = X.shape
    nbk = min(ROW_BLOCKS, max(n, 1))
    G = np.zeros((nbk, d + 1))
    F = np.zeros(nbk)
    for k in prange(nbk):
        gk = G[k]
        f = 0.0
        for i in range(k * n // nbk, (k + 1) * n // nbk):
            z = theta[d]
            for j in range(d):
                z += X[i, j] * theta[j]
            r = z - y[i]
            f += r * r
            for j in range(d):
                gk[j] += r * X[i, j]
            gk[d] += r
        F[k] = f
    reg = 0.0
    for j in range(d):
        s = 0.0
        for k in range(nbk):
            s += G[k, j]
        g[j] = 2.0 * s / n + lam * theta[j]
        reg += theta[j] * theta[j]
    s = 0.0
    for k in range(nbk):
        s += G[k, d]
    g[d] = 2.0 * s / n
    return F.sum() / n + 0.5 * lam * reg


# --------------------------------------------------------------------------- random-row floor


@njit(cache=True, nogil=True, fastmath=set(ROWS_FASTMATH))
def random_row_read(X, y, perms, theta, ahead):
    """Read the rows of X and y in the order of each row of ``perms`` (an epoch each), every row
    once, asking for each ``ahead`` and again ``ahead // 2`` rows before it is read as gdbench's
    SGD does (``sgd_steps``), with one dot product per row and no update: the least an SGD epoch
    in that order costs on this machine.
    (Once X outgrows the caches the rows come from DRAM at random addresses, which is slower per
    byte than the streaming read of the roofline.)"""
    E, n = perms.shape
    d = X.shape[1]
    s = 0.0
    for e in range(E):
        p = perms[e]
        for k in range(n):
            if k + ahead < n:
                prefetch_row(X, p[k + ahead])
                prefetch_row(y, p[k + ahead])
            if ahead > 1 and k + ahead // 2 < n:
                prefetch_row(X, p[k + ahead // 2])
            i = p[k]
            z = theta[d] - y[i]
            for j in range(d):
                z += X[i, j] * theta[j]
            s += z
    return s


# --------------------------------------------------------------------------- NumPy / torch


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


def numpy_adam_epoch(X, y, lam, batches, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (torch's formula) on linreg over the given row batches, NumPy per step."""
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


def torch():
    """The torch module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


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


def torch_rosenbrock(torch, opt_name: str, lr: float, steps: int) -> np.ndarray:
    x = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=lr) if opt_name == "gd" else torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        f = 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2
        f.backward()
        opt.step()
    return x.detach().numpy().copy()


# --------------------------------------------------------------------------- hand-written loops


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
    """The gd loop on arrays."""
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
