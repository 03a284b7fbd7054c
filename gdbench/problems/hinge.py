"""Linear SVM: L2-regularised hinge loss with labels ±1 and an unregularised bias.

    f(w, b) = (1/n) Σᵢ max(0, 1 − yᵢ·(xᵢᵀw + b)) + (λ/2)‖w‖²,   λ > 0

The (sub)gradient uses 0 at the kink (1 − yᵢzᵢ = 0). There is no Hessian.

f* comes from an exact solver of the dual
    max_α Σαᵢ − (1/2λ)‖Σ αᵢyᵢxᵢ‖²   s.t. 0 ≤ αᵢ ≤ 1/n,  Σ αᵢyᵢ = 0
by SMO with second-order working-set selection (Fan, Chen & Lin 2005), w = Σαᵢyᵢxᵢ/λ and the
exactly optimal b for that w (a 1-D piecewise-linear minimisation). The solver tightens its
tolerance until the duality gap P(w, b) − D(α) is ≤ 1e-10; the certificate (α, gap) is kept in
``problem.info``. x* is reported as ``None`` because b need not be unique.
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit, prange

from .._config import JIT, JIT_ROWS, JIT_ROWS_PAR, ROW_BLOCKS
from ._linear import finish_l2, sum_row_blocks
from .base import Problem, check_data, data_problem_dim, x0_or_default
from .datasets import resolve_data

NAME = "hinge"
SUMMARY = "linear SVM, hinge loss + (λ/2)‖w‖², subgradient (exact dual solver for f*)"
KIND = "data"
HAS_HESSIAN = False
PARAMS = {"data": "synthetic", "n": 1000, "d": 10, "cond": 1.0, "separation": 1.0, "flip": 0.05, "seed": 0,
          "l2": 1e-2}
GAP_TOL = 1e-10


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
        h = 1.0 - y[i] * z
        if h > 0.0:
            f += h
            c = -y[i]
            for j in range(d):
                g[j] += c * X[i, j]
            g[d] += c
    return finish_l2(theta, g, f, m, 1.0 / m, lam)


@njit(**JIT_ROWS)
def _rows_block(theta, X, y, lo, hi, a):
    """Σ cᵢ·xᵢ into a[:d], Σ cᵢ into a[d], Σ max(0, hᵢ) into a[d+1] over rows lo..hi-1,
    hᵢ = 1 − yᵢ·(xᵢᵀw + b), cᵢ = −yᵢ where hᵢ > 0 else 0 (branch-free, two rows per pass)."""
    d = X.shape[1]
    b = theta[d]
    f = 0.0
    sc = 0.0
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
        h0 = 1.0 - y[i] * z0
        h1 = 1.0 - y[i + 1] * z1
        c0 = 0.0
        c1 = 0.0
        if h0 > 0.0:
            f += h0
            c0 = -y[i]
        if h1 > 0.0:
            f += h1
            c1 = -y[i + 1]
        if c0 != 0.0 or c1 != 0.0:
            sc += c0 + c1
            for j in range(d):
                a[j] += c0 * x0[j] + c1 * x1[j]
        i += 2
    while i < hi:
        x0 = X[i]
        z0 = b
        for j in range(d):
            z0 += x0[j] * theta[j]
        h0 = 1.0 - y[i] * z0
        if h0 > 0.0:
            f += h0
            sc -= y[i]
            for j in range(d):
                a[j] -= y[i] * x0[j]
        i += 1
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
    raise NotImplementedError("hinge has no Hessian")


@njit(**JIT)
def _smo(X, y, lam, alpha, tol, max_iter):
    """SMO on the dual; alpha is updated in place. Returns the iterations used."""
    n, d = X.shape
    C = 1.0 / n
    v = np.zeros(d)  # Σ αᵢ yᵢ xᵢ
    for i in range(n):
        if alpha[i] != 0.0:
            for j in range(d):
                v[j] += alpha[i] * y[i] * X[i, j]
    QD = np.empty(n)
    G = np.empty(n)  # gradient of ½αᵀQα − eᵀα
    for i in range(n):
        s = 0.0
        z = 0.0
        for j in range(d):
            s += X[i, j] * X[i, j]
            z += X[i, j] * v[j]
        QD[i] = s / lam
        G[i] = y[i] * z / lam - 1.0
    tau = 1e-12
    it = 0
    while it < max_iter:
        it += 1
        gmax = -np.inf
        ii = -1
        for t in range(n):
            if y[t] > 0:
                if alpha[t] < C and -G[t] >= gmax:
                    gmax = -G[t]
                    ii = t
            else:
                if alpha[t] > 0 and G[t] >= gmax:
                    gmax = G[t]
                    ii = t
        if ii < 0:
            break
        gmax2 = -np.inf
        jj = -1
        best = np.inf
        for t in range(n):
            kit = 0.0
            if y[t] > 0:
                if alpha[t] > 0:
                    gd = gmax + G[t]
                    if G[t] >= gmax2:
                        gmax2 = G[t]
                    if gd > 0:
                        for j in range(d):
                            kit += X[ii, j] * X[t, j]
                        quad = QD[ii] + QD[t] - 2.0 * y[ii] * kit / lam
                        if quad <= 0:
                            quad = tau
                        od = -(gd * gd) / quad
                        if od <= best:
                            best = od
                            jj = t
            else:
                if alpha[t] < C:
                    gd = gmax - G[t]
                    if -G[t] >= gmax2:
                        gmax2 = -G[t]
                    if gd > 0:
                        for j in range(d):
                            kit += X[ii, j] * X[t, j]
                        quad = QD[ii] + QD[t] + 2.0 * y[ii] * kit / lam
                        if quad <= 0:
                            quad = tau
                        od = -(gd * gd) / quad
                        if od <= best:
                            best = od
                            jj = t
        if gmax + gmax2 < tol or jj < 0:
            break
        i, j = ii, jj
        kij = 0.0
        for c in range(d):
            kij += X[i, c] * X[j, c]
        qij = y[i] * y[j] * kij / lam
        ai, aj = alpha[i], alpha[j]
        if y[i] != y[j]:
            quad = QD[i] + QD[j] + 2.0 * qij
            if quad <= 0:
                quad = tau
            delta = (-G[i] - G[j]) / quad
            diff = ai - aj
            ai += delta
            aj += delta
            if diff > 0:
                if aj < 0:
                    aj = 0.0
                    ai = diff
            else:
                if ai < 0:
                    ai = 0.0
                    aj = -diff
            if diff > 0:  # C_i - C_j = 0
                if ai > C:
                    ai = C
                    aj = C - diff
            else:
                if aj > C:
                    aj = C
                    ai = C + diff
        else:
            quad = QD[i] + QD[j] - 2.0 * qij
            if quad <= 0:
                quad = tau
            delta = (G[i] - G[j]) / quad
            sm = ai + aj
            ai -= delta
            aj += delta
            if sm > C:
                if ai > C:
                    ai = C
                    aj = sm - C
            else:
                if aj < 0:
                    aj = 0.0
                    ai = sm
            if sm > C:
                if aj > C:
                    aj = C
                    ai = sm - C
            else:
                if ai < 0:
                    ai = 0.0
                    aj = sm
        dai = ai - alpha[i]
        daj = aj - alpha[j]
        alpha[i] = ai
        alpha[j] = aj
        for c in range(d):
            v[c] += dai * y[i] * X[i, c] + daj * y[j] * X[j, c]
        for t in range(n):
            z = 0.0
            for c in range(d):
                z += X[t, c] * v[c]
            G[t] = y[t] * z / lam - 1.0
    return it


def best_bias(s: np.ndarray, y: np.ndarray) -> float:
    """argmin_b (1/n) Σ max(0, 1 − yᵢ(sᵢ + b)): exact, at a breakpoint bᵢ = yᵢ − sᵢ."""
    bp = y - s
    order = np.argsort(bp, kind="stable")
    bps, ys = bp[order], y[order]
    # right-slope·n at bps[k]: #(y=−1 with bp ≤ bps[k]) − #(y=+1 with bp > bps[k])
    neg_le = np.cumsum(ys < 0)
    pos_gt = np.sum(ys > 0) - np.cumsum(ys > 0)
    k = int(np.argmax(neg_le - pos_gt >= 0))
    return float(bps[k])


def dual_objective(X, y, lam, alpha) -> float:
    v = (alpha * y) @ X
    return float(alpha.sum() - 0.5 / lam * (v @ v))


def solve(X: np.ndarray, y: np.ndarray, lam: float):
    """(θ*, α, gap): primal point from the dual optimum, with P(θ*) − D(α) ≤ GAP_TOL."""
    n = X.shape[0]
    alpha = np.zeros(n)
    tol = 1e-3
    gap = np.inf
    theta = np.zeros(X.shape[1] + 1)
    for _ in range(12):
        _smo(X, y, lam, alpha, tol, 200 * n + 100000)
        w = ((alpha * y) @ X) / lam
        b = best_bias(X @ w, y)
        theta = np.append(w, b)
        primal = np.maximum(0.0, 1.0 - y * (X @ w + b)).mean() + 0.5 * lam * (w @ w)
        gap = primal - dual_objective(X, y, lam, alpha)
        if gap <= GAP_TOL:
            break
        tol *= 0.01
    return theta, alpha, float(gap)


def build(*, X=None, y=None, l2: float = 1e-2, x0=None, **data) -> Problem:
    """A hinge (linear SVM) problem on given (X, y ∈ ±1) or on generated / loaded data."""
    X, y = check_data(NAME, *resolve_data(NAME, "classification", X=X, y=y, **data), labels_pm1=True)
    l2 = float(l2)
    if not np.isfinite(l2) or l2 <= 0:
        raise ValueError(f"problem {NAME!r}: l2 must be > 0 (the exact dual solver needs it), got {l2!r}")
    theta, alpha, gap = solve(X, y, l2)
    p = Problem(NAME, sys.modules[__name__], X, y, np.array([l2]), x0_or_default(NAME, x0, data_problem_dim(X)),
                0.0, None, {"n": X.shape[0], "d": X.shape[1], "l2": l2, "duality_gap": gap})
    p.f_star = p.loss(theta)
    p.info["theta_star"] = theta
    p.info["dual_alpha"] = alpha
    if gap > GAP_TOL:
        raise ValueError(f"problem {NAME!r}: exact solver reached duality gap {gap:.2e} > {GAP_TOL}")
    return p
