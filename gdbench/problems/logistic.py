"""L2-regularised logistic regression with labels ±1, computed stably.

    f(w, b) = (1/n) Σᵢ log(1 + exp(−yᵢ·zᵢ)) + (λ/2)‖w‖²,   zᵢ = xᵢᵀw + b,   yᵢ ∈ {−1, +1}

log(1 + e^u) is evaluated as max(u, 0) + log1p(e^−|u|) so that no exp overflows. The bias is
not regularised. f* and x* come from Newton's method with backtracking, run until the
gradient norm stops decreasing (machine precision).
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit, prange

from .._config import JIT, JIT_ROWS, JIT_ROWS_PAR, ROW_BLOCKS
from ._degenerate import Optimum, apply, design, not_attained, row_space, set_info
from ._linear import finish_l2, sum_row_blocks
from .base import Problem, check_data, check_nonneg, data_problem_dim, x0_or_default
from .datasets import resolve_data

NAME = "logistic"
SUMMARY = "logistic regression, labels ±1, stable log-loss + (λ/2)‖w‖²"
KIND = "data"
HAS_HESSIAN = True
PARAMS = {"data": "synthetic", "n": 1000, "d": 10, "cond": 1.0, "separation": 1.0, "flip": 0.05, "seed": 0,
          "l2": 1e-3}


@njit(**JIT)
def _softplus(u):
    if u > 0.0:
        return u + np.log1p(np.exp(-u))
    return np.log1p(np.exp(u))


@njit(**JIT)
def _sigmoid_neg(m):
    """σ(−m) = 1/(1 + e^m), stable for both signs."""
    if m >= 0.0:
        e = np.exp(-m)
        return e / (1.0 + e)
    return 1.0 / (1.0 + np.exp(m))


@njit(**JIT_ROWS)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    n, d = X.shape
    lam = prm[0]
    full = nb < 0
    m = n if full else nb
    for j in range(d + 1):
        g[j] = 0.0
    b = theta[d]
    f = 0.0
    for jj in range(m):
        i = jj if full else idx[i0 + jj]
        z = b
        for j in range(d):
            z += X[i, j] * theta[j]
        mg = y[i] * z
        f += _softplus(-mg)
        c = -y[i] * _sigmoid_neg(mg)
        for j in range(d):
            g[j] += c * X[i, j]
        g[d] += c
    return finish_l2(theta, g, f, m, 1.0 / m, lam)


@njit(**JIT_ROWS)
def _rows_block(theta, X, y, lo, hi, a):
    """Σ cᵢ·xᵢ into a[:d], Σ cᵢ into a[d], Σ softplus(−mᵢ) into a[d+1] over rows lo..hi-1,
    mᵢ = yᵢ·(xᵢᵀw + b), cᵢ = −yᵢ·σ(−mᵢ)."""
    d = X.shape[1]
    b = theta[d]
    f = 0.0
    sc = 0.0
    for i in range(lo, hi):
        xi = X[i]
        z = b
        for j in range(d):
            z += xi[j] * theta[j]
        mg = y[i] * z
        f += _softplus(-mg)
        c = -y[i] * _sigmoid_neg(mg)
        sc += c
        for j in range(d):
            a[j] += c * xi[j]
    a[d] = sc
    a[d + 1] = f


@njit(**JIT_ROWS_PAR)
def loss_grad_rows(theta, X, y, prm, idx, i0, nb, g):
    """``loss_grad`` with the full batch (nb < 0) fused into one parallel pass over X.

    Rows are cut into ``ROW_BLOCKS`` contiguous blocks (fewer when n is smaller); each block
    accumulates its partial sums in its own padded row, and the blocks are added in block order,
    so the result does not depend on the number of threads. Mini-batches (nb ≥ 0) use the
    serial kernel.
    """
    if nb >= 0:
        return loss_grad(theta, X, y, prm, idx, i0, nb, g)
    n, d = X.shape
    nbk = min(ROW_BLOCKS, max(n, 1))
    acc = np.zeros((nbk, d + 10))  # +8 doubles of padding: no two blocks share a cache line
    for k in prange(nbk):
        _rows_block(theta, X, y, k * n // nbk, (k + 1) * n // nbk, acc[k])
    f = sum_row_blocks(acc, g)
    return finish_l2(theta, g, f, n, 1.0 / n, prm[0])


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    n, d = X.shape
    full = nb < 0
    m = n if full else nb
    for a in range(d + 1):
        for c in range(d + 1):
            H[a, c] = 0.0
    b = theta[d]
    for jj in range(m):
        i = jj if full else idx[i0 + jj]
        z = b
        for j in range(d):
            z += X[i, j] * theta[j]
        p = _sigmoid_neg(y[i] * z)
        w = p * (1.0 - p)
        for a in range(d):
            xa = w * X[i, a]
            for c in range(a, d):
                H[a, c] += xa * X[i, c]
            H[a, d] += xa
        H[d, d] += w
    s = 1.0 / m
    for a in range(d + 1):
        for c in range(a, d + 1):
            H[a, c] *= s
            H[c, a] = H[a, c]
    for a in range(d):
        H[a, a] += prm[0]


def solve(p: Problem, max_iter: int = 200) -> Optimum:
    """Newton with backtracking line search to machine precision.

    Degenerate data (:mod:`gdbench.problems._degenerate`): one class only, or (λ = 0) data that
    a hyperplane separates: f* = 0 is an infimum no θ attains — reported as such, no x*. With
    λ = 0 and a rank-deficient A = [X, 1] (a duplicated column, collinear features) the Newton
    steps are minimum-norm least-squares solves, so the iterates stay in A's row space and end at
    the minimum-norm minimiser of the set x_mn + null(A).
    """
    X, y, l2 = p.X, p.y, float(p.prm[0])
    if np.all(y == y[0]):
        return not_attained(NAME, 0.0, f"every label is {y[0]:+g}: the unregularised bias drives the loss to 0")
    r, Vr = p.dim, None
    if l2 == 0.0:
        r, Vr, _, _ = row_space(design(X))
    theta = np.zeros(p.dim)
    f = p.loss(theta)
    best_gn = np.inf
    stall = 0
    for _ in range(max_iter):
        g = p.grad(theta)
        gn = np.linalg.norm(g)
        if gn < best_gn * 0.5:
            stall = 0
        else:
            stall += 1
        best_gn = min(best_gn, gn)
        if gn == 0.0 or stall >= 3:
            break
        if l2 == 0.0 and np.all(y * (X @ theta[:-1] + theta[-1]) > 0):
            break  # θ separates the data: a certificate that the infimum 0 is not attained
        if r == p.dim:
            step = np.linalg.solve(p.hess(theta), g)
        else:  # singular Hessian: the minimum-norm Newton step
            step = np.linalg.lstsq(p.hess(theta), g, rcond=None)[0]
        a = 1.0
        while a > 1e-12:
            cand = theta - a * step
            fc = p.loss(cand)
            if fc <= f + 1e-4 * a * (g @ -step) or abs(fc - f) <= 1e-15 * abs(f):
                break
            a *= 0.5
        theta, f = cand, fc
    if l2 == 0.0 and np.all(y * (X @ theta[:-1] + theta[-1]) > 0):
        return not_attained(NAME, 0.0, "l2 = 0 and a hyperplane separates the two classes")
    if best_gn > 1e-8:
        raise ValueError(
            f"problem {NAME!r}: no finite optimum found (gradient norm {best_gn:.2e}); the data may be "
            "separable: use l2 > 0"
        )
    if r < p.dim:  # the minimum-norm minimiser: project away what rounding left in null(A)
        x_mn = Vr @ (Vr.T @ theta)
        return Optimum(x_mn, unique=False, info=set_info(x_mn, Vr, p.dim))
    return Optimum(theta)


def build(*, X=None, y=None, l2: float = 1e-3, x0=None, **data) -> Problem:
    """A logistic problem on given (X, y ∈ ±1) or on data named by ``data``/generator parameters."""
    X, y = check_data(NAME, *resolve_data(NAME, "classification", X=X, y=y, **data), labels_pm1=True)
    l2 = check_nonneg(NAME, "l2", l2)
    p = Problem(NAME, sys.modules[__name__], X, y, np.array([l2]), x0_or_default(NAME, x0, data_problem_dim(X)),
                0.0, None, {"n": X.shape[0], "d": X.shape[1], "l2": l2})
    return apply(p, solve(p))  # x*, f* (and the notes of a degenerate optimum)
