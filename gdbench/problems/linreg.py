"""Linear least squares (MSE), optionally ridge-regularised: a loss of the linear-model family.

    f(w, b) = (1/n) Σᵢ (xᵢᵀw + b − yᵢ)² + (λ/2)‖w‖²        θ = [w, b]

Per sample, in the margin z = xᵀw + b: ℓ(z, y) = (z − y)², ∂ℓ/∂z = 2(z − y), ∂²ℓ/∂z² = 2.
The bias is not regularised. f* and x* come from the normal equations (closed form).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import JIT

NAME = "linreg"
SUMMARY = "linear regression, mean squared error + (λ/2)‖w‖² (convex, closed-form optimum)"
KIND = "linear"
TASK = "regression"
PARAMS: dict[str, float] = {}
L2 = 0.0


@njit(**JIT)
def loss(z, y):
    r = z - y
    return r * r


@njit(**JIT)
def dloss(z, y):
    return 2.0 * (z - y)


@njit(**JIT)
def d2loss(z, y):
    return 2.0


def solve(X: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """x* from the normal equations (2/n·AᵀA + λ·diag(1,…,1,0)) θ = 2/n·Aᵀy, A = [X, 1]."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    M = (2.0 / n) * (A.T @ A)
    M[np.arange(d), np.arange(d)] += l2
    return np.linalg.solve(M, (2.0 / n) * (A.T @ y))


def optimum(p) -> tuple[float, np.ndarray]:
    """(f*, x*) in closed form."""
    xs = solve(p.X, p.y, float(p.prm[0]))
    return p.loss(xs), xs
