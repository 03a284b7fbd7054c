"""Bounded saddle: k negative-curvature directions that end in quartic walls.

    f(x) = Σ_{i < d−k} x_i²  +  Σ_{i ≥ d−k} (x_i⁴/4 − x_i²/2)

For d = 2, k = 1 this is f(x, y) = x² + y⁴/4 − y²/2: a saddle at 0 (f = 0), minima at
y = ±1, f* = −k/4. The minimiser is not unique (2ᵏ of them), so x* is ``None``. The default
start is near the saddle: 1 in the positive-curvature coordinates, ``offset`` (1e-4) in the
negative ones. Escape = first step with f < f_saddle − δ (f_saddle = 0).
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from .._config import JIT
from ..resources import check_vector_size
from .base import Problem, x0_or_default

NAME = "saddle"
SUMMARY = "bounded saddle x² + y⁴/4 − y²/2 (and d-dim with k negative directions); f* = −k/4"
KIND = "analytic"
HAS_HESSIAN = True
PARAMS = {"d": 2, "k": 1, "offset": 1e-4}


@njit(**JIT)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    d = theta.shape[0]
    p = d - int(prm[0])
    f = 0.0
    for i in range(p):
        f += theta[i] * theta[i]
        g[i] = 2.0 * theta[i]
    for i in range(p, d):
        x = theta[i]
        x2 = x * x
        f += 0.25 * x2 * x2 - 0.5 * x2
        g[i] = x2 * x - x
    return f


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    d = theta.shape[0]
    p = d - int(prm[0])
    for i in range(d):
        for j in range(d):
            H[i, j] = 0.0
    for i in range(p):
        H[i, i] = 2.0
    for i in range(p, d):
        H[i, i] = 3.0 * theta[i] * theta[i] - 1.0


def build(*, d: int = 2, k: int = 1, offset: float = 1e-4, x0=None) -> Problem:
    for name, v, lo in (("d", d, 1), ("k", k, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"problem {NAME!r}: {name} must be an integer >= {lo}, got {v!r}")
    if k > d:
        raise ValueError(f"problem {NAME!r}: k must be <= d, got k={k}, d={d}")
    check_vector_size(NAME, int(d))  # issue 13: size limit before allocation
    if x0 is None:
        start = np.ones(d)
        start[d - k:] = float(offset)
    else:
        start = x0_or_default(NAME, x0, d)
    e = np.empty((0, 0))
    return Problem(NAME, sys.modules[__name__], e, np.empty(0), np.array([float(k)]), start, -0.25 * k, None,
                   {"d": int(d), "k": int(k), "f_saddle": 0.0})
