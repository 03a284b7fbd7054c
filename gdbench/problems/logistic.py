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

NAME = "logistic"
SUMMARY = "logistic regression, labels ±1, stable log-loss + (λ/2)‖w‖²"
KIND = "linear"
TASK = "classification"
PARAMS: dict[str, float] = {}
L2 = 1e-3


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


@njit(**JIT)
def loss(z, y):
    return _softplus(-(y * z))


@njit(**JIT)
def dloss(z, y):
    return -y * _sigmoid_neg(y * z)


@njit(**JIT)
def d2loss(z, y):
    p = _sigmoid_neg(y * z)
    return p * (1.0 - p)


def solve(p, max_iter: int = 200) -> np.ndarray:
    """Newton with backtracking line search to machine precision."""
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
        step = np.linalg.solve(p.hess(theta), g)
        a = 1.0
        while a > 1e-12:
            cand = theta - a * step
            fc = p.loss(cand)
            if fc <= f + 1e-4 * a * (g @ -step) or abs(fc - f) <= 1e-15 * abs(f):
                break
            a *= 0.5
        theta, f = cand, fc
    if best_gn > 1e-8:
        raise ValueError(
            f"problem {NAME!r}: no finite optimum found (gradient norm {best_gn:.2e}); the data may be "
            "separable: use l2 > 0"
        )
    return theta


def optimum(p) -> tuple[float, np.ndarray]:
    """(f*, x*) by Newton's method to machine precision."""
    xs = solve(p)
    return p.loss(xs), xs
