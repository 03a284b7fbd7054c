"""Linear least squares (MSE), optionally ridge-regularised.

    f(w, b) = (1/n) Σᵢ (xᵢᵀw + b − yᵢ)² + (λ/2)‖w‖²        θ = [w, b]

The bias is not regularised. f* and x* come from the normal equations (closed form), or from
a rank-revealing least-squares solve where they are singular (see ``solve``).
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit, prange

from .._config import JIT, JIT_ROWS, JIT_ROWS_PAR, ROW_BLOCKS
from ._degenerate import Optimum, apply, design, least_squares, well_conditioned
from ._linear import finish_l2, sum_row_blocks
from .base import Problem, check_data, check_nonneg, data_problem_dim, x0_or_default
from .datasets import resolve_data

NAME = "linreg"
SUMMARY = "linear regression, mean squared error + (λ/2)‖w‖² (convex, closed-form optimum)"
KIND = "data"
HAS_HESSIAN = True
PARAMS = {"data": "synthetic", "n": 1000, "d": 10, "cond": 1.0, "noise": 0.1, "seed": 0, "l2": 0.0}


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
        r = z - y[i]
        f += r * r
        for j in range(d):
            g[j] += r * X[i, j]
        g[d] += r
    return finish_l2(theta, g, f, m, 2.0 / m, lam)


@njit(**JIT_ROWS)
def _rows_block(theta, X, y, lo, hi, a):
    """Σ rᵢ·xᵢ into a[:d], Σ rᵢ into a[d], Σ rᵢ² into a[d+1] over rows lo..hi-1, rᵢ = xᵢᵀw + b − yᵢ;
    two rows per pass so that each gradient element is loaded and stored once per pair."""
    d = X.shape[1]
    b = theta[d]
    f = 0.0
    sr = 0.0
    i = lo
    # pairs of rows pay off while a row is short (d = 64: 1.3x); at d = 512 single rows are faster
    while d <= 128 and i + 2 <= hi:
        x0 = X[i]
        x1 = X[i + 1]
        z0 = b
        z1 = b
        for j in range(d):
            z0 += x0[j] * theta[j]
            z1 += x1[j] * theta[j]
        r0 = z0 - y[i]
        r1 = z1 - y[i + 1]
        f += r0 * r0 + r1 * r1
        sr += r0 + r1
        for j in range(d):
            a[j] += r0 * x0[j] + r1 * x1[j]
        i += 2
    while i < hi:
        x0 = X[i]
        z0 = b
        for j in range(d):
            z0 += x0[j] * theta[j]
        r0 = z0 - y[i]
        f += r0 * r0
        sr += r0
        for j in range(d):
            a[j] += r0 * x0[j]
        i += 1
    a[d] = sr
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
    return finish_l2(theta, g, f, n, 2.0 / n, prm[0])


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    n, d = X.shape
    full = nb < 0
    m = n if full else nb
    for a in range(d + 1):
        for c in range(d + 1):
            H[a, c] = 0.0
    for jj in range(m):
        i = jj if full else idx[i0 + jj]
        for a in range(d):
            xa = X[i, a]
            for c in range(a, d):
                H[a, c] += xa * X[i, c]
            H[a, d] += xa
        H[d, d] += 1.0
    s = 2.0 / m
    for a in range(d + 1):
        for c in range(a, d + 1):
            H[a, c] *= s
            H[c, a] = H[a, c]
    for a in range(d):
        H[a, a] += prm[0]


def solve(X: np.ndarray, y: np.ndarray, l2: float) -> Optimum:
    """The optimum from the normal equations (2/n·AᵀA + λ·diag(1,…,1,0)) θ = 2/n·Aᵀy, A = [X, 1].

    Where they are singular or ill-conditioned (collinear features, a duplicated or constant
    column, fewer rows than d + 1) it comes from an SVD instead: with λ > 0 the ridge solution of
    the centred data (filter factors σ/(σ² + nλ/2); the bias from the means), unique; with λ = 0
    the minimum-norm least-squares solution, and where rank A < d + 1 x* is the set of
    minimisers, that point plus null(A) (:mod:`gdbench.problems._degenerate`). f* is exact.
    """
    n, d = X.shape
    A = design(X)
    M = (2.0 / n) * (A.T @ A)
    M[np.arange(d), np.arange(d)] += l2
    if well_conditioned(M):
        return Optimum(np.linalg.solve(M, (2.0 / n) * (A.T @ y)))
    if l2 > 0:  # unique: ridge on centred data by SVD filter factors, then the bias from the means
        xm, ym = X.mean(axis=0), y.mean()
        U, sv, Vt = np.linalg.svd(X - xm, full_matrices=False)
        sv[sv <= sv[0] * max(n, d) * np.finfo(np.float64).eps] = 0.0  # numerically zero: no component
        w = Vt.T @ (sv / (sv * sv + 0.5 * n * l2) * (U.T @ (y - ym)))
        return Optimum(np.append(w, ym - xm @ w))
    return least_squares(A, y, d + 1)


def build(*, X=None, y=None, l2: float = 0.0, x0=None, **data) -> Problem:
    """A linreg problem on given (X, y) or on data named by ``data``/generator parameters."""
    X, y = check_data(NAME, *resolve_data(NAME, "regression", X=X, y=y, **data))
    l2 = check_nonneg(NAME, "l2", l2)
    prm = np.array([l2])
    p = Problem(NAME, sys.modules[__name__], X, y, prm, x0_or_default(NAME, x0, data_problem_dim(X)), 0.0, None,
                {"n": X.shape[0], "d": X.shape[1], "l2": l2})
    return apply(p, solve(X, y, l2))  # x*, f* (and the notes of a degenerate optimum)
