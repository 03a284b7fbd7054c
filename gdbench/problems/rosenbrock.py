"""Rosenbrock's function in any dimension d ≥ 2 (the chained form).

    f(x) = Σ_{i=1}^{d−1} [ a·(x_{i+1} − x_i²)² + (1 − x_i)² ],   a = 100

f* = 0 at x* = (1, …, 1). Default start: (−1.2, 1, −1.2, 1, …).
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from .._config import JIT
from ..resources import check_vector_size
from .base import Problem, x0_or_default

NAME = "rosenbrock"
SUMMARY = "Rosenbrock's banana valley, any d >= 2 (non-convex, f* = 0 at x* = 1)"
KIND = "analytic"
HAS_HESSIAN = True
PARAMS = {"d": 2, "a": 100.0}


@njit(**JIT)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    a = prm[0]
    d = theta.shape[0]
    if d == 2:  # the common case, written out
        x0 = theta[0]
        x1 = theta[1]
        r = x1 - x0 * x0
        q = 1.0 - x0
        g[0] = -4.0 * a * x0 * r - 2.0 * q
        g[1] = 2.0 * a * r
        return a * r * r + q * q
    f = 0.0
    for i in range(d):
        g[i] = 0.0
    for i in range(d - 1):
        r = theta[i + 1] - theta[i] * theta[i]
        q = 1.0 - theta[i]
        f += a * r * r + q * q
        g[i] += -4.0 * a * theta[i] * r - 2.0 * q
        g[i + 1] += 2.0 * a * r
    return f


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    a = prm[0]
    d = theta.shape[0]
    for i in range(d):
        for j in range(d):
            H[i, j] = 0.0
    for i in range(d - 1):
        H[i, i] += -4.0 * a * theta[i + 1] + 12.0 * a * theta[i] * theta[i] + 2.0
        H[i, i + 1] += -4.0 * a * theta[i]
        H[i + 1, i] += -4.0 * a * theta[i]
        H[i + 1, i + 1] += 2.0 * a


def build(*, d: int = 2, a: float = 100.0, x0=None) -> Problem:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"problem {NAME!r}: d must be an integer >= 2, got {d!r}")
    check_vector_size(NAME, int(d))  # issue 13: size limit before allocation
    a = float(a)
    if not np.isfinite(a) or a <= 0:
        raise ValueError(f"problem {NAME!r}: a must be > 0, got {a!r}")
    start = np.tile([-1.2, 1.0], (d + 1) // 2)[:d] if x0 is None else x0_or_default(NAME, x0, d)
    e = np.empty((0, 0))
    return Problem(NAME, sys.modules[__name__], e, np.empty(0), np.array([a]), start, 0.0, np.ones(d),
                   {"d": int(d), "a": a})
