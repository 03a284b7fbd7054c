"""Convex quadratic with chosen spectrum.

    f(θ) = ½ θᵀAθ − bᵀθ,   A = Q·diag(λ)·Qᵀ,   x* = A⁻¹b,   f* = −½ bᵀA⁻¹b

Eigenvalues are log-spaced from L/κ to L (or given), Q is a seeded random rotation (or the
identity with ``rotate=false``), b is seeded standard normal. Gradient descent with a constant
step converges iff lr < 2/L. Start: θ₀ = 0.
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from .._config import JIT
from ..resources import check_dense_size
from .base import Problem, x0_or_default

NAME = "quadratic"
SUMMARY = "½θᵀAθ − bᵀθ with condition number κ and largest eigenvalue L (GD stable iff lr < 2/L)"
KIND = "analytic"
HAS_HESSIAN = True
PARAMS = {"d": 10, "cond": 100.0, "L": 1.0, "rotate": True, "seed": 0}


@njit(**JIT)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    d = theta.shape[0]
    f = 0.0
    for i in range(d):
        s = 0.0
        for j in range(d):
            s += X[i, j] * theta[j]
        g[i] = s - y[i]
        f += theta[i] * (0.5 * s - y[i])
    return f


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    d = theta.shape[0]
    for i in range(d):
        for j in range(d):
            H[i, j] = X[i, j]


def build(*, d: int = 10, cond: float = 100.0, L: float = 1.0, eigenvalues=None, rotate: bool = True,
          seed: int = 0, b=None, x0=None) -> Problem:
    if eigenvalues is not None:
        lam = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
        if lam.size == 0 or not np.isfinite(lam).all() or (lam <= 0).any():
            raise ValueError(f"problem {NAME!r}: eigenvalues must be finite and > 0")
        d = lam.size
    else:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise ValueError(f"problem {NAME!r}: d must be an integer >= 1, got {d!r}")
        if not (np.isfinite(cond) and cond >= 1):
            raise ValueError(f"problem {NAME!r}: cond must be >= 1, got {cond!r}")
        if not (np.isfinite(L) and L > 0):
            raise ValueError(f"problem {NAME!r}: L must be > 0, got {L!r}")
        check_dense_size(NAME, int(d))  # issue 13: size limit before allocation
        lam = np.logspace(np.log10(L / cond), np.log10(L), d) if d > 1 else np.array([float(L)])
    check_dense_size(NAME, int(d))  # issue 13: size limit before allocation (given eigenvalues)
    rng = np.random.default_rng(seed)
    if rotate and d > 1:
        Q, R = np.linalg.qr(rng.standard_normal((d, d)))
        Q = Q * np.sign(np.diag(R))
    else:
        Q = np.eye(d)
    A = (Q * lam) @ Q.T
    A = 0.5 * (A + A.T)
    bvec = rng.standard_normal(d) if b is None else np.asarray(b, dtype=np.float64).reshape(d)
    xs = np.linalg.solve(A, bvec)
    p = Problem(NAME, sys.modules[__name__], np.ascontiguousarray(A), bvec, np.array([lam.max()]),
                x0_or_default(NAME, x0, d), 0.0, xs,
                {"d": int(d), "L": float(lam.max()), "mu": float(lam.min()), "cond": float(lam.max() / lam.min())})
    p.f_star = -0.5 * float(bvec @ xs)
    return p
