"""Himmelblau's function: four global minima, f* = 0.

    f(x, y) = (x² + y − 11)² + (x + y² − 7)²

Minima (all global, f = 0; the three irrational ones polished by Newton's method to machine
precision, f there is ~1e-28):

    ( 3,                   2)
    ( 3.5844283403304917, −1.8481265269644036)
    (−2.805118086952745,   3.131312518250573)
    (−3.779310253377747,  −3.2831859912861696)

Also a local maximum at (−0.270845, −0.923039), f = 181.617, and four saddle points between the
minima. The minimiser is not unique, so x* is ``None``; ``minima()`` lists the four and
``problem.info["minima"]`` holds them for the harness. Default start x₀ = (0, 0); the usual box
is [−5, 5]².
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from .._config import JIT
from ._minima import Minima, polish
from .base import Problem, x0_or_default

NAME = "himmelblau"
SUMMARY = "Himmelblau's function (x²+y−11)² + (x+y²−7)²: four global minima, f* = 0"
KIND = "analytic"
HAS_HESSIAN = True
PARAMS: dict = {}

#: approximate locations, polished at build time
_APPROX = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127))


@njit(**JIT)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    a = theta[0]
    b = theta[1]
    p = a * a + b - 11.0
    q = a + b * b - 7.0
    g[0] = 4.0 * a * p + 2.0 * q
    g[1] = 2.0 * p + 4.0 * b * q
    return p * p + q * q


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    a = theta[0]
    b = theta[1]
    H[0, 0] = 12.0 * a * a + 4.0 * b - 42.0
    H[0, 1] = 4.0 * (a + b)
    H[1, 0] = 4.0 * (a + b)
    H[1, 1] = 4.0 * a + 12.0 * b * b - 26.0


_E2, _E1, _I = np.empty((0, 0)), np.empty(0), np.zeros(0, np.int64)


def _grad_hess(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g, H = np.empty(2), np.empty((2, 2))
    loss_grad(v, _E2, _E1, _E1, _I, 0, -1, g)
    hess(v, _E2, _E1, _E1, _I, 0, -1, H)
    return g, H


def build(*, x0=None) -> Problem:
    pts = [np.array([3.0, 2.0])] + [polish(_grad_hess, a) for a in _APPROX[1:]]
    g = np.empty(2)
    vals = [float(loss_grad(p, _E2, _E1, _E1, _I, 0, -1, g)) for p in pts]
    info = {"minima": Minima(f_star=0.0, points=pts, values=vals), "box": ([-5.0, -5.0], [5.0, 5.0])}
    return Problem(NAME, sys.modules[__name__], _E2, _E1, np.zeros(1), x0_or_default(NAME, x0, 2), 0.0, None, info)


def minima(**params) -> list[tuple[np.ndarray, float, str]]:
    """The four minima of ``build(**params)`` as (x, f, kind)."""
    return build(**params).info["minima"].listed()
