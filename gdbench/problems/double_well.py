"""Tilted double well: two minima of unequal depth, in any dimension d ≥ 1.

    f(x) = (x₁² − 1)² + t·x₁ + Σ_{i=2}^{d} (xᵢ − c·x_{i−1}²)²,   t = tilt ∈ (0, 1], c = couple

The first coordinate is the classic quartic double well, tilted so that its left well is the
deeper one; the others follow a curved valley xᵢ = c·x_{i−1}² (c = 0: plain quadratic
directions; the valley makes the 2-D basins non-separable). Stationary points of x₁: the roots
of 4x³ − 4x + t = 0, in closed form x_k = (2/√3)·cos(⅓·arccos(−(3√3/8)·t) − 2πk/3), polished
by Newton's method to machine precision. For 0 < t ≤ 1 two of them are minima:

    global  x₁ = x₋ < 0,  f* = (x₋² − 1)² + t·x₋   (t = 0.25: x₋ = −1.0298959850506604, f* = −0.25379123722046887)
    local   x₁ = x₊ > 0,  f  = (x₊² − 1)² + t·x₊   (t = 0.25: x₊ =  0.96714893788303,   f  =  0.24596335780479503)

with xᵢ = c·x_{i−1}² in the other coordinates (so f takes the same two values in every d); the
barrier (a saddle for d ≥ 2) is at x₁ = 0.0627 (t = 0.25). ``minima(**params)`` lists both;
``problem.info["minima"]`` holds them for the harness. Default start x₀ = (1.5, 0, …, 0): inside
the shallow (local) well, uphill enough that a heavy ball can roll over the barrier.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numba import njit

from .._config import JIT
from ._minima import Minima, polish
from .base import Problem, x0_or_default

NAME = "double_well"
SUMMARY = "tilted double well (x₁²−1)² + t·x₁ + curved valley, any d >= 1: a global and a local minimum"
KIND = "analytic"
HAS_HESSIAN = True
PARAMS = {"d": 1, "tilt": 0.25, "couple": 0.5}


@njit(**JIT)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    t = prm[0]
    c = prm[1]
    d = theta.shape[0]
    x = theta[0]
    q = x * x - 1.0
    f = q * q + t * x
    g[0] = 4.0 * x * q + t
    for i in range(1, d):
        r = theta[i] - c * theta[i - 1] * theta[i - 1]
        f += r * r
        g[i] = 2.0 * r
        g[i - 1] -= 4.0 * c * theta[i - 1] * r
    return f


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    c = prm[1]
    d = theta.shape[0]
    for i in range(d):
        for j in range(d):
            H[i, j] = 0.0
    H[0, 0] = 12.0 * theta[0] * theta[0] - 4.0
    for i in range(1, d):
        p = theta[i - 1]
        r = theta[i] - c * p * p
        H[i - 1, i - 1] += 8.0 * c * c * p * p - 4.0 * c * r
        H[i - 1, i] += -4.0 * c * p
        H[i, i - 1] += -4.0 * c * p
        H[i, i] += 2.0


def well_roots(tilt: float) -> tuple[float, float, float]:
    """The three real roots of 4x³ − 4x + t = 0 (x₋ < barrier < x₊), closed form then Newton."""
    a = math.acos(-(3.0 * math.sqrt(3.0) / 8.0) * tilt) / 3.0
    roots = sorted(2.0 / math.sqrt(3.0) * math.cos(a - 2.0 * math.pi * k / 3.0) for k in range(3))
    out = []
    for r in roots:
        x = polish(lambda v: (np.array([4.0 * v[0] * (v[0] * v[0] - 1.0) + tilt]),
                              np.array([[12.0 * v[0] * v[0] - 4.0]])), [r])
        out.append(float(x[0]))
    return out[0], out[1], out[2]


def _start(d: int) -> np.ndarray:
    x = np.zeros(d)
    x[0] = 1.5
    return x


def build(*, d: int = 1, tilt: float = 0.25, couple: float = 0.5, x0=None) -> Problem:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"problem {NAME!r}: d must be an integer >= 1, got {d!r}")
    t, c = float(tilt), float(couple)
    if not (math.isfinite(t) and 0.0 < t <= 1.0):
        raise ValueError(f"problem {NAME!r}: tilt must be in (0, 1] (two minima of unequal depth), got {tilt!r}")
    if not math.isfinite(c):
        raise ValueError(f"problem {NAME!r}: couple must be a finite number, got {couple!r}")
    prm = np.array([t, c])
    mod = sys.modules[__name__]
    lo, _, hi = well_roots(t)
    pts = []
    for x1 in (lo, hi):
        p = np.empty(d)
        p[0] = x1
        for i in range(1, d):
            p[i] = c * p[i - 1] * p[i - 1]
        pts.append(p)
    g = np.empty(d)
    vals = [float(loss_grad(p, np.empty((0, 0)), np.empty(0), prm, np.zeros(0, np.int64), 0, -1, g)) for p in pts]
    f_star = vals[0]
    start = _start(d) if x0 is None else x0_or_default(NAME, x0, d)
    info = {"d": int(d), "tilt": t, "couple": c, "minima": Minima(f_star=f_star, points=pts, values=vals),
            "box": ([-2.0] * d, [2.0] * d)}
    return Problem(NAME, mod, np.empty((0, 0)), np.empty(0), prm, start, f_star, pts[0].copy(), info)


def minima(**params) -> list[tuple[np.ndarray, float, str]]:
    """Every minimum of ``build(**params)`` as (x, f, kind), the global one first."""
    return build(**params).info["minima"].listed()
