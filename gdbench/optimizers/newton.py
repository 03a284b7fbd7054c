"""Damped Newton's method, a second-order baseline for problems with a Hessian.

Update::

    θ_t = θ_{t-1} − lr · (H(θ_{t-1}) + ridge · I)⁻¹ g

Defaults: lr=1.0 (the full Newton step), ridge=0. The linear system is solved by Gaussian
elimination with partial pivoting inside the kernel (no LAPACK needed); a singular system
produces non-finite values and the run is recorded as diverged. H is computed on the same rows
as g (the full batch, or the mini-batch).
Reference: Nocedal & Wright, "Numerical Optimization", 2nd ed., ch. 3.
"""

import numpy as np
from numba import njit

from .._config import JIT
from .base import NONNEG

NAME = "newton"
SUMMARY = "damped Newton: θ ← θ − lr·(H + ridge·I)⁻¹g (needs a Hessian)"
HYPER = {"lr": 1.0, "ridge": 0.0}
BOUNDS = {"ridge": NONNEG}
STATE = ("direction",)


@njit(**JIT)
def solve_inplace(A, x):
    """Solve A·z = x for z by Gaussian elimination with partial pivoting; A and x are overwritten."""
    n = x.shape[0]
    for c in range(n):
        p = c
        best = abs(A[c, c])
        for r in range(c + 1, n):
            if abs(A[r, c]) > best:
                best = abs(A[r, c])
                p = r
        if p != c:
            for j in range(n):
                tmp = A[c, j]
                A[c, j] = A[p, j]
                A[p, j] = tmp
            tmp = x[c]
            x[c] = x[p]
            x[p] = tmp
        piv = A[c, c]
        for r in range(c + 1, n):
            f = A[r, c] / piv
            if f != 0.0:
                for j in range(c, n):
                    A[r, j] -= f * A[c, j]
                x[r] -= f * x[c]
    for c in range(n - 1, -1, -1):
        acc = x[c]
        for j in range(c + 1, n):
            acc -= A[c, j] * x[j]
        x[c] = acc / A[c, c]


@njit(**JIT)
def step(theta, g, H, s, lr, ridge):
    d = s[0]
    for i in range(theta.shape[0]):
        d[i] = g[i]
        H[i, i] += ridge
    solve_inplace(H, d)
    for i in range(theta.shape[0]):
        theta[i] -= lr * d[i]


def reference(theta, g, H, s, lr, ridge):
    s[0] = np.linalg.solve(H + ridge * np.eye(theta.shape[0]), g)
    theta -= lr * s[0]
