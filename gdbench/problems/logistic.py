"""L2-regularised logistic regression with labels ±1, computed stably: a loss of the linear-model family.

    f(w, b) = (1/n) Σᵢ log(1 + exp(−yᵢ·zᵢ)) + (λ/2)‖w‖²,   zᵢ = xᵢᵀw + b,   yᵢ ∈ {−1, +1}

Per sample: ℓ(z, y) = log(1 + e^(−yz)), ∂ℓ/∂z = −y·σ(−yz), ∂²ℓ/∂z² = σ(−yz)·(1 − σ(−yz)).
log(1 + e^u) is evaluated as max(u, 0) + log1p(e^−|u|) so that no exp overflows. The bias is
not regularised. f* and x* come from Newton's method with backtracking, run until the
gradient norm stops decreasing (machine precision).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import JIT
from ..kernels.vmath import exp_neg, log1p_unit
from ._degenerate import Optimum, apply, design, not_attained, row_space, set_info

NAME = "logistic"
SUMMARY = "logistic regression, labels ±1, stable log-loss + (λ/2)‖w‖²"
KIND = "linear"
TASK = "classification"
PARAMS: dict[str, float] = {}
L2 = 1e-3


@njit(**JIT)
def _softplus(u):
    """log(1 + e^u) = max(u, 0) + log1p(e^−|u|): no exp overflows, and no branch (a select), so
    rows whose margins change sign cost no misprediction. The same value as the two-branch form."""
    return max(u, 0.0) + np.log1p(np.exp(-abs(u)))


@njit(**JIT)
def _sigmoid_neg(m):
    """σ(−m) = 1/(1 + e^m) = (1 if m < 0 else e^−|m|)/(1 + e^−|m|), stable for both signs and
    branch-free; e^−|m| is the exponential ``_softplus(-m)`` needs too (one exp per row)."""
    e = np.exp(-abs(m))
    return (e if m >= 0.0 else 1.0) / (1.0 + e)


@njit(**JIT)
def loss(z, y):
    return _softplus(-(y * z))


@njit(**JIT)
def loss_upper(z, y):
    """max(−yz, 0) + 0.7 ≥ ℓ(z, y) (log1p(e^−|u|) ≤ log 2 < 0.7): the fused SGD step's divergence
    check without the log1p (a logistic SGD step in cache: 94 -> 70 ns)."""
    return max(-(y * z), 0.0) + 0.7


@njit(**JIT)
def dloss(z, y):
    return -y * _sigmoid_neg(y * z)


@njit(**JIT)
def loss_dloss_vec(z, y):
    """(ℓ, ∂ℓ/∂z) as above without a library call (:mod:`gdbench.kernels.vmath`), so that the fused
    full-batch kernel evaluates a block of rows in vector registers (1e6×64, 2 threads: 0.60–0.72
    -> 0.83–0.85 of the read-once roofline). The same formulas; relative error at most 1.9 ε for ℓ
    (the library form: 1.1 ε) and 1.5 ε for ∂ℓ/∂z (as the library form)."""
    u = -(y * z)
    e = exp_neg(abs(u))
    return max(u, 0.0) + log1p_unit(e), -y * ((e if u <= 0.0 else 1.0) / (1.0 + e))


@njit(**JIT)
def d2loss(z, y):
    p = _sigmoid_neg(y * z)
    return p * (1.0 - p)


def solve(p, max_iter: int = 200) -> Optimum:
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


def optimum(p) -> tuple[float, np.ndarray | None]:
    """(f*, x*): exact, also on degenerate data (the notes of a degenerate optimum go to ``p.info``)."""
    apply(p, solve(p))
    return p.f_star, p.x_star
