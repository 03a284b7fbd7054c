"""The benchmark data: generated from a seed, the same for gdbench and every peer."""

from __future__ import annotations

import math

import numpy as np

from ._kernels import problem_module


def make_data(kind: str, n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal X; y linear + noise (``"regression"``) or its sign with 5 % flips (±1)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / math.sqrt(d)
    z = X @ w + 0.3
    if kind == "regression":
        return X, z + 0.1 * rng.standard_normal(n)
    y = np.where(z > 0, 1.0, -1.0)
    flip = rng.random(n) < 0.05
    y[flip] = -y[flip]
    return X, y


def bare_problem(name: str, X: np.ndarray, y: np.ndarray, l2: float):
    """A Problem on (X, y) without its exact optimum (f* = 0 placeholder): timing needs only the
    kernels, and the exact solvers (Newton, SMO) would dominate the set-up at these sizes."""
    from ..problems.base import Problem

    return Problem(name, problem_module(name), X, y, np.array([l2]), np.zeros(X.shape[1] + 1), 0.0, None,
                   {"n": X.shape[0], "d": X.shape[1], "l2": l2})
