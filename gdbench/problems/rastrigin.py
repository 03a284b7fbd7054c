"""Rastrigin's function: a lattice of local minima around one global minimum at the origin.

    f(x) = Σᵢ (xᵢ² − A·cos(2π·xᵢ) + A),   A = 10   (= A·d + Σ (xᵢ² − A·cos 2πxᵢ))

f* = 0 at x* = 0. Separable: each coordinate's term has a local minimum near every integer z
with |z| ≤ 31 (for A = 10; none beyond), at the root of 2x + 2πA·sin(2πx) = 0 near
z·4π²A/(2 + 4π²A), polished by Newton's method; in d dimensions the minima are every point whose
coordinates are such 1-D minima (63ᵈ of them), f = the sum of the coordinates' terms. The 1-D
minima in the usual box [−5.12, 5.12] (A = 10; symmetric, x₋z = −x_z):

    z   x_z                  term f(x_z)
    0   0                     0                   (global)
    1   0.9949586376523348    0.9949590570932916
    2   1.9899122337085497    3.979831190554087
    3   2.984855701039481     8.954601241487012
    4   3.9797838603007536   15.91924379246153
    5   4.974691390895051    24.87372293454223

so in 2-D the 121 minima in the box are (x_z₁, x_z₂), f = f(x_z₁) + f(x_z₂); the 8 nearest the
origin have f ≈ 0.995 (4) and ≈ 1.990 (4). ``minima(d, A, radius=5)`` lists those with
|zᵢ| ≤ radius; ``problem.info["minima"]`` holds all of them per coordinate for the harness.
Default start x₀ = (2.3, 1.8, 2.3, …): four cells away from the global minimum. Usual box
[−5.12, 5.12]ᵈ.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numba import njit

from .._config import JIT
from ._minima import Factor, Minima, polish
from .base import Problem, x0_or_default

NAME = "rastrigin"
SUMMARY = "Rastrigin Σ(x² − A·cos 2πx + A), any d >= 1: a lattice of local minima, f* = 0 at 0"
KIND = "analytic"
HAS_HESSIAN = True
PARAMS = {"d": 2, "A": 10.0}

TWO_PI = 2.0 * math.pi


@njit(**JIT)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    A = prm[0]
    f = 0.0
    for i in range(theta.shape[0]):
        x = theta[i]
        f += x * x - A * math.cos(TWO_PI * x) + A
        g[i] = 2.0 * x + TWO_PI * A * math.sin(TWO_PI * x)
    return f


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    A = prm[0]
    d = theta.shape[0]
    for i in range(d):
        for j in range(d):
            H[i, j] = 0.0
        H[i, i] = 2.0 + TWO_PI * TWO_PI * A * math.cos(TWO_PI * theta[i])


_E2, _E1, _I = np.empty((0, 0)), np.empty(0), np.zeros(0, np.int64)


def _name(z: int) -> str:
    return str(z).replace("-", "−")


def factor(A: float, radius: int | None = None) -> Factor:
    """The 1-D minima of x² − A·cos(2πx) + A, one per integer z with |z| ≤ radius (default: all)."""
    prm = np.array([A])

    def gh(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g, H = np.empty(1), np.empty((1, 1))
        loss_grad(v, _E2, _E1, prm, _I, 0, -1, g)
        hess(v, _E2, _E1, prm, _I, 0, -1, H)
        return g, H

    c = TWO_PI * TWO_PI * A
    pos: list[tuple[int, float]] = [(0, 0.0)]
    z = 1
    while radius is None or z <= radius:
        try:
            x = float(polish(gh, [z * c / (2.0 + c)])[0])
        except (ValueError, np.linalg.LinAlgError):
            break
        if not (abs(x - z) < 0.5 and gh(np.array([x]))[1][0, 0] > 0):
            break
        pos += [(z, x), (-z, -x)]
        z += 1
    pos.sort(key=lambda t: t[1])
    fs = tuple(float(loss_grad(np.array([x]), _E2, _E1, prm, _I, 0, -1, np.empty(1))) for _, x in pos)
    return Factor(xs=tuple(x for _, x in pos), fs=fs, names=tuple(_name(z) for z, _ in pos))


def build(*, d: int = 2, A: float = 10.0, x0=None) -> Problem:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"problem {NAME!r}: d must be an integer >= 1, got {d!r}")
    A = float(A)
    if not (math.isfinite(A) and A > 0):
        raise ValueError(f"problem {NAME!r}: A must be > 0, got {A!r}")
    start = np.tile([2.3, 1.8], (d + 1) // 2)[:d] if x0 is None else x0_or_default(NAME, x0, d)
    info = {"d": int(d), "A": A, "minima": Minima(f_star=0.0, factors=[factor(A)] * d),
            "box": ([-5.12] * d, [5.12] * d)}
    return Problem(NAME, sys.modules[__name__], _E2, _E1, np.array([A]), start, 0.0, np.zeros(d), info)


def minima(*, d: int = 2, A: float = 10.0, radius: int = 5) -> list[tuple[np.ndarray, float, str]]:
    """The minima with every |zᵢ| ≤ ``radius`` as (x, f, kind), the global one first."""
    return Minima(f_star=0.0, factors=[factor(float(A), radius)] * d).listed()
