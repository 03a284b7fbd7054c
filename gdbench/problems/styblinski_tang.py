"""Styblinski–Tang in d dimensions: 2ᵈ minima, one global.

    f(x) = ½ · Σᵢ (xᵢ⁴ − 16·xᵢ² + 5·xᵢ)

Separable: each coordinate has two minima, at the outer roots of 4x³ − 32x + 5 = 0, in closed
form x_k = 2√(8/3)·cos(⅓·arccos(−(15/64)·√(3/8)) − 2πk/3) (then Newton's method to machine
precision):

    x₋ = −2.903534027771177   ½(x₋⁴ − 16x₋² + 5x₋) = −39.16616570377141   (the global one)
    x₊ =  2.746802770990837   ½(x₊⁴ − 16x₊² + 5x₊) = −25.029446655283945

(50-digit values: −2.9035340277711770951, −39.166165703771415464; 2.7468027709908369925,
−25.029446655283942607) and a maximum at 0.1567312567803401. The 2ᵈ minima are every point with
coordinates in {x₋, x₊}: f = −39.16616570377141·k − 25.029446655283945·(d − k) with k coordinates
at x₋; the global one is x* = (x₋, …, x₋), f* = −39.16616570377141·d (computed as f(x*)).
``minima(**params)`` lists all 2ᵈ (d ≤ 12); ``problem.info["minima"]`` holds them per coordinate
for the harness. Default start x₀ = (2, …, 2): in the basin of the worst minimum (x₊, …, x₊).
The usual box is [−5, 5]ᵈ.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numba import njit

from .._config import JIT
from ._minima import Factor, Minima, polish
from .base import Problem, x0_or_default

NAME = "styblinski_tang"
SUMMARY = "Styblinski–Tang ½Σ(x⁴ − 16x² + 5x), any d >= 1: 2^d minima, f* = −39.16617·d"
KIND = "analytic"
HAS_HESSIAN = True
PARAMS = {"d": 2}


@njit(**JIT)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    f = 0.0
    for i in range(theta.shape[0]):
        x = theta[i]
        x2 = x * x
        f += 0.5 * (x2 * x2 - 16.0 * x2 + 5.0 * x)
        g[i] = 2.0 * x2 * x - 16.0 * x + 2.5
    return f


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    d = theta.shape[0]
    for i in range(d):
        for j in range(d):
            H[i, j] = 0.0
        H[i, i] = 6.0 * theta[i] * theta[i] - 16.0


_E2, _E1, _I = np.empty((0, 0)), np.empty(0), np.zeros(0, np.int64)


def _term(x: float) -> float:
    """½(x⁴ − 16x² + 5x), evaluated by the kernel itself (same rounding as f)."""
    return float(loss_grad(np.array([x]), _E2, _E1, _E1, _I, 0, -1, np.empty(1)))


def roots() -> tuple[float, float, float]:
    """The roots of 4x³ − 32x + 5 = 0 (x₋, the maximum, x₊): closed form, then Newton."""
    a = math.acos(-(15.0 / 64.0) * math.sqrt(3.0 / 8.0)) / 3.0
    r = sorted(2.0 * math.sqrt(8.0 / 3.0) * math.cos(a - 2.0 * math.pi * k / 3.0) for k in range(3))
    gh = lambda v: (np.array([2.0 * v[0] ** 3 - 16.0 * v[0] + 2.5]), np.array([[6.0 * v[0] ** 2 - 16.0]]))  # noqa: E731
    p = [float(polish(gh, [x])[0]) for x in r]
    return p[0], p[1], p[2]


def build(*, d: int = 2, x0=None) -> Problem:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"problem {NAME!r}: d must be an integer >= 1, got {d!r}")
    lo, _, hi = roots()
    fac = Factor(xs=(lo, hi), fs=(_term(lo), _term(hi)), names=("−2.90", "2.75"))
    xs = np.full(d, lo)
    f_star = float(loss_grad(xs, _E2, _E1, _E1, _I, 0, -1, np.empty(d)))
    start = np.full(d, 2.0) if x0 is None else x0_or_default(NAME, x0, d)
    info = {"d": int(d), "minima": Minima(f_star=f_star, factors=[fac] * d), "box": ([-5.0] * d, [5.0] * d)}
    return Problem(NAME, sys.modules[__name__], _E2, _E1, np.zeros(1), start, f_star, xs, info)


def minima(**params) -> list[tuple[np.ndarray, float, str]]:
    """All 2ᵈ minima of ``build(**params)`` as (x, f, kind), the global one first (d ≤ 12)."""
    return build(**params).info["minima"].listed()
