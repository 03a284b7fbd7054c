"""Linear least squares (MSE), optionally ridge-regularised: a loss of the linear-model family.

    f(w, b) = (1/n) Σᵢ (xᵢᵀw + b − yᵢ)² + (λ/2)‖w‖²        θ = [w, b]

Per sample, in the margin z = xᵀw + b: ℓ(z, y) = (z − y)², ∂ℓ/∂z = 2(z − y), ∂²ℓ/∂z² = 2.
The bias is not regularised. f* and x* come from the normal equations (closed form), or from
a rank-revealing least-squares solve where they are singular (see ``solve``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import JIT
from ._degenerate import Optimum, apply, design, least_squares, well_conditioned

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


def optimum(p) -> tuple[float, np.ndarray | None]:
    """(f*, x*): exact, also on degenerate data (the notes of a degenerate optimum go to ``p.info``)."""
    apply(p, solve(p.X, p.y, float(p.prm[0])))
    return p.f_star, p.x_star
